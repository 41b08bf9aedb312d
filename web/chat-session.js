// The one owner of the page's state: the configuration, the STOMP client, who is signed in to
// the chat (identity), the tab queue's subscription (and the online queue's, which makes the
// person count as online), general's stream in a deployment that has one (StreamReader), the
// rooms (ChatRooms: a Room and an Outbox per room opened, the list with unread counts, typing,
// presence) and what feeds them (RoomFeed). Every change goes through a named action below;
// what the page shows besides the rooms is set through PageState. No DOM: app.js wires the page
// to these actions and draws, so everything here is tested with fakes
// (web/test/app-chat-session.test.js; general's stream with the real STOMP client over a fake
// socket, web/test/app-general-stream.test.js).
//
//   const session = new ChatSession({ page, auth, storage, loadConfig, createClient, verifyProof, ... });
//   session.onRoomChange(({ cleared }) => scheduleRender());
//   await session.start();                          // config, client, a resumed sign-in
//   const name = await session.authenticate({ name, password, register: false });
//   if (name) await session.enterAs(name);          // the login request, the tab queue
//   await session.leave();

import { checkCredentials } from './auth.js';
import { destinations } from './config.js';
import { describeState } from './format.js';
import { ChatRooms } from './chat-rooms.js';
import { OUTBOX_LIMIT, Outbox } from './outbox.js';
import { View } from './page-state.js';
import { Room } from './room.js';
import { RoomFeed } from './room-feed.js';
import { RoomsAPI } from './rooms-api.js';
import { clearSession, loadSession, loadUnsent, parseLoginReply, saveSession, saveUnsent } from './session.js';
import { systemClock } from './stomp-timing.js';
import { StreamReader } from './stream-reader.js';
import { rules, validatePost } from './validate.js';

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });

/** Deliveries the broker may push to the tab before the page acknowledges. */
export const PREFETCH = 50;
/** The shortest pause between two logins the page makes by itself (a lost tab queue). */
export const RELOGIN_PAUSE_MS = 10_000;
/** How long a login may take, connecting included. */
export const LOGIN_TIMEOUT_MS = 15_000;
/** How long the login service is given to confirm a logout. */
export const LOGOUT_TIMEOUT_MS = 5_000;

export class ChatSession {
  /**
   * @param {object} options
   * @param {import('./page-state.js').PageState} options.page
   * @param {import('./auth.js').Auth} options.auth the person's sign-in (name, tokens)
   * @param {Storage} options.storage sessionStorage
   * @param {() => Promise<{stompURL: string, stompURLs: string[], vhost: string, prefix: string, powBits: number, generalStream?: string}>} options.loadConfig
   *   (with several `stompURLs`, the client connects to one node and moves to the next when it
   *   goes; with `generalStream`, general is read from that stream: stream-reader.js)
   * @param {(config: object, hooks: {beforeConnect: Function}) => import('./stomp.js').StompClient} options.createClient
   * @param {typeof import('./proof.js').verifyProof} options.verifyProof
   * @param {() => string} options.newSessionId
   * @param {() => string} options.newClientId
   * @param {{now: () => number, setTimeout: Function, clearTimeout: Function}} [options.clock]
   * @param {{warn: Function}} [options.log]
   * @param {number} [options.roomLimit] room events kept on the page per room opened (default 2000)
   * @param {typeof fetch} [options.fetch] fetch with the person's access token (the rooms API)
   */
  constructor({ page, auth, storage, loadConfig, createClient, verifyProof, newSessionId, newClientId, clock = systemClock, log = console, roomLimit = 2000, fetch: fetchFn = () => Promise.reject(new Error('no web server')) }) {
    Object.assign(this, { page, auth, storage, loadConfig, createClient, newSessionId, newClientId, clock, log });
    this.config = null;
    this.dest = null;
    /** @type {import('./stomp.js').StompClient | null} */
    this.client = null;
    /** @type {{login: string, session: string} | null} who is in the room, once logged in */
    this.identity = null;
    this.subscription = null;
    this.onlineSubscription = null;
    /** @type {StreamReader | null} general's stream, when the deployment has one and someone is in */
    this.stream = null;
    /** When the connection was lost (clock ms), null while connected */
    this._lostAt = null;
    const transport = this._transport();
    this.rooms = new ChatRooms({
      page,
      api: new RoomsAPI({ fetch: fetchFn }),
      clock,
      log,
      makeView: (roomId) => {
        const room = new Room({ limit: roomLimit, pendingLimit: OUTBOX_LIMIT });
        const outbox = new Outbox({ room, roomId, transport, identity: () => this.identity, newClientId, onChange: () => this._roomChanged(), clock });
        return { room, outbox };
      },
      sendTyping: (roomId) => this._sendTyping(roomId),
    });
    this.feed = new RoomFeed({
      roomOf: (id) => this.rooms.views.get(id)?.room,
      onEvent: (event, source) => this.rooms.eventArrived(event, source),
      verifyProof,
      minBits: () => this.config?.powBits ?? 1,
      onChange: () => this._roomChanged(),
      log,
    });
    /** Earlier messages at the top of the list (attachHistory); the page sets it. */
    this.history = { check() {}, reset() {} };
    this._lastRelogin = -Infinity;
    this._savedUnsent = ''; // what saveUnsent last stored
    this._roomListeners = new Set();
  }

