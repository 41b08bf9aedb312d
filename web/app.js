// The page: wires the DOM, the STOMP client and the room model together. The logic worth testing
// lives in the modules it imports; this file only connects them.

import { Auth, checkCredentials } from './auth.js';
import { StompClient } from './stomp.js';
import { destinations, loadConfig } from './config.js';
import { describeState } from './format.js';
import { attachHistory, attachSearch } from './history.js';
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
import { Limits, countCharacters, validatePost } from './validate.js';

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

const room = new Room({ limit: 2000, pendingLimit: 100 });
// The signed-in person; when the server ends the sign-in, back to the sign-in form with why.
const auth = new Auth({ onEnded: (message) => leave({ notice: message }) });
/** Headers of every SEND to the services: the broker checks user-id against the CONNECT login. */
function sendHeaders(extra) {
  const name = auth.name ?? state.identity?.login; // after the sign-in ended, the socket is still theirs
  return name ? { ...JSON_HEADERS, ...extra, 'user-id': name } : { ...JSON_HEADERS, ...extra };
}

const nodes = new Map();
const outbox = new Outbox({
  room,
  send: (payload) =>
    state.client.send(state.dest.inbox, JSON.stringify(payload), sendHeaders({ persistent: 'true' })),
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
      // A revoked sign-in shows here first: a refresh the server refuses ends it (onEnded).
      if (auth.signedIn) auth.refresh().catch(() => {});
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
  return state.client.request(state.dest.login, body, { timeoutMs, headers: sendHeaders() });
}

/** Logs in (idempotent: the same session finds its queue again) and subscribes to the queue. */
async function join(identity) {
  state.client.activate();
  let reply;
  try {
    reply = parseLoginReply((await loginRequest('login', identity)).body);
  } catch (error) {
    if (error.code === 'auth-failed') {
      return { ok: false, message: `The broker refused your sign-in (${error.message}). Sign in again; if that fails too, the broker cannot reach Warren's web server.` };
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
  const register = event.submitter === ui.registerSubmit;
  const check = checkCredentials(ui.loginName.value.trim(), ui.loginPassword.value);
  if (!check.ok) {
    const field = check.field === 'name' ? ui.loginName : ui.loginPassword;
    ui.loginError.textContent = check.message;
    field.setAttribute('aria-invalid', 'true');
    field.focus();
    return;
  }
  ui.loginName.removeAttribute('aria-invalid');
  ui.loginPassword.removeAttribute('aria-invalid');
  ui.loginError.textContent = '';
  ui.loginNotice.hidden = true;
  setBusy(register ? 'Registering…' : 'Signing in…');
  let name;
  try {
    name = register ? await auth.register(check.name, ui.loginPassword.value) : await auth.login(check.name, ui.loginPassword.value);
  } catch (error) {
    setBusy(null);
    ui.loginError.textContent = error.message;
    ui.loginPassword.focus();
    return;
  }
  ui.loginPassword.value = '';
  // A session that could not be resumed (broker or service unreachable) is tried again as it is.
  const saved = loadSession(storage);
  await enter({ login: name, session: saved?.login === name ? saved.session : newSessionId() });
}

/** Disables the form's buttons with `label` on the one pressed, or restores them (null). */
function setBusy(label) {
  ui.loginSubmit.disabled = ui.registerSubmit.disabled = label !== null;
  ui.loginSubmit.textContent = label ?? 'Sign in';
  if (label === null) ui.registerSubmit.textContent = 'Register';
}

async function enter(identity) {
  ui.loginError.textContent = '';
  setBusy('Joining…');
  try {
    const result = await join(identity);
    if (!result.ok) {
      if (result.refused) clearSession(storage); // keep a session that failed only for want of a connection
      if (state.client.state !== 'auth-failed') await state.client.deactivate(); // keep the auth-failed banner
      await auth.logout(); // signed out again, so the form means what it shows
      showView('login');
      ui.loginError.textContent = result.message;
      return;
    }
    ui.meName.textContent = state.identity.login;
    // Posts an earlier page of this tab wrote but could not get confirmed go out now, once.
    outbox.restore(loadUnsent(storage, state.identity.session).filter((post) => validatePost(post.text).ok));
    showView('room');
    scheduleRender();
    earlier.check();
    ui.composeText.focus();
  } finally {
    setBusy(null);
  }
}

/**
 * Leaves the room: tells the login service (while connected), disconnects, signs out and shows
 * the sign-in form, with `notice` above it when the sign-in ended by itself.
 * @param {{notice?: string}} [options]
 */
async function leave({ notice } = {}) {
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
  await auth.logout(); // revokes the sign-in on the server, unless it has ended already
  state.identity = null;
  clearSession(storage);
  room.clear();
  nodes.clear();
  ui.events.replaceChildren();
  earlier.reset();
  state.toAck.length = 0;
  state.savedUnsent = '';
  hideBanner();
  ui.logout.disabled = false;
  setStatus('disconnected', 'Not connected');
  showNotice(notice);
  showView('login');
  ui.loginName.focus();
}

function showNotice(text) {
  ui.loginNotice.textContent = text ?? '';
  ui.loginNotice.hidden = !text;
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
    host: state.config.vhost,
    // Every connection, the first and each reconnect, signs in as the person with a fresh token.
    beforeConnect: async (client) => {
      if (!auth.signedIn) {
        client.deactivate();
        throw new Error('nobody is signed in');
      }
      client.passcode = await auth.freshToken();
      client.login = auth.name;
    },
  });
  state.client.on('state', onState);
  state.client.on('error', (error) => console.warn('[warren]', error.code, error.message));
  setStatus('disconnected', 'Not connected');

  // A reload: a new access token from the refresh cookie, and this tab's room session again.
  const saved = loadSession(storage);
  let name = null;
  try {
    name = await auth.resume();
  } catch (error) {
    showNotice(`Could not resume your sign-in: ${error.message}`);
  }
  showView('login');
  if (name) {
    ui.loginName.value = name;
    await enter({ login: name, session: saved?.login === name ? saved.session : newSessionId() });
  } else {
    if (saved && !ui.loginNotice.textContent) showNotice('Your session has ended; please sign in again.');
    if (saved) ui.loginName.value = saved.login;
    ui.loginName.focus();
  }
}

// Earlier messages at the top of the list, and the search panel (history.js).
/** fetch with the signed-in person's access token: /api/history and /api/search need it. */
async function authorizedFetch(url, init = {}) {
  const token = await auth.freshToken();
  return fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
}

const earlier = attachHistory({ list: ui.events, room, render, fetch: authorizedFetch });
attachSearch({
  fetch: authorizedFetch,
  form: $('search-form'),
  input: $('search-text'),
  panel: $('search-panel'),
  title: $('search-title'),
  results: $('search-results'),
  close: $('search-close'),
});

ui.loginForm.addEventListener('submit', onLoginSubmit);
for (const field of [ui.loginName, ui.loginPassword]) {
  field.addEventListener('input', () => {
    ui.loginError.textContent = '';
    field.removeAttribute('aria-invalid');
  });
}
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
ui.logout.addEventListener('click', () => leave());
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
