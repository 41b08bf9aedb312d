// Draws ChatRooms: the sidebar's rooms with unread badges and @mention marks, the public rooms to
// join, the open room's title, who is online in it and who is typing; and turns the sidebar's
// forms and buttons into ChatRooms actions. Text goes in with textContent only.
//
//   const sidebar = attachSidebar({ doc: document, rooms: session.rooms, page, onSwitched });
//   sidebar.draw();

import { el } from './render.js';
import { displayName, unreadBadge } from './room-list.js';
import { rules } from './validate.js';

/**
 * One room of the sidebar as a <li> with its button.
 * @param {Document} doc
 * @param {{id: string, name: string, visibility: string, unread: number, mentioned: boolean}} room
 * @param {{me: string, open: boolean}} options
 */
export function renderRoomItem(doc, room, { me, open }) {
  const item = el(doc, 'li', 'room-item');
  const button = el(doc, 'button', `room-link${room.unread > 0 ? ' has-unread' : ''}`);
  button.type = 'button';
  button.dataset.room = room.id;
  button.setAttribute('aria-current', open ? 'true' : 'false');
  const kind = room.visibility === 'direct' ? '@' : room.visibility === 'private' ? '🔒' : '#';
  const kindMark = el(doc, 'span', 'room-kind', kind);
  kindMark.setAttribute('aria-label', room.visibility === 'direct' ? 'direct message' : `${room.visibility} room`);
  button.append(kindMark, el(doc, 'span', 'room-name', displayName(room, me)));
  if (room.mentioned) {
    const mark = el(doc, 'span', 'mention', '@');
    mark.title = 'You were mentioned';
    mark.setAttribute('aria-label', 'you were mentioned');
    button.append(mark);
  }
  const badge = unreadBadge(room.unread);
  if (badge) {
    const count = el(doc, 'span', 'unread', badge);
    count.setAttribute('aria-label', `${room.unread} unread`);
    button.append(count);
  }
  item.append(button);
  return item;
}

/**
 * Wires the sidebar and the room's header to ChatRooms.
 * @param {{doc: Document, rooms: import('./chat-rooms.js').ChatRooms, page: import('./page-state.js').PageState,
 *   clock?: {now: () => number}}} options
 * @returns {{draw: () => void}}
 */
export function attachSidebar({ doc, rooms, page, clock = { now: () => Date.now() } }) {
  const $ = (id) => doc.getElementById(id);
  const ui = {
    list: $('room-list'),
    publicRooms: $('public-rooms'),
    message: $('rooms-message'),
    createForm: $('create-room-form'),
    createName: $('create-room-name'),
    createVisibility: $('create-room-visibility'),
    dmForm: $('dm-form'),
    dmName: $('dm-name'),
    title: $('room-title'),
    inviteForm: $('invite-form'),
    inviteName: $('invite-name'),
    leave: $('leave-room'),
    onlineList: $('online-list'),
    typing: $('typing'),
  };

  const draw = () => {
    const me = rooms.me;
    ui.list.replaceChildren(...rooms.list.rooms.map((room) => renderRoomItem(doc, room, { me, open: room.id === rooms.openId })));
    ui.publicRooms.replaceChildren(
      ...rooms.list.publicRooms.map((room) => {
        const item = el(doc, 'li', 'room-item');
        const button = el(doc, 'button', 'room-link join');
        button.type = 'button';
        button.dataset.join = room.id;
        button.append(el(doc, 'span', 'room-kind', '#'), el(doc, 'span', 'room-name', room.name), el(doc, 'span', 'room-kind', 'join'));
        item.append(button);
        return item;
      }),
    );
    const open = rooms.list.room(rooms.openId);
    ui.title.textContent = open?.visibility === 'direct' ? `@${rooms.title}` : rooms.title;
    const shared = rooms.openId === rules.generalRoom || open?.visibility === 'direct';
    ui.inviteForm.hidden = shared;
    ui.leave.hidden = shared;
    const people = rooms.presence.people();
    const known = rooms.presence.online !== null;
    ui.onlineList.replaceChildren(
      ...people.map(({ name, online }) => {
        const person = el(doc, 'span', `person${online ? ' is-online' : ''}`, name);
        if (known) person.title = online ? `${name} is online` : `${name} is offline`;
        return person;
      }),
    );
    ui.typing.textContent = rooms.typing.text(rooms.openId, clock.now());
    drawMessage();
  };

  /** The sidebar's last word (PageState.roomsMessage). */
  const drawMessage = () => {
    const { text, error } = page.roomsMessage;
    ui.message.textContent = text;
    ui.message.hidden = text === '';
    ui.message.classList.toggle('error', error);
    ui.message.setAttribute('role', error ? 'alert' : 'status');
  };

  ui.list.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-room]');
    if (button) void rooms.open(button.dataset.room);
  });
  ui.publicRooms.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-join]');
    if (button) void rooms.join(button.dataset.join);
  });
  ui.createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await rooms.create(ui.createName.value, ui.createVisibility.value)) ui.createName.value = '';
  });
  ui.dmForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await rooms.direct(ui.dmName.value)) ui.dmName.value = '';
  });
  ui.inviteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await rooms.invite(ui.inviteName.value)) ui.inviteName.value = '';
  });
  ui.leave.addEventListener('click', () => void rooms.leave());
  page.onChange(drawMessage);
  return { draw };
}