  /** The open room's Room. */
  get room() {
    return this.rooms.current.room;
  }

  /** The open room's Outbox. */
  get outbox() {
    return this.rooms.current.outbox;
  }

  /**
   * Listens for changes of the room (draw it soon); `cleared` after a logout emptied it.
   * @param {(change: {cleared: boolean}) => void} listener
   */
  onRoomChange(listener) {
    this._roomListeners.add(listener);
    return () => this._roomListeners.delete(listener);
  }

  // ---- start, sign-in, the room ----

  /** Loads the configuration, makes the client and resumes a sign-in (a reload) if there is one. */
  async start() {
    const { page } = this;
    page.showView(View.loading);
    page.setStatus('connecting', 'Loading…');
    try {
      this.config = await this.loadConfig();
    } catch (error) {
      page.showFatal(`${error.message} The page needs the warren web server, which serves /config.json with the broker's address.`);
      return;
    }
    this.dest = destinations(this.config.prefix);
    const client = this.createClient(this.config, { beforeConnect: (c) => this._beforeConnect(c) });
    this.client = client;
    client.on('state', (detail) => this.connectionChanged(detail));
    client.on('error', (error) => this.log.warn('[warren]', error.code, error.message));
    page.setStatus('disconnected', 'Not connected');

    // A reload: a new access token from the refresh cookie, and this tab's room session again.
    const saved = loadSession(this.storage);
    let name = null;
    try {
      name = await this.auth.resume();
    } catch (error) {
      page.showNotice(`Could not resume your sign-in: ${error.message}`);
    }
    page.showView(View.login);
    if (name) {
      page.fillLoginName(name);
      await this.enterAs(name, saved);
    } else {
      if (saved && !page.notice) page.showNotice('Your session has ended; please sign in again.');
      if (saved) page.fillLoginName(saved.login);
      page.focus('login-name');
    }
  }

  /**
   * Signs the person in (or registers them) over HTTP.
   * @param {{name: string, password: string, register?: boolean}} form
   * @returns {Promise<string | null>} their name, or null (the page then shows why)
   */
  async authenticate({ name, password, register = false }) {
    const { page } = this;
    const check = checkCredentials(name.trim(), password);
    if (!check.ok) {
      page.loginFailed(check.message, check.field === 'name' ? 'name' : 'password');
      return null;
    }
    page.clearLoginError();
    page.showNotice('');
    page.setBusy(register ? 'Registering…' : 'Signing in…');
    try {
      return register ? await this.auth.register(check.name, password) : await this.auth.login(check.name, password);
    } catch (error) {
      page.setBusy(null);
      page.loginFailed(error.message);
      page.focus('login-password');
      return null;
    }
  }

  /**
   * Enters the room as `name`: with this tab's saved session id when it is theirs (`resume`:
   * the queue may hold what arrived meanwhile), else with a new one.
   * @param {string} name
   * @param {{login: string, session: string} | null} [saved] defaults to what sessionStorage holds
   * @returns {Promise<boolean>} whether the room is shown
   */
  enterAs(name, saved = loadSession(this.storage)) {
    // A session that could not be resumed (broker or service unreachable) is tried again as it is.
    if (saved?.login === name) return this.enter({ login: name, session: saved.session }, { resume: true });
    return this.enter({ login: name, session: this.newSessionId() }, { resume: false });
  }

