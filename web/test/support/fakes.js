// Test doubles: a manual clock and a scripted WebSocket.

import { FrameParser } from '../../stomp-frame.js';
import { StompClient } from '../../stomp.js';

/** A clock whose time moves only when a test calls advance(). */
export class FakeClock {
  constructor(start = 1_000_000) {
    this._now = start;
    this._timers = new Map();
    this._seq = 0;
  }

  now = () => this._now;

  setTimeout = (fn, ms) => {
    this._seq += 1;
    this._timers.set(this._seq, { fn, at: this._now + Math.max(0, ms), seq: this._seq });
    return this._seq;
  };

  clearTimeout = (handle) => {
    this._timers.delete(handle);
  };

  /** Number of timers still pending. */
  get pending() {
    return this._timers.size;
  }

  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms) {
    const target = this._now + ms;
    for (;;) {
      let next = null;
      for (const timer of this._timers.values()) {
        if (timer.at <= target && (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))) {
          next = timer;
        }
      }
      if (!next) break;
      this._timers.delete(next.seq);
      this._now = next.at;
      next.fn();
    }
    this._now = target;
  }
}

/** A WebSocket stand-in: records what the client sends; the test plays the broker. */
export class FakeSocket {
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = [];
    this.closed = false;
    this.binaryType = 'blob';
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
  }

  send(data) {
    if (this.closed) throw new Error('socket is closed');
    this.sent.push(data);
  }

  close() {
    this.closed = true;
  }

  /** The broker accepts the WebSocket. */
  open() {
    this.onopen?.({});
  }

  /** The broker sends data (string or bytes). */
  receive(data) {
    this.onmessage?.({ data });
  }

  /** The broker (or the network) closes the socket. */
  serverClose(code = 1006, reason = '') {
    this.closed = true;
    this.onclose?.({ code, reason });
  }

  /** Everything sent so far, parsed as frames (heart-beat EOLs skipped). */
  frames() {
    const parser = new FrameParser();
    return this.sent.flatMap((data) => parser.push(data));
  }

  /** Sent frames with the given command. */
  framesOf(command) {
    return this.frames().filter((f) => f.command === command);
  }

  /** The last frame sent. */
  last() {
    return this.frames().at(-1);
  }
}

/** Builds a CONNECTED/MESSAGE/... frame as the broker would send it (text). */
export function brokerFrame(command, headers = {}, body = '') {
  let out = command + '\n';
  for (const [k, v] of Object.entries(headers)) out += `${k}:${v}\n`;
  return out + '\n' + body + '\0';
}

/** A client wired to fakes, plus the sockets it opened, its events and helpers. */
/** The broker accepts a socket: it opens and CONNECTED arrives (no heart-beats). */
export function acceptConnection(ws) {
  ws.open();
  ws.receive(brokerFrame('CONNECTED', { version: '1.2', 'heart-beat': '0,0' }));
}

/**
 * A webSocketFactory for StompClient that makes FakeSockets and keeps each in `sockets`.
 * @param {FakeSocket[]} sockets
 */
export function fakeSockets(sockets) {
  return (url, protocols) => {
    const ws = new FakeSocket(url, protocols);
    sockets.push(ws);
    return ws;
  };
}

export function makeClient(options = {}) {
  const clock = new FakeClock();
  const sockets = [];
  const states = [];
  const errors = [];
  let randomValue = 0;
  const client = new StompClient({
    url: 'ws://broker/ws',
    login: 'alice',
    passcode: 'secret',
    host: 'warren',
    heartbeat: { outgoing: 0, incoming: 0 },
    webSocketFactory: fakeSockets(sockets),
    clock,
    random: () => randomValue,
    ...options,
  });
  client.on('state', (s) => states.push(s));
  client.on('error', (e) => errors.push(e));
  const socket = () => sockets.at(-1);
  /** Opens the latest socket and answers CONNECT with CONNECTED. */
  const connect = (heartBeat = '0,0') => {
    socket().open();
    socket().receive(brokerFrame('CONNECTED', { version: '1.2', 'heart-beat': heartBeat, server: 'RabbitMQ/3.10.8' }));
  };
  /** Answers the latest frame of this command with its RECEIPT. */
  const receipt = (command) => {
    const frame = socket().framesOf(command).at(-1);
    socket().receive(brokerFrame('RECEIPT', { 'receipt-id': frame.headers.receipt }));
  };
  return {
    client,
    clock,
    sockets,
    states,
    errors,
    socket,
    connect,
    receipt,
    setRandom: (v) => (randomValue = v),
  };
}

/** Lets pending promise callbacks run. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));
