// The person's rooms on the page: which room is open, a Room and an Outbox per room opened (made
// by ChatSession, `makeView`), the sidebar's list with unread counts (RoomList), who is typing
// (TypingBoard, TypingSender), who is online in the open room (RoomPresence), and the actions of
// the sidebar: open, create, join, leave, invite, start a direct message. No DOM: app.js draws
// `list`, `presence` and `typing` when `onChange` fires. Refusals (not a member, a bad name, a
// limit) are shown as the server words them, through PageState.setRoomsMessage.
//
//   const rooms = new ChatRooms({ page, api, clock, makeView, sendTyping });
//   await rooms.load();                      // after the login
//   rooms.eventArrived(event, { live });     // RoomFeed's onEvent
//   await rooms.open('ops');                 // the page shows ops

import { RoomPresence } from './presence.js';
import { RoomList, displayName } from './room-list.js';
import { roomOfEvent } from './room-feed.js';
import { TypingBoard, TypingSender } from './typing.js';
import { rules } from './validate.js';

/** How long after a `rooms` notice the list is asked for (several notices make one ask). */
export const ROOMS_RELOAD_MS = 250;
/** How long the open room's newest event is shown before it counts as read. */
export const READ_DELAY_MS = 1000;

export class ChatRooms {
  /**
   * @param {object} options
   * @param {import('./page-state.js').PageState} options.page
   * @param {import('./rooms-api.js').RoomsAPI} options.api
   * @param {{now: () => number, setTimeout: Function, clearTimeout: Function}} options.clock
   * @param {(id: string) => {room: import('./room.js').Room, outbox: import('./outbox.js').Outbox}} options.makeView
   * @param {(room: string) => void} options.sendTyping sends one typing notice for `room`
   * @param {{warn: Function}} [options.log]
   */
  constructor({ page, api, clock, makeView, sendTyping, log = console }) {
    Object.assign(this, { page, api, clock, makeView, sendTyping, log });
    this.list = new RoomList();
    this.typing = new TypingBoard();
    this.typingSender = new TypingSender();
    this.presence = new RoomPresence({ api, clock, onChange: () => this._changed(), log });
    /** @type {Map<string, {room: import('./room.js').Room, outbox: import('./outbox.js').Outbox}>} */
    this.views = new Map();
    this.openId = rules.generalRoom;
    /** Whether the page is seen (document.visibilityState): only then is the open room read. */
    this.visible = true;
    this._listeners = new Set();
    this._reloadTimer = null;
    this._readTimer = null;
    this._typingTimer = null;
    this._me = '';
    this.view(this.openId); // general's events from the first delivery on (the backfill)
  }