  /**
   * Logs in to the room (idempotent: the same session finds its queue again) and shows it, or
   * goes back to the sign-in form with why.
   * @param {{login: string, session: string}} identity
   * @param {{resume: boolean}} options whether the session id came from sessionStorage
   * @returns {Promise<boolean>} whether the room is shown
   */
  async enter(identity, { resume }) {
    const { page } = this;
    page.clearLoginError();
    page.setBusy('Joining…');
    try {
      const result = await this._join(identity, { resume });
      if (!result.ok) {
        this._stopStream();
        if (result.refused) clearSession(this.storage); // keep a session that failed only for want of a connection
        if (this.client.state !== 'auth-failed') await this.client.deactivate(); // keep the auth-failed banner
        await this.auth.logout(); // signed out again, so the form means what it shows
        page.showView(View.login);
        page.loginFailed(result.message);
        return false;
      }
      page.setMe(this.identity.login);
      // Posts an earlier page of this tab wrote but could not get confirmed go out now, once.
      const unsent = loadUnsent(this.storage, this.identity.session, OUTBOX_LIMIT).filter((post) => validatePost(post.text).ok);
      for (const roomId of new Set(unsent.map((post) => post.room ?? this.rooms.openId))) {
        this.rooms.view(roomId).outbox.restore(unsent.filter((post) => (post.room ?? this.rooms.openId) === roomId));
      }
      page.showView(View.room);
      this._roomChanged();
      this.history.check();
      void this.rooms.load();
      page.focus('compose-text');
      return true;
    } finally {
      page.setBusy(null);
    }
  }

  /**
   * Leaves the room: tells the login service (while connected), disconnects, signs out and shows
   * the sign-in form, with `notice` above it when the sign-in ended by itself.
   * @param {{notice?: string}} [options]
   */
  async leave({ notice } = {}) {
    const { page } = this;
    const identity = this.identity;
    page.setLeaving(true);
    for (const view of this.rooms.views.values()) view.outbox.reset();
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.onlineSubscription?.unsubscribe();
    this.onlineSubscription = null;
    this._stopStream(); // clearSession below forgets its position
    if (identity && this.client?.connected) {
      try {
        await this._loginRequest('logout', identity, { timeoutMs: LOGOUT_TIMEOUT_MS });
      } catch (error) {
        this.log.warn('[warren] logout was not confirmed', error.message);
      }
    }
    await this.client?.deactivate();
    await this.auth.logout(); // revokes the sign-in on the server, unless it has ended already
    this.identity = null;
    clearSession(this.storage);
    this.feed.clear();
    this.rooms.clear();
    this._savedUnsent = '';
    this._emitRoomChange({ cleared: true });
    this.history.reset();
    page.hideBanner();
    page.setLeaving(false);
    page.setStatus('disconnected', 'Not connected');
    page.showNotice(notice);
    page.showView(View.login);
    page.focus('login-name');
  }

  /** Logs in again with the same session (the tab queue is gone: the login declares it anew). */
  async relogin() {
    if (!this.identity || this.clock.now() - this._lastRelogin < RELOGIN_PAUSE_MS) return;
    this._lastRelogin = this.clock.now();
    const result = await this._join(this.identity, { resume: true });
    if (!result.ok) {
      this.page.showBanner(`Could not rejoin the room: ${result.message}`);
      return;
    }
    // Posts sent while the queue was gone may have been refused into it: they go again.
    for (const view of this.rooms.views.values()) view.outbox.resendUnechoed();
  }

  // ---- the connection ----

  /** The client's `state` event: the status line, the banner, and what waited for the connection. */
  connectionChanged(detail) {
    const { page } = this;
    page.setStatus(detail.state, describeState(detail));
    switch (detail.state) {
      case 'connected':
        page.hideBanner();
        for (const view of this.rooms.views.values()) view.outbox.connected();
        this._roomChanged();
        // Rooms notices (read elsewhere, joined, left) live roomNoticeTtlMs in the tab queue: after
        // a longer gap some may be gone, so the list (and its counts) is read again.
        if (this._lostAt !== null && this.identity && this.clock.now() - this._lostAt >= rules.roomNoticeTtlMs) void this.rooms.load();
        this._lostAt = null;
        break;
      case 'reconnecting':
        this._lostAt ??= this.clock.now();
        this._connectionLost();
        page.showBanner('The connection to the chat was lost. Reconnecting… Posts you write now are sent once it is back.');
        break;
      case 'disconnected':
        this._connectionLost();
        page.hideBanner();
        break;
      case 'auth-failed':
        this._connectionLost();
        page.showBanner(`The broker refused the connection: ${detail.error?.message ?? 'login refused'}.`, true);
        // A revoked sign-in shows here first: a refresh the server refuses ends it (Auth's onEnded).
        if (this.auth.signedIn) this.auth.refresh().catch(() => {});
        break;
      default:
        break;
    }
  }

