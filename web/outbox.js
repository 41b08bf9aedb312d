// The page's one outbox: this tab's posts from the moment they are written until the broker
// confirms them (RECEIPT), each shown as a pending entry in the Room. Posts written while
// disconnected wait here (the STOMP client keeps nothing) and go out once, in order, when the
// connection is back; a post that went out but whose RECEIPT was lost with the connection is sent
// again once (same clientId, so the room shows it once), a moment after reconnecting, unless the
// room has echoed it by then; after a login again for a lost tab queue, the posts the broker took
// but the room never echoed go once more too (resendUnechoed).
//
//   const outbox = new Outbox({ room, transport: { get connected() {...}, send(payload) {...} }, ... });
//   outbox.post('hello', { proof: false });   // shown pending at once; sent now or after connected()
//   outbox.connected();                        // on every (re)connect

import { PendingStatus } from './room.js';
import { rules } from './validate.js';

/** The most posts that may wait at once (pending in the room: waiting, sending or not sent). */
export const OUTBOX_LIMIT = 100;

/** StompError codes after which a post may or may not have reached the broker. */
export const RETRYABLE_CODES = new Set(['connection-lost', 'stomp-died', 'heartbeat-timeout', 'receipt-timeout', 'connect-timeout', 'parse-error']);

export class Outbox {
  /**
   * @param {object} options
   * @param {import('./room.js').Room} options.room made with `pendingLimit: OUTBOX_LIMIT`
   * @param {{connected: boolean, send: (payload: {text: string, clientId: string, login: string, session: string}) => Promise<unknown>}} options.transport
   *   `send` sends one post while connected (resolves on the broker's RECEIPT; rejects with code
   *   `not-connected` when it could not even go out)
   * @param {() => {login: string, session: string}} options.identity who is posting
   * @param {string} [options.roomId] the room the posts go to (absent: general, which posts name by leaving `room` out)
   * @param {() => string} options.newClientId
   * @param {() => void} [options.onChange] called after a pending entry changed asynchronously
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.clock]
   * @param {number} [options.settleMs] wait after reconnecting before resending a lost post (default 1500)
   * @param {number} [options.maxAttempts] sends per post before giving up (default 2)
   */
  constructor({ room, transport, identity, newClientId, roomId, onChange = () => {}, clock = globalThis, settleMs = 1500, maxAttempts = 2 }) {
    Object.assign(this, { room, transport, identity, newClientId, roomId, onChange, clock, settleMs, maxAttempts });
    this._attempts = new Map(); // clientId -> sends so far
    this._lost = new Set(); // clientIds to send again a moment after reconnecting
    this._droppedTwice = new Set(); // clientIds failed because connections dropped under every send
    this._timer = null;
  }

  /**
   * Shows a post as pending and sends it, now or once connected.
   * @param {string} text validated text
   * @param {{proof?: boolean}} [options] whether it waits for a proof of work
   * @returns {string} its clientId
   * @throws {RangeError} when OUTBOX_LIMIT posts are pending already
   */
  post(text, { proof = false } = {}) {
    const clientId = this.newClientId();
    this._add({ clientId, text, proof });
    return clientId;
  }

  /**
   * Takes back posts an earlier page of this tab left unconfirmed, pending again under their own
   * clientIds, and sends them (the room shows a post once even if the first send had arrived).
   * @param {{clientId: string, text: string, proof?: boolean}[]} posts validated posts
   * @returns {number} how many were taken back (no more than fit in the room's pending limit)
   */
  restore(posts) {
    let taken = 0;
    for (const { clientId, text, proof = false } of posts) {
      if (this.room.pending(clientId)) continue;
      if (this.room.pendingCount >= this.room.pendingLimit) break;
      this._add({ clientId, text, proof });
      taken += 1;
    }
    return taken;
  }

  /**
   * The pending posts the broker has not confirmed (waiting for the connection, or sent without
   * a RECEIPT yet), oldest first: what a reload must not lose.
   * @returns {{clientId: string, text: string, proof: boolean}[]}
   */
  unconfirmed() {
    const waiting = new Set([PendingStatus.queued, PendingStatus.sending]);
    return this.room
      .entries()
      .filter((entry) => entry.pending && waiting.has(entry.pending.status))
      .map(({ pending: { clientId, text, proof } }) => ({ clientId, text, proof }));
  }

  /** Sends a failed post again, by hand. @param {string} clientId */
  retry(clientId) {
    const entry = this.room.pending(clientId);
    if (!entry || entry.pending.status !== PendingStatus.failed) return;
    this._sendAfresh(clientId);
  }

  /** Forgets a failed or refused post. @param {string} clientId */
  dismiss(clientId) {
    this._attempts.delete(clientId);
    this._lost.delete(clientId);
    this._droppedTwice.delete(clientId);
    this.room.removePending(clientId);
  }

