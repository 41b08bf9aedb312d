// The room as the page shows it, without any DOM: room events in id order (ids sort as they
// were made, so backfill, scroll-back and live delivery merge into one timeline), each shown once
// (by event id, and by clientId for posts), reverser replies threaded under their post, this
// tab's own posts pending until the room echoes them, errors next to the post they refuse.
//
//   const room = new Room({ limit: 500 });
//   room.me = 'alice';
//   room.addPending({ clientId, text, proof: false });   // shown at once, greyed
//   room.setPendingStatus(clientId, 'sent');             // the broker's RECEIPT
//   room.receive(event);                                 // the echo replaces the pending entry
//   for (const entry of room.entries()) draw(entry);     // entry.rev changes when it changes

/** The kinds of room event the server sends. */
export const EventKinds = Object.freeze(['message', 'reply', 'proof', 'system', 'presence', 'error']);

/** Pending statuses: waiting for a connection, sent and awaiting RECEIPT, confirmed by RECEIPT, failed, refused. */
export const PendingStatus = Object.freeze({
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  failed: 'failed',
  refused: 'refused',
});

/**
 * Checks an event's shape; unknown kinds are kept (shown like system lines), so a newer server
 * does not break an older page.
 * @param {unknown} value parsed JSON
 * @returns {object | null} the event, or null when it cannot be shown
 */
export function normaliseEvent(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const { id, kind, from, text, at } = value;
  if (typeof id !== 'string' || id === '' || typeof kind !== 'string') return null;
  if (typeof text !== 'string' || typeof from !== 'string') return null;
  const event = { ...value, at: typeof at === 'string' ? at : '' };
  for (const key of ['inReplyTo', 'clientId']) {
    if (typeof event[key] !== 'string' || event[key] === '') delete event[key];
  }
  if (event.proof !== undefined && (typeof event.proof !== 'object' || event.proof === null)) delete event.proof;
  return event;
}

/**
 * @typedef {object} Entry
 * @property {string} key stable key: `e:<event id>` or `p:<clientId>`
 * @property {number} rev changes whenever the entry (or its replies) changes
 * @property {object} [event] the room event (absent on a pending post)
 * @property {{clientId: string, text: string, at: string, proof: boolean, status: string, error?: string}} [pending]
 * @property {boolean} own from this user (by login)
 * @property {Entry[]} replies threaded replies, in arrival order
 * @property {{text: string, code?: string, at: string}[]} errors errors the server sent about it
 * @property {{status: string, reason?: string}} [proofCheck] for proof events: checking, verified, invalid, unavailable
 * @property {boolean} [orphan] a reply whose post is not shown (yet)
 */

export class Room {
  /**
   * @param {{limit?: number, pendingLimit?: number, seenLimit?: number}} [options] at most
   *   `limit` top-level events (the oldest go), `pendingLimit` pending posts, and the ids of the
   *   last `seenLimit` events remembered for de-duplication
   */
  constructor({ limit = 500, pendingLimit = 100, seenLimit = 5000 } = {}) {
    this.limit = limit;
    this.pendingLimit = pendingLimit;
    this.seenLimit = seenLimit;
    /** The login of this tab's user; their events are marked `own`. */
    this.me = '';
    this.clear();
  }

  /** Forgets everything (on logout). */
  clear() {
    this._rev = 0;
    this._list = []; // top-level entries with events, in id order
    this._pending = new Map(); // clientId -> pending entry, creation order
    this._byId = new Map(); // event id -> entry (top level and replies)
    this._byClientId = new Map(); // author NUL clientId -> entry of a shown post
    this._orphans = new Map(); // post id -> replies waiting for it
    this._seen = new Set(); // event ids, bounded, insertion order
    this.changed = true;
  }

  /** Top-level entries in display order: room events, then this tab's pending posts. */
  entries() {
    return [...this._list, ...this._pending.values()];
  }

  /** The id of the oldest room event shown (where loading earlier ones starts), or undefined. */
  get oldestId() {
    return this._list[0]?.event.id;
  }

