// The rooms on the page without a browser: RoomList (unread counts, @mentions, direct-message
// names), TypingBoard and TypingSender (expiry, the rules' interval), RoomPresence (who is online,
// live and bounded), ChatRooms (room switching, the sidebar's actions and their refusals).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ChatRooms, READ_DELAY_MS, ROOMS_RELOAD_MS } from '../chat-rooms.js';
import { Outbox } from '../outbox.js';
import { PageState } from '../page-state.js';
import { PRESENCE_MIN_GAP_MS, PRESENCE_REFRESH_MS, RoomPresence } from '../presence.js';
import { Room } from '../room.js';
import { RoomList, directMembers, displayName, mentions, unreadBadge } from '../room-list.js';
import { TypingBoard, TypingSender } from '../typing.js';
import { rules } from '../validate.js';
import { FakeClock, flush } from './support/fakes.js';

const id = (n) => `01JF${String(n).padStart(22, '0')}`;
const post = (n, fields) => ({ id: id(n), kind: 'message', from: 'bob', text: `t${n}`, at: '2026-12-04T11:20:00.123Z', ...fields });
const quiet = { warn: () => {} };
const LIST = Object.freeze({
  ok: true,
  rooms: [
    { id: 'ops', name: 'Ops', visibility: 'private', unread: 2, mentioned: false, readUpTo: id(5), member: true },
    { id: 'general', name: 'general', visibility: 'public', unread: 0, mentioned: false, member: true },
    { id: 'dm.5.alice.carol', name: 'alice, carol', visibility: 'direct', unread: 0, mentioned: false, member: true },
  ],
  publicRooms: [{ id: 'fun', name: 'fun', visibility: 'public', member: false }],
});

