// The connection half of the STOMP client: connect, heart-beats, reconnect with backoff, auth
// failure, activate/deactivate, state and error events, receipts. StompClient (stomp.js) adds
// subscriptions, sends and request/reply on top, through the hooks at the end of this class.

import { DEFAULT_MAX_FRAME_SIZE } from './stomp-frame.js';
import { DEFAULT_BACKOFF, backoffDelay, negotiateHeartbeat, systemClock } from './stomp-timing.js';
import { ErrorCode, StompError } from './stomp-errors.js';
import { StompLink } from './stomp-link.js';
import { ReceiptBook } from './stomp-pending.js';

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
 * A STOMP 1.2 connection that keeps itself connected. Use StompClient, which adds messaging.
 *
 * Events (`on(type, listener)`): `state` with `{state, delayMs?, attempt?, error?, headers?}`
 * whenever the connection state changes, and `error` with a StompError for broker errors,
 * refused operations, dead connections and throwing handlers. whenConnected() waits for CONNECTED.
 */
export class StompConnection {
  /**
   * @param {object} options
   * @param {string} [options.url] e.g. `ws://127.0.0.1:15674/ws`
   * @param {string[]} [options.urls] instead of `url`: one per broker node of a cluster. The
   *   first connection goes to one drawn at random (so tabs spread over the nodes), and each
   *   reconnection after a loss to the next one, after the backoff's jittered wait
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
   * @param {number} [options.disconnectTimeoutMs] wait for the DISCONNECT receipt (default 2000)
   * @param {number} [options.maxFrameSize] largest inbound frame in octets (default 1 MiB)
   * @param {(client: StompConnection) => (void | Promise<void>)} [options.beforeConnect] runs before
   *   every connection attempt, e.g. to refresh `client.passcode`; may be async, may call
   *   deactivate(); a throw or rejection counts as a failed attempt
   * @param {(url: string, protocols: string[]) => WebSocket} [options.webSocketFactory]
   * @param {{now: () => number, setTimeout: Function, clearTimeout: Function}} [options.clock]
   * @param {() => number} [options.random] numbers in [0, 1) for backoff jitter
   */
  constructor(options) {
    const urls = options?.urls?.length ? [...options.urls] : options?.url ? [options.url] : [];
    if (urls.length === 0) throw new TypeError('a STOMP connection needs a url');
    this.urls = urls;
    this.login = options.login;
    this.passcode = options.passcode;
    this.host = options.host ?? '/';
    this.connectHeaders = { ...options.connectHeaders };
    this.heartbeat = { outgoing: 10000, incoming: 10000, ...options.heartbeat };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.authRetryMs = options.authRetryMs ?? 0;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10000;
    this.receiptTimeoutMs = options.receiptTimeoutMs ?? 10000;
    this.disconnectTimeoutMs = options.disconnectTimeoutMs ?? 2000;
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.beforeConnect = options.beforeConnect;
    this._createSocket = options.webSocketFactory ?? browserWebSocketFactory;
    this._clock = options.clock ?? systemClock;
    this._random = options.random ?? Math.random;
    this._urlIndex = urls.length > 1 ? Math.floor(this._random() * urls.length) % urls.length : 0;

    this._listeners = new Map();
    this._state = ConnectionState.disconnected;
    this._active = false;
    this._suspended = false; // suspend() was called: no socket until resume()
    this._link = null; // the current socket and its per-connection state
    this._reconnectTimer = null;
    this._opening = null; // token of a beforeConnect in progress
    this._attempt = 0;
    this._deactivation = null;
    this._seq = 0;
    this._receipts = new ReceiptBook(this._clock);
    this._waiters = new Set(); // whenConnected() promises
  }

  /** The current ConnectionState value. */
  get state() {
    return this._state;
  }

