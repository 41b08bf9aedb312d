// The page: finds the elements, turns their events into ChatSession and Composer actions, and
// draws PageState and the room. The state and the decisions live in chat-session.js (and the
// modules it owns); nothing here holds state but the drawing's own (the room list's nodes).

import { Auth } from './auth.js';
import { ChatSession } from './chat-session.js';
import { Composer } from './composer.js';
import { loadConfig } from './config.js';
import { attachHistory, attachSearch } from './history.js';
import { PageState } from './page-state.js';
import { verifyProof } from './proof.js';
import { syncList } from './render.js';
import { roomHistoryURL } from './rooms-api.js';
import { newClientId, newSessionId } from './session.js';
import { attachSidebar } from './sidebar.js';
import { StompClient } from './stomp.js';

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  statusText: $('status-text'),
  me: $('me'),
  meName: $('me-name'),
  logout: $('logout'),
  banner: $('banner'),
  bannerText: $('banner-text'),
  bannerAction: $('banner-action'),
  views: { loading: $('loading-view'), fatal: $('fatal-view'), login: $('login-view'), room: $('room-view') },
  fatalText: $('fatal-text'),
  fatalRetry: $('fatal-retry'),
  loginForm: $('login-form'),
  loginName: $('login-name'),
  loginPassword: $('login-password'),
  loginNotice: $('login-notice'),
  loginError: $('login-error'),
  loginSubmit: $('login-submit'),
  registerSubmit: $('register-submit'),
  events: $('events'),
  composeForm: $('compose-form'),
  composeText: $('compose-text'),
  composeError: $('compose-error'),
  composeCount: $('compose-count'),
};

const page = new PageState();
// The signed-in person; when the server ends the sign-in, back to the sign-in form with why.
const auth = new Auth({ onEnded: (message) => session.leave({ notice: message }) });
const session = new ChatSession({
  page,
  auth,
  storage: globalThis.sessionStorage,
  loadConfig: () => loadConfig(),
  // A refused CONNECT is tried again (with a fresh token) after 10–20 s: in a reconnect storm
  // the broker's auth backend may refuse some tabs for want of time, not for a bad sign-in.
  createClient: (config, { beforeConnect }) => new StompClient({ urls: config.stompURLs, host: config.vhost, beforeConnect, authRetryMs: 20000 }),
  verifyProof,
  newSessionId: () => newSessionId(),
  newClientId: () => newClientId(),
  fetch: (url, init) => authorizedFetch(url, init),
});
// Posts go to the open room's outbox.
const composer = new Composer({ outbox: { post: (text, options) => session.outbox.post(text, options) }, page });

// ---- drawing PageState ----