describe('RoomList', () => {
  it('lists general first, then rooms by name, then direct messages by the other person', () => {
    const list = new RoomList();
    list.load(LIST, { me: 'alice' });
    assert.deepEqual(list.rooms.map((r) => r.id), ['general', 'ops', 'dm.5.alice.carol']);
    assert.equal(displayName(list.room('dm.5.alice.carol'), 'alice'), 'carol');
    assert.equal(displayName(list.room('dm.5.alice.carol'), 'carol'), 'alice');
    assert.deepEqual(directMembers('dm.3.bob.carol.x'), ['bob', 'carol.x']);
    assert.deepEqual(directMembers('ops'), []);
    assert.deepEqual(list.publicRooms.map((r) => r.id), ['fun']);
  });

  it('counts live posts by others in rooms that are not open, once each, and marks @mentions', () => {
    const list = new RoomList();
    list.load(LIST, { me: 'alice' });
    assert.equal(list.counted(post(6, { room: 'ops' }), { open: 'general' }), true);
    assert.equal(list.counted(post(6, { room: 'ops' }), { open: 'general' }), false, 'the same event twice');
    assert.equal(list.counted(post(4, { room: 'ops' }), { open: 'general' }), false, 'older than the read position');
    assert.equal(list.counted(post(7, { room: 'ops', from: 'Alice' }), { open: 'general' }), false, 'one\'s own post');
    assert.equal(list.counted(post(8, { room: 'ops', kind: 'reply' }), { open: 'general' }), false, 'replies are not posts');
    assert.equal(list.counted(post(9, { text: 'hi' }), { open: 'general' }), false, 'the open room');
    assert.equal(list.room('ops').unread, 3);
    assert.equal(list.room('ops').mentioned, false);
    list.counted(post(10, { room: 'ops', text: 'ping @ALICE, look' }), { open: 'general' });
    assert.equal(list.room('ops').mentioned, true);
    assert.equal(list.totalUnread, 4);
    assert.equal(mentions('mail me at x@alicex.org', 'alice'), true, 'as the store decides: @name anywhere');
    assert.equal(mentions('hello alice', 'alice'), false);
  });

  it('reads a room: here or in another tab, the count and the mark go', () => {
    const list = new RoomList();
    list.load(LIST, { me: 'alice' });
    list.counted(post(6, { room: 'ops', text: '@alice' }), { open: 'general' });
    assert.equal(list.read('ops', id(6)), true);
    assert.deepEqual([list.room('ops').unread, list.room('ops').mentioned, list.room('ops').readUpTo], [0, false, id(6)]);
    assert.equal(list.read('ops', id(3)), false, 'never backwards');
    assert.equal(list.counted(post(6, { room: 'ops' }), { open: 'general' }), false);
  });

  it('a read elsewhere up to an older post leaves the newer posts counted here unread, as the server counts', () => {
    const list = new RoomList();
    list.load(LIST, { me: 'alice' });
    for (const n of [6, 7]) list.counted(post(n, { room: 'ops' }), { open: 'general' });
    list.counted(post(8, { room: 'ops', text: 'hey @alice' }), { open: 'general' });
    assert.equal(list.room('ops').unread, 5);
    // Another tab read ops up to 6 (7 and 8 came after it there, or it is hidden now).
    assert.equal(list.read('ops', id(6)), true);
    assert.deepEqual([list.room('ops').unread, list.room('ops').mentioned], [2, true]);
    // The list loaded again keeps what it counted after the server's read position.
    list.load({ rooms: [{ ...LIST.rooms[0], unread: 2, mentioned: true, readUpTo: id(6) }] }, { me: 'alice' });
    assert.equal(list.read('ops', id(7)), true);
    assert.deepEqual([list.room('ops').unread, list.room('ops').mentioned], [1, true]);
    assert.equal(list.read('ops', id(8)), true);
    assert.deepEqual([list.room('ops').unread, list.room('ops').mentioned], [0, false]);
  });

  it('counts posts of a room that arrived before the list knew it, never twice', () => {
    const list = new RoomList();
    list.load(LIST, { me: 'alice' });
    const dm = 'dm.3.bob.alice';
    list.counted(post(30, { room: dm, text: 'hi @alice' }), { open: 'general' });
    const joined = { id: dm, name: 'alice, bob', visibility: 'direct', unread: 0 };
    list.load({ rooms: [...LIST.rooms, joined] }, { me: 'alice' });
    assert.deepEqual([list.room(dm).unread, list.room(dm).mentioned], [1, true], 'not stored yet when the list was read');
    list.counted(post(31, { room: 'x' }), { open: 'general' });
    list.load({ rooms: [...LIST.rooms, { id: 'x', name: 'x', visibility: 'public', unread: 1 }] }, { me: 'alice' });
    assert.equal(list.room('x').unread, 1, 'stored and counted by the server: once');
  });

  it('keeps what it counted across a reload of the list, and shows 99+ beyond 99', () => {
    const list = new RoomList();
    list.load(LIST, { me: 'alice' });
    list.counted(post(6, { room: 'ops' }), { open: 'general' });
    list.load({ rooms: [{ ...LIST.rooms[0], unread: 3 }] }, { me: 'alice' });
    assert.equal(list.counted(post(6, { room: 'ops' }), { open: 'general' }), false, 'counted before the reload');
    assert.equal(unreadBadge(0), '');
    assert.equal(unreadBadge(7), '7');
    assert.equal(unreadBadge(100), '99+');
  });
});

describe('TypingBoard and TypingSender', () => {
  it('shows who is typing until typingShownMs passes without a new notice, or their post arrives', () => {
    const board = new TypingBoard();
    board.me = 'alice';
    assert.equal(board.noticed({ kind: 'typing', from: 'alice', room: 'ops' }, 0), false, 'never one\'s own');
    board.noticed({ kind: 'typing', from: 'bob', room: 'ops' }, 0);
    assert.equal(board.text('ops', 1000), 'bob is typing…');
    assert.equal(board.text('general', 1000), '', 'per room');
    board.noticed({ kind: 'typing', from: 'carol', room: 'ops' }, 2000);
    assert.equal(board.text('ops', 2000), 'bob and carol are typing…');
    assert.equal(board.nextExpiry('ops'), rules.typingShownMs);
    assert.equal(board.text('ops', rules.typingShownMs), 'carol is typing…', 'bob expired');
    assert.equal(board.posted({ from: 'carol', room: 'ops' }), true);
    assert.equal(board.text('ops', rules.typingShownMs), '');
    assert.equal(board.nextExpiry('ops'), null);
  });

  it('names three and counts the rest', () => {
    const board = new TypingBoard();
    for (const from of ['a', 'b', 'c', 'd', 'e']) board.noticed({ kind: 'typing', from }, 0);
    assert.equal(board.text(rules.generalRoom, 1), 'a, b and 3 others are typing…');
  });

  it('sends one notice per room per typingIntervalMs', () => {
    const sender = new TypingSender();
    assert.equal(sender.shouldSend('ops', 0), true);
    assert.equal(sender.shouldSend('ops', rules.typingIntervalMs - 1), false);
    assert.equal(sender.shouldSend('general', 10), true);
    assert.equal(sender.shouldSend('ops', rules.typingIntervalMs), true);
  });
});

