// "alice is typing…": typing notices are transient (never stored or backfilled). TypingBoard keeps
// who is typing in each room until `typingShownMs` passes without a new notice from them, or
// their post arrives; TypingSender lets this tab send one notice per room per `typingIntervalMs`
// (the login service drops what comes sooner). Both take the time as an argument: no timers here.
//
//   board.noticed(event, now);  board.posted(event);  board.text('ops', now)  // "alice is typing…"
//   if (sender.shouldSend('ops', now)) send({ typing: true, room: 'ops', ... });

import { rules } from './validate.js';

/** How long a notice is shown (rules.json). */
export const TYPING_SHOWN_MS = rules.typingShownMs;
/** The least time between two notices of one tab (rules.json). */
export const TYPING_INTERVAL_MS = rules.typingIntervalMs;
/** The most people remembered typing in one room (the line names three). */
const MAX_TYPERS = 20;

export class TypingBoard {
  constructor({ shownMs = TYPING_SHOWN_MS } = {}) {
    this.shownMs = shownMs;
    this.me = '';
    /** @type {Map<string, Map<string, number>>} room -> person -> until */
    this._rooms = new Map();
  }

  /** Forgets everything. */
  clear() {
    this._rooms.clear();
  }

  /**
   * A typing notice arrived.
   * @param {{kind: string, from: string, room?: string}} event
   * @param {number} now
   * @returns {boolean} whether it is shown (not this person's own)
   */
  noticed(event, now) {
    const from = event?.from;
    if (typeof from !== 'string' || from === '' || from.toLowerCase() === this.me.toLowerCase()) return false;
    const room = event.room ?? rules.generalRoom;
    const typers = this._rooms.get(room) ?? new Map();
    typers.delete(from); // the latest last
    typers.set(from, now + this.shownMs);
    while (typers.size > MAX_TYPERS) typers.delete(typers.keys().next().value);
    this._rooms.set(room, typers);
    return true;
  }

  /**
   * A post arrived: its author has stopped typing it.
   * @param {{from: string, room?: string}} event
   * @returns {boolean} whether someone stopped being shown
   */
  posted(event) {
    return this._rooms.get(event?.room ?? rules.generalRoom)?.delete(event?.from) ?? false;
  }

  /**
   * Who is typing in `room` at `now`, earliest first (expired notices are forgotten).
   * @param {string} room
   * @param {number} now
   * @returns {string[]}
   */
  typers(room, now) {
    const typers = this._rooms.get(room);
    if (!typers) return [];
    for (const [name, until] of typers) if (until <= now) typers.delete(name);
    if (typers.size === 0) this._rooms.delete(room);
    return [...typers.keys()];
  }

  /**
   * The line under the room: "alice is typing…", "alice and bob are typing…",
   * "alice, bob and 2 others are typing…", or ''.
   * @param {string} room
   * @param {number} now
   */
  text(room, now) {
    const names = this.typers(room, now);
    switch (names.length) {
      case 0: return '';
      case 1: return `${names[0]} is typing…`;
      case 2: return `${names[0]} and ${names[1]} are typing…`;
      case 3: return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
      default: return `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
    }
  }

  /** When the line of `room` next changes by itself (a notice expires), or null. */
  nextExpiry(room) {
    const typers = this._rooms.get(room);
    if (!typers || typers.size === 0) return null;
    return Math.min(...typers.values());
  }
}

export class TypingSender {
  constructor({ intervalMs = TYPING_INTERVAL_MS } = {}) {
    this.intervalMs = intervalMs;
    this._last = new Map(); // room -> when the last notice went
  }

  /**
   * Whether a notice for `room` may go now; if so, it counts as sent.
   * @param {string} room
   * @param {number} now
   */
  shouldSend(room, now) {
    const last = this._last.get(room);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this._last.set(room, now);
    return true;
  }

  clear() {
    this._last.clear();
  }
}
