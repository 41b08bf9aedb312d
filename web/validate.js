// Checks on what the page sends, with the server's rules and sentences (WarrenCore Validation,
// PostRoute.classify, AcceptedPost), so a person learns what is wrong before anything goes out.
// The numbers and character sets come from rules.json, which the server's SharedRules are
// generated from (scripts/gen-rules); rules-vectors.json holds cases both sides must agree on.

import rules from './rules.json' with { type: 'json' };

export { rules };

/** The limits the server enforces. */
export const Limits = Object.freeze({
  loginMaxLength: rules.loginMaxLength,
  textMaxCharacters: rules.textMaxCharacters,
});

const LOGIN_CHARACTER = new RegExp(`^[${rules.loginCharacters}]$`);
const SESSION_CHARACTER = new RegExp(`^[${rules.sessionCharacters}]$`);

/** What a whole session id looks like (the server's rule). */
export const SESSION_ID_PATTERN = new RegExp(`^[${rules.sessionCharacters}]{${rules.sessionMinLength},${rules.sessionMaxLength}}$`);

/** `[route, suffix]` pairs: a post ending in a suffix goes by that route once its proof is done. */
const PROOF_SUFFIXES = Object.entries(rules.proofSuffixes);
const suffixCase = rules.proofSuffixCaseInsensitive ? (s) => s.toLowerCase() : (s) => s;

/**
 * Describes a character for a message: `U+0009` for controls and whitespace (so the message never
 * carries the invisible character it complains about), `'é' (U+00E9)` for the rest.
 * @param {string} char one code point
 * @returns {string}
 */
export function describeCharacter(char) {
  const code = `U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{Cc}\p{White_Space}]$/u.test(char) ? code : `'${char}' (${code})`;
}

/**
 * Checks a login name: 1 to 32 characters of `[A-Za-z0-9_.-]`.
 * @param {string} login
 * @returns {{ok: true, login: string} | {ok: false, code: string, message: string}}
 */
export function validateLogin(login) {
  const chars = [...login];
  if (chars.length < rules.loginMinLength) {
    return refuse('login.empty', `The login name is empty; choose ${rules.loginMinLength} to ${rules.loginMaxLength} characters.`);
  }
  const bad = chars.find((c) => !LOGIN_CHARACTER.test(c));
  if (bad !== undefined) {
    return refuse(
      'login.invalidCharacter',
      `The login name contains ${describeCharacter(bad)}; only letters A-Z and a-z, digits, '_', '.' and '-' are allowed.`,
    );
  }
  if (chars.length > rules.loginMaxLength) {
    return refuse('login.tooLong', `The login name is ${chars.length} characters long; at most ${rules.loginMaxLength} are allowed.`);
  }
  return { ok: true, login };
}

/**
 * Checks a session id: 22 to 64 characters of `[A-Za-z0-9_-]`.
 * @param {string} session
 * @returns {{ok: true, session: string} | {ok: false, code: string, message: string}}
 */
export function validateSession(session) {
  const chars = [...session];
  const bad = chars.find((c) => !SESSION_CHARACTER.test(c));
  if (bad !== undefined) {
    return refuse(
      'session.invalidCharacter',
      `The session id contains ${describeCharacter(bad)}; only letters A-Z and a-z, digits, '_' and '-' are allowed (base64url or hex).`,
    );
  }
  if (chars.length < rules.sessionMinLength) {
    return refuse(
      'session.tooShort',
      `The session id is ${chars.length} characters long; it needs at least ${rules.sessionMinLength} (16 random bytes in base64url, or a UUID as 32 hex digits).`,
    );
  }
  if (chars.length > rules.sessionMaxLength) {
    return refuse('session.tooLong', `The session id is ${chars.length} characters long; at most ${rules.sessionMaxLength} are allowed.`);
  }
  return { ok: true, session };
}

/**
 * Counts user-perceived characters (grapheme clusters, so "👋🏽" is one), as the server does;
 * falls back to code points where Intl.Segmenter is missing.
 * @param {string} text
 * @returns {number}
 */
export function countCharacters(text) {
  if (typeof Intl !== 'undefined' && typeof Intl.Segmenter === 'function') {
    let count = 0;
    for (const _ of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) count += 1;
    return count;
  }
  return [...text].length;
}

/**
 * Normalises a post as the server will: `\r\n` and `\r` become `\n`, leading and trailing
 * whitespace (Unicode White_Space) is trimmed.
 * @param {string} text
 * @returns {string}
 */
export function normalisePost(text) {
  return text.replace(/\r\n?/g, '\n').replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

/**
 * Splits normalised text into its route and the text without the proof suffix (trimmed again),
 * as the server's PostRoute.classify does: one suffix at the very end, in any case.
 * @param {string} text the normalised text
 * @returns {{route: string, body: string}} route `plain` or a key of rules.proofSuffixes
 */
export function classifyPost(text) {
  for (const [route, suffix] of PROOF_SUFFIXES) {
    const points = [...text];
    const length = [...suffix].length;
    if (points.length < length) continue;
    if (suffixCase(points.slice(-length).join('')) === suffixCase(suffix)) {
      return { route, body: normalisePost(points.slice(0, -length).join('')) };
    }
  }
  return { route: 'plain', body: text };
}

/**
 * True when the post asks for a proof of work (`!pow` or `!rpc` at its end, in any case).
 * @param {string} text the normalised text
 * @returns {boolean}
 */
export function wantsProof(text) {
  return classifyPost(text).route !== 'plain';
}

/**
 * Checks a post: no control character but newline (tab, the other C0 controls, DEL and C1 are
 * refused), then 1 to 2,000 characters after normalising, not counting a `!pow` / `!rpc` suffix,
 * which needs text before it.
 * @param {string} text as typed
 * @returns {{ok: true, text: string, proof: boolean, route: string, body: string}
 *   | {ok: false, code: string, message: string}} `text` is what to send (normalised, suffix
 *   kept); `body` what the room will show (without the suffix)
 */
export function validatePost(text) {
  const normalised = normalisePost(text);
  const bad = [...normalised].find((c) => c !== '\n' && /^[\u0000-\u001f\u007f-\u009f]$/.test(c));
  if (bad !== undefined) {
    return refuse('text.controlCharacter', `The post contains the control character ${describeCharacter(bad)}; only newline is allowed.`);
  }
  const { route, body } = classifyPost(normalised);
  if (body.length === 0) {
    return route === 'plain'
      ? refuse('text.empty', 'The post is empty; write at least one character.')
      : refuse('text.empty', `The post has nothing before "${rules.proofSuffixes[route]}"; write the text to prove.`);
  }
  const count = countCharacters(body);
  if (count > rules.textMaxCharacters) {
    return refuse('text.tooLong', `The post is ${count} characters long; at most ${rules.textMaxCharacters} are allowed.`);
  }
  return { ok: true, text: normalised, proof: route !== 'plain', route, body };
}

function refuse(code, message) {
  return { ok: false, code, message };
}