/** A rooms API stand-in: answers from a script, records calls. */
class FakeAPI {
  constructor() {
    this.calls = [];
    this.listReply = structuredClone(LIST);
    this.membersReply = { ok: true, members: ['alice', 'bob', 'carol'], online: ['bob'] };
    this.refuse = null; // {code, message} for the next action
  }

  _record(call) {
    this.calls.push(call);
    if (this.refuse) {
      const error = Object.assign(new Error(this.refuse.message), { code: this.refuse.code });
      this.refuse = null;
      return Promise.reject(error);
    }
    return null;
  }

  list() { return this._record('list') ?? Promise.resolve(structuredClone(this.listReply)); }
  members(room) { return this._record(`members ${room}`) ?? Promise.resolve(structuredClone(this.membersReply)); }
  read(room, eventId) { return this._record(`read ${room} ${eventId}`) ?? Promise.resolve({ ok: true }); }
  leave(room) { return this._record(`leave ${room}`) ?? Promise.resolve({ id: room, name: room }); }
  invite(room, name) { return this._record(`invite ${room} ${name}`) ?? Promise.resolve({ id: room, name: room }); }
  join(room) {
    return this._record(`join ${room}`) ?? Promise.resolve().then(() => {
      this.listReply.rooms.push({ id: room, name: room, visibility: 'public', unread: 0, mentioned: false, member: true });
      return { id: room, name: room, visibility: 'public' };
    });
  }
  create(name, visibility) {
    return this._record(`create ${name} ${visibility}`) ?? Promise.resolve().then(() => {
      this.listReply.rooms.push({ id: name.toLowerCase(), name, visibility, unread: 0, mentioned: false, member: true });
      return { id: name.toLowerCase(), name, visibility };
    });
  }
  direct(name) { return this._record(`dm ${name}`) ?? Promise.resolve({ id: 'dm.5.alice.carol', name: 'alice, carol', visibility: 'direct' }); }
}

