// A STOMP 1.2 client for RabbitMQ Web-STOMP: subscriptions renewed across reconnects, sends
// confirmed by RECEIPT, and request/reply over /temp-queue/. It holds no outbox: a send or a
// request while disconnected fails at once with `not-connected` (the page's own outbox, outbox.js,
// keeps posts for later; whenConnected() waits for a connection). The connection itself
// (heart-beats, reconnect, auth failure) lives in stomp-connection.js.
//
//   import { StompClient } from './stomp.js';
//   const stomp = new StompClient({ url: config.stompUrl, login, passcode, host: '/' });
//   stomp.on('state', ({ state, delayMs, error }) => showStatus(state, delayMs, error));
//   stomp.on('error', (error) => console.warn(error.code, error.message));
//   stomp.activate();
//   await stomp.whenConnected();
//   const reply = await stomp.request('/amq/queue/chat.login', JSON.stringify(login),
//                                     { headers: { 'content-type': 'application/json' } });
//   stomp.subscribe(`/amq/queue/${JSON.parse(reply.body).queue}`, (m) => { show(m.body); m.ack(); },
//                   { ack: 'client-individual', prefetch: 50 });
//   await stomp.send('/amq/queue/chat.inbox', JSON.stringify(post), { 'content-type': 'application/json' });

import { StompConnection } from './stomp-connection.js';
import { ErrorCode, StompError } from './stomp-errors.js';
import { StompMessage, Subscription } from './stomp-message.js';
import { RequestBook } from './stomp-pending.js';

export { ConnectionState, StompConnection, browserWebSocketFactory } from './stomp-connection.js';
export { ErrorCode, StompError } from './stomp-errors.js';
export { StompMessage, Subscription } from './stomp-message.js';

/**
 * A STOMP 1.2 client that keeps itself connected: `activate()`, then `subscribe()`, `send()`,
 * `request()`; `deactivate()` to stop. See StompConnection for the `state` and `error` events.
 */
export class StompClient extends StompConnection {
  /**
   * @param {object} options every StompConnection option (url, login, passcode, host, heartbeat,
   *   backoff, authRetryMs, timeouts, maxFrameSize, beforeConnect, webSocketFactory, clock, random), and:
   * @param {number} [options.requestTimeoutMs] default request() timeout (default 10000)
   * @param {number} [options.maxSubscribeFailures] drop a subscription whose SUBSCRIBE the broker
   *   refused this many times in a row (default 2)
   * @param {string} [options.replyQueue] the NAME in `/temp-queue/NAME` for replies (default `replies`)
   */
  constructor(options) {
    super(options);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10000;
    this.maxSubscribeFailures = options.maxSubscribeFailures ?? 2;
    this.replyQueue = options.replyQueue ?? 'replies';
    this._subscriptions = new Map(); // id -> Subscription, kept across reconnects
    this._requests = new RequestBook(this._clock);
  }

  /** The reply-to destination request() uses. */
  get replyDestination() {
    return `/temp-queue/${this.replyQueue}`;
  }

  /**
   * Subscribes; the subscription is renewed after every reconnect until unsubscribed.
   * @param {string} destination e.g. `/amq/queue/NAME` (not `/temp-queue/`: replies need no SUBSCRIBE)
   * @param {(message: StompMessage) => unknown} handler may throw or reject; delivery goes on
   *   and the failure is reported as an `error` event
   * @param {{ack?: 'auto' | 'client' | 'client-individual', prefetch?: number,
   *          headers?: Record<string, string> | (() => Record<string, string>),
   *          onError?: (error: StompError) => void}} [options] `headers` as a function is asked
   *   at every SUBSCRIBE, the first and each renewal (a stream's `x-stream-offset` moves on)
   * @returns {Subscription}
   */
  subscribe(destination, handler, options = {}) {
    if (destination.startsWith('/temp-queue/')) {
      throw new TypeError('/temp-queue/ destinations take no SUBSCRIBE; use request()');
    }
    const extra = options.headers;
    const headers = () => {
      const out = { ...(typeof extra === 'function' ? extra() : extra) };
      if (options.ack) out.ack = options.ack;
      if (options.prefetch !== undefined) out['prefetch-count'] = String(options.prefetch);
      for (const reserved of ['id', 'destination', 'receipt']) delete out[reserved];
      return out;
    };
    const id = this._nextId('sub');
    const cancel = (sub) => this._unsubscribe(sub);
    const sub = new Subscription(id, destination, handler, headers, cancel, options.onError);
    this._subscriptions.set(id, sub);
    const link = this._readyLink();
    if (link) this._sendSubscribe(link, sub);
    return sub;
  }

  /**
   * Sends a message and waits for the broker's RECEIPT.
   * @param {string} destination e.g. `/amq/queue/chat.inbox`
   * @param {string | Uint8Array} [body]
   * @param {Record<string, string>} [headers] e.g. `content-type`
   * @returns {Promise<import('./stomp-frame.js').StompFrame>} the RECEIPT; rejects on ERROR,
   *   a lost connection, receipt timeout, no connection now (`not-connected`, nothing was sent)
   *   or deactivate()
   */
  send(destination, body = '', headers = {}) {
    return new Promise((resolve, reject) => {
      this._transmitOrRefuse({ destination, body, headers, resolve, reject, onSent: null });
    });
  }

