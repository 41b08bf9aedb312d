// STOMP 1.2 frame codec: a serializer and an incremental, bounded parser.
// Pure functions and a small state machine; no WebSocket, no timers.

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

const encoder = new TextEncoder();
// Bodies are decoded leniently (a bad byte becomes U+FFFD); headers are strict.
const bodyDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const headerDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The default bound on one inbound frame (command, headers, body and NUL): 1 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;

/** A malformed or oversized inbound frame. Fatal: the parser accepts nothing after it. */
export class StompParseError extends Error {
  /** @param {string} message what was wrong */
  constructor(message) {
    super(message);
    this.name = 'StompParseError';
    this.code = 'parse-error';
  }
}

/**
 * One STOMP frame. `headers` is a plain object in which the first of repeated headers won;
 * `binaryBody` holds the exact body octets and `body` is their UTF-8 decoding.
 */
export class StompFrame {
  /**
   * @param {string} command e.g. "MESSAGE"
   * @param {Record<string, string>} headers decoded header values
   * @param {Uint8Array} binaryBody body octets (without the NUL terminator)
   */
  constructor(command, headers, binaryBody = new Uint8Array(0)) {
    this.command = command;
    this.headers = headers;
    this.binaryBody = binaryBody;
    this._text = undefined;
  }

  /** The body decoded as UTF-8 text. */
  get body() {
    if (this._text === undefined) this._text = bodyDecoder.decode(this.binaryBody);
    return this._text;
  }
}

/** Whether header values of this command are escaped (1.2: all but CONNECT and CONNECTED). */
function escapesHeaders(command) {
  return command !== 'CONNECT' && command !== 'CONNECTED';
}

const ESCAPES = { '\\': '\\\\', '\r': '\\r', '\n': '\\n', ':': '\\c' };
const UNESCAPES = { '\\': '\\', r: '\r', n: '\n', c: ':' };

/**
 * Escapes a header name or value for the wire (`\\`, `\r`, `\n`, `:`).
 * @param {string} text
 * @returns {string}
 */
export function escapeHeader(text) {
  return text.replace(/[\\\r\n:]/g, (c) => ESCAPES[c]);
}

/**
 * Decodes header escapes in one left-to-right pass, so `\\n` (an escaped backslash, then n)
 * stays a backslash followed by "n".
 * @param {string} text
 * @returns {string}
 * @throws {StompParseError} on an undefined escape such as `\t` or a trailing backslash
 */
export function unescapeHeader(text) {
  if (!text.includes('\\')) return text;
  return text.replace(/\\([\s\S]?)/g, (_, c) => {
    const plain = UNESCAPES[c];
    if (plain === undefined) {
      throw new StompParseError(c ? `undefined header escape \\${c}` : 'header ends in a lone backslash');
    }
    return plain;
  });
}

function headerEntries(headers) {
  if (!headers) return [];
  return Array.isArray(headers) ? headers : Object.entries(headers);
}

function asBytes(body) {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return null;
}

/**
 * Serializes a frame for a WebSocket message: a string when the body is text (or absent),
 * a Uint8Array when it is binary. `content-length` (in UTF-8 octets) is added whenever there is
 * a body, and always for a binary body; a caller-given `content-length` is replaced.
 * @param {{command: string, headers?: Record<string, any> | Array<[string, any]>,
 *          body?: string | Uint8Array | ArrayBuffer}} frame headers with null/undefined values are skipped
 * @returns {string | Uint8Array}
 */
export function serializeFrame({ command, headers, body = '' }) {
  const escape = escapesHeaders(command);
  const binary = asBytes(body);
  let head = command + '\n';
  for (const [name, rawValue] of headerEntries(headers)) {
    if (rawValue === undefined || rawValue === null || name === 'content-length') continue;
    const value = String(rawValue);
    if (escape) {
      head += escapeHeader(name) + ':' + escapeHeader(value) + '\n';
    } else {
      if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) {
        throw new TypeError(`${command} header ${JSON.stringify(name)} cannot be sent unescaped`);
      }
      head += name + ':' + value + '\n';
    }
  }
  if (binary) {
    head += `content-length:${binary.length}\n\n`;
    const headBytes = encoder.encode(head);
    const out = new Uint8Array(headBytes.length + binary.length + 1);
    out.set(headBytes, 0);
    out.set(binary, headBytes.length);
    return out; // last byte is already 0
  }
  const text = String(body);
  if (text.length > 0) head += `content-length:${encoder.encode(text).length}\n`;
  return head + '\n' + text + '\0';
}

/**
 * Serializes a frame to bytes (see serializeFrame).
 * @param {Parameters<typeof serializeFrame>[0]} frame
 * @returns {Uint8Array}
 */
export function encodeFrame(frame) {
  const out = serializeFrame(frame);
  return typeof out === 'string' ? encoder.encode(out) : out;
}

/** What a heart-beat looks like on the wire: one EOL. */
export const HEARTBEAT = '\n';

/**
 * An incremental STOMP frame parser. Feed it chunks (text or bytes) as they arrive; it returns
 * the frames completed so far. Works in bytes, so multi-byte characters may be split anywhere.
 * Any malformed input or a frame above `maxFrameSize` throws StompParseError, after which the
 * parser refuses further input (the connection should be dropped).
 */
export class FrameParser {
  /** @param {{maxFrameSize?: number}} [options] */
  constructor({ maxFrameSize = DEFAULT_MAX_FRAME_SIZE } = {}) {
    this.maxFrameSize = maxFrameSize;
    this._buf = new Uint8Array(1024);
    this._start = 0; // first byte of the frame (or heart-beats) being parsed
    this._end = 0; // end of buffered data
    this._failed = null;
    this._beginFrame();
  }