  /** Tell it when the connection is (back) up: waiting posts go out now, lost ones a moment later. */
  connected() {
    for (const entry of this.room.entries()) {
      const clientId = entry.pending?.clientId;
      if (entry.pending?.status === PendingStatus.queued && !this._lost.has(clientId)) this._transmit(clientId);
    }
    if (this._lost.size === 0 || this._timer !== null) return;
    this._timer = this.clock.setTimeout(() => {
      this._timer = null;
      const lost = [...this._lost];
      this._lost.clear();
      for (const clientId of lost) {
        if (this.room.pending(clientId)?.pending.status === PendingStatus.queued) this._sendOrHold(clientId);
      }
      this.onChange();
    }, this.settleMs);
  }

  /**
   * Sends again, under their own clientIds, the posts the broker took (RECEIPT) that the room has
   * not echoed, and those that failed only because connections dropped under them: after the tab
   * queue was lost (its node gone) and declared anew by a login again, the login service may have
   * refused the former for a session without a queue, and that refusal went nowhere; the latter
   * met the drops that loss caused. One that did get in is admitted again under its first event
   * id, so shown once.
   */
  resendUnechoed() {
    for (const entry of this.room.entries()) {
      const clientId = entry.pending?.clientId;
      const status = entry.pending?.status;
      if (status === PendingStatus.sent || (status === PendingStatus.failed && this._droppedTwice.has(clientId))) {
        this._sendAfresh(clientId);
      }
    }
  }

  /** Sends a post again with its attempts counted from zero. */
  _sendAfresh(clientId) {
    this._attempts.set(clientId, 0);
    this._droppedTwice.delete(clientId);
    this._sendOrHold(clientId);
  }

  /** Stops everything (logout). */
  reset() {
    if (this._timer !== null) this.clock.clearTimeout(this._timer);
    this._timer = null;
    this._attempts.clear();
    this._lost.clear();
    this._droppedTwice.clear();
  }

  _add({ clientId, text, proof }) {
    this.room.addPending({ clientId, text, proof, status: PendingStatus.queued });
    this._sendOrHold(clientId);
  }

  _sendOrHold(clientId) {
    if (this.transport.connected) this._transmit(clientId);
    else this.room.setPendingStatus(clientId, PendingStatus.queued);
  }

  _transmit(clientId) {
    const entry = this.room.pending(clientId);
    if (!entry) return;
    const attempts = (this._attempts.get(clientId) ?? 0) + 1;
    this._attempts.set(clientId, attempts);
    const { login, session } = this.identity();
    const payload = { text: entry.pending.text, clientId, login, session };
    if (this.roomId && this.roomId !== rules.generalRoom) payload.room = this.roomId;
    this.room.setPendingStatus(clientId, PendingStatus.sending);
    Promise.resolve()
      .then(() => this.transport.send(payload))
      .then(
        () => {
          if (this.room.pending(clientId)?.pending.status === PendingStatus.sending) {
            this.room.setPendingStatus(clientId, PendingStatus.sent);
          }
          this._attempts.delete(clientId);
          this.onChange();
        },
        (error) => {
          this._failed(clientId, attempts, error);
          this.onChange();
        },
      );
  }

  _failed(clientId, attempts, error) {
    const entry = this.room.pending(clientId);
    if (!entry || error?.code === 'deactivated') return;
    if (entry.pending.status === PendingStatus.refused) return;
    if (error?.code === 'not-connected') {
      // It never went out: it waits for the next connection like a post written offline.
      this._attempts.set(clientId, attempts - 1);
      this.room.setPendingStatus(clientId, PendingStatus.queued);
      return;
    }
    if (RETRYABLE_CODES.has(error?.code) && attempts < this.maxAttempts) {
      this._lost.add(clientId);
      this.room.setPendingStatus(clientId, PendingStatus.queued);
      if (this.transport.connected) this.connected();
      return;
    }
    if (RETRYABLE_CODES.has(error?.code)) this._droppedTwice.add(clientId);
    this.room.setPendingStatus(clientId, PendingStatus.failed, describeSendError(error));
  }
}

/**
 * A sentence for a failed send.
 * @param {{code?: string, message?: string}} error
 * @returns {string}
 */
export function describeSendError(error) {
  switch (error?.code) {
    case 'receipt-timeout':
      return 'The broker did not confirm it in time; it may or may not have arrived.';
    case 'connection-lost':
    case 'stomp-died':
    case 'heartbeat-timeout':
      return 'The connection was lost before the broker confirmed it.';
    case 'broker-error':
      return `The broker refused it: ${error.message}`;
    default:
      return error?.message ? String(error.message) : 'It could not be sent.';
  }
}
