// Checks on what the page sends, with the same rules and sentences as the server
// (WarrenCore Validation), so a person learns what is wrong before anything goes out.

/** The limits the server enforces. */
export const Limits = Object.freeze({
  loginMaxLength: 32,
  textMaxCharacters: 2000,
});

/** A post ending in one of these is held back until its proof of work is done. */
const PROOF_SUFFIX = /!(pow|rpc)$/;

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
  if (chars.length === 0) {
    return refuse('login.empty', `The login name is empty; choose 1 to ${Limits.loginMaxLength} characters.`);
  }
  const bad = chars.find((c) => !/^[A-Za-z0-9_.-]$/.test(c));
  if (bad !== undefined) {
    return refuse(
      'login.invalidCharacter',
      `The login name contains ${describeCharacter(bad)}; only letters A-Z and a-z, digits, '_', '.' and '-' are allowed.`,
    );
  }
  if (chars.length > Limits.loginMaxLength) {
    return refuse(
      'login.tooLong',
      `The login name is ${chars.length} characters long; at most ${Limits.loginMaxLength} are allowed.`,
    );
  }
  return { ok: true, login };
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
 * True when the post asks for a proof of work (`!pow` or `!rpc` at its end).
 * @param {string} text the normalised text
 * @returns {boolean}
 */
export function wantsProof(text) {
  return PROOF_SUFFIX.test(text);
}

/**
 * Checks a post: 1 to 2,000 characters after normalising, no control character but newline
 * (tab, the other C0 controls, DEL and C1 are refused). A `!pow` / `!rpc` post needs text
 * besides its suffix.
 * @param {string} text as typed
 * @returns {{ok: true, text: string, proof: boolean} | {ok: false, code: string, message: string}}
 */
export function validatePost(text) {
  const normalised = normalisePost(text);
  const bad = [...normalised].find((c) => c !== '\n' && /^[\u0000-\u001f\u007f-\u009f]$/.test(c));
  if (bad !== undefined) {
    return refuse('text.controlCharacter', `The post contains the control character ${describeCharacter(bad)}; only newline is allowed.`);
  }
  const proof = wantsProof(normalised);
  const body = proof ? normalisePost(normalised.replace(PROOF_SUFFIX, '')) : normalised;
  if (body.length === 0) {
    return refuse('text.empty', 'The post is empty; write at least one character.');
  }
  const count = countCharacters(normalised);
  if (count > Limits.textMaxCharacters) {
    return refuse('text.tooLong', `The post is ${count} characters long; at most ${Limits.textMaxCharacters} are allowed.`);
  }
  return { ok: true, text: normalised, proof };
}

function refuse(code, message) {
  return { ok: false, code, message };
}
