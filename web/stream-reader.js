// General read from its stream, in a deployment whose /config.json names `generalStream`
// (docs/design.md, the page): every event of general goes once to a RabbitMQ stream that every
// tab reads, instead of into each tab queue. A stream keeps what it holds whoever read it, so the
// tab says where to start (`x-stream-offset`): after the newest offset it took in (on this page,
// or drawn before a reload), `next` on a new session's first SUBSCRIBE, and otherwise (a
// reconnect before anything came) a minute before that first SUBSCRIBE; the overlap is dropped
// by event id, as with a backfill. Deliveries are acknowledged cumulatively (ack mode `client`:
// one ACK covers every earlier one): after they are drawn, once `streamAckEvery` are waiting, by
// ACKing the newest, and never on a later connection. Typing and online notices older than
// `typingShownMs` are dropped unseen: a queue would have let them expire.
//
//   const reader = new StreamReader({ client, queue, feed, storage, session, clock, log });
//   reader.start();                      // before the login request (ChatSession._join)
//   render(); reader.drawn();            // acknowledges, keeps the position for a reload
//   reader.connectionLost();             // nothing that connection brought is acknowledged now
//   reader.stop();                       // logout

import { loadStreamPosition, saveStreamPosition, streamOffset } from './session.js';
import { rules } from './validate.js';

/** Notices a stream keeps past the time they mean anything (a tab queue lets them expire). */
export const FLEETING_KINDS = new Set(['typing', 'online']);
/** How long before its first SUBSCRIBE a session reads again when it has no offset: the browser's clock may be a little off. */
export const CLOCK_MARGIN_S = 60;

export class StreamReader {
  /**
   * @param {object} options
   * @param {import('./stomp.js').StompClient} options.client
   * @param {string} options.queue the stream queue (config.generalStream)
   * @param {import('./room-feed.js').RoomFeed} options.feed
   * @param {Storage} options.storage sessionStorage: where the session got to, for a reload
   * @param {string} options.session the tab's session id
   * @param {{now: () => number}} options.clock
   * @param {{warn: Function}} [options.log]
   * @param {number} [options.prefetch] rules.streamPrefetch
   * @param {number} [options.ackEvery] rules.streamAckEvery (fewer than prefetch)
   * @param {number} [options.shownMs] rules.typingShownMs: older notices are dropped
   */
  constructor({ client, queue, feed, storage, session, clock, log = console, prefetch = rules.streamPrefetch, ackEvery = rules.streamAckEvery, shownMs = rules.typingShownMs }) {
    Object.assign(this, { client, queue, feed, storage, session, clock, log, prefetch, ackEvery, shownMs });
    const saved = loadStreamPosition(storage, session);
    /** The newest offset taken in, or null before the first. */
    this.offset = saved.offset;
    /** When the session first subscribed (unix seconds), or null before. */
    this.since = saved.since;
    this.subscription = null;
    this._waiting = 0; // deliveries of this connection not acknowledged yet
    this._newest = null; // the newest of them
    this._saved = ''; // what was last kept in storage
    this._gaveUp = false;
  }

  /** Subscribes, unless subscribed already (a login again keeps the subscription and its offset). */
  start() {
    if (this.subscription) return;
    this.subscription = this.client.subscribe(`/amq/queue/${this.queue}`, (message) => this.delivered(message), {
      ack: 'client',
      prefetch: this.prefetch,
      headers: () => ({ 'x-stream-offset': this.startAt() }),
      onError: (error) => {
        this._gaveUp = true;
        this.log.warn(`[warren] general's stream ${this.queue} cannot be read; general shows what the login backfilled only`, error.message);
      },
    });
  }

  /** Whether the client gave up on the SUBSCRIBE (refused too often): nothing comes from the stream any more. */
  get gaveUp() {
    return this._gaveUp;
  }

  /** Where the next SUBSCRIBE starts reading; asked at each one (the first of a session notes its time). */
  startAt() {
    if (this.offset !== null) return `offset=${this.offset + 1n}`;
    if (this.since !== null) return `timestamp=${this.since - CLOCK_MARGIN_S}`;
    this.since = Math.floor(this.clock.now() / 1000);
    return 'next';
  }

  /** One delivery from the stream: taken in like a live one from the tab queue, acknowledged later. */
  delivered(message) {
    const offset = streamOffset(message.headers?.['x-stream-offset']);
    if (offset !== null && (this.offset === null || offset > this.offset)) this.offset = offset;
    this._waiting += 1;
    this._newest = message;
    this.feed.takeIn(message.body, { keep: (event) => !this._stale(event) });
  }

  /** What was taken in is on the screen: one ACK for all once enough wait, and the position kept. */
  drawn() {
    if (this._waiting >= this.ackEvery) {
      this._newest.ack();
      this._waiting = 0;
      this._newest = null;
    }
    this._keep();
  }

  /** The connection is gone, and with it every ACK of what it brought: the count starts again. */
  connectionLost() {
    this._waiting = 0;
    this._newest = null;
  }

  /** Unsubscribes (logout). */
  stop() {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.connectionLost();
  }

  /** Keeps the offset drawn (and the first SUBSCRIBE's time) for a reload, when it moved. */
  _keep() {
    if (this.since === null) return; // not subscribed yet
    const key = `${this.offset}/${this.since}`;
    if (key === this._saved) return;
    saveStreamPosition(this.storage, this.session, { offset: this.offset, since: this.since });
    this._saved = key;
  }

  /** A typing or online notice from before typingShownMs ago, by this page's clock. */
  _stale(event) {
    if (!FLEETING_KINDS.has(event?.kind)) return false;
    const at = Date.parse(event.at);
    return Number.isFinite(at) && this.clock.now() - at > this.shownMs;
  }
}