  /** The id of the newest room event shown (what reading the room reaches), or undefined. */
  get newestId() {
    return this._list.at(-1)?.event.id;
  }

  /** Number of top-level room events held. */
  get size() {
    return this._list.length;
  }

  /** Number of pending posts. */
  get pendingCount() {
    return this._pending.size;
  }

  /** @param {string} clientId @returns {Entry | undefined} */
  pending(clientId) {
    return this._pending.get(clientId);
  }

  /** @param {string} id @returns {Entry | undefined} */
  event(id) {
    return this._byId.get(id);
  }

  /**
   * Shows a post of this tab at once, before the broker has it.
   * @param {{clientId: string, text: string, proof?: boolean, at?: string, status?: string}} post
   * @returns {Entry}
   * @throws {RangeError} when `pendingLimit` posts are already pending
   */
  addPending({ clientId, text, proof = false, at = new Date().toISOString(), status = PendingStatus.sending }) {
    if (this._pending.has(clientId)) return this._pending.get(clientId);
    if (this._pending.size >= this.pendingLimit) {
      throw new RangeError(`${this.pendingLimit} posts are already waiting to be sent; wait for the connection to come back.`);
    }
    const entry = this._touch({
      key: `p:${clientId}`,
      pending: { clientId, text, at, proof, status },
      own: true,
      replies: [],
      errors: [],
    });
    this._pending.set(clientId, entry);
    return entry;
  }

  /**
   * Moves a pending post along: queued, sending, sent, failed (with a reason), refused.
   * A post already echoed by the room is not pending any more; then nothing changes.
   * @param {string} clientId
   * @param {string} status
   * @param {string} [error]
   * @returns {boolean} whether the post was still pending
   */
  setPendingStatus(clientId, status, error) {
    const entry = this._pending.get(clientId);
    if (!entry) return false;
    entry.pending = { ...entry.pending, status, error };
    this._touch(entry);
    return true;
  }

  /** Drops a pending post (dismissed by its author). @param {string} clientId @returns {boolean} */
  removePending(clientId) {
    const removed = this._pending.delete(clientId);
    if (removed) this.changed = true;
    return removed;
  }

  /**
   * Takes in a room event.
   * @param {unknown} value the parsed JSON of a delivered message
   * @returns {{accepted: boolean, reason?: 'malformed' | 'duplicate', entry?: Entry, replaced?: string}}
   *   `replaced`: the clientId of the pending post this event confirmed
   */
  receive(value) {
    const event = normaliseEvent(value);
    if (!event) return { accepted: false, reason: 'malformed' };
    if (this._seen.has(event.id)) return { accepted: false, reason: 'duplicate' };
    const isPost = event.kind === 'message' || event.kind === 'proof';
    // A clientId names a post of one author: another author's event with it is not the same post.
    const postKey = isPost && event.clientId ? `${event.from}\u0000${event.clientId}` : undefined;
    if (postKey && this._byClientId.has(postKey)) {
      this._remember(event.id);
      return { accepted: false, reason: 'duplicate' };
    }
    this._remember(event.id);
    if (event.kind === 'error') return { accepted: true, entry: this._receiveError(event) };

    const entry = this._touch({
      key: `e:${event.id}`,
      event,
      own: this.me !== '' && event.from === this.me,
      replies: [],
      errors: [],
    });
    if (event.kind === 'proof') entry.proofCheck = { status: 'checking' };

    if (event.kind === 'reply' && event.inReplyTo) {
      const parent = this._root(event.inReplyTo);
      if (parent) {
        this._attach(parent, entry);
        return { accepted: true, entry };
      }
      entry.orphan = true;
      const waiting = this._orphans.get(event.inReplyTo) ?? [];
      waiting.push(entry);
      this._orphans.set(event.inReplyTo, waiting);
    }

    let replaced;
    if (postKey) {
      this._byClientId.set(postKey, entry);
      const pending = this._pending.get(event.clientId);
      if (pending && (this.me === '' || event.from === this.me)) {
        replaced = event.clientId;
        this._pending.delete(event.clientId);
        entry.own = true;
        entry.errors.push(...pending.errors);
      }
    }
    this._byId.set(event.id, entry);
    this._insert(entry);
    this._adoptOrphans(entry);
    this._trim();
    return replaced ? { accepted: true, entry, replaced } : { accepted: true, entry };
  }

