// One WebSocket carrying STOMP: parsing, liveness, heart-beat timers and the record of what was
// sent but not yet confirmed. It knows nothing of reconnecting; the client that owns it does.

import { FrameParser, HEARTBEAT, serializeFrame } from './stomp-frame.js';
import { ErrorCode, StompError } from './stomp-errors.js';

/** Frames whose refusal is worth naming when the broker drops the socket. */
const OPERATIONS = new Set(['SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK']);

/**
 * A single connection attempt and, once CONNECTED, the connection. Reports to its owner through
 * `events`, named for what happened: `opened(link)`, `frameReceived(link, frame)`,
 * `closed(link, {code, reason})` and `failed(link, StompError)` (connect timeout, heart-beat
 * timeout, unparsable input, a send that threw). After close() it reports nothing more.
 */
export class StompLink {
  /**
   * @param {WebSocket} ws a socket just created (its handlers are taken over)
   * @param {{clock: {now: () => number, setTimeout: Function, clearTimeout: Function},
   *          maxFrameSize: number, connectTimeoutMs: number}} options
   * @param {{opened: Function, frameReceived: Function, closed: Function, failed: Function}} events
   */
  constructor(ws, { clock, maxFrameSize, connectTimeoutMs }, events) {
    this.ws = ws;
    this.connected = false;
    this.closed = false;
    this.heartbeat = { outgoing: 0, incoming: 0 };
    /** The last operation sent (e.g. "ACK (id T_1)"), for naming a refusal. */
    this.lastOperation = undefined;
    this._clock = clock;
    this._events = events;
    this._parser = new FrameParser({ maxFrameSize });
    this._lastSent = this._lastReceived = clock.now();
    this._unconfirmed = new Map(); // receipt id -> {operation, subscription?}, in send order
    this._timers = {};

    ws.binaryType = 'arraybuffer';
    ws.onopen = () => events.opened(this);
    ws.onmessage = (event) => this._received(event.data);
    ws.onclose = (event) => events.closed(this, { code: event?.code, reason: event?.reason ?? '' });
    ws.onerror = () => {}; // a close event always follows
    this._timers.connect = clock.setTimeout(() => {
      this._fail(ErrorCode.connectTimeout, `no CONNECTED within ${connectTimeoutMs} ms`);
    }, connectTimeoutMs);
  }

  /**
   * Records CONNECTED: stops the connect timer and starts the negotiated heart-beats.
   * @param {{outgoing: number, incoming: number}} heartbeat as negotiateHeartbeat() returns
   */
  markConnected(heartbeat) {
    this._clock.clearTimeout(this._timers.connect);
    this.connected = true;
    this.heartbeat = heartbeat;
    if (heartbeat.outgoing > 0) this._scheduleBeat();
    if (heartbeat.incoming > 0) this._scheduleWatchdog();
  }

  /**
   * Serializes and sends a frame.
   * @param {Parameters<typeof serializeFrame>[0]} frame
   * @returns {boolean} false when the socket refused it (the link has then failed)
   */
  send(frame) {
    const sent = this._sendRaw(serializeFrame(frame));
    if (sent && OPERATIONS.has(frame.command)) this.lastOperation = describe(frame);
    return sent;
  }

  /**
   * Notes a frame sent with a receipt whose refusal would be worth naming.
   * @param {string} receipt
   * @param {{operation: string, subscription?: object}} what
   */
  awaitConfirmation(receipt, what) {
    this._unconfirmed.set(receipt, what);
  }

  /**
   * Forgets an operation once its RECEIPT arrived.
   * @param {string} receipt
   */
  confirmed(receipt) {
    this._unconfirmed.delete(receipt);
  }

  /**
   * The unconfirmed operation with this receipt, or (without one) the oldest: the broker handles
   * frames in order, so when it drops the socket that one is the likeliest culprit.
   * @param {string} [receipt]
   * @returns {{operation: string, subscription?: object} | undefined}
   */
  unconfirmed(receipt) {
    if (receipt !== undefined) return this._unconfirmed.get(receipt);
    return this._unconfirmed.values().next().value;
  }

  /** Stops every timer, detaches from the socket and closes it. Idempotent. */
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const timer of Object.values(this._timers)) this._clock.clearTimeout(timer);
    const { ws } = this;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch {
      // already closed
    }
  }

  _received(data) {
    if (this.closed) return;
    this._lastReceived = this._clock.now(); // any octet, heart-beat or frame, proves liveness
    let frames;
    try {
      frames = this._parser.push(data);
    } catch (cause) {
      this._fail(ErrorCode.parseError, `unreadable frame from broker: ${cause.message}`, cause);
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      this._events.frameReceived(this, frame);
    }
  }

  _sendRaw(data) {
    if (this.closed) return false;
    try {
      this.ws.send(data);
    } catch (cause) {
      this._fail(ErrorCode.connectionLost, `socket send failed: ${cause?.message ?? cause}`, cause);
      return false;
    }
    this._lastSent = this._clock.now();
    return true;
  }

  _fail(code, message, cause) {
    if (this.closed) return;
    this._events.failed(this, new StompError(code, message, { cause }));
  }

  _scheduleBeat() {
    const interval = this.heartbeat.outgoing;
    const wait = Math.max(0, this._lastSent + interval - this._clock.now());
    this._timers.beat = this._clock.setTimeout(() => {
      if (this._clock.now() - this._lastSent >= interval && !this._sendRaw(HEARTBEAT)) return;
      this._scheduleBeat();
    }, wait);
  }

  _scheduleWatchdog() {
    const limit = 2 * this.heartbeat.incoming;
    const wait = Math.max(0, this._lastReceived + limit - this._clock.now());
    this._timers.watchdog = this._clock.setTimeout(() => {
      if (this._clock.now() - this._lastReceived >= limit) {
        this._fail(ErrorCode.heartbeatTimeout, `nothing from the broker for ${limit} ms (heart-beat ${this.heartbeat.incoming} ms)`);
      } else {
        this._scheduleWatchdog();
      }
    }, wait);
  }
}

function describe(frame) {
  const { destination, id } = frame.headers;
  return [frame.command, destination, id === undefined ? '' : `(id ${id})`].filter(Boolean).join(' ');
}