  /** The banner's "Try again": connect now. */
  reconnect() {
    this.page.hideBanner();
    this.client?.activate();
  }

  // A page kept in the back/forward cache (or frozen) runs no script, so it can neither show nor
  // acknowledge what the broker delivers: let the socket go before that happens, so everything
  // unacknowledged goes back to the tab's queue and is delivered again when the page returns.
  // Nothing is acknowledged on the way out: a message that arrived but was not drawn yet is
  // redelivered (and shown once). Unconfirmed posts are kept for a reload (keepUnsent).

  /** The page is being hidden (pagehide, freeze). */
  pageHidden() {
    this.keepUnsent();
    this.client?.suspend();
  }

  /** The page is shown again from the back/forward cache, or unfrozen. */
  pageShown() {
    this.client?.resume();
  }

  // ---- after drawing ----

  /** The room is on the screen: acknowledges what was drawn and keeps unconfirmed posts. */
  drawn() {
    this.feed.drawn();
    this.stream?.drawn();
    this.keepUnsent();
  }

  /** Keeps the posts the broker has not confirmed in sessionStorage, for a reload to send. */
  keepUnsent() {
    if (!this.identity) return;
    const posts = [];
    for (const [roomId, view] of this.rooms.views) {
      for (const post of view.outbox.unconfirmed()) posts.push(roomId === rules.generalRoom ? post : { ...post, room: roomId });
    }
    const value = posts.length > 0 ? JSON.stringify({ session: this.identity.session, posts }) : '';
    if (value !== this._savedUnsent) this._savedUnsent = saveUnsent(this.storage, this.identity.session, posts);
  }

  // ---- inside ----

  /**
   * Logs in and subscribes to the tab queue. General's stream, when there is one, is subscribed
   * first: the broker handles a connection's frames in order, so the stream is read from before
   * the login service takes the backfill, every later event comes from it, and the overlap is
   * dropped by id.
   */
  async _join(identity, { resume }) {
    const client = this.client;
    client.activate();
    this._readGeneral(identity.session);
    let reply;
    try {
      reply = parseLoginReply((await this._login(identity, { resume })).body);
    } catch (error) {
      if (error.code === 'auth-failed') {
        return { ok: false, message: `The broker refused your sign-in (${error.message}). Sign in again; if that fails too, the broker cannot reach Warren's web server.` };
      }
      if (!client.connected) {
        return { ok: false, message: `Could not connect to the chat broker at ${this.config.stompURLs?.join(', ') ?? this.config.stompURL}; it may be down. Try again in a moment.` };
      }
      return { ok: false, message: `Could not reach the login service: ${error.message}.` };
    }
    if (!reply.ok) return { ...reply, refused: true };
    this.identity = { login: reply.login || identity.login, session: identity.session };
    saveSession(this.storage, this.identity);
    this.rooms.me = this.identity.login;
    this._beOnline(reply.online);
    this._subscribe(reply.queue);
    return { ok: true };
  }

  /**
   * The login request. A connection dropped before the reply (a SUBSCRIBE to general's stream
   * that the broker refuses, a stream the deployment names but does not have; or the SUBSCRIBE
   * to a tab queue lost with its node, whose drop was the login again's cause) takes the request
   * with it: it is sent again, as a resume, once connected, until time runs out.
   */
  async _login(identity, { resume }) {
    const started = this.clock.now();
    for (;;) {
      const left = LOGIN_TIMEOUT_MS - (this.clock.now() - started);
      try {
        return await this._loginRequest('login', identity, { resume, timeoutMs: left });
      } catch (error) {
        const dropped = error.code === 'stomp-died' || error.code === 'connection-lost' || error.code === 'not-connected';
        if (!dropped || LOGIN_TIMEOUT_MS - (this.clock.now() - started) < 1) throw error;
        resume = true; // a login again after a reconnect (its queue may exist by now)
      }
    }
  }

