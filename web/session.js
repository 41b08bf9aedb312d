// The tab's identity: a random session id (kept in sessionStorage with the login name, so a
// reload finds the same queue, and beside it where the session got to in general's stream),
// random client ids for posts, and the login reply's shape.

import { SESSION_ID_PATTERN } from './validate.js';

export { SESSION_ID_PATTERN };

const STORAGE_KEY = 'warren.session';
const UNSENT_KEY = 'warren.unsent';
const STREAM_KEY = 'warren.stream';

/**
 * Encodes bytes as base64url without padding.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * A new session id: 16 random bytes (128 bits) in base64url, 22 characters.
 * @param {{getRandomValues: (a: Uint8Array) => Uint8Array}} [random] defaults to globalThis.crypto
 * @returns {string}
 */
export function newSessionId(random = globalThis.crypto) {
  return base64url(random.getRandomValues(new Uint8Array(16)));
}

/**
 * A new client id for a post: a random (version 4) UUID. Uses crypto.randomUUID where the page
 * is a secure context, else builds one from getRandomValues (which works everywhere).
 * @param {Crypto} [random] defaults to globalThis.crypto
 * @returns {string}
 */
export function newClientId(random = globalThis.crypto) {
  if (typeof random.randomUUID === 'function') return random.randomUUID();
  const b = random.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The saved login and session of this tab, if any and well-formed.
 * @param {Storage} storage sessionStorage
 * @returns {{login: string, session: string} | null}
 */
export function loadSession(storage) {
  try {
    const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null');
    if (typeof saved?.login === 'string' && typeof saved?.session === 'string' && SESSION_ID_PATTERN.test(saved.session)) {
      return { login: saved.login, session: saved.session };
    }
  } catch {
    // a damaged entry is as good as none
  }
  return null;
}

/**
 * Saves the login and session for reloads of this tab.
 * @param {Storage} storage
 * @param {{login: string, session: string}} session
 */
export function saveSession(storage, { login, session }) {
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify({ login, session }));
  } catch {
    // storage may be full or disabled; the tab still works until it is reloaded
  }
}

/** Forgets the saved session, its unsent posts and its stream position (after logout). @param {Storage} storage */
export function clearSession(storage) {
  try {
    storage.removeItem(STORAGE_KEY);
    storage.removeItem(UNSENT_KEY);
    storage.removeItem(STREAM_KEY);
  } catch {
    // nothing to forget
  }
}

/**
 * Reads the login service's reply.
 * @param {string} body
 * @returns {{ok: true, queue: string, login: string, session: string, online?: string} | {ok: false, code: string, message: string}}
 */
export function parseLoginReply(body) {
  let reply;
  try {
    reply = JSON.parse(body);
  } catch {
    return { ok: false, code: 'reply.malformed', message: 'The login service sent a reply that is not JSON.' };
  }
  if (reply?.ok === true && typeof reply.queue === 'string' && reply.queue.length > 0) {
    const parsed = { ok: true, queue: reply.queue, login: String(reply.login ?? ''), session: String(reply.session ?? '') };
    // The person's online queue, which the tab subscribes to in order to count as online.
    return typeof reply.online === 'string' && reply.online !== '' ? { ...parsed, online: reply.online } : parsed;
  }
  if (reply?.ok === false) {
    const message = typeof reply.error === 'string' && reply.error ? reply.error : 'The login service refused the login.';
    return { ok: false, code: String(reply.code ?? 'login.refused'), message };
  }
  return { ok: false, code: 'reply.malformed', message: 'The login service sent a reply of an unexpected shape.' };
}

/**
 * Keeps this tab's posts that the broker has not confirmed, so a page that is unloaded (a
 * reload, or navigating away and back without the back/forward cache) can send them still.
 * @param {Storage} storage sessionStorage
 * @param {string} session the tab's session id: posts are only taken back by the same session
 * @param {{clientId: string, text: string, proof: boolean}[]} posts
 * @returns {string} what was stored, to skip writing the same again
 */
export function saveUnsent(storage, session, posts) {
  const value = posts.length > 0 ? JSON.stringify({ session, posts }) : '';
  try {
    if (value) storage.setItem(UNSENT_KEY, value);
    else storage.removeItem(UNSENT_KEY);
  } catch {
    // storage may be full or disabled; the posts are still sent while this page lives
  }
  return value;
}

/**
 * The unsent posts an earlier page of this tab kept for `session`, well-formed ones only.
 * @param {Storage} storage
 * @param {string} session
 * @param {number} [limit] at most this many (the oldest first)
 * @returns {{clientId: string, text: string, proof: boolean, room?: string}[]}
 */
export function loadUnsent(storage, session, limit = 100) {
  try {
    const saved = JSON.parse(storage.getItem(UNSENT_KEY) ?? 'null');
    if (saved?.session !== session || !Array.isArray(saved.posts)) return [];
    return saved.posts
      .filter((p) => typeof p?.clientId === 'string' && p.clientId !== '' && typeof p.text === 'string')
      .slice(0, limit)
      .map((p) => ({ clientId: p.clientId, text: p.text, proof: p.proof === true, ...(typeof p.room === 'string' ? { room: p.room } : {}) }));
  } catch {
    return [];
  }
}

/**
 * Keeps where `session` got to in general's stream (stream-reader.js), for a reload to go on
 * from: the newest offset drawn, and when the session first subscribed.
 * @param {Storage} storage sessionStorage
 * @param {string} session
 * @param {{offset: bigint | null, since: number | null}} position `since` in unix seconds
 * @returns {string} what was stored, to skip writing the same again
 */
export function saveStreamPosition(storage, session, { offset, since }) {
  const value = JSON.stringify({ session, offset: offset === null ? null : String(offset), since });
  try {
    storage.setItem(STREAM_KEY, value);
  } catch {
    // storage may be full or disabled; a reload then reads from a minute before it subscribed
  }
  return value;
}

/**
 * A stream offset as the broker writes it (the `x-stream-offset` header, decimal), or null when
 * it is none.
 * @param {unknown} text
 * @returns {bigint | null}
 */
export function streamOffset(text) {
  return typeof text === 'string' && /^[0-9]{1,20}$/.test(text) ? BigInt(text) : null;
}

/**
 * Where `session` got to in general's stream, as saveStreamPosition kept it; nothing for
 * another session, or a damaged entry.
 * @param {Storage} storage
 * @param {string} session
 * @returns {{offset: bigint | null, since: number | null}}
 */
export function loadStreamPosition(storage, session) {
  const position = { offset: null, since: null };
  try {
    const saved = JSON.parse(storage.getItem(STREAM_KEY) ?? 'null');
    if (saved?.session !== session) return position;
    position.offset = streamOffset(saved.offset);
    if (Number.isSafeInteger(saved.since) && saved.since > 0) position.since = saved.since;
  } catch {
    // a damaged entry is as good as none
  }
  return position;
}