  /** True once CONNECTED arrived on the current socket. */
  get connected() {
    return Boolean(this._link?.connected);
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

  /**
   * Resolves once connected (at once when connected now). Rejects when the client stops first
   * (a refused login: `auth-failed`; deactivate(): `deactivated`) or after `timeoutMs`
   * (`connect-timeout`). It does not activate the client.
   * @param {{timeoutMs?: number}} [options] default connectTimeoutMs
   * @returns {Promise<void>}
   */
  whenConnected({ timeoutMs = this.connectTimeoutMs } = {}) {
    if (this._readyLink()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      waiter.timer = this._clock.setTimeout(() => {
        this._waiters.delete(waiter);
        reject(new StompError(ErrorCode.connectTimeout, `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this._waiters.add(waiter);
    });
  }

  /** Starts connecting (and keeps reconnecting) unless already active. Safe to call any time. */
  activate() {
    this._active = true;
    if (this._deactivation || this._suspended) return; // reopens once deactivated, or on resume()
    if (this._link || this._reconnectTimer !== null || this._opening) return;
    this._attempt = 0;
    this._open();
  }

  /**
   * Disconnects gracefully (DISCONNECT with a receipt) and stops reconnecting. Pending sends,
   * requests and whenConnected() waiters are rejected with code `deactivated`; subscriptions
   * are kept for the next activate().
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
      link.send({ command: 'DISCONNECT', headers: { receipt } });
    } else {
      this._finishDeactivation();
    }
    return promise;
  }

  /**
   * Lets go of the socket as if it were lost, and opens none until resume(): for a page that is
   * hidden in the back/forward cache or frozen, which cannot show what the broker delivers.
   * Unacknowledged messages go back to the queue with the socket; unlike deactivate(), sends
   * waiting for a connection stay queued, sends waiting for a RECEIPT fail with
   * `connection-lost` (so they may be sent again), and subscriptions are renewed on resume().
   */
  suspend() {
    if (this._suspended) return;
    this._suspended = true;
    this._cancelReconnect();
    this._opening = null;
    if (this._link && !this._deactivation) {
      this._linkLost(this._link, new StompError(ErrorCode.connectionLost, 'suspended while the page is hidden'));
    }
  }

  /** Undoes suspend(): reconnects at once if the client is active. Safe to call any time. */
  resume() {
    if (!this._suspended) return;
    this._suspended = false;
    if (!this._active || this._deactivation || this._link || this._reconnectTimer !== null || this._opening) return;
    this._attempt = 0;
    this._open();
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
    const options = { clock: this._clock, maxFrameSize: this.maxFrameSize, connectTimeoutMs: this.connectTimeoutMs };
    this._link = new StompLink(ws, options, {
      opened: (link) => this._onOpen(link),
      frameReceived: (link, frame) => this._onFrame(link, frame),
      closed: (link, event) => this._onClose(link, event),
      failed: (link, error) => this._fail(link, error),
    });
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
    link.send({ command: 'CONNECT', headers });
  }

  _onFrame(link, frame) {
    if (link !== this._link) return;
    switch (frame.command) {
      case 'CONNECTED':
        if (!link.connected) this._onConnected(link, frame);
        break;
      case 'MESSAGE':
        if (link.connected) this._messageReceived(link, frame);
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
    link.markConnected(negotiateHeartbeat(this.heartbeat, frame.headers['heart-beat']));
    this._attempt = 0;
    this._connected(link);
    if (link !== this._link) return; // a send during _connected failed
    this._setState(ConnectionState.connected, { headers: frame.headers });
    if (link === this._readyLink()) this._settleWaiters();
  }

  _onClose(link, { code: closeCode, reason: closeReason }) {
    if (link !== this._link) return;
    if (this._deactivation) {
      // Web-STOMP answers DISCONNECT by closing, also with "STOMP died", often before the RECEIPT.
      this._linkLost(link, new StompError(ErrorCode.deactivated, 'the client was deactivated'));
      return;
    }
    if (closeCode === 1000 && closeReason === STOMP_DIED) {
      // Web-STOMP closes this way both when it refuses a frame and when the broker closes the
      // connection itself (close_all_connections, a restart). A frame still waiting for its
      // RECEIPT is the likely culprit; an ACK never is (it goes out once, on the connection
      // that delivered its message), so after one the close is the broker's own.
      const culprit = link.connected ? link.unconfirmed() : undefined;
      const last = link.lastOperation;
      const operation = culprit?.operation ?? (/^ACK\b/.test(last ?? '') ? undefined : last);
      const message = operation
        ? `broker closed the connection ("STOMP died"), most likely refusing ${operation}`
        : 'broker closed the connection ("STOMP died") with nothing of ours to refuse: closed by the broker';
      const error = new StompError(ErrorCode.stompDied, message, { operation, closeCode, closeReason });
      this._emit('error', error);
      if (culprit) this._refused(culprit, error);
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
    const receipt = frame.headers['receipt-id'];
    const culprit = receipt === undefined ? undefined : link.unconfirmed(receipt);
    const error = new StompError(ErrorCode.brokerError, `broker error: ${summary || 'ERROR'}`, {
      ...context,
      operation: culprit?.operation,
    });
    this._emit('error', error);
    if (culprit) this._refused(culprit, error);
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
    link.close();
    this._link = null;
    this._receipts.rejectAll(error);
    this._linkDropped(link, error);
  }

  /** The broker node the next connection goes to (of `urls`). */
  get url() {
    return this.urls[this._urlIndex];
  }

  _afterLoss(error) {
    // Its node may be gone: the next attempt goes to the next node (with one node, the same).
    this._urlIndex = (this._urlIndex + 1) % this.urls.length;
    if (!this._active || this._suspended) {
      this._setState(ConnectionState.disconnected, { error });
      return;
    }
    const delayMs = backoffDelay(this._attempt, this.backoff, this._random);
    this._attempt += 1;
    this._reopenAfter(delayMs);
    this._setState(ConnectionState.reconnecting, { delayMs, attempt: this._attempt, error });
  }

  _afterAuthFailure(error) {
    // Retrying a refused login at reconnect speed only hammers the broker: stop, or wait long.
    if (this.authRetryMs > 0) {
      // Up to half taken off at random: after a broker restart every tab may be refused in the
      // same second (its auth backend swamped), and must not come back in the same second too.
      const delayMs = Math.round(this.authRetryMs * (1 - this._random() / 2));
      this._reopenAfter(delayMs);
      this._setState(ConnectionState.authFailed, { error, delayMs });
      return;
    }
    this._active = false;
    this._settleWaiters(error);
    this._stopped(error);
    this._setState(ConnectionState.authFailed, { error });
  }

  _finishDeactivation() {
    const deactivation = this._deactivation;
    if (!deactivation) return;
    const error = new StompError(ErrorCode.deactivated, 'the client was deactivated');
    if (this._link) this._dropLink(this._link, error);
    this._deactivation = null;
    this._settleWaiters(error);
    this._stopped(error);
    this._setState(ConnectionState.disconnected);
    deactivation.resolve();
    if (this._active && !this._suspended) {
      this._attempt = 0;
      this._open();
    }
  }

  /** Resolves every whenConnected() promise, or rejects them with `error`. */
  _settleWaiters(error) {
    for (const waiter of [...this._waiters]) {
      this._waiters.delete(waiter);
      this._clock.clearTimeout(waiter.timer);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  _reopenAfter(delayMs) {
    this._reconnectTimer = this._clock.setTimeout(() => {
      this._reconnectTimer = null;
      this._open();
    }, delayMs);
  }

  _cancelReconnect() {
    if (this._reconnectTimer === null) return;
    this._clock.clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
  }

  // ---- receipts ----

  _expectReceipt(receipt, resolve, reject, timeoutMs, operation) {
    const timeoutError = () =>
      new StompError(ErrorCode.receiptTimeout, `no RECEIPT for ${operation} within ${timeoutMs} ms`, { operation });
    this._receipts.expect(receipt, { resolve, reject, timeoutMs, timeoutError });
  }

  _onReceipt(link, frame) {
    const receipt = frame.headers['receipt-id'];
    link.confirmed(receipt);
    this._receipts.resolve(receipt, frame);
  }

  // ---- plumbing ----

  /** The link frames may go out on now: connected, and no DISCONNECT sent. */
  _readyLink() {
    return this._link?.connected && !this._deactivation ? this._link : null;
  }

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
  // ---- hooks for StompClient ----

  /** CONNECTED arrived on `link`; runs before the `connected` state is reported. */
  _connected(link) {}

  /** A MESSAGE arrived on a connected `link`. */
  _messageReceived(link, frame) {}

  /** The broker refused `culprit` (an operation noted with link.awaitConfirmation). */
  _refused(culprit, error) {}

  /** `link` is gone; whatever waited on it should fail with `error`. */
  _linkDropped(link, error) {}

  /** The client stopped (deactivated or refused login); everything waiting should fail. */
  _stopped(error) {}
}