describe('RoomPresence', () => {
  it('lists the open room\'s members, online first; a single join marks at once, anything else asks again, no sooner than the gap', async () => {
    const api = new FakeAPI();
    const clock = new FakeClock();
    let changes = 0;
    const presence = new RoomPresence({ api, clock, onChange: () => (changes += 1), log: quiet });
    presence.open('ops');
    await flush();
    assert.deepEqual(presence.people(), [{ name: 'bob', online: true }, { name: 'alice', online: false }, { name: 'carol', online: false }]);
    presence.presenceEvent({ kind: 'presence', from: 'carol', text: 'carol joined' });
    assert.deepEqual(presence.people().filter((p) => p.online).map((p) => p.name), ['bob', 'carol']);
    assert.deepEqual(api.calls, ['members ops'], 'no ask for a single join');
    presence.presenceEvent({ kind: 'presence', from: 'bob', text: 'bob left' });
    presence.presenceEvent({ kind: 'presence', from: 'warren', text: 'a, b, c and 40 others joined' });
    clock.advance(PRESENCE_MIN_GAP_MS - 1);
    assert.equal(api.calls.length, 1, 'not before the gap');
    clock.advance(1);
    await flush();
    assert.deepEqual(api.calls, ['members ops', 'members ops'], 'one ask for both events');
    assert.ok(changes >= 3);
    clock.advance(PRESENCE_REFRESH_MS);
    await flush();
    assert.equal(api.calls.length, 3, 'asked again after the refresh time, which notices closed tabs');
    presence.close();
    clock.advance(PRESENCE_REFRESH_MS * 2);
    assert.equal(api.calls.length, 3, 'nothing once closed');
  });

  it('marks a person offline or online at once on an online event naming them alone; a batch asks again', async () => {
    const api = new FakeAPI();
    const clock = new FakeClock();
    const presence = new RoomPresence({ api, clock, log: quiet });
    presence.open('ops');
    await flush();
    const online = () => presence.people().filter((p) => p.online).map((p) => p.name);
    assert.deepEqual(online(), ['bob']);
    presence.presenceEvent({ kind: 'online', from: 'bob', text: 'bob went offline' });
    assert.deepEqual(online(), []);
    presence.presenceEvent({ kind: 'online', from: 'carol', text: 'carol came online' });
    presence.presenceEvent({ kind: 'online', from: 'dave', text: 'dave went offline' });
    assert.deepEqual(online(), ['carol'], 'dave is no member: nothing changes');
    presence.presenceEvent({ kind: 'presence', from: 'carol', text: 'carol went offline' });
    assert.deepEqual(online(), ['carol'], 'only the broker\'s online events say who went offline');
    assert.deepEqual(api.calls, ['members ops'], 'no ask for single changes');
    presence.presenceEvent({ kind: 'online', from: 'warren', text: 'alice, bob and carol went offline' });
    clock.advance(PRESENCE_MIN_GAP_MS);
    await flush();
    assert.deepEqual(api.calls, ['members ops', 'members ops'], 'a batch: asked again');
  });

  it('takes online events from the feed without showing them as lines', async () => {
    const t = chatRooms();
    await t.rooms.load();
    await flush();
    t.rooms.eventArrived({ id: id(30), kind: 'online', from: 'bob', text: 'bob went offline' }, { live: true });
    assert.equal(t.rooms.presence.people().find((p) => p.name === 'bob')?.online, false);
  });

  it('lists members without online state when the server could not say', async () => {
    const api = new FakeAPI();
    api.membersReply = { ok: true, members: ['alice', 'bob'] };
    const presence = new RoomPresence({ api, clock: new FakeClock(), log: quiet });
    presence.open('ops');
    await flush();
    assert.equal(presence.online, null);
    assert.deepEqual(presence.people(), [{ name: 'alice', online: false }, { name: 'bob', online: false }]);
  });
});

function chatRooms() {
  const api = new FakeAPI();
  const clock = new FakeClock();
  const page = new PageState();
  const typing = [];
  const changes = [];
  const rooms = new ChatRooms({
    page,
    api,
    clock,
    log: quiet,
    makeView: (roomId) => {
      const room = new Room({ limit: 100 });
      return { room, outbox: new Outbox({ room, roomId, transport: { connected: false, send: () => Promise.resolve() }, identity: () => ({ login: 'alice', session: 's' }), newClientId: () => 'c', clock }) };
    },
    sendTyping: (room) => typing.push(room),
  });
  rooms.me = 'alice';
  rooms.onChange((change) => changes.push(change));
  return { api, clock, page, rooms, typing, changes };
}