  /**
   * Sends a request with `reply-to: /temp-queue/NAME` and a fresh `correlation-id`, and resolves
   * with the reply MESSAGE carrying that correlation-id. The temporary queue dies with the socket,
   * so a request already sent is rejected when the connection is lost; one made while
   * disconnected is rejected at once with `not-connected` (wait with whenConnected() first).
   * The request carries `expiration: timeoutMs`, so a request nobody waits for any more is
   * dropped by the broker instead of being served (a storm of tabs that gave up would otherwise
   * keep the service busy answering them long after).
   * @param {string} destination
   * @param {string | Uint8Array} [body]
   * @param {{timeoutMs?: number, headers?: Record<string, string>}} [options]
   * @returns {Promise<StompMessage>}
   */
  request(destination, body = '', { timeoutMs = this.requestTimeoutMs, headers = {} } = {}) {
    const correlationId = this._nextId('req');
    const operation = `SEND ${destination}`;
    return new Promise((resolve, reject) => {
      const entry = {
        destination,
        body,
        headers: { expiration: String(Math.max(1, Math.ceil(timeoutMs))), ...headers, 'reply-to': this.replyDestination, 'correlation-id': correlationId },
        resolve: () => {},
        reject: (error) => pending.reject(error),
        onSent: (link) => (pending.link = link),
      };
      const pending = this._requests.open(correlationId, {
        resolve,
        reject,
        timeoutMs,
        timeoutError: () => new StompError(ErrorCode.requestTimeout, `no reply from ${destination} within ${timeoutMs} ms`, { operation }),
      });
      this._transmitOrRefuse(entry);
    });
  }

  // ---- hooks from StompConnection ----

  /**
   * Renews every subscription, in order, each once the one before is confirmed (or its RECEIPT
   * given up on): a broker that drops the connection for a SUBSCRIBE names none, and with one
   * unconfirmed at a time the blame falls on the right one, not on an earlier one whose RECEIPT
   * is slow (a stream's, while a tab queue that went with its node is refused).
   */
  _connected(link) {
    const renew = ([sub, ...rest]) => {
      if (!sub || link !== this._link) return;
      if (this._subscriptions.get(sub.id) !== sub) return renew(rest);
      this._sendSubscribe(link, sub, () => renew(rest));
    };
    renew([...this._subscriptions.values()]);
  }

  _refused(culprit, error) {
    if (culprit.subscription) this._blameSubscription(culprit.subscription, error);
  }

  _linkDropped(link, error) {
    this._requests.reject(error, (pending) => pending.link === link);
  }

  _stopped(error) {
    this._requests.reject(error);
  }

  // ---- frames out ----

  _transmitOrRefuse(entry) {
    const link = this._readyLink();
    if (link) {
      this._transmitSend(link, entry);
      return;
    }
    const operation = `SEND ${entry.destination}`;
    entry.reject(
      this._deactivation
        ? new StompError(ErrorCode.deactivated, 'the client was deactivated', { operation })
        : new StompError(ErrorCode.notConnected, `not connected: ${operation} was not sent`, { operation }),
    );
  }

  _transmitSend(link, entry) {
    const receipt = this._nextId('send');
    const operation = `SEND ${entry.destination}`;
    link.awaitConfirmation(receipt, { operation });
    this._expectReceipt(receipt, entry.resolve, entry.reject, this.receiptTimeoutMs, operation);
    entry.onSent?.(link);
    const headers = Object.assign({ destination: entry.destination }, entry.headers, {
      destination: entry.destination,
      receipt,
    });
    link.send({ command: 'SEND', headers, body: entry.body });
  }

  _sendSubscribe(link, sub, next = () => {}) {
    const receipt = this._nextId('subscribed');
    const operation = `SUBSCRIBE ${sub.destination} (id ${sub.id})`;
    link.awaitConfirmation(receipt, { operation, subscription: sub });
    const confirmed = () => {
      sub.failures = 0;
      next();
    };
    this._expectReceipt(receipt, confirmed, next, this.receiptTimeoutMs, operation);
    const headers = Object.assign({ id: sub.id, destination: sub.destination }, sub.headers, { receipt });
    link.send({ command: 'SUBSCRIBE', headers });
  }

  _unsubscribe(sub) {
    if (this._subscriptions.get(sub.id) !== sub) return;
    this._subscriptions.delete(sub.id);
    this._readyLink()?.send({ command: 'UNSUBSCRIBE', headers: { id: sub.id } });
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
    if (link !== this._readyLink()) return false;
    return link.send({ command, headers: { ...headers, id } });
  }

  // ---- frames in ----

  _messageReceived(link, frame) {
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
}
