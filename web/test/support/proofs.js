// Proofs of work made for tests, with node's own SHA-256 (not WebCrypto), so the page's checker
// is measured against an independent implementation.
import { createHash } from 'node:crypto';

import { CHALLENGE_PREFIX, canonicalPost, leadingZeroBits } from '../../proof.js';

export const sha256 = (s) => createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex');

/** A proof for `post` ({id, from, text}) with at least `bits` leading zero bits. */
export function solve(post, bits, via = 'queue') {
  const challenge = CHALLENGE_PREFIX + sha256(canonicalPost(post));
  for (let nonce = 0; ; nonce += 1) {
    const hash = sha256(challenge + nonce);
    if (leadingZeroBits(hash) >= bits) {
      return { bits, challenge, nonce: String(nonce), hash, elapsedMs: 3, hashesPerSecond: 123456, via };
    }
  }
}

/** A proof event (as the pow-worker publishes it) carrying a valid proof. */
export function provenEvent(id, text, bits = 4) {
  const event = { id, kind: 'proof', from: 'alice', text, at: '2026-11-23T11:20:00.123Z' };
  return { ...event, proof: solve(event, bits) };
}