describe('ChatRooms', () => {
  it('switches rooms: each has its own Room; a room one is not in does not open', async () => {
    const t = chatRooms();
    await t.rooms.load();
    await flush();
    assert.equal(t.rooms.openId, 'general');
    const general = t.rooms.current.room;
    assert.equal(await t.rooms.open('ops'), true);
    assert.ok(t.changes.some((change) => change.switched));
    assert.notEqual(t.rooms.current.room, general);
    assert.equal(t.rooms.title, 'Ops');
    assert.equal(await t.rooms.open('secret'), false);
    assert.equal(t.rooms.openId, 'ops');
    assert.deepEqual(t.page.roomsMessage, { text: 'You are not a member of secret.', error: true });
    await flush();
    assert.ok(t.api.calls.includes('members ops'), 'who is online in the open room');
  });

  it('counts live events of other rooms, not of the open one, and reads the open room after a moment', async () => {
    const t = chatRooms();
    await t.rooms.load();
    t.rooms.eventArrived(post(6, { room: 'ops' }), { live: true });
    t.rooms.eventArrived(post(7, { room: 'ops' }), { live: false }); // backfill or history: the server counted it
    assert.equal(t.rooms.list.room('ops').unread, 3);
    await t.rooms.open('ops');
    t.rooms.current.room.receive(post(6, { room: 'ops' }));
    t.clock.advance(READ_DELAY_MS);
    await flush();
    assert.ok(t.api.calls.includes(`read ops ${id(6)}`));
    assert.equal(t.rooms.list.room('ops').unread, 0);
    t.rooms.eventArrived(post(8, { room: 'ops' }), { live: true });
    assert.equal(t.rooms.list.room('ops').unread, 0, 'the open room');
  });

  it('takes a read position from another tab at once; other notices reload the list once', async () => {
    const t = chatRooms();
    await t.rooms.load();
    t.rooms.eventArrived({ id: id(20), kind: 'rooms', from: 'warren', text: 'read', inReplyTo: id(9), room: 'ops' }, { live: true });
    assert.equal(t.rooms.list.room('ops').unread, 0);
    const lists = t.api.calls.filter((c) => c === 'list').length;
    for (const n of [21, 22]) t.rooms.eventArrived({ id: id(n), kind: 'rooms', from: 'warren', text: 'bob invited you to x.', room: 'x' }, { live: true });
    t.clock.advance(ROOMS_RELOAD_MS);
    await flush();
    assert.equal(t.api.calls.filter((c) => c === 'list').length, lists + 1);
  });

  it('shows who is typing in the open room, and sends typing notices as the rules allow', async () => {
    const t = chatRooms();
    await t.rooms.load();
    t.rooms.eventArrived({ id: id(1), kind: 'typing', from: 'bob', text: '', room: 'general' }, { live: true });
    assert.equal(t.rooms.typing.text('general', t.clock.now()), 'bob is typing…');
    t.clock.advance(rules.typingShownMs + 20);
    assert.equal(t.rooms.typing.text('general', t.clock.now()), '');
    t.rooms.typed('h');
    t.rooms.typed('he');
    t.rooms.typed('   ');
    assert.deepEqual(t.typing, ['general']);
    t.clock.advance(rules.typingIntervalMs);
    t.rooms.typed('hel');
    assert.deepEqual(t.typing, ['general', 'general']);
  });

  it('creates, joins, starts a direct message and opens it; says why when the server refuses', async () => {
    const t = chatRooms();
    await t.rooms.load();
    assert.equal(await t.rooms.create(' Dev ', 'private'), true);
    assert.equal(t.rooms.openId, 'dev');
    assert.equal(t.page.roomsMessage.text, 'You made Dev.');
    assert.equal(await t.rooms.join('fun'), true);
    assert.equal(t.rooms.openId, 'fun');
    assert.equal(await t.rooms.direct('carol'), true);
    assert.equal(t.rooms.openId, 'dm.5.alice.carol');
    assert.equal(t.rooms.title, 'carol');
    t.api.refuse = { code: 'room.nameInvalidCharacter', message: 'The room name contains \' \' (U+0020); only letters…' };
    assert.equal(await t.rooms.create('a b', 'public'), false);
    assert.deepEqual(t.page.roomsMessage, { text: 'The room name contains \' \' (U+0020); only letters…', error: true });
    assert.equal(t.rooms.openId, 'dm.5.alice.carol', 'nothing opened');
  });

  it('invites to the open room and leaves it for general', async () => {
    const t = chatRooms();
    await t.rooms.load();
    await t.rooms.open('ops');
    assert.equal(await t.rooms.invite(' bob '), true);
    assert.ok(t.api.calls.includes('invite ops bob'));
    t.api.refuse = { code: 'room.unknownPerson', message: 'Nobody is called zed.' };
    assert.equal(await t.rooms.invite('zed'), false);
    assert.deepEqual(t.page.roomsMessage, { text: 'Nobody is called zed.', error: true });
    assert.equal(await t.rooms.leave(), true);
    assert.equal(t.rooms.openId, 'general');
    assert.equal(t.rooms.views.has('ops'), false);
    assert.equal(t.page.roomsMessage.text, 'You left Ops.');
  });
});
