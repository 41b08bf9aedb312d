// What subscribers receive and hold: a delivered message and a subscription handle.

/**
 * A MESSAGE delivered to a subscription or as a reply. `headers`, `body` (UTF-8 text) and
 * `binaryBody` (octets) come from the frame.
 */
export class StompMessage {
  /**
   * @param {import('./stomp-frame.js').StompFrame} frame the MESSAGE frame
   * @param {(command: 'ACK' | 'NACK', message: StompMessage, headers: object) => boolean} acknowledge
   *   sends ACK/NACK if the connection the message came on is still the current one
   */
  constructor(frame, acknowledge) {
    this.headers = frame.headers;
    this.binaryBody = frame.binaryBody;
    this._frame = frame;
    this._acknowledge = acknowledge;
    this._settled = false; // ACK or NACK went out: a second one would be refused by the broker
  }

  /** The body as UTF-8 text. */
  get body() {
    return this._frame.body;
  }

  /** The destination it was sent to. */
  get destination() {
    return this.headers.destination;
  }

  /** The `subscription` header: a subscription id, or `/temp-queue/NAME` for a reply. */
  get subscription() {
    return this.headers.subscription;
  }

  /** True when the broker redelivers it (an earlier delivery was not acknowledged). */
  get redelivered() {
    return this.headers.redelivered === 'true';
  }

  /**
   * Acknowledges the message (for `client` / `client-individual` subscriptions).
   * @param {Record<string, string>} [headers] extra headers, e.g. `transaction`
   * @returns {boolean} false when the connection it came on is gone (the broker will redeliver
   *   it), or when it was acknowledged (or rejected) already
   */
  ack(headers = {}) {
    return this._settle('ACK', headers);
  }

  /**
   * Rejects the message (RabbitMQ requeues it unless `requeue: 'false'`).
   * @param {Record<string, string>} [headers] extra headers, e.g. `requeue`
   * @returns {boolean} false when the connection it came on is gone, or when it was
   *   acknowledged (or rejected) already
   */
  nack(headers = {}) {
    return this._settle('NACK', headers);
  }

  _settle(command, headers) {
    if (this._settled) return false;
    this._settled = this._acknowledge(command, this, headers);
    return this._settled;
  }
}

/** A subscription handle: survives reconnects (the client subscribes again) until unsubscribed. */
export class Subscription {
  /**
   * @param {string} id the STOMP subscription id
   * @param {string} destination e.g. `/amq/queue/chat.user.alice.s1`
   * @param {(message: StompMessage) => unknown} handler called once per MESSAGE
   * @param {() => Record<string, string>} headers the SUBSCRIBE headers besides id and
   *   destination, asked for at every SUBSCRIBE (they may change between reconnects)
   * @param {(subscription: Subscription) => void} cancel what unsubscribe() asks the client to do
   * @param {((error: Error) => void) | undefined} onError told when this subscription fails
   */
  constructor(id, destination, handler, headers, cancel, onError) {
    this.id = id;
    this.destination = destination;
    this.handler = handler;
    this._headers = headers;
    this.onError = onError;
    this.active = true;
    this.failures = 0; // consecutive "STOMP died" closes blamed on this SUBSCRIBE
    this._cancel = cancel;
  }

  /** The headers the next SUBSCRIBE carries besides id, destination and receipt. */
  get headers() {
    return this._headers();
  }

  /** Stops delivery now and for good; sends UNSUBSCRIBE when connected. Idempotent. */
  unsubscribe() {
    if (!this.active) return;
    this.active = false;
    this._cancel(this);
  }
}