function renderPage() {
  for (const [key, view] of Object.entries(ui.views)) view.hidden = key !== page.view;
  ui.me.hidden = page.view !== 'room';
  ui.meName.textContent = page.me;
  ui.logout.disabled = page.leaving;
  ui.fatalText.textContent = page.fatalText;
  ui.status.dataset.state = page.status.kind;
  ui.statusText.textContent = page.status.text;
  ui.banner.hidden = !page.banner;
  if (page.banner) {
    ui.bannerText.textContent = page.banner.text;
    ui.bannerAction.hidden = !page.banner.action;
  }
  ui.loginSubmit.disabled = ui.registerSubmit.disabled = page.busy !== null;
  ui.loginSubmit.textContent = page.busy ?? 'Sign in';
  if (page.busy === null) ui.registerSubmit.textContent = 'Register';
  ui.loginError.textContent = page.loginError;
  for (const [field, input] of [['name', ui.loginName], ['password', ui.loginPassword]]) {
    if (page.invalidField === field) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
  ui.loginNotice.textContent = page.notice;
  ui.loginNotice.hidden = !page.notice;
  ui.composeError.textContent = page.composeError;
  ui.composeCount.textContent = page.composeCount.text;
  ui.composeCount.classList.toggle('over', page.composeCount.over);
  for (const effect of page.takeEffects()) {
    if (effect.loginName !== undefined) ui.loginName.value = effect.loginName;
    if (effect.focus) $(effect.focus)?.focus();
  }
}

page.onChange(renderPage);

// ---- drawing the room, and acknowledging what was drawn ----

const nodes = new Map();
let renderTimer = null;
let followList = true; // the room list showed its newest lines when last scrolled or drawn

function scheduleRender() {
  if (renderTimer !== null) return;
  renderTimer = setTimeout(render, 0);
}

/** Whether the room list shows its newest lines (give or take a little). */
function listAtBottom() {
  const list = ui.events;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 48;
}

function render() {
  if (renderTimer !== null) clearTimeout(renderTimer);
  renderTimer = null;
  const list = ui.events;
  const atBottom = listAtBottom();
  if (session.room.changed) {
    session.room.changed = false;
    syncList(list, session.room.entries(), nodes);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }
  // Messages are acknowledged once they are on the screen.
  session.drawn();
}

session.onRoomChange(({ cleared }) => {
  if (cleared) {
    nodes.clear();
    ui.events.replaceChildren();
  }
  scheduleRender();
});

// Earlier messages at the top of the list, and the search panel (history.js).
/** fetch with the signed-in person's access token: /api/history and /api/search need it. */
async function authorizedFetch(url, init = {}) {
  const token = await auth.freshToken();
  return fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
}

/** A page of the open room's history. */
const openRoomHistory = (before, limit) => roomHistoryURL(session.rooms.openId, before, limit);

session.history = attachHistory({
  list: ui.events,
  room: session.room,
  url: openRoomHistory,
  receive: (event) => session.feed.receive(event), // proofs are checked as for live events
  render,
  fetch: authorizedFetch,
});
attachSearch({
  fetch: authorizedFetch,
  form: $('search-form'),
  input: $('search-text'),
  panel: $('search-panel'),
  title: $('search-title'),
  results: $('search-results'),
  close: $('search-close'),
  roomName: (id) => session.rooms.nameOf(id),
});

// ---- the rooms: the sidebar, the open room's title, who is online and typing (sidebar.js) ----

const sidebar = attachSidebar({ doc: document, rooms: session.rooms, page });
session.rooms.onChange(({ switched }) => {
  if (switched) {
    // Another room is open: its own lines, from its own history.
    nodes.clear();
    ui.events.replaceChildren();
    session.history.switchTo(session.room, openRoomHistory);
    session.room.changed = true;
    render();
    ui.events.scrollTop = ui.events.scrollHeight;
    if (session.identity) session.history.check(); // not on the way out (logout)
  }
  sidebar.draw();
  const unread = session.rooms.list.totalUnread;
  document.title = unread > 0 ? `(${unread}) Warren` : 'Warren';
});
const visibility = () => session.rooms.setVisible(document.visibilityState === 'visible');
document.addEventListener('visibilitychange', visibility);
visibility();

// ---- events ----

ui.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const register = event.submitter === ui.registerSubmit;
  const name = await session.authenticate({ name: ui.loginName.value, password: ui.loginPassword.value, register });
  if (name === null) return;
  ui.loginPassword.value = '';
  await session.enterAs(name);
});
for (const field of [ui.loginName, ui.loginPassword]) {
  field.addEventListener('input', () => {
    if (page.loginError || page.invalidField) page.clearLoginError();
  });
}

ui.composeForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!composer.submit(ui.composeText.value)) return;
  ui.composeText.value = '';
  render();
  ui.events.scrollTop = ui.events.scrollHeight;
});
ui.composeText.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composeForm.requestSubmit();
  }
});
ui.composeText.addEventListener('input', () => {
  composer.typed(ui.composeText.value);
  session.rooms.typed(ui.composeText.value);
});

ui.events.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const clientId = button.dataset.clientId;
  if (button.dataset.action === 'retry') session.outbox.retry(clientId);
  if (button.dataset.action === 'dismiss') session.outbox.dismiss(clientId);
  scheduleRender();
});
// When the list gets shorter (an error under the compose box, a taller textarea, a phone's
// keyboard), it keeps its newest lines in view if it showed them before.
ui.events.addEventListener('scroll', () => (followList = listAtBottom()));
new ResizeObserver(() => {
  if (followList) ui.events.scrollTop = ui.events.scrollHeight;
}).observe(ui.events);

ui.logout.addEventListener('click', () => session.leave());
ui.bannerAction.addEventListener('click', () => session.reconnect());
ui.fatalRetry.addEventListener('click', () => session.start());

// Hidden pages: the back/forward cache and frozen tabs (see ChatSession.pageHidden).
const pageHidden = () => session.pageHidden();
const pageShown = (event) => {
  if (event.type === 'pageshow' && !event.persisted) return; // a fresh page: start() connects
  session.pageShown();
};
window.addEventListener('pagehide', pageHidden);
window.addEventListener('pageshow', pageShown);
document.addEventListener('freeze', pageHidden);
document.addEventListener('resume', pageShown);

renderPage();
session.start();
