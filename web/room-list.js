// The rooms a person belongs to, as the sidebar shows them: each with its unread count and a mark
// when a post @mentions them, and the public rooms they may join. No DOM. The counts start from
// GET /api/rooms (the server counts from the read position kept in the store, so every tab and
// device starts alike) and move with live events; a `rooms` notice `read` (read in another tab or
// device) moves the read position, leaving unread what this page counted after it; any other
// notice (joined, left, invited) makes the page load the list again.
//
//   const list = new RoomList();
//   list.load(await api.list(), { me: 'alice' });
//   list.counted(event, { open: 'general' });   // a live event: counts unless its room is open
//   list.read('ops', eventId);                  // read here: the count goes to 0
//   for (const room of list.rooms) draw(room);

import { rules } from './validate.js';

/** The kinds that count as unread posts (the store counts the same: message and proof). */
export const UNREAD_KINDS = new Set(['message', 'proof']);
/** Counts stop here; the badge shows "99+" beyond 99 (the server counts up to 100 too). */
export const UNREAD_CAP = 100;

/**
 * Whether `text` @mentions `me`: `@name` anywhere, in any case, as the store decides.
 * @param {string} text
 * @param {string} me
 */
export function mentions(text, me) {
  return me !== '' && typeof text === 'string' && text.toLowerCase().includes(`@${me.toLowerCase()}`);
}

/**
 * The name a room is shown by: a direct message by the other person's name.
 * @param {{id: string, name: string, visibility: string}} room
 * @param {string} me
 */
export function displayName(room, me) {
  if (room.visibility !== 'direct') return room.name;
  const others = directMembers(room.id).filter((name) => name !== me.toLowerCase());
  return others[0] ?? room.name;
}

/**
 * The two names of a direct-message id `dm.<length of the first>.<first>.<second>`, or [].
 * @param {string} id
 * @returns {string[]}
 */
export function directMembers(id) {
  if (!id.startsWith(rules.directRoomPrefix)) return [];
  const rest = id.slice(rules.directRoomPrefix.length);
  const dot = rest.indexOf('.');
  const length = Number(rest.slice(0, dot));
  if (dot < 1 || !Number.isInteger(length) || length < 1) return [];
  const first = rest.slice(dot + 1, dot + 1 + length);
  const second = rest.slice(dot + 2 + length);
  return first && second ? [first, second] : [];
}

/** The badge text of an unread count: '' for none, '99+' beyond 99. */
export function unreadBadge(count) {
  if (!count) return '';
  return count > 99 ? '99+' : String(count);
}

export class RoomList {
  constructor() {
    this.clear();
  }

  /** Forgets everything (logout). */
  clear() {
    /** @type {Map<string, {id: string, name: string, visibility: string, unread: number, mentioned: boolean, readUpTo: string, newest: string, live: {id: string, mention: boolean}[]}>} */
    this._rooms = new Map();
    /** @type {{id: string, name: string, visibility: string}[]} */
    this.publicRooms = [];
    this.me = '';
    this.loaded = false;
    this.rev = 0;
    /** @type {Map<string, object[]>} live posts of rooms the list does not know yet (a room just joined) */
    this._early = new Map();
  }

