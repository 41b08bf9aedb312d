// Sends this tab's posts and keeps their pending entries in the Room up to date. The StompClient
// already holds sends made while disconnected and sends them once after reconnecting; this adds
// the other case: a post that went out but whose RECEIPT was lost with the connection is sent
// again once (same clientId, so the room shows it once), a moment after reconnecting, unless the
// room has echoed it by then.

import { PendingStatus } from './room.js';

/** StompError codes after which a post may or may not have reached the broker. */
export const RETRYABLE_CODES = new Set(['connection-lost', 'stomp-died', 'heartbeat-timeout', 'receipt-timeout', 'connect-timeout', 'parse-error']);

export class Outbox {
  /**
   * @param {object} options
   * @param {import('./room.js').Room} options.room
   * @param {(payload: {text: string, clientId: string, login: string, session: string}) => Promise<unknown>} options.send
   *   sends one post (resolves on the broker's RECEIPT)
   * @param {() => {login: string, session: string}} options.identity who is posting
   * @param {() => boolean} options.isConnected
   * @param {() => string} options.newClientId
   * @param {() => void} [options.onChange] called after a pending entry changed asynchronously
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.clock]
   * @param {number} [options.settleMs] wait after reconnecting before resending (default 1500)
   * @param {number} [options.maxAttempts] sends per post before giving up (default 2)
   */
  constructor({ room, send, identity, isConnected, newClientId, onChange = () => {}, clock = globalThis, settleMs = 1500, maxAttempts = 2 }) {
    Object.assign(this, { room, _send: send, identity, isConnected, newClientId, onChange, clock, settleMs, maxAttempts });
    this._attempts = new Map(); // clientId -> sends so far
    this._lost = new Set(); // clientIds to send again after reconnecting
    this._timer = null;
  }

  /**
   * Shows a post as pending and sends it.
   * @param {string} text validated text
   * @param {{proof?: boolean}} [options] whether it waits for a proof of work
   * @returns {string} its clientId
   * @throws {RangeError} when too many posts are pending
   */
  post(text, { proof = false } = {}) {
    const clientId = this.newClientId();
    this.room.addPending({ clientId, text, proof, status: this._waitingStatus() });
    this._transmit(clientId);
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
      this.room.addPending({ clientId, text, proof, status: this._waitingStatus() });
      this._transmit(clientId);
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
    this._attempts.set(clientId, 0);
    this.room.setPendingStatus(clientId, this._waitingStatus());
    this._transmit(clientId);
  }

  /** Forgets a failed or refused post. @param {string} clientId */
  dismiss(clientId) {
    this._attempts.delete(clientId);
    this._lost.delete(clientId);
    this.room.removePending(clientId);
  }

  /** Tell it when the connection is (back) up. */
  connected() {
    for (const entry of this.room.entries()) {
      if (entry.pending?.status === PendingStatus.queued && !this._lost.has(entry.pending.clientId)) {
        this.room.setPendingStatus(entry.pending.clientId, PendingStatus.sending);
      }
    }
    if (this._lost.size === 0 || this._timer !== null) return;
    this._timer = this.clock.setTimeout(() => {
      this._timer = null;
      const lost = [...this._lost];
      this._lost.clear();
      for (const clientId of lost) {
        if (this.room.pending(clientId)) this._transmit(clientId);
      }
      this.onChange();
    }, this.settleMs);
  }

  /** Stops everything (logout). */
  reset() {
    if (this._timer !== null) this.clock.clearTimeout(this._timer);
    this._timer = null;
    this._attempts.clear();
    this._lost.clear();
  }

  _waitingStatus() {
    return this.isConnected() ? PendingStatus.sending : PendingStatus.queued;
  }

  _transmit(clientId) {
    const entry = this.room.pending(clientId);
    if (!entry) return;
    const attempts = (this._attempts.get(clientId) ?? 0) + 1;
    this._attempts.set(clientId, attempts);
    const { login, session } = this.identity();
    const payload = { text: entry.pending.text, clientId, login, session };
    this.room.setPendingStatus(clientId, this._waitingStatus());
    Promise.resolve()
      .then(() => this._send(payload))
      .then(
        () => {
          const current = this.room.pending(clientId)?.pending.status;
          if (current === PendingStatus.sending || current === PendingStatus.queued) {
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
    if (RETRYABLE_CODES.has(error?.code) && attempts < this.maxAttempts) {
      this._lost.add(clientId);
      this.room.setPendingStatus(clientId, PendingStatus.queued);
      if (this.isConnected()) this.connected();
      return;
    }
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
    case 'outbox-full':
      return 'Too many posts are waiting for the connection.';
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
