// Signing in: registration and sign-in through the web role's /api endpoints, the access token
// kept in memory only (the refresh token lives in the HttpOnly cookie the server sets, which
// script never sees), refreshed shortly before it expires and handed out fresh for every STOMP
// CONNECT. When the server says the sign-in is over (revoked, reused or expired refresh token),
// `onEnded` is told once, with a message for the person.

import { validateLogin } from './validate.js';

/** The fewest characters in a password (the server's PasswordRules.minimumCharacters). */
export const PASSWORD_MIN_CHARACTERS = 8;
/** The most UTF-8 bytes in a password (the server's PasswordRules.maximumBytes). */
export const PASSWORD_MAX_BYTES = 1024;

/** A failed /api request: `code` is the server's `error` field, or `network` / `malformed`. */
export class AuthError extends Error {
  /**
   * @param {string} code
   * @param {string} message for the person
   * @param {{status?: number, retryAfter?: number}} [details]
   */
  constructor(code, message, { status = 0, retryAfter } = {}) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }

  /** Whether the server refused the token itself, so only signing in again helps. */
  get sessionEnded() {
    return this.status === 401;
  }
}

/**
 * Checks a name and password with the server's rules before anything is sent.
 * @param {string} name
 * @param {string} password
 * @returns {{ok: true, name: string} | {ok: false, field: 'name' | 'password', message: string}}
 */
export function checkCredentials(name, password) {
  const login = validateLogin(name);
  if (!login.ok) return { ok: false, field: 'name', message: login.message };
  const characters = [...password].length;
  if (characters < PASSWORD_MIN_CHARACTERS) {
    return { ok: false, field: 'password', message: `The password is ${characters} characters long; use at least ${PASSWORD_MIN_CHARACTERS}.` };
  }
  if (new TextEncoder().encode(password).length > PASSWORD_MAX_BYTES) {
    return { ok: false, field: 'password', message: `The password is too long; at most ${PASSWORD_MAX_BYTES} bytes are allowed.` };
  }
  if (/[\u0000-\u001f\u007f]/.test(password)) {
    return { ok: false, field: 'password', message: 'The password contains a control character; use printable characters only.' };
  }
  return { ok: true, name: login.login };
}

const HINT_KEY = 'warren.signedIn';

const systemClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
};

/**
 * The signed-in person of this page.
 *
 *   const auth = new Auth({ onEnded: (message) => showSignIn(message) });
 *   await auth.login('alice', 'correct horse');   // or register(), or resume() after a reload
 *   stomp.beforeConnect = async (c) => { c.login = auth.name; c.passcode = await auth.freshToken(); };
 */
export class Auth {
  /**
   * @param {object} [options]
   * @param {typeof fetch} [options.fetch]
   * @param {{now: () => number, setTimeout: Function, clearTimeout: Function}} [options.clock]
   * @param {{request: (name: string, fn: () => Promise<any>) => Promise<any>}} [options.locks]
   *   serialises refreshes across tabs (navigator.locks): the tabs of one browser share the
   *   refresh cookie, and two refreshes with the same token would revoke the sign-in
   * @param {number} [options.marginMs] refresh this long before the access token expires (60 s)
   * @param {number} [options.retryMs] retry a refresh that failed for want of the server (15 s)
   * @param {(message: string) => void} [options.onEnded] the server ended the sign-in
   * @param {Storage | null} [options.storage] where a hint that this browser holds a sign-in is
   *   kept (localStorage; the name only, no token), so a page of someone never signed in does
   *   not ask /api/refresh for nothing on every load
   */
  constructor(options = {}) {
    this._fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this._clock = options.clock ?? systemClock;
    this._locks = options.locks === undefined ? globalThis.navigator?.locks : options.locks;
    this.marginMs = options.marginMs ?? 60_000;
    this.retryMs = options.retryMs ?? 15_000;
    this.onEnded = options.onEnded ?? (() => {});
    this._storage = options.storage === undefined ? globalThis.localStorage ?? null : options.storage;
    this._session = null; // {name, token, expiresAt (local clock, ms)}
    this._timer = null;
    this._refreshing = null; // the refresh in flight
    this._generation = 0; // bumped by sign-in and sign-out, so a late refresh changes nothing
  }

  /** The signed-in name, or null. */
  get name() {
    return this._session?.name ?? null;
  }

  /** Whether someone is signed in on this page. */
  get signedIn() {
    return this._session !== null;
  }

  /** Makes an account and signs it in. @returns {Promise<string>} the name */
  register(name, password) {
    return this._signIn('/api/register', name, password);
  }

  /** Signs in. @returns {Promise<string>} the name */
  login(name, password) {
    return this._signIn('/api/login', name, password);
  }