  /** @param {(change: {switched: boolean}) => void} listener @returns {() => void} */
  onChange(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** The open room's view (made on first use). */
  get current() {
    return this.view(this.openId);
  }

  /** The view of room `id`, made on first use. */
  view(id) {
    let view = this.views.get(id);
    if (!view) {
      view = this.makeView(id);
      view.room.me = this._me;
      this.views.set(id, view);
    }
    return view;
  }

  /** Who this tab's person is (their posts are `own`, their typing is not shown). */
  set me(login) {
    this._me = login;
    this.typing.me = login;
    for (const view of this.views.values()) view.room.me = login;
  }

  get me() {
    return this._me;
  }

  /** The open room's title: its name, or the other person's for a direct message. */
  get title() {
    return this.nameOf(this.openId);
  }

  /** A room's name as the sidebar shows it (the other person's for a direct message), else its id. */
  nameOf(id) {
    const room = this.list.room(id);
    return room ? displayName(room, this._me) : id;
  }

  // ---- after the login ----

  /** Loads the list of rooms (GET /api/rooms) and starts showing who is online. */
  async load() {
    try {
      this.list.load(await this.api.list(), { me: this._me });
    } catch (error) {
      this.page.setRoomsMessage(`Could not load your rooms: ${error.message}`, true);
      this._changed();
      return;
    }
    if (this.list.loaded && !this.list.has(this.openId)) {
      await this.open(rules.generalRoom); // the open room was left meanwhile (another tab)
      return;
    }
    if (this.presence.roomId !== this.openId) this.presence.open(this.openId);
    this._changed();
    this.readSoon();
  }

  /**
   * Every event and notice from the tab's queue, backfill and history (RoomFeed's onEvent).
   * @param {object} event
   * @param {{live: boolean}} source
   */
  eventArrived(event, { live }) {
    const room = roomOfEvent(event);
    switch (event.kind) {
      case 'typing':
        if (live && this.typing.noticed(event, this.clock.now()) && room === this.openId) this._typingChanged();
        return;
      case 'rooms':
        if (live) this._noticed(event);
        return;
      case 'online':
        if (live) this.presence.presenceEvent(event);
        return;
      case 'presence':
        if (live) this.presence.presenceEvent(event);
        break;
      default:
        break;
    }
    if (this.typing.posted(event) && room === this.openId) this._typingChanged();
    if (live && this.list.counted(event, { open: this.openId })) this._changed();
    if (room === this.openId) this.readSoon();
  }

  // ---- the sidebar's actions ----

  /**
   * Shows room `id` (one the person belongs to): its own events, history and who is online.
   * @returns {Promise<boolean>} whether it is open
   */
  async open(id) {
    if (this.list.loaded && !this.list.has(id)) {
      this.page.setRoomsMessage(`You are not a member of ${id}.`, true);
      return false;
    }
    const switched = id !== this.openId;
    this.openId = id;
    this.view(id);
    this.page.setRoomsMessage('');
    this.presence.open(id);
    this._changed({ switched });
    this.readSoon();
    return true;
  }

  /** Makes a room, public or private, and opens it. */
  create(name, visibility) {
    return this._act(() => this.api.create(name.trim(), visibility), (room) => `You made ${room.name}.`);
  }

  /** Joins a public room and opens it. */
  join(id) {
    return this._act(() => this.api.join(id), (room) => `You joined ${room.name}.`);
  }

  /** Starts (or opens) the direct message with `name`. */
  direct(name) {
    return this._act(() => this.api.direct(name.trim()), () => `A direct message with ${name.trim()}.`);
  }

  /** Invites `name` to the open room. */
  async invite(name) {
    const who = name.trim();
    try {
      await this.api.invite(this.openId, who);
    } catch (error) {
      this.page.setRoomsMessage(error.message, true);
      return false;
    }
    this.page.setRoomsMessage(`You invited ${who} to ${this.title}.`);
    this.presence.open(this.openId);
    return true;
  }

  /** Leaves the open room (never general) and goes back to general. */
  async leave() {
    const id = this.openId;
    try {
      await this.api.leave(id);
    } catch (error) {
      this.page.setRoomsMessage(error.message, true);
      return false;
    }
    const name = this.title;
    this.views.get(id)?.outbox.reset();
    this.views.delete(id);
    await this.open(rules.generalRoom);
    this.page.setRoomsMessage(`You left ${name}.`);
    await this.load();
    return true;
  }

  /** The compose box changed: a typing notice for the open room, no more often than the rules let. */
  typed(text) {
    if (text.trim() === '') return;
    if (this.typingSender.shouldSend(this.openId, this.clock.now())) this.sendTyping(this.openId);
  }

  /** The page became seen or hidden. */
  setVisible(visible) {
    this.visible = visible;
    if (visible) this.readSoon();
  }

  /**
   * Soon, the open room counts as read up to its newest event: its unread count goes to 0 here,
   * and the read position goes to the server, which tells the person's other tabs.
   */
  readSoon() {
    if (this._readTimer !== null || !this.visible) return;
    this._readTimer = this.clock.setTimeout(() => {
      this._readTimer = null;
      void this.markRead();
    }, READ_DELAY_MS);
  }

  /** The open room is read up to its newest event (see readSoon). */
  async markRead() {
    if (!this.visible) return;
    const id = this.openId;
    const newest = this.views.get(id)?.room.newestId;
    const known = this.list.room(id);
    if (!known) return;
    const unreadBefore = known.unread > 0 || known.mentioned;
    if (!newest || (!this.list.read(id, newest) && !unreadBefore)) return;
    this._changed();
    try {
      await this.api.read(id, newest);
    } catch (error) {
      this.log.warn('[warren] the read position was not saved', error.message);
    }
  }

  /** Forgets everything (logout). */
  clear() {
    for (const timer of [this._reloadTimer, this._readTimer, this._typingTimer]) if (timer !== null) this.clock.clearTimeout(timer);
    this._reloadTimer = this._readTimer = this._typingTimer = null;
    for (const view of this.views.values()) view.outbox.reset();
    this.views.clear();
    this.list.clear();
    this.typing.clear();
    this.typingSender.clear();
    this.presence.close();
    this.openId = rules.generalRoom;
    this.view(this.openId);
    this.page.setRoomsMessage('');
    this._changed({ switched: true });
  }

  // ---- inside ----

  /** Runs a call that answers a room, then opens that room (after the list knows it). */
  async _act(call, describe) {
    let room;
    try {
      room = await call();
    } catch (error) {
      this.page.setRoomsMessage(error.message, true);
      return false;
    }
    await this.load();
    await this.open(room.id);
    this.page.setRoomsMessage(describe(room));
    return true;
  }

  /** A `rooms` notice: read in another tab moves the count at once; anything else reloads the list. */
  _noticed(event) {
    if (event.text === 'read' && typeof event.inReplyTo === 'string') {
      if (this.list.read(roomOfEvent(event), event.inReplyTo)) this._changed();
      return;
    }
    if (this._reloadTimer !== null) return;
    this._reloadTimer = this.clock.setTimeout(() => {
      this._reloadTimer = null;
      void this.load();
    }, ROOMS_RELOAD_MS);
  }

  /** The typing line changed: draw it, and again when its next notice expires. */
  _typingChanged() {
    this._changed();
    if (this._typingTimer !== null) this.clock.clearTimeout(this._typingTimer);
    this._typingTimer = null;
    const next = this.typing.nextExpiry(this.openId);
    if (next === null) return;
    this._typingTimer = this.clock.setTimeout(() => {
      this._typingTimer = null;
      this._typingChanged();
    }, Math.max(0, next - this.clock.now()) + 10);
  }

  _changed(change = { switched: false }) {
    for (const listener of [...this._listeners]) listener(change);
  }
}
