// What flows into the rooms, from every source alike: live deliveries from the tab's queue (one
// event, or a backfill bundle of many) and from general's stream (stream-reader.js), and pages
// of history. A tab gets every room its person belongs to; each event goes to the Room of its
// room when the page holds one (`roomOf`), is de-duplicated by that Room and has its proof
// checked with WebCrypto. Every event, and the transient notices (typing, rooms), is also told
// to `onEvent` (unread counts, typing, presence). A tab-queue delivery is acknowledged once it is
// drawn, and never on a later connection than the one that brought it (the broker redelivers
// it); the stream's are acknowledged by the stream reader.
//
//   const feed = new RoomFeed({ roomOf: (id) => rooms.get(id), verifyProof, minBits, onChange, onEvent });
//   subscribe(queue, (message) => feed.delivered(message));
//   render(); feed.drawn();              // acknowledges what is now on the screen
//   feed.connectionLost();               // unacknowledged deliveries are the broker's again
//   feed.takeIn(message.body);           // taken in, not acknowledged (general's stream)

import { rules } from './validate.js';

/** The kind of a delivery that carries a backlog: `{"kind": "backfill", "events": [...]}`, oldest first. */
export const BACKFILL_KIND = 'backfill';

/** The room of events that name none (docs/design.md, rooms). */
export const PAGE_ROOM = rules.generalRoom;
/** Kinds that are no line of a room: typing notices, personal notices about rooms, who came online or went offline. */
export const NOTICE_KINDS = new Set(['typing', 'rooms', 'online']);

/**
 * The room an event belongs to: its `room`, or general when it names none.
 * @param {unknown} value parsed JSON
 */
export function roomOfEvent(value) {
  return typeof value?.room === 'string' && value.room !== '' ? value.room : PAGE_ROOM;
}

export class RoomFeed {
  /**
   * @param {object} options
   * @param {import('./room.js').Room} [options.room] the one Room, general's (when no `roomOf`)
   * @param {(id: string) => import('./room.js').Room | undefined} [options.roomOf] the Room the
   *   page holds for a room id, if any
   * @param {(event: object, source: {live: boolean}) => void} [options.onEvent] every event and
   *   notice, before it goes to its Room; `live` for single deliveries (not backfill or history)
   * @param {(event: object, options: {minBits: number}) => Promise<{status: string, reason?: string}>} options.verifyProof
   * @param {() => number} [options.minBits] the deployment's proof bits (config.powBits)
   * @param {() => void} [options.onChange] the room changed: draw it soon
   * @param {{warn: Function}} [options.log]
   */
  constructor({ room, roomOf = (id) => (id === PAGE_ROOM ? room : undefined), onEvent = () => {}, verifyProof, minBits = () => 1, onChange = () => {}, log = console }) {
    Object.assign(this, { room, roomOf, onEvent, verifyProof, minBits, onChange, log });
    this._toAck = []; // deliveries taken in but not drawn yet
  }

  /**
   * Takes in one delivery from the tab's queue: a room event, or a backfill bundle. It is
   * acknowledged after the next drawn(), unless the connection is lost first.
   * @param {{body: string, ack: () => boolean}} message a StompMessage
   */
  delivered(message) {
    this._take(message.body);
    this._toAck.push(message);
    this.onChange();
  }

  /**
   * Takes in one delivery as delivered() does, leaving its acknowledgement to the caller
   * (general's stream acknowledges its own way: stream-reader.js).
   * @param {string} body a room event, or a backfill bundle
   * @param {{keep?: (event: object) => boolean}} [options] a single event `keep` refuses is
   *   dropped unseen
   */
  takeIn(body, options) {
    this._take(body, options);
    this.onChange();
  }

  /**
   * Takes in one room event from any source (live, backfill, history) and checks its proof.
   * @param {unknown} value parsed JSON
   * @param {{live?: boolean}} [source] `live` for a single delivery from the tab's queue
   * @returns {ReturnType<import('./room.js').Room['receive']>}
   */
  receive(value, { live = false } = {}) {
    if (value && typeof value === 'object') this.onEvent(value, { live });
    const room = NOTICE_KINDS.has(value?.kind) ? undefined : this.roomOf(roomOfEvent(value));
    if (!room) return { accepted: false, reason: 'elsewhere' };
    const result = room.receive(value);
    if (!result.accepted && result.reason === 'malformed') {
      this.log.warn('[warren] a room event of an unexpected shape was dropped', value);
    }
    const event = result.entry?.event;
    if (result.accepted && (event?.kind === 'proof' || (event?.proof && result.entry.proofCheck === undefined))) {
      this._checkProof(event);
    }
    return result;
  }

  /** The room is on the screen: acknowledges every delivery taken in since the last call. */
  drawn() {
    for (const message of this._toAck.splice(0)) message.ack();
  }

  /** The connection that brought the undrawn deliveries is gone: they are never acknowledged. */
  connectionLost() {
    this._toAck.length = 0;
  }

  /** Forgets everything (logout). */
  clear() {
    this._toAck.length = 0;
    this.room?.clear();
  }

  _take(body, { keep = () => true } = {}) {
    let value;
    try {
      value = JSON.parse(body);
    } catch {
      this.log.warn('[warren] a room message that is not JSON was dropped', body.slice(0, 200));
      return;
    }
    if (value?.kind === BACKFILL_KIND && Array.isArray(value.events)) {
      for (const event of value.events) this.receive(event);
    } else if (keep(value)) {
      this.receive(value, { live: true });
    }
  }

  _checkProof(event) {
    const room = this.roomOf(roomOfEvent(event));
    if (!room) return;
    room.setProofCheck(event.id, { status: 'checking' });
    Promise.resolve()
      .then(() => this.verifyProof(event, { minBits: this.minBits() }))
      .then(
        (check) => room.setProofCheck(event.id, check) && this.onChange(),
        (error) => room.setProofCheck(event.id, { status: 'invalid', reason: error?.message ?? String(error) }) && this.onChange(),
      );
  }
}
