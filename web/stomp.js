// A STOMP 1.2 client over WebSocket for RabbitMQ Web-STOMP: connect, heart-beats, subscribe,
// send with receipts, request/reply over /temp-queue/, reconnect with backoff.
// The socket factory and the clock are injected, so tests run it without a network or sleeping.

import { DEFAULT_MAX_FRAME_SIZE, FrameParser, HEARTBEAT, serializeFrame } from './stomp-frame.js';
import { DEFAULT_BACKOFF, backoffDelay, negotiateHeartbeat, systemClock } from './stomp-timing.js';
import { ErrorCode, StompError } from './stomp-errors.js';
import { StompMessage, Subscription } from './stomp-message.js';

export { ErrorCode, StompError } from './stomp-errors.js';
export { StompMessage, Subscription } from './stomp-message.js';

/**
 * The states a client reports through its `state` event.
 * @readonly
 */
export const ConnectionState = Object.freeze({
  disconnected: 'disconnected',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  authFailed: 'auth-failed',
});

/** Web-STOMP in RabbitMQ 3.10 closes with this reason, and no ERROR, when it refuses a frame. */
const STOMP_DIED = 'STOMP died';

/** Frames whose refusal is worth naming when the broker drops the socket. */
const OPERATIONS = new Set(['SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK']);

/**
 * The browser's socket: `new WebSocket(url, protocols)`.
 * @param {string} url
 * @param {string[]} protocols
 * @returns {WebSocket}
 */
export function browserWebSocketFactory(url, protocols) {
  return new WebSocket(url, protocols);
}

/**
 * A STOMP 1.2 client that keeps itself connected.
 *
 * Events (`client.on(type, listener)`): `state` with `{state, delayMs?, attempt?, error?, headers?}`
 * whenever the connection state changes, and `error` with a StompError for broker errors,
 * refused operations, dead connections and throwing handlers.
 */
export class StompClient {
  /**
   * @param {object} options
   * @param {string} options.url e.g. `ws://127.0.0.1:15674/ws`
   * @param {string} [options.login]
   * @param {string} [options.passcode]
   * @param {string} [options.host] the virtual host (default `/`)
   * @param {Record<string, string>} [options.connectHeaders] extra CONNECT headers
   * @param {{outgoing?: number, incoming?: number}} [options.heartbeat] ms the client can send
   *   and wants to receive (`cx,cy`), default 10000 each; 0 turns a direction off
   * @param {{baseMs?: number, factor?: number, capMs?: number, jitter?: number}} [options.backoff]
   *   reconnect delays (default 1 s doubling to 30 s, up to half taken off at random)
   * @param {number} [options.authRetryMs] after a refused CONNECT, retry after this long; 0 (the
   *   default) stops until activate() is called again
   * @param {number} [options.connectTimeoutMs] wait for CONNECTED (default 10000)
   * @param {number} [options.receiptTimeoutMs] wait for a RECEIPT (default 10000)
   * @param {number} [options.requestTimeoutMs] default request() timeout (default 10000)
   * @param {number} [options.disconnectTimeoutMs] wait for the DISCONNECT receipt (default 2000)
   * @param {number} [options.outboxLimit] messages held while disconnected (default 100)
   * @param {number} [options.maxFrameSize] largest inbound frame in octets (default 1 MiB)
   * @param {number} [options.maxSubscribeFailures] drop a subscription whose SUBSCRIBE the broker
   *   refused this many times in a row (default 2)
   * @param {string} [options.replyQueue] the NAME in `/temp-queue/NAME` for replies (default `replies`)
   * @param {(client: StompClient) => (void | Promise<void>)} [options.beforeConnect] runs before
   *   every connection attempt, e.g. to refresh `client.passcode`; may be async, may call
   *   deactivate(); a throw or rejection counts as a failed attempt
   * @param {(url: string, protocols: string[]) => WebSocket} [options.webSocketFactory]
   * @param {{now: () => number, setTimeout: Function, clearTimeout: Function}} [options.clock]
   * @param {() => number} [options.random] numbers in [0, 1) for backoff jitter
   */
  constructor(options) {
    if (!options?.url) throw new TypeError('StompClient needs a url');
    this.url = options.url;
    this.login = options.login;
    this.passcode = options.passcode;
    this.host = options.host ?? '/';
    this.connectHeaders = { ...options.connectHeaders };
    this.heartbeat = { outgoing: 10000, incoming: 10000, ...options.heartbeat };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.authRetryMs = options.authRetryMs ?? 0;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10000;
    this.receiptTimeoutMs = options.receiptTimeoutMs ?? 10000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10000;
    this.disconnectTimeoutMs = options.disconnectTimeoutMs ?? 2000;
    this.outboxLimit = options.outboxLimit ?? 100;
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.maxSubscribeFailures = options.maxSubscribeFailures ?? 2;
    this.replyQueue = options.replyQueue ?? 'replies';
    this.beforeConnect = options.beforeConnect;
    this._createSocket = options.webSocketFactory ?? browserWebSocketFactory;
    this._clock = options.clock ?? systemClock;
    this._random = options.random ?? Math.random;

    this._listeners = new Map();
    this._state = ConnectionState.disconnected;
    this._active = false;
    this._link = null; // the current socket and its per-connection state
    this._reconnectTimer = null;
    this._opening = null; // token of a beforeConnect in progress
    this._attempt = 0;
    this._deactivation = null;
    this._seq = 0;
    this._subscriptions = new Map(); // id -> Subscription, kept across reconnects
    this._receipts = new Map(); // receipt id -> {resolve, reject, timer, operation}
    this._requests = new Map(); // correlation id -> pending request
    this._outbox = []; // sends waiting for a connection
  }

