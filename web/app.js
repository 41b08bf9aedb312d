// The page: wires the DOM, the STOMP client and the room model together. The logic worth testing
// lives in the modules it imports; this file only connects them.

import { StompClient } from './stomp.js';
import { destinations, loadConfig } from './config.js';
import { describeState } from './format.js';
import { Outbox } from './outbox.js';
import { verifyProof } from './proof.js';
import { syncList } from './render.js';
import { Room } from './room.js';
import {
  clearSession,
  loadSession,
  loadUnsent,
  newClientId,
  newSessionId,
  parseLoginReply,
  saveSession,
  saveUnsent,
} from './session.js';
import { Limits, countCharacters, validateLogin, validatePost } from './validate.js';

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
  loginError: $('login-error'),
  loginSubmit: $('login-submit'),
  events: $('events'),
  composeForm: $('compose-form'),
  composeText: $('compose-text'),
  composeError: $('compose-error'),
  composeCount: $('compose-count'),
};

const JSON_HEADERS = { 'content-type': 'application/json' };
const storage = globalThis.sessionStorage;

const state = {
  config: null,
  dest: null,
  client: null,
  identity: null, // {login, session} once logged in
  subscription: null,
  renderTimer: null,
  toAck: [],
  lastRelogin: 0,
  savedUnsent: '', // what saveUnsent last stored
  followList: true, // the room list showed its newest lines when last scrolled or drawn
};

const room = new Room({ limit: 500, pendingLimit: 100 });
const nodes = new Map();
const outbox = new Outbox({
  room,
  send: (payload) =>
    state.client.send(state.dest.inbox, JSON.stringify(payload), { ...JSON_HEADERS, persistent: 'true' }),
  identity: () => state.identity,
  isConnected: () => Boolean(state.client?.connected),
  newClientId: () => newClientId(),
  onChange: () => scheduleRender(),
});

// ---- views, status, banner ----

function showView(name) {
  for (const [key, view] of Object.entries(ui.views)) view.hidden = key !== name;
  ui.me.hidden = name !== 'room';
}

function showFatal(message) {
  ui.fatalText.textContent = message;
  setStatus('disconnected', 'Not connected');
  showView('fatal');
}

function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.statusText.textContent = text;
}

function showBanner(text, action) {
  ui.bannerText.textContent = text;
  ui.bannerAction.hidden = !action;
  ui.banner.hidden = false;
}

function hideBanner() {
  ui.banner.hidden = true;
}

function onState(detail) {
  setStatus(detail.state, describeState(detail));
  switch (detail.state) {
    case 'connected':
      hideBanner();
      outbox.connected();
      scheduleRender();
      break;
    case 'reconnecting':
      showBanner('The connection to the chat was lost. Reconnecting… Posts you write now are sent once it is back.');
      break;
    case 'disconnected':
      hideBanner();
      break;
    case 'auth-failed':
      showBanner(`The broker refused the connection: ${detail.error?.message ?? 'login refused'}.`, true);
      break;
    default:
      break;
  }
}

// ---- rendering and acknowledgement ----

function scheduleRender() {
  if (state.renderTimer !== null) return;
  state.renderTimer = setTimeout(render, 0);
}

/** Whether the room list shows its newest lines (give or take a little). */
function listAtBottom() {
  const list = ui.events;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 48;
}

function render() {
  state.renderTimer = null;
  const list = ui.events;
  const atBottom = listAtBottom();
  if (room.changed) {
    room.changed = false;
    syncList(list, room.entries(), nodes);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }
  // Messages are acknowledged once they are on the screen.
  for (const message of state.toAck.splice(0)) message.ack();
  keepUnsent();
}

/** Keeps the posts the broker has not confirmed in sessionStorage, for a reload to send. */
function keepUnsent() {
  if (!state.identity) return;
  const posts = outbox.unconfirmed();
  const value = posts.length > 0 ? JSON.stringify({ session: state.identity.session, posts }) : '';
  if (value !== state.savedUnsent) state.savedUnsent = saveUnsent(storage, state.identity.session, posts);
}

