// Checks a post's proof of work with WebCrypto, by the server's rules (ProofOfWork, version 1):
//   challenge = "warren-pow:v1:" + hex(SHA-256(canonical))
//   canonical = field(id) ":" field(from) ":" field(text), field(s) = byteLength(UTF-8(s)) ":" s
//   hash      = SHA-256(UTF-8(challenge + nonce)), valid with at least `bits` leading zero bits.

export const CHALLENGE_PREFIX = 'warren-pow:v1:';

const encoder = new TextEncoder();

/** @param {string} s @returns {Uint8Array} */
export function utf8(s) {
  return encoder.encode(s);
}

/** @param {ArrayBuffer | Uint8Array} bytes @returns {string} lowercase hex */
export function toHex(bytes) {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The canonical, length-prefixed text of a post that the challenge hashes.
 * @param {{id: string, from: string, text: string}} post
 * @returns {string}
 */
export function canonicalPost({ id, from, text }) {
  const field = (s) => `${utf8(s).length}:${s}`;
  return `${field(id)}:${field(from)}:${field(text)}`;
}

/**
 * SHA-256 of a string's UTF-8, as lowercase hex.
 * @param {string} s
 * @param {SubtleCrypto} [subtle]
 * @returns {Promise<string>}
 */
export async function sha256Hex(s, subtle = globalThis.crypto?.subtle) {
  return toHex(await subtle.digest('SHA-256', utf8(s)));
}

/**
 * The challenge a post's proof must be bound to.
 * @param {{id: string, from: string, text: string}} post
 * @param {SubtleCrypto} [subtle]
 * @returns {Promise<string>}
 */
export async function challengeFor(post, subtle = globalThis.crypto?.subtle) {
  return CHALLENGE_PREFIX + (await sha256Hex(canonicalPost(post), subtle));
}

/**
 * Leading zero bits of a hex digest.
 * @param {string} hex
 * @returns {number}
 */
export function leadingZeroBits(hex) {
  let bits = 0;
  for (const digit of hex) {
    const value = parseInt(digit, 16);
    if (value === 0) {
      bits += 4;
      continue;
    }
    return bits + Math.clz32(value) - 28;
  }
  return bits;
}

/**
 * Checks an event's proof: its challenge is the one for this id, author and text, SHA-256 of
 * challenge + nonce is the stated hash, the hash has the stated bits, and the bits are at least
 * what this deployment asks for.
 * @param {{id: string, from: string, text: string, proof?: object}} event
 * @param {{minBits?: number, subtle?: SubtleCrypto}} [options]
 * @returns {Promise<{status: 'verified' | 'invalid' | 'unavailable', reason?: string}>}
 */
export async function verifyProof(event, { minBits = 1, subtle = globalThis.crypto?.subtle } = {}) {
  const proof = event?.proof;
  if (!proof || typeof proof !== 'object') return invalid('the event carries no proof');
  const { bits, challenge, hash } = proof;
  const nonce = Number.isSafeInteger(proof.nonce) && proof.nonce >= 0 ? String(proof.nonce) : proof.nonce; // the server also reads numbers
  if (!Number.isInteger(bits) || bits < 1 || bits > 256) return invalid('the proof states no valid number of bits');
  if (bits < minBits) return invalid(`the proof has ${bits} bits; this room asks for ${minBits}`);
  if (typeof nonce !== 'string' || !/^[0-9]{1,20}$/.test(nonce)) return invalid('the nonce is not a decimal number');
  if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) return invalid('the hash is not 64 hex digits');
  if (typeof challenge !== 'string') return invalid('the proof carries no challenge');
  if (!subtle) return { status: 'unavailable', reason: 'this page cannot use WebCrypto (it needs https or localhost)' };
  const expected = await challengeFor(event, subtle);
  if (challenge !== expected) return invalid('the challenge does not match this post (id, author or text changed)');
  const computed = await sha256Hex(challenge + nonce, subtle);
  if (computed !== hash.toLowerCase()) return invalid('SHA-256 of challenge and nonce is not the stated hash');
  const zeros = leadingZeroBits(computed);
  if (zeros < bits) return invalid(`the hash has ${zeros} leading zero bits, not ${bits}`);
  return { status: 'verified' };
}

function invalid(reason) {
  return { status: 'invalid', reason };
}