  /**
   * A login or logout request, once connected (within the same time limit). A login says whether
   * the session id is one this tab used before (`resume`) or a new one.
   */
  async _loginRequest(action, { login, session }, { resume = false, timeoutMs }) {
    const started = this.clock.now();
    await this.client.whenConnected({ timeoutMs });
    const body = action === 'login' ? { action, login, session, resume: Boolean(resume) } : { action, login, session };
    const left = Math.max(1, timeoutMs - (this.clock.now() - started));
    return this.client.request(this.dest.login, JSON.stringify(body), { timeoutMs: left, headers: this._sendHeaders() });
  }

  _subscribe(queue) {
    if (this.subscription) {
      // What the old subscription delivered is in the room: acknowledged before it goes, since
      // the broker refuses an ACK for a subscription that no longer exists.
      this.feed.drawn();
      this.subscription.unsubscribe();
    }
    this.subscription = this.client.subscribe(this.dest.queue(queue), (message) => this.feed.delivered(message), {
      ack: 'client-individual',
      prefetch: PREFETCH,
      onError: () => this.relogin(), // the queue is gone (expired): log in again, which declares it anew
    });
  }

  /**
   * Subscribes to the person's online queue, which carries no messages: the consumer is what
   * makes them count as online while this tab is connected (docs/design.md, presence). A login
   * service that names none (an older one) leaves this tab uncounted. A subscription the client
   * gave up on (the queue went with its node) is made again by the login again that declares it.
   */
  _beOnline(queue) {
    if (!queue || (this.onlineSubscription?.active && this.onlineSubscription.destination === this.dest.queue(queue))) return;
    this.onlineSubscription?.unsubscribe();
    this.onlineSubscription = this.client.subscribe(this.dest.queue(queue), () => {}, { ack: 'auto', prefetch: 1 });
    this.onlineSubscription.destination = this.dest.queue(queue);
  }

  /**
   * Subscribes to general's stream once per sign-in (a login again keeps it), when the deployment
   * has one. A login again after the client gave up on it subscribes anew, at the offset kept: a
   * broker that drops the connection names no SUBSCRIBE, and when the tab queue went with its
   * node, the drops its SUBSCRIBE caused were blamed on the stream's, the oldest unconfirmed.
   */
  _readGeneral(session) {
    if (this.stream?.gaveUp) this._stopStream();
    if (!this.config.generalStream || this.stream) return;
    this.stream = new StreamReader({ client: this.client, queue: this.config.generalStream, feed: this.feed, storage: this.storage, session, clock: this.clock, log: this.log });
    this.stream.start();
  }

  _stopStream() {
    this.stream?.stop();
    this.stream = null;
  }

  /** Nothing the lost connection brought can be acknowledged any more. */
  _connectionLost() {
    this.feed.connectionLost();
    this.stream?.connectionLost();
  }

  /** One typing notice for `roomId` (the login service lets one per tab per typingIntervalMs through). */
  _sendTyping(roomId) {
    if (!this.identity || !this.client?.connected) return;
    const { login, session } = this.identity;
    const notice = { clientId: this.newClientId(), login, session, text: '', typing: true };
    if (roomId !== rules.generalRoom) notice.room = roomId;
    this.client.send(this.dest.inbox, JSON.stringify(notice), this._sendHeaders()).catch((error) => this.log.warn('[warren] a typing notice was not sent', error.message));
  }

  /** Every connection, the first and each reconnect, signs in as the person with a fresh token. */
  async _beforeConnect(client) {
    if (!this.auth.signedIn) {
      client.deactivate();
      throw new Error('nobody is signed in');
    }
    client.passcode = await this.auth.freshToken();
    client.login = this.auth.name;
  }

  /** Headers of every SEND to the services: the broker checks user-id against the CONNECT login. */
  _sendHeaders(extra = {}) {
    const name = this.auth.name ?? this.identity?.login; // after the sign-in ended, the socket is still theirs
    return name ? { ...JSON_HEADERS, ...extra, 'user-id': name } : { ...JSON_HEADERS, ...extra };
  }

  /** How the outbox reaches the inbox queue: straight to the STOMP client, while connected. */
  _transport() {
    const session = this;
    return {
      get connected() {
        return Boolean(session.client?.connected);
      },
      send: (payload) => session.client.send(session.dest.inbox, JSON.stringify(payload), session._sendHeaders({ persistent: 'true' })),
    };
  }

  _roomChanged() {
    this._emitRoomChange({ cleared: false });
  }

  _emitRoomChange(change) {
    for (const listener of [...this._roomListeners]) listener(change);
  }
}