  /**
   * Records the result of checking a proof event's proof.
   * @param {string} id event id
   * @param {{status: string, reason?: string}} check
   * @returns {boolean} whether the event is still shown
   */
  setProofCheck(id, check) {
    const entry = this._byId.get(id);
    if (!entry) return false;
    entry.proofCheck = check;
    this._touch(entry);
    if (entry.parent) this._touch(entry.parent);
    return true;
  }

  // ---- inside ----

  _receiveError(event) {
    const note = { text: event.text, code: event.code, at: event.at };
    const target = event.inReplyTo;
    if (target) {
      const pending = this._pending.get(target);
      if (pending) {
        pending.pending = { ...pending.pending, status: PendingStatus.refused, error: event.text };
        pending.errors.push(note);
        return this._touch(pending);
      }
      const shown = this._byClientId.get(`${this.me}\u0000${target}`) ?? this._byId.get(target);
      if (shown) {
        shown.errors.push(note);
        return this._touch(shown);
      }
    }
    const entry = this._touch({ key: `e:${event.id}`, event, own: false, replies: [], errors: [] });
    this._byId.set(event.id, entry);
    this._insert(entry);
    this._trim();
    return entry;
  }

  /** The top-level entry a reply to `id` belongs under (replies to replies join the same thread). */
  _root(id) {
    let entry = this._byId.get(id);
    while (entry?.parent) entry = entry.parent;
    return entry && !entry.orphan ? entry : undefined;
  }

  _attach(parent, reply) {
    reply.parent = parent;
    reply.orphan = false;
    parent.replies.push(reply);
    this._byId.set(reply.event.id, reply);
    this._touch(reply);
    this._touch(parent);
  }

  _adoptOrphans(parent) {
    const waiting = this._orphans.get(parent.event.id);
    if (!waiting) return;
    this._orphans.delete(parent.event.id);
    for (const reply of waiting) {
      const at = this._list.indexOf(reply);
      if (at >= 0) this._list.splice(at, 1);
      this._attach(parent, reply);
    }
  }

  /** Puts a top-level entry in id order; live events come last, so the search starts there. */
  _insert(entry) {
    const id = entry.event.id;
    let at = this._list.length;
    while (at > 0 && this._list[at - 1].event.id > id) at -= 1;
    this._list.splice(at, 0, entry);
  }

  _trim() {
    while (this._list.length > this.limit) {
      const gone = this._list.shift();
      this._forget(gone);
    }
    if (this._orphans.size > this.limit) {
      const oldest = this._orphans.keys().next().value;
      this._orphans.delete(oldest);
    }
  }

  _forget(entry) {
    const event = entry.event;
    if (this._byId.get(event.id) === entry) this._byId.delete(event.id);
    const postKey = `${event.from}\u0000${event.clientId}`;
    if (event.clientId && this._byClientId.get(postKey) === entry) this._byClientId.delete(postKey);
    if (entry.orphan && event.inReplyTo) {
      const waiting = this._orphans.get(event.inReplyTo)?.filter((r) => r !== entry);
      if (waiting?.length) this._orphans.set(event.inReplyTo, waiting);
      else this._orphans.delete(event.inReplyTo);
    }
    for (const reply of entry.replies) this._forget(reply);
    this.changed = true;
  }

  _remember(id) {
    this._seen.add(id);
    if (this._seen.size > this.seenLimit) this._seen.delete(this._seen.values().next().value);
  }

  _touch(entry) {
    this._rev += 1;
    entry.rev = this._rev;
    this.changed = true;
    return entry;
  }
}
