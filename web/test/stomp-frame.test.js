import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  FrameParser,
  StompParseError,
  encodeFrame,
  escapeHeader,
  serializeFrame,
  unescapeHeader,
} from '../stomp-frame.js';

const enc = (s) => new TextEncoder().encode(s);
const parseAll = (input, options) => new FrameParser(options).push(input);
const one = (input) => {
  const frames = parseAll(input);
  assert.equal(frames.length, 1);
  return frames[0];
};
/** Feeds bytes one at a time and collects every frame. */
const byteByByte = (bytes) => {
  const parser = new FrameParser();
  const frames = [];
  for (let i = 0; i < bytes.length; i += 1) frames.push(...parser.push(bytes.subarray(i, i + 1)));
  return frames;
};
const plain = (frame) => ({ command: frame.command, headers: { ...frame.headers }, body: frame.body });

describe('FrameParser', () => {
  it('parses a simple frame', () => {
    const f = one('MESSAGE\ndestination:/queue/a\nmessage-id:1\n\nhello\0');
    assert.deepEqual(plain(f), {
      command: 'MESSAGE',
      headers: { destination: '/queue/a', 'message-id': '1' },
      body: 'hello',
    });
  });

  it('returns nothing until the NUL arrives', () => {
    const parser = new FrameParser();
    assert.deepEqual(parser.push('MESSAGE\na:b\n\nhel'), []);
    assert.deepEqual(parser.push('lo'), []);
    const [f] = parser.push('\0');
    assert.equal(f.body, 'hello');
  });

  it('parses a frame fed byte by byte', () => {
    const frames = byteByByte(enc('MESSAGE\r\nx:1\r\ncontent-length:5\r\n\r\nab\0cd\0\n\nRECEIPT\nreceipt-id:7\n\n\0'));
    assert.equal(frames.length, 2);
    assert.deepEqual([...frames[0].binaryBody], [97, 98, 0, 99, 100]);
    assert.equal(frames[1].headers['receipt-id'], '7');
  });

  it('parses several frames packed in one chunk', () => {
    const frames = parseAll('RECEIPT\nreceipt-id:1\n\n\0RECEIPT\nreceipt-id:2\n\n\0MESSAGE\n\nx\0');
    assert.deepEqual(
      frames.map((f) => [f.command, f.headers['receipt-id'], f.body]),
      [['RECEIPT', '1', ''], ['RECEIPT', '2', ''], ['MESSAGE', undefined, 'x']],
    );
  });

  it('keeps a frame that straddles chunks with its neighbours', () => {
    const parser = new FrameParser();
    assert.equal(parser.push('RECEIPT\nreceipt-id:1\n\n\0RECEI').length, 1);
    const frames = parser.push('PT\nreceipt-id:2\n\n\0');
    assert.equal(frames[0].headers['receipt-id'], '2');
  });

  it('accepts CRLF line endings', () => {
    const f = one('MESSAGE\r\na:1\r\nb:2\r\n\r\nbody\0');
    assert.deepEqual(plain(f), { command: 'MESSAGE', headers: { a: '1', b: '2' }, body: 'body' });
  });

  it('skips heart-beat EOLs before, between and after frames', () => {
    const parser = new FrameParser();
    assert.deepEqual(parser.push('\n'), []);
    assert.deepEqual(parser.push('\r\n\n'), []);
    const frames = parser.push('\nRECEIPT\nreceipt-id:1\n\n\0\r\n\nRECEIPT\nreceipt-id:2\n\n\0\n');
    assert.deepEqual(frames.map((f) => f.headers['receipt-id']), ['1', '2']);
    assert.deepEqual(parser.push('\r'), []); // half a CRLF heart-beat waits for its LF
    assert.deepEqual(parser.push('\n'), []);
  });

  it('rejects a CR that is not part of CRLF between frames', () => {
    assert.throws(() => parseAll('\rX'), StompParseError);
  });

  it('reads exactly content-length octets, NULs included', () => {
    const f = one('MESSAGE\ncontent-length:4\n\n\0\0\0\0\0');
    assert.deepEqual([...f.binaryBody], [0, 0, 0, 0]);
  });

  it('waits for the whole content-length body and its NUL', () => {
    const parser = new FrameParser();
    assert.deepEqual(parser.push('MESSAGE\ncontent-length:3\n\na\0'), []);
    assert.deepEqual(parser.push('b'), []);
    const [f] = parser.push('\0');
    assert.deepEqual([...f.binaryBody], [97, 0, 98]);
  });

  it('fails when the byte after a content-length body is not NUL', () => {
    assert.throws(() => parseAll('MESSAGE\ncontent-length:2\n\nabc\0'), /no NUL after the content-length body/);
  });

  it('fails on a malformed content-length', () => {
    assert.throws(() => parseAll('MESSAGE\ncontent-length:-1\n\n\0'), StompParseError);
    assert.throws(() => parseAll('MESSAGE\ncontent-length: 1\n\na\0'), StompParseError);
  });

  it('reads a body without content-length up to the first NUL', () => {
    const frames = parseAll('MESSAGE\n\nab\0MESSAGE\n\n\0');
    assert.deepEqual(frames.map((f) => f.body), ['ab', '']);
  });

  it('counts content-length in UTF-8 octets and decodes multi-byte text split across chunks', () => {
    const text = 'hé€😀'; // 1 + 2 + 3 + 4 octets
    const frames = byteByByte(enc(`MESSAGE\ncontent-length:10\n\n${text}\0`));
    assert.equal(frames[0].body, text);
    assert.equal(frames[0].binaryBody.length, 10);
  });

  it('decodes UTF-8 in header values, split anywhere', () => {
    const frames = byteByByte(enc('MESSAGE\nfrom:Zoë ☃\n\n\0'));
    assert.equal(frames[0].headers.from, 'Zoë ☃');
  });

  it('splits a header on the first colon only', () => {
    const f = one('MESSAGE\nurl:http://x:80/a\n\n\0');
    assert.equal(f.headers.url, 'http://x:80/a');
  });

  it('keeps empty values and never trims', () => {
    const f = one('MESSAGE\nempty:\n spaced : v \n\n\0');
    assert.equal(f.headers.empty, '');
    assert.equal(f.headers[' spaced '], ' v ');
  });

  it('keeps the first of repeated headers', () => {
    const f = one('MESSAGE\nfoo:first\nfoo:second\nbar:1\n\n\0');
    assert.equal(f.headers.foo, 'first');
    assert.equal(f.headers.bar, '1');
  });

  it('treats a header named __proto__ as data', () => {
    const f = one('MESSAGE\n__proto__:x\n\n\0');
    assert.equal(Object.hasOwn(f.headers, '__proto__'), true);
    assert.equal(f.headers.__proto__, 'x');
  });

  it('decodes escapes in names and values in one pass', () => {
    const f = one('MESSAGE\na\\cb:1\\r2\\n3\\c4\\\\5\nslash:\\\\n\n\n\0');
    assert.equal(f.headers['a:b'], '1\r2\n3:4\\5');
    assert.equal(f.headers.slash, '\\n'); // escaped backslash, then a plain n
  });

  it('fails on an undefined escape', () => {
    assert.throws(() => parseAll('MESSAGE\na:\\t\n\n\0'), /undefined header escape \\t/);
    assert.throws(() => parseAll('MESSAGE\na:b\\\n\n\0'), /lone backslash/);
  });

  it('does not unescape CONNECTED headers', () => {
    const f = one('CONNECTED\nserver:a\\cb\\t\n\n\0');
    assert.equal(f.headers.server, 'a\\cb\\t');
  });

  it('rejects header lines without a colon or name', () => {
    assert.throws(() => parseAll('MESSAGE\nnocolon\n\n\0'), /malformed header/);
    assert.throws(() => parseAll('MESSAGE\n:v\n\n\0'), /malformed header/);
  });

  it('rejects a NUL inside the headers', () => {
    assert.throws(() => parseAll('MESSAGE\na:b\0'), /NUL before the end of the headers/);
  });

  it('rejects a frame larger than maxFrameSize without buffering it all', () => {
    const options = { maxFrameSize: 64 };
    assert.throws(() => parseAll(`MESSAGE\ncontent-length:100\n\n`, options), /larger than 64/);
    const parser = new FrameParser(options);
    assert.throws(() => {
      for (let i = 0; i < 10; i += 1) parser.push('MESSAGE\n\n' + 'x'.repeat(10));
    }, /larger than 64/);
    assert.throws(() => new FrameParser(options).push('MESSAGE\n' + 'h:'.repeat(40)), /larger than 64/);
  });

  it('accepts a frame of exactly maxFrameSize and rejects one octet more', () => {
    const frame = 'MESSAGE\n\n' + 'x'.repeat(10) + '\0'; // 20 octets
    assert.equal(parseAll(frame, { maxFrameSize: 20 }).length, 1);
    assert.throws(() => parseAll(frame, { maxFrameSize: 19 }), StompParseError);
    const sized = 'MESSAGE\ncontent-length:3\n\nabc\0'; // 30 octets
    assert.equal(parseAll(sized, { maxFrameSize: 30 }).length, 1);
    assert.throws(() => parseAll(sized, { maxFrameSize: 29 }), StompParseError);
  });

  it('refuses further input after an error', () => {
    const parser = new FrameParser();
    assert.throws(() => parser.push('MESSAGE\na:\\t\n\n\0'));
    assert.throws(() => parser.push('RECEIPT\n\n\0'), StompParseError);
  });

  it('accepts ArrayBuffer chunks and large buffers', () => {
    const body = 'y'.repeat(5000);
    const bytes = enc(`MESSAGE\n\n${body}\0`);
    const [f] = new FrameParser().push(bytes.buffer);
    assert.equal(f.body, body);
  });
});