function onRoomMessage(message) {
  let value;
  try {
    value = JSON.parse(message.body);
  } catch {
    console.warn('[warren] a room message that is not JSON was dropped', message.body.slice(0, 200));
    message.ack();
    return;
  }
  const result = room.receive(value);
  if (!result.accepted && result.reason === 'malformed') {
    console.warn('[warren] a room event of an unexpected shape was dropped', value);
  }
  if (result.accepted) {
    const event = result.entry.event;
    if (event?.kind === 'proof' || (event?.proof && result.entry.proofCheck === undefined)) checkProof(event);
    if (value.kind === 'error' && value.code === 'session.unknown') relogin(); // the tab's queue is gone
  }
  state.toAck.push(message);
  scheduleRender();
}

function checkProof(event) {
  room.setProofCheck(event.id, { status: 'checking' });
  verifyProof(event, { minBits: state.config.powBits }).then(
    (check) => room.setProofCheck(event.id, check) && scheduleRender(),
    (error) => room.setProofCheck(event.id, { status: 'invalid', reason: error.message }) && scheduleRender(),
  );
}

// ---- login and logout ----

function loginRequest(action, identity, timeoutMs = 15000) {
  const body = JSON.stringify({ action, login: identity.login, session: identity.session });
  return state.client.request(state.dest.login, body, { timeoutMs, headers: JSON_HEADERS });
}

/** Logs in (idempotent: the same session finds its queue again) and subscribes to the queue. */
async function join(identity) {
  state.client.activate();
  let reply;
  try {
    reply = parseLoginReply((await loginRequest('login', identity)).body);
  } catch (error) {
    if (error.code === 'auth-failed') {
      return { ok: false, message: `The broker refused this page's connection (${error.message}). The login and passcode in /config.json do not match the broker's.` };
    }
    if (!state.client.connected) {
      return { ok: false, message: `Could not connect to the chat broker at ${state.config.stompURL}; it may be down. Try again in a moment.` };
    }
    return { ok: false, message: `Could not reach the login service: ${error.message}.` };
  }
  if (!reply.ok) return { ...reply, refused: true };
  state.identity = { login: reply.login || identity.login, session: identity.session };
  saveSession(storage, state.identity);
  room.me = state.identity.login;
  subscribe(reply.queue);
  return { ok: true };
}

function subscribe(queue) {
  state.subscription?.unsubscribe();
  state.subscription = state.client.subscribe(state.dest.queue(queue), onRoomMessage, {
    ack: 'client-individual',
    prefetch: 50,
    onError: () => relogin(), // the queue is gone (expired): log in again, which declares it anew
  });
}

async function relogin() {
  if (!state.identity || Date.now() - state.lastRelogin < 10_000) return;
  state.lastRelogin = Date.now();
  const result = await join(state.identity);
  if (!result.ok) showBanner(`Could not rejoin the room: ${result.message}`);
}

async function onLoginSubmit(event) {
  event.preventDefault();
  const name = ui.loginName.value.trim();
  const check = validateLogin(name);
  if (!check.ok) {
    ui.loginError.textContent = check.message;
    ui.loginName.setAttribute('aria-invalid', 'true');
    ui.loginName.focus();
    return;
  }
  ui.loginName.removeAttribute('aria-invalid');
  // A session that could not be resumed (broker or service unreachable) is tried again as it is.
  const saved = loadSession(storage);
  await enter({ login: check.login, session: saved?.login === check.login ? saved.session : newSessionId() });
}

async function enter(identity) {
  ui.loginError.textContent = '';
  ui.loginSubmit.disabled = true;
  ui.loginSubmit.textContent = 'Joining…';
  try {
    const result = await join(identity);
    if (!result.ok) {
      if (result.refused) clearSession(storage); // keep a session that failed only for want of a connection
      if (state.client.state !== 'auth-failed') await state.client.deactivate(); // keep the auth-failed banner
      showView('login');
      ui.loginError.textContent = result.message;
      return;
    }
    ui.meName.textContent = state.identity.login;
    // Posts an earlier page of this tab wrote but could not get confirmed go out now, once.
    outbox.restore(loadUnsent(storage, state.identity.session).filter((post) => validatePost(post.text).ok));
    showView('room');
    scheduleRender();
    ui.composeText.focus();
  } finally {
    ui.loginSubmit.disabled = false;
    ui.loginSubmit.textContent = 'Join';
  }
}

async function logout() {
  const identity = state.identity;
  ui.logout.disabled = true;
  outbox.reset();
  state.subscription?.unsubscribe();
  state.subscription = null;
  if (identity && state.client.connected) {
    try {
      await loginRequest('logout', identity, 5000);
    } catch (error) {
      console.warn('[warren] logout was not confirmed', error.message);
    }
  }
  await state.client.deactivate();
  state.identity = null;
  clearSession(storage);
  room.clear();
  nodes.clear();
  ui.events.replaceChildren();
  state.toAck.length = 0;
  state.savedUnsent = '';
  hideBanner();
  ui.logout.disabled = false;
  setStatus('disconnected', 'Not connected');
  showView('login');
  ui.loginName.focus();
}

