// What flows into the Room, from every source alike: live deliveries from the tab's queue (one
// event, or a backfill bundle of many), and pages of history. Each event is de-duplicated by the
// Room and has its proof checked with WebCrypto; a delivery is acknowledged once it is drawn,
// and never on a later connection than the one that brought it (the broker redelivers it).
//
//   const feed = new RoomFeed({ room, verifyProof, minBits: () => config.powBits, onChange });
//   subscribe(queue, (message) => feed.delivered(message));
//   render(); feed.drawn();              // acknowledges what is now on the screen
//   feed.connectionLost();               // unacknowledged deliveries are the broker's again

import { rules } from './validate.js';

/** The kind of a delivery that carries a backlog: `{"kind": "backfill", "events": [...]}`, oldest first. */
export const BACKFILL_KIND = 'backfill';

/** The room this page shows: events without a `room` are its (docs/design.md, rooms). */
export const PAGE_ROOM = rules.generalRoom;
/** Kinds that are no line of the feed: typing notices and personal notices about rooms. */
const NOT_LINES = new Set(['typing', 'rooms']);

/**
 * Whether an event is a line of this page's room: its room is general's (or unnamed) and it is
 * not a transient notice. A tab gets every room its person belongs to; this page shows general.
 * @param {unknown} value parsed JSON
 */
export function belongsOnPage(value) {
  return (value?.room ?? PAGE_ROOM) === PAGE_ROOM && !NOT_LINES.has(value?.kind);
}

export class RoomFeed {
  /**
   * @param {object} options
   * @param {import('./room.js').Room} options.room
   * @param {(event: object, options: {minBits: number}) => Promise<{status: string, reason?: string}>} options.verifyProof
   * @param {() => number} [options.minBits] the deployment's proof bits (config.powBits)
   * @param {() => void} [options.onChange] the room changed: draw it soon
   * @param {{warn: Function}} [options.log]
   */
  constructor({ room, verifyProof, minBits = () => 1, onChange = () => {}, log = console }) {
    Object.assign(this, { room, verifyProof, minBits, onChange, log });
    this._toAck = []; // deliveries taken in but not drawn yet
  }

  /**
   * Takes in one delivery from the tab's queue: a room event, or a backfill bundle. It is
   * acknowledged after the next drawn(), unless the connection is lost first.
   * @param {{body: string, ack: () => boolean}} message a StompMessage
   */
  delivered(message) {
    let value;
    try {
      value = JSON.parse(message.body);
    } catch {
      this.log.warn('[warren] a room message that is not JSON was dropped', message.body.slice(0, 200));
      value = undefined;
    }
    if (value?.kind === BACKFILL_KIND && Array.isArray(value.events)) {
      for (const event of value.events) this.receive(event);
    } else if (value !== undefined) {
      this.receive(value);
    }
    this._toAck.push(message);
    this.onChange();
  }

  /**
   * Takes in one room event from any source (live, backfill, history) and checks its proof.
   * @param {unknown} value parsed JSON
   * @returns {ReturnType<import('./room.js').Room['receive']>}
   */
  receive(value) {
    if (!belongsOnPage(value)) return { accepted: false, reason: 'elsewhere' };
    const result = this.room.receive(value);
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
    this.room.clear();
  }

  _checkProof(event) {
    const { room } = this;
    room.setProofCheck(event.id, { status: 'checking' });
    Promise.resolve()
      .then(() => this.verifyProof(event, { minBits: this.minBits() }))
      .then(
        (check) => room.setProofCheck(event.id, check) && this.onChange(),
        (error) => room.setProofCheck(event.id, { status: 'invalid', reason: error?.message ?? String(error) }) && this.onChange(),
      );
  }
}