  /**
   * After a reload: a new access token from the refresh cookie, if the browser has one.
   * @returns {Promise<string | null>} the name, or null when there is no sign-in to resume
   * @throws {AuthError} when the server cannot be reached (the sign-in may still be good)
   */
  async resume() {
    if (this._storage && !this._hint()) return null;
    try {
      await this.refresh({ quiet: true });
    } catch (error) {
      if (error instanceof AuthError && error.sessionEnded) return null;
      throw error;
    }
    return this.name;
  }

  /**
   * The access token, refreshed first when it expires within the margin.
   * @returns {Promise<string>}
   * @throws {AuthError} when nobody is signed in or the refresh failed
   */
  async freshToken() {
    if (!this._session) throw new AuthError('signed_out', 'Nobody is signed in.');
    if (this._session.expiresAt - this._clock.now() <= this.marginMs) await this.refresh();
    if (!this._session) throw new AuthError('signed_out', 'Nobody is signed in.');
    return this._session.token;
  }

  /**
   * A new access token (and refresh cookie) from the refresh cookie. One at a time: a call while
   * one is in flight shares it. When the server refuses the token the sign-in is over: it is
   * forgotten and, unless `quiet`, onEnded is called.
   * @param {{quiet?: boolean}} [options]
   * @returns {Promise<void>}
   */
  refresh({ quiet = false } = {}) {
    if (this._refreshing) return this._refreshing;
    const generation = this._generation;
    const run = () => this._request('/api/refresh', {});
    const request = this._locks?.request ? this._locks.request('warren.refresh', run) : run();
    const done = () => {
      if (this._refreshing === flight) this._refreshing = null;
    };
    const flight = request.then(
      (body) => {
        done();
        if (generation === this._generation) this._accept(body);
      },
      (error) => {
        done();
        if (generation !== this._generation) throw error;
        if (error.sessionEnded) {
          this._forget();
          if (!quiet) this.onEnded(`Your session has ended: ${error.message}`);
        } else if (this._session) {
          this._schedule(this.retryMs); // the server is unreachable: try again later
        }
        throw error;
      },
    );
    this._refreshing = flight;
    return this._refreshing;
  }

  /** Signs out on the server (best effort) and forgets the token. Never throws. */
  async logout() {
    const token = this._session?.token;
    this._forget();
    if (!token) return;
    try {
      await this._request('/api/logout', {}, { authorization: `Bearer ${token}` });
    } catch (error) {
      console.warn('[warren] sign-out was not confirmed', error.message);
    }
  }

  /** Forgets the sign-in on this page without telling the server (a refused session). */
  forget() {
    this._forget();
  }

  // ---- internals ----

  async _signIn(path, name, password) {
    this._forget();
    const generation = this._generation;
    const body = await this._request(path, { name, password });
    if (generation !== this._generation) throw new AuthError('superseded', 'Another sign-in took its place.');
    this._accept(body);
    return this.name;
  }

  _accept(body) {
    const lifetimeMs = Number(body?.expiresIn) * 1000;
    if (typeof body?.name !== 'string' || typeof body.accessToken !== 'string' || !(lifetimeMs > 0)) {
      throw new AuthError('malformed', 'The server sent a sign-in answer of an unexpected shape.');
    }
    // The lifetime, not expiresAt, so a wrong clock on this machine does not matter.
    this._session = { name: body.name, token: body.accessToken, expiresAt: this._clock.now() + lifetimeMs };
    this._hint(body.name);
    this._schedule(Math.max(lifetimeMs - this.marginMs, lifetimeMs / 2));
  }

  _schedule(delayMs) {
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._timer = this._clock.setTimeout(() => {
      this._timer = null;
      this.refresh().catch(() => {}); // failures are handled (and reported) by refresh itself
    }, delayMs);
  }

  _forget() {
    this._hint(null);
    this._generation += 1;
    this._session = null;
    this._refreshing = null;
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._timer = null;
  }

  /** Reads the sign-in hint, or sets it (a name) or removes it (null). */
  _hint(name) {
    try {
      if (name === undefined) return this._storage?.getItem(HINT_KEY) ?? null;
      if (name === null) this._storage?.removeItem(HINT_KEY);
      else this._storage?.setItem(HINT_KEY, name);
    } catch {
      // storage may be disabled: then every load asks the server
    }
    return null;
  }

  async _request(path, payload, headers = {}) {
    let response;
    try {
      response = await this._fetch(path, {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify(payload),
      });
    } catch (cause) {
      throw new AuthError('network', `Could not reach the server: ${cause?.message ?? cause}.`);
    }
    if (response.status === 204) return null;
    let body = null;
    try {
      body = await response.json();
    } catch {
      // an answer that is not JSON (a proxy's error page) is described by its status below
    }
    if (response.ok) return body;
    const retryAfter = Number(response.headers?.get?.('retry-after')) || undefined;
    const message = typeof body?.message === 'string' && body.message ? body.message : `The server answered ${response.status}.`;
    throw new AuthError(typeof body?.error === 'string' ? body.error : 'http', message, { status: response.status, retryAfter });
  }
}