// ---- composing ----

function onComposeSubmit(event) {
  event.preventDefault();
  const check = validatePost(ui.composeText.value);
  if (!check.ok) {
    ui.composeError.textContent = check.message;
    return;
  }
  try {
    outbox.post(check.text, { proof: check.proof });
  } catch (error) {
    ui.composeError.textContent = error.message;
    return;
  }
  ui.composeError.textContent = '';
  ui.composeText.value = '';
  updateCount();
  render();
  ui.events.scrollTop = ui.events.scrollHeight;
}

function updateCount() {
  const count = countCharacters(ui.composeText.value.trim());
  ui.composeCount.textContent = count > Limits.textMaxCharacters * 0.8 ? `${count} / ${Limits.textMaxCharacters}` : '';
  ui.composeCount.classList.toggle('over', count > Limits.textMaxCharacters);
}

function onComposeKey(event) {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composeForm.requestSubmit();
  }
}

function onEventsClick(event) {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const clientId = button.dataset.clientId;
  if (button.dataset.action === 'retry') outbox.retry(clientId);
  if (button.dataset.action === 'dismiss') outbox.dismiss(clientId);
  scheduleRender();
}

// ---- hidden pages: the back/forward cache and frozen tabs ----

// A page kept in the back/forward cache (or frozen) runs no script, so it can neither show nor
// acknowledge what the broker delivers: let the socket go before that happens, so everything
// unacknowledged goes back to the tab's queue and is delivered again when the page returns.
// Nothing is acknowledged on the way out: a message that arrived but was not drawn yet is
// redelivered (and shown once). Unconfirmed posts are kept for a reload (keepUnsent).
function onPageHidden() {
  keepUnsent();
  state.client?.suspend();
}

function onPageShown(event) {
  if (event.type === 'pageshow' && !event.persisted) return; // a fresh page: start() connects
  state.client?.resume();
}

// ---- start ----

async function start() {
  showView('loading');
  setStatus('connecting', 'Loading…');
  try {
    state.config = await loadConfig();
  } catch (error) {
    showFatal(`${error.message} The page needs the warren web server, which serves /config.json with the broker's address.`);
    return;
  }
  state.dest = destinations(state.config.prefix);
  state.client = new StompClient({
    url: state.config.stompURL,
    login: state.config.login,
    passcode: state.config.passcode,
    host: state.config.vhost,
  });
  state.client.on('state', onState);
  state.client.on('error', (error) => console.warn('[warren]', error.code, error.message));
  setStatus('disconnected', 'Not connected');

  const saved = loadSession(storage);
  if (saved && validateLogin(saved.login).ok) {
    ui.loginName.value = saved.login;
    showView('login');
    await enter(saved);
  } else {
    showView('login');
    ui.loginName.focus();
  }
}

ui.loginForm.addEventListener('submit', onLoginSubmit);
ui.loginName.addEventListener('input', () => {
  ui.loginError.textContent = '';
  ui.loginName.removeAttribute('aria-invalid');
});
ui.composeForm.addEventListener('submit', onComposeSubmit);
ui.composeText.addEventListener('keydown', onComposeKey);
ui.composeText.addEventListener('input', () => {
  ui.composeError.textContent = '';
  updateCount();
});
ui.events.addEventListener('click', onEventsClick);
// When the list gets shorter (an error under the compose box, a taller textarea, a phone's
// keyboard), it keeps its newest lines in view if it showed them before.
ui.events.addEventListener('scroll', () => (state.followList = listAtBottom()));
new ResizeObserver(() => {
  if (state.followList) ui.events.scrollTop = ui.events.scrollHeight;
}).observe(ui.events);
ui.logout.addEventListener('click', logout);
ui.bannerAction.addEventListener('click', () => {
  hideBanner();
  state.client?.activate();
});
ui.fatalRetry.addEventListener('click', () => start());
window.addEventListener('pagehide', onPageHidden);
window.addEventListener('pageshow', onPageShown);
document.addEventListener('freeze', onPageHidden);
document.addEventListener('resume', onPageShown);

start();