  /** The current ConnectionState value. */
  get state() {
    return this._state;
  }

  /** True once CONNECTED arrived on the current socket. */
  get connected() {
    return Boolean(this._link?.connected);
  }

  /** The reply-to destination request() uses. */
  get replyDestination() {
    return `/temp-queue/${this.replyQueue}`;
  }

  /**
   * Listens for `state` or `error` events.
   * @param {'state' | 'error'} type
   * @param {(detail: any) => void} listener
   * @returns {() => void} removes the listener
   */
  on(type, listener) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(listener);
    return () => this._listeners.get(type)?.delete(listener);
  }

  /** Starts connecting (and keeps reconnecting) unless already active. Safe to call any time. */
  activate() {
    this._active = true;
    if (this._deactivation) return; // reopens once the deactivation finishes
    if (this._link || this._reconnectTimer !== null || this._opening) return;
    this._attempt = 0;
    this._open();
  }

  /**
   * Disconnects gracefully (DISCONNECT with a receipt) and stops reconnecting. Pending sends,
   * requests and the outbox are rejected with code `deactivated`; subscriptions are kept for
   * the next activate().
   * @param {{force?: boolean}} [options] `force` drops the socket at once, without DISCONNECT
   * @returns {Promise<void>} resolves once the socket is let go; never rejects
   */
  deactivate({ force = false } = {}) {
    this._active = false;
    if (this._deactivation) {
      const { promise } = this._deactivation;
      if (force) this._finishDeactivation();
      return promise;
    }
    this._cancelReconnect();
    this._opening = null;
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    this._deactivation = { promise, resolve };
    const link = this._link;
    if (link?.connected && !force) {
      const receipt = this._nextId('disconnect');
      const finish = () => this._finishDeactivation();
      this._expectReceipt(receipt, finish, finish, this.disconnectTimeoutMs, 'DISCONNECT');
      this._transmit(link, { command: 'DISCONNECT', headers: { receipt } });
    } else {
      this._finishDeactivation();
    }
    return promise;
  }

  /**
   * Subscribes; the subscription is renewed after every reconnect until unsubscribed.
   * @param {string} destination e.g. `/amq/queue/NAME` (not `/temp-queue/`: replies need no SUBSCRIBE)
   * @param {(message: StompMessage) => unknown} handler may throw or reject; delivery goes on
   *   and the failure is reported as an `error` event
   * @param {{ack?: 'auto' | 'client' | 'client-individual', prefetch?: number,
   *          headers?: Record<string, string>, onError?: (error: StompError) => void}} [options]
   * @returns {Subscription}
   */
  subscribe(destination, handler, options = {}) {
    if (destination.startsWith('/temp-queue/')) {
      throw new TypeError('/temp-queue/ destinations take no SUBSCRIBE; use request()');
    }
    const headers = { ...options.headers };
    if (options.ack) headers.ack = options.ack;
    if (options.prefetch !== undefined) headers['prefetch-count'] = String(options.prefetch);
    for (const reserved of ['id', 'destination', 'receipt']) delete headers[reserved];
    const id = this._nextId('sub');
    const cancel = (sub) => this._unsubscribe(sub);
    const sub = new Subscription(id, destination, handler, headers, cancel, options.onError);
    this._subscriptions.set(id, sub);
    if (this._link?.connected) this._sendSubscribe(this._link, sub);
    return sub;
  }

  /**
   * Sends a message and waits for the broker's RECEIPT. While disconnected the message waits
   * in a bounded outbox and goes out after the next CONNECTED (once).
   * @param {string} destination e.g. `/amq/queue/chat.inbox`
   * @param {string | Uint8Array} [body]
   * @param {Record<string, string>} [headers] e.g. `content-type`
   * @returns {Promise<import('./stomp-frame.js').StompFrame>} the RECEIPT; rejects on ERROR,
   *   a lost connection, receipt timeout, a full outbox or deactivate()
   */
  send(destination, body = '', headers = {}) {
    return new Promise((resolve, reject) => {
      this._enqueue({ destination, body, headers, resolve, reject, onSent: null });
    });
  }

  /**
   * Sends a request with `reply-to: /temp-queue/NAME` and a fresh `correlation-id`, and resolves
   * with the reply MESSAGE carrying that correlation-id. The temporary queue dies with the socket,
   * so a request already sent is rejected when the connection is lost.
   * @param {string} destination
   * @param {string | Uint8Array} [body]
   * @param {{timeoutMs?: number, headers?: Record<string, string>}} [options]
   * @returns {Promise<StompMessage>}
   */
  request(destination, body = '', { timeoutMs = this.requestTimeoutMs, headers = {} } = {}) {
    const correlationId = this._nextId('req');
    return new Promise((resolve, reject) => {
      const entry = {
        destination,
        body,
        headers: { ...headers, 'reply-to': this.replyDestination, 'correlation-id': correlationId },
        resolve: () => {},
        reject: (error) => pending.settle(reject, error),
        onSent: (link) => (pending.link = link),
      };
      const pending = {
        link: null,
        settle: (fn, value) => {
          if (this._requests.get(correlationId) !== pending) return;
          this._requests.delete(correlationId);
          this._clock.clearTimeout(pending.timer);
          const queued = this._outbox.indexOf(entry);
          if (queued >= 0) this._outbox.splice(queued, 1);
          fn(value);
        },
        resolve: (message) => pending.settle(resolve, message),
        reject: (error) => pending.settle(reject, error),
      };
      pending.timer = this._clock.setTimeout(() => {
        const message = `no reply from ${destination} within ${timeoutMs} ms`;
        pending.reject(new StompError(ErrorCode.requestTimeout, message, { operation: `SEND ${destination}` }));
      }, timeoutMs);
      this._requests.set(correlationId, pending);
      this._enqueue(entry);
    });
  }

  // ---- connection lifecycle ----

  _open() {
    this._setState(ConnectionState.connecting, { attempt: this._attempt });
    if (!this.beforeConnect) {
      this._openSocket();
      return;
    }
    const token = {};
    this._opening = token;
    Promise.resolve()
      .then(() => this.beforeConnect(this))
      .then(
        () => {
          if (this._opening !== token) return; // deactivated meanwhile
          this._opening = null;
          this._openSocket();
        },
        (cause) => {
          if (this._opening !== token) return;
          this._opening = null;
          const error = new StompError(ErrorCode.connectionLost, `beforeConnect failed: ${cause?.message ?? cause}`, { cause });
          this._emit('error', error);
          this._afterLoss(error);
        },
      );
  }

  _openSocket() {
    let ws;
    try {
      ws = this._createSocket(this.url, ['v12.stomp']);
    } catch (cause) {
      const error = new StompError(ErrorCode.connectionLost, `cannot open ${this.url}: ${cause?.message ?? cause}`, { cause });
      this._emit('error', error);
      this._afterLoss(error);
      return;
    }
    const now = this._clock.now();
    const link = {
      ws,
      parser: new FrameParser({ maxFrameSize: this.maxFrameSize }),
      connected: false,
      heartbeat: { outgoing: 0, incoming: 0 },
      lastSent: now,
      lastReceived: now,
      lastOperation: undefined,
      unconfirmed: new Map(), // receipt id -> operation, for SENDs and SUBSCRIBEs in flight
      timers: {},
    };
    this._link = link;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => this._onOpen(link);
    ws.onmessage = (event) => this._onData(link, event.data);
    ws.onclose = (event) => this._onClose(link, event);
    ws.onerror = () => {}; // a close event always follows
    link.timers.connect = this._clock.setTimeout(() => {
      const message = `no CONNECTED within ${this.connectTimeoutMs} ms`;
      this._fail(link, new StompError(ErrorCode.connectTimeout, message));
    }, this.connectTimeoutMs);
  }

  _onOpen(link) {
    if (link !== this._link) return;
    const hb = this.heartbeat;
    const headers = {
      'accept-version': '1.2',
      host: this.host,
      login: this.login,
      passcode: this.passcode,
      'heart-beat': `${hb.outgoing},${hb.incoming}`,
      ...this.connectHeaders,
    };
    this._transmit(link, { command: 'CONNECT', headers });
  }

  _onData(link, data) {
    if (link !== this._link) return;
    link.lastReceived = this._clock.now(); // any octet, heart-beat or frame, proves liveness
    let frames;
    try {
      frames = link.parser.push(data);
    } catch (cause) {
      this._fail(link, new StompError(ErrorCode.parseError, `unreadable frame from broker: ${cause.message}`, { cause }));
      return;
    }
    for (const frame of frames) {
      if (link !== this._link) return;
      this._onFrame(link, frame);
    }
  }

  _onFrame(link, frame) {
    switch (frame.command) {
      case 'CONNECTED':
        if (!link.connected) this._onConnected(link, frame);
        break;
      case 'MESSAGE':
        if (link.connected) this._onMessage(link, frame);
        break;
      case 'RECEIPT':
        this._onReceipt(link, frame);
        break;
      case 'ERROR':
        this._onError(link, frame);
        break;
      default:
        break; // unknown commands are ignored
    }
  }

  _onConnected(link, frame) {
    this._clock.clearTimeout(link.timers.connect);
    link.connected = true;
    link.heartbeat = negotiateHeartbeat(this.heartbeat, frame.headers['heart-beat']);
    this._attempt = 0;
    if (link.heartbeat.outgoing > 0) this._scheduleBeat(link);
    if (link.heartbeat.incoming > 0) this._scheduleWatchdog(link);
    for (const sub of [...this._subscriptions.values()]) {
      if (link !== this._link) return;
      this._sendSubscribe(link, sub);
    }
    while (this._outbox.length > 0 && link === this._link) this._transmitSend(link, this._outbox.shift());
    if (link !== this._link) return;
    this._setState(ConnectionState.connected, { headers: frame.headers });
  }

  _onClose(link, event) {
    if (link !== this._link) return;
    const closeCode = event?.code;
    const closeReason = event?.reason ?? '';
    if (closeCode === 1000 && closeReason === STOMP_DIED) {
      const culprit = link.connected ? link.unconfirmed.values().next().value : undefined;
      const operation = culprit?.operation ?? link.lastOperation;
      const message = operation
        ? `broker closed the connection ("STOMP died"), most likely refusing ${operation}`
        : 'broker closed the connection ("STOMP died")';
      const error = new StompError(ErrorCode.stompDied, message, { operation, closeCode, closeReason });
      this._emit('error', error);
      if (culprit?.subscription) this._blameSubscription(culprit.subscription, error);
      this._linkLost(link, error);
      return;
    }
    const message = `socket closed (code ${closeCode}${closeReason ? `, ${closeReason}` : ''})`;
    this._linkLost(link, new StompError(ErrorCode.connectionLost, message, { closeCode, closeReason }));
  }

  _onError(link, frame) {
    const summary = [frame.headers.message, frame.body.trim().split('\n')[0]].filter(Boolean).join(': ');
    const context = { headers: frame.headers, body: frame.body };
    if (!link.connected) {
      const error = new StompError(ErrorCode.authFailed, `connection refused: ${summary || 'ERROR'}`, context);
      this._emit('error', error);
      this._linkLost(link, error, { authFailed: true });
      return;
    }
    const culprit = link.unconfirmed.get(frame.headers['receipt-id']);
    const error = new StompError(ErrorCode.brokerError, `broker error: ${summary || 'ERROR'}`, {
      ...context,
      operation: culprit?.operation,
    });
    this._emit('error', error);
    if (culprit?.subscription) this._blameSubscription(culprit.subscription, error);
    this._linkLost(link, error); // the broker closes after ERROR; don't wait for it
  }

  _fail(link, error) {
    if (link !== this._link) return;
    this._emit('error', error);
    this._linkLost(link, error);
  }

  /** Lets go of a socket, rejects what depended on it, then reconnects, stops or finishes. */
  _linkLost(link, error, { authFailed = false } = {}) {
    if (link !== this._link) return;
    this._dropLink(link, error);
    if (this._deactivation) {
      this._finishDeactivation();
    } else if (authFailed) {
      this._afterAuthFailure(error);
    } else {
      this._afterLoss(error);
    }
  }

  _dropLink(link, error) {
    for (const timer of Object.values(link.timers)) this._clock.clearTimeout(timer);
    const { ws } = link;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch {
      // already closed
    }
    this._link = null;
    const receipts = [...this._receipts.values()];
    this._receipts.clear();
    for (const entry of receipts) {
      this._clock.clearTimeout(entry.timer);
      entry.reject(error);
    }
    for (const pending of [...this._requests.values()]) {
      if (pending.link === link) pending.reject(error);
    }
  }

  _afterLoss(error) {
    if (!this._active) {
      this._setState(ConnectionState.disconnected, { error });
      return;
    }
    const delayMs = backoffDelay(this._attempt, this.backoff, this._random);
    this._attempt += 1;
    this._reconnectTimer = this._clock.setTimeout(() => {
      this._reconnectTimer = null;
      this._open();
    }, delayMs);
    this._setState(ConnectionState.reconnecting, { delayMs, attempt: this._attempt, error });
  }

  _afterAuthFailure(error) {
    // Retrying a refused login at reconnect speed only hammers the broker: stop, or wait long.
    if (this.authRetryMs > 0) {
      this._reconnectTimer = this._clock.setTimeout(() => {
        this._reconnectTimer = null;
        this._open();
      }, this.authRetryMs);
      this._setState(ConnectionState.authFailed, { error, delayMs: this.authRetryMs });
      return;
    }
    this._active = false;
    this._rejectWaiting(error);
    this._setState(ConnectionState.authFailed, { error });
  }

  _finishDeactivation() {
    const deactivation = this._deactivation;
    if (!deactivation) return;
    const error = new StompError(ErrorCode.deactivated, 'the client was deactivated');
    if (this._link) this._dropLink(this._link, error);
    this._deactivation = null;
    this._rejectWaiting(error);
    this._setState(ConnectionState.disconnected);
    deactivation.resolve();
    if (this._active) {
      this._attempt = 0;
      this._open();
    }
  }

  /** Rejects the outbox and every request, sent or not. */
  _rejectWaiting(error) {
    for (const entry of this._outbox.splice(0)) entry.reject(error);
    for (const pending of [...this._requests.values()]) pending.reject(error);
  }

  _cancelReconnect() {
    if (this._reconnectTimer === null) return;
    this._clock.clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
  }

  // ---- heart-beats ----

  _scheduleBeat(link) {
    const interval = link.heartbeat.outgoing;
    const wait = Math.max(0, link.lastSent + interval - this._clock.now());
    link.timers.beat = this._clock.setTimeout(() => {
      if (link !== this._link) return;
      if (this._clock.now() - link.lastSent >= interval && !this._transmitRaw(link, HEARTBEAT)) return;
      this._scheduleBeat(link);
    }, wait);
  }

  _scheduleWatchdog(link) {
    const limit = 2 * link.heartbeat.incoming;
    const wait = Math.max(0, link.lastReceived + limit - this._clock.now());
    link.timers.watchdog = this._clock.setTimeout(() => {
      if (link !== this._link) return;
      if (this._clock.now() - link.lastReceived >= limit) {
        const message = `nothing from the broker for ${limit} ms (heart-beat ${link.heartbeat.incoming} ms)`;
        this._fail(link, new StompError(ErrorCode.heartbeatTimeout, message));
      } else {
        this._scheduleWatchdog(link);
      }
    }, wait);
  }

  // ---- frames out ----

  _transmit(link, frame) {
    const sent = this._transmitRaw(link, serializeFrame(frame));
    if (sent && OPERATIONS.has(frame.command)) link.lastOperation = describe(frame);
    return sent;
  }

  _transmitRaw(link, data) {
    try {
      link.ws.send(data);
    } catch (cause) {
      const error = new StompError(ErrorCode.connectionLost, `socket send failed: ${cause?.message ?? cause}`, { cause });
      this._linkLost(link, error);
      return false;
    }
    link.lastSent = this._clock.now();
    return true;
  }

  _expectReceipt(receipt, resolve, reject, timeoutMs, operation) {
    const timer = this._clock.setTimeout(() => {
      this._receipts.delete(receipt);
      const message = `no RECEIPT for ${operation} within ${timeoutMs} ms`;
      reject(new StompError(ErrorCode.receiptTimeout, message, { operation }));
    }, timeoutMs);
    this._receipts.set(receipt, { resolve, reject, timer, operation });
  }

  _onReceipt(link, frame) {
    const id = frame.headers['receipt-id'];
    link.unconfirmed.delete(id);
    const entry = this._receipts.get(id);
    if (!entry) return;
    this._receipts.delete(id);
    this._clock.clearTimeout(entry.timer);
    entry.resolve(frame);
  }

  _enqueue(entry) {
    const link = this._link;
    if (link?.connected) {
      this._transmitSend(link, entry);
    } else if (this._outbox.length >= this.outboxLimit) {
      const message = `outbox full (${this.outboxLimit} messages waiting for a connection)`;
      entry.reject(new StompError(ErrorCode.outboxFull, message, { operation: `SEND ${entry.destination}` }));
    } else {
      this._outbox.push(entry);
    }
  }

  _transmitSend(link, entry) {
    const receipt = this._nextId('send');
    const operation = `SEND ${entry.destination}`;
    link.unconfirmed.set(receipt, { operation });
    this._expectReceipt(receipt, entry.resolve, entry.reject, this.receiptTimeoutMs, operation);
    entry.onSent?.(link);
    const headers = Object.assign({ destination: entry.destination }, entry.headers, {
      destination: entry.destination,
      receipt,
    });
    this._transmit(link, { command: 'SEND', headers, body: entry.body });
  }

  _sendSubscribe(link, sub) {
    const receipt = this._nextId('subscribed');
    const operation = `SUBSCRIBE ${sub.destination} (id ${sub.id})`;
    link.unconfirmed.set(receipt, { operation, subscription: sub });
    const confirmed = () => (sub.failures = 0);
    this._expectReceipt(receipt, confirmed, () => {}, this.receiptTimeoutMs, operation);
    const headers = Object.assign({ id: sub.id, destination: sub.destination }, sub.headers, { receipt });
    this._transmit(link, { command: 'SUBSCRIBE', headers });
  }

  _unsubscribe(sub) {
    if (this._subscriptions.get(sub.id) !== sub) return;
    this._subscriptions.delete(sub.id);
    if (this._link?.connected) this._transmit(this._link, { command: 'UNSUBSCRIBE', headers: { id: sub.id } });
  }

  /** A refused SUBSCRIBE would kill every reconnect, so after a few refusals it is dropped. */
  _blameSubscription(sub, cause) {
    sub.failures += 1;
    if (sub.failures < this.maxSubscribeFailures || this._subscriptions.get(sub.id) !== sub) return;
    this._subscriptions.delete(sub.id);
    sub.active = false;
    const message = `gave up on SUBSCRIBE ${sub.destination}: refused ${sub.failures} times`;
    const error = new StompError(ErrorCode.subscribeRefused, message, { operation: `SUBSCRIBE ${sub.destination}`, cause });
    this._emit('error', error);
    sub.onError?.(error);
  }

  _acknowledge(link, command, message, headers) {
    const id = message.headers.ack;
    if (id === undefined) {
      throw new TypeError(`${command} needs a message from an ack: 'client' or 'client-individual' subscription`);
    }
    // Ack ids belong to the connection that delivered; the broker redelivers after a reconnect.
    if (link !== this._link || !link.connected) return false;
    return this._transmit(link, { command, headers: { ...headers, id } });
  }

  // ---- frames in ----

  _onMessage(link, frame) {
    const acknowledge = (command, message, headers) => this._acknowledge(link, command, message, headers);
    const message = new StompMessage(frame, acknowledge);
    const target = frame.headers.subscription;
    if (target === this.replyDestination) {
      this._requests.get(frame.headers['correlation-id'])?.resolve(message); // late replies are dropped
      return;
    }
    const sub = this._subscriptions.get(target);
    if (!sub) return; // after unsubscribe, stragglers are dropped
    sub.failures = 0;
    try {
      const result = sub.handler(message);
      if (typeof result?.then === 'function') result.then(undefined, (cause) => this._handlerFailed(sub, cause));
    } catch (cause) {
      this._handlerFailed(sub, cause);
    }
  }

  _handlerFailed(sub, cause) {
    const message = `handler for ${sub.destination} failed: ${cause?.message ?? cause}`;
    this._emit('error', new StompError(ErrorCode.handlerFailed, message, { cause, operation: `SUBSCRIBE ${sub.destination}` }));
  }

  // ---- plumbing ----

  _setState(state, detail = {}) {
    if (state === ConnectionState.disconnected && this._state === state) return;
    this._state = state;
    this._emit('state', { state, ...detail });
  }

  _emit(type, detail) {
    for (const listener of [...(this._listeners.get(type) ?? [])]) {
      try {
        listener(detail);
      } catch (error) {
        globalThis.reportError?.(error); // a listener's bug must not break the protocol
      }
    }
  }

  _nextId(kind) {
    this._seq += 1;
    return `${kind}-${this._seq}`;
  }
}

function describe(frame) {
  const { destination, id } = frame.headers;
  return [frame.command, destination, id === undefined ? '' : `(id ${id})`].filter(Boolean).join(' ');
}