describe('serializeFrame', () => {
  it('writes command, headers, content-length in octets and NUL', () => {
    assert.equal(
      serializeFrame({ command: 'SEND', headers: { destination: '/q', receipt: 'r1' }, body: 'hé' }),
      'SEND\ndestination:/q\nreceipt:r1\ncontent-length:3\n\nhé\0',
    );
  });

  it('omits content-length for an empty text body and skips null headers', () => {
    assert.equal(serializeFrame({ command: 'DISCONNECT', headers: { receipt: 'x', skip: undefined } }), 'DISCONNECT\nreceipt:x\n\n\0');
  });

  it('replaces a caller-given content-length', () => {
    const out = serializeFrame({ command: 'SEND', headers: { 'content-length': '99' }, body: 'ab' });
    assert.equal(out, 'SEND\ncontent-length:2\n\nab\0');
  });

  it('escapes headers except in CONNECT', () => {
    assert.equal(
      serializeFrame({ command: 'SEND', headers: { 'a:b': 'x\ny\r\\z' } }),
      'SEND\na\\cb:x\\ny\\r\\\\z\n\n\0',
    );
    assert.equal(serializeFrame({ command: 'CONNECT', headers: { passcode: 'a:b\\' } }), 'CONNECT\npasscode:a:b\\\n\n\0');
    assert.throws(() => serializeFrame({ command: 'CONNECT', headers: { login: 'a\nb' } }), TypeError);
  });

  it('writes binary bodies as bytes, always with content-length', () => {
    const out = serializeFrame({ command: 'SEND', headers: {}, body: new Uint8Array([0, 1, 0]) });
    assert.ok(out instanceof Uint8Array);
    assert.deepEqual([...out], [...enc('SEND\ncontent-length:3\n\n'), 0, 1, 0, 0]);
    const empty = serializeFrame({ command: 'SEND', body: new Uint8Array(0) });
    assert.equal(new TextDecoder().decode(empty), 'SEND\ncontent-length:0\n\n\0');
  });

  it('round-trips through the parser', () => {
    const cases = [
      { command: 'SEND', headers: { destination: '/amq/queue/chat.inbox', 'x:y': 'a\\n\nb\rc:d', empty: '' }, body: '{"text":"héllo ☃ 😀"}' },
      { command: 'SEND', headers: { destination: '/q' }, body: new Uint8Array([0, 255, 0, 10, 13, 0]) },
      { command: 'SEND', headers: { destination: '/q' }, body: 'line\nwith\0nul' },
      { command: 'CONNECT', headers: { 'accept-version': '1.2', login: 'x\\c' }, body: '' },
    ];
    for (const frame of cases) {
      const bytes = encodeFrame(frame);
      const [parsed] = byteByByte(bytes);
      assert.equal(parsed.command, frame.command);
      const expectedHeaders = { ...frame.headers };
      const bodyBytes = typeof frame.body === 'string' ? enc(frame.body) : frame.body;
      if (bodyBytes.length > 0) expectedHeaders['content-length'] = String(bodyBytes.length);
      assert.deepEqual({ ...parsed.headers }, expectedHeaders);
      assert.deepEqual([...parsed.binaryBody], [...bodyBytes]);
    }
  });

  it('escapes and unescapes as inverses', () => {
    for (const s of ['', 'plain', '\\n', 'a:b', '\r\n', '\\\\c', 'é:\\']) {
      assert.equal(unescapeHeader(escapeHeader(s)), s);
    }
  });
});