  /**
   * Adds a chunk and returns every frame it completed, in order.
   * @param {string | ArrayBuffer | ArrayBufferView} chunk
   * @returns {StompFrame[]}
   * @throws {StompParseError}
   */
  push(chunk) {
    if (this._failed) throw this._failed;
    const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : asBytes(chunk);
    if (!bytes) throw new TypeError('chunk must be a string, ArrayBuffer or typed array');
    this._append(bytes);
    const frames = [];
    try {
      for (let frame = this._next(); frame; frame = this._next()) frames.push(frame);
    } catch (error) {
      this._failed = error instanceof StompParseError ? error : new StompParseError(String(error));
      throw this._failed;
    }
    return frames;
  }

  _beginFrame() {
    // Offsets below are relative to _start, so compacting the buffer needs no fix-ups.
    this._state = 'start';
    this._lineStart = 0;
    this._scan = 0;
    this._command = '';
    this._headers = null;
    this._bodyStart = 0;
    this._contentLength = -1;
  }

  _append(bytes) {
    const needed = this._end - this._start + bytes.length;
    if (this._end + bytes.length > this._buf.length) {
      if (needed <= this._buf.length) {
        this._buf.copyWithin(0, this._start, this._end);
      } else {
        let size = this._buf.length;
        while (size < needed) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this._buf.subarray(this._start, this._end), 0);
        this._buf = grown;
      }
      this._end -= this._start;
      this._start = 0;
    }
    this._buf.set(bytes, this._end);
    this._end += bytes.length;
  }

  _tooLarge(size) {
    return new StompParseError(`frame larger than ${this.maxFrameSize} octets (${size} so far)`);
  }

  /** Returns the next complete frame, or null when more input is needed. */
  _next() {
    if (this._state === 'start' && !this._skipHeartbeats()) return null;
    if (this._state === 'headers' && !this._scanHeaders()) return null;
    return this._readBody();
  }

  _skipHeartbeats() {
    const buf = this._buf;
    while (this._start < this._end) {
      const b = buf[this._start];
      if (b === LF) {
        this._start += 1;
      } else if (b === CR) {
        if (this._start + 1 >= this._end) return false;
        if (buf[this._start + 1] !== LF) throw new StompParseError('CR not followed by LF');
        this._start += 2;
      } else {
        this._state = 'headers';
        return true;
      }
    }
    this._start = this._end = 0; // nothing buffered: rewind for free
    return false;
  }

  _scanHeaders() {
    const buf = this._buf;
    const base = this._start;
    const length = this._end - base;
    for (; this._scan < length; this._scan += 1) {
      const b = buf[base + this._scan];
      if (b === NUL) throw new StompParseError('NUL before the end of the headers');
      if (b !== LF) continue;
      let lineEnd = this._scan;
      if (lineEnd > this._lineStart && buf[base + lineEnd - 1] === CR) lineEnd -= 1;
      if (lineEnd === this._lineStart && this._lineStart > 0) {
        this._parseHeaderBlock(buf.subarray(base, base + this._lineStart));
        this._bodyStart = this._scan + 1;
        this._scan = this._bodyStart;
        this._state = 'body';
        return true;
      }
      this._lineStart = this._scan + 1;
    }
    if (length > this.maxFrameSize) throw this._tooLarge(length);
    return false;
  }

  _parseHeaderBlock(bytes) {
    let text;
    try {
      text = headerDecoder.decode(bytes);
    } catch {
      throw new StompParseError('headers are not valid UTF-8');
    }
    const lines = text.split('\n');
    lines.pop(); // the block ends with the last header's LF
    const strip = (line) => (line.endsWith('\r') ? line.slice(0, -1) : line);
    const command = strip(lines[0]);
    const escaped = escapesHeaders(command);
    const headers = {};
    for (let i = 1; i < lines.length; i += 1) {
      const line = strip(lines[i]);
      const colon = line.indexOf(':');
      if (colon <= 0) throw new StompParseError(`malformed header line ${JSON.stringify(line)}`);
      let name = line.slice(0, colon);
      let value = line.slice(colon + 1);
      if (escaped) {
        name = unescapeHeader(name);
        value = unescapeHeader(value);
      }
      if (!Object.hasOwn(headers, name)) {
        // defineProperty, so a header named "__proto__" is just a header
        Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
      }
    }
    this._command = command;
    this._headers = headers;
    if (Object.hasOwn(headers, 'content-length')) {
      const raw = headers['content-length'];
      if (!/^[0-9]+$/.test(raw)) throw new StompParseError(`bad content-length ${JSON.stringify(raw)}`);
      this._contentLength = Number(raw);
    }
  }

  _readBody() {
    const buf = this._buf;
    const base = this._start;
    const length = this._end - base;
    let bodyEnd;
    if (this._contentLength >= 0) {
      bodyEnd = this._bodyStart + this._contentLength;
      if (bodyEnd + 1 > this.maxFrameSize) throw this._tooLarge(bodyEnd + 1);
      if (length < bodyEnd + 1) return null;
      if (buf[base + bodyEnd] !== NUL) throw new StompParseError('no NUL after the content-length body');
    } else {
      const found = buf.subarray(base + this._scan, this._end).indexOf(NUL);
      if (found < 0) {
        this._scan = length;
        if (length >= this.maxFrameSize) throw this._tooLarge(length);
        return null;
      }
      bodyEnd = this._scan + found;
      if (bodyEnd + 1 > this.maxFrameSize) throw this._tooLarge(bodyEnd + 1);
    }
    const frame = new StompFrame(this._command, this._headers, buf.slice(base + this._bodyStart, base + bodyEnd));
    this._start = base + bodyEnd + 1;
    this._beginFrame();
    return frame;
  }
}