  /**
   * Takes in GET /api/rooms's answer. What this page counted in a room since (events newer than
   * the server could know of) is kept when it is newer than the room's read position.
   * @param {{rooms?: object[], publicRooms?: object[]}} reply
   * @param {{me: string}} options
   */
  load(reply, { me }) {
    this.me = me;
    const rooms = new Map();
    for (const room of Array.isArray(reply?.rooms) ? reply.rooms : []) {
      if (typeof room?.id !== 'string' || typeof room.name !== 'string') continue;
      const before = this._rooms.get(room.id);
      const readUpTo = typeof room.readUpTo === 'string' ? room.readUpTo : '';
      const entry = {
        id: room.id,
        name: room.name,
        visibility: String(room.visibility ?? 'public'),
        unread: Math.min(UNREAD_CAP, Number(room.unread) || 0),
        mentioned: room.mentioned === true,
        readUpTo,
        newest: before?.newest ?? '',
        // Posts counted live (at most UNREAD_CAP): a read elsewhere up to an older one leaves them unread.
        live: (before?.live ?? []).filter((post) => post.id > readUpTo),
      };
      // Posts that arrived before the list knew the room (the store may not have them yet):
      // the larger count wins, so none is counted twice.
      const early = (this._early.get(room.id) ?? []).filter((event) => event.id > entry.readUpTo);
      if (early.length > 0) {
        entry.unread = Math.max(entry.unread, Math.min(UNREAD_CAP, early.length));
        entry.mentioned ||= early.some((event) => mentions(event.text, me));
        entry.newest = early.at(-1).id > entry.newest ? early.at(-1).id : entry.newest;
      }
      rooms.set(room.id, entry);
    }
    this._early.clear();
    this._rooms = rooms;
    this.publicRooms = (Array.isArray(reply?.publicRooms) ? reply.publicRooms : []).filter((room) => typeof room?.id === 'string');
    this.loaded = true;
    this.rev += 1;
  }

  /** The person's rooms: general first, then by name (direct messages by the other's name). */
  get rooms() {
    return [...this._rooms.values()].sort((a, b) => {
      if (a.id === rules.generalRoom) return -1;
      if (b.id === rules.generalRoom) return 1;
      if ((a.visibility === 'direct') !== (b.visibility === 'direct')) return a.visibility === 'direct' ? 1 : -1;
      return displayName(a, this.me).localeCompare(displayName(b, this.me));
    });
  }

  /** @param {string} id */
  room(id) {
    return this._rooms.get(id);
  }

  /** @param {string} id */
  has(id) {
    return this._rooms.has(id);
  }

  /**
   * A live event arrived: a post by someone else in a room that is not open counts as unread
   * (once: an event older than one already counted, or than the read position, does not).
   * @param {object} event a room event
   * @param {{open: string}} options the open room
   * @returns {boolean} whether a count changed
   */
  counted(event, { open }) {
    const id = event?.room ?? rules.generalRoom;
    const room = this._rooms.get(id);
    if (!room && typeof event?.id === 'string' && this.loaded && UNREAD_KINDS.has(event.kind) && this._early.size < 50) {
      const early = this._early.get(id) ?? [];
      if (early.length < UNREAD_CAP && event.from?.toLowerCase() !== this.me.toLowerCase()) early.push(event);
      this._early.set(id, early);
    }
    if (!room || typeof event.id !== 'string') return false;
    if (event.id <= room.newest || event.id <= room.readUpTo) return false;
    room.newest = event.id;
    if (!UNREAD_KINDS.has(event.kind) || room.id === open) return false;
    if (typeof event.from === 'string' && event.from.toLowerCase() === this.me.toLowerCase()) return false;
    room.unread = Math.min(UNREAD_CAP, room.unread + 1);
    const mention = mentions(event.text, this.me);
    if (mention) room.mentioned = true;
    room.live.push({ id: event.id, mention });
    if (room.live.length > UNREAD_CAP) room.live.shift();
    this.rev += 1;
    return true;
  }

  /**
   * The room was read up to `eventId` (here, or in another tab or device): what this page
   * counted after it stays unread, as the server counts it; everything up to it is read.
   * @param {string} id
   * @param {string} eventId
   * @returns {boolean} whether the read position moved forward
   */
  read(id, eventId) {
    const room = this._rooms.get(id);
    if (!room) return false;
    const moved = eventId > room.readUpTo;
    if (moved) room.readUpTo = eventId;
    if (room.newest < room.readUpTo) room.newest = room.readUpTo;
    const after = room.live.filter((post) => post.id > room.readUpTo);
    const unread = Math.min(UNREAD_CAP, after.length);
    const mentioned = after.some((post) => post.mention);
    room.live = after;
    if (unread !== room.unread || mentioned !== room.mentioned) {
      room.unread = unread;
      room.mentioned = mentioned;
      this.rev += 1;
    }
    return moved;
  }

  /** The total unread count, for the title. */
  get totalUnread() {
    let total = 0;
    for (const room of this._rooms.values()) total += room.unread;
    return total;
  }
}
