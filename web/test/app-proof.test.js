import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { CHALLENGE_PREFIX, canonicalPost, challengeFor, leadingZeroBits, verifyProof } from '../proof.js';
import { sha256, solve } from './support/proofs.js';

describe('the challenge', () => {
  it('prefixes every field with its UTF-8 byte length', () => {
    assert.equal(canonicalPost({ id: '01JF', from: 'alice', text: 'héllo: 👋' }), '4:01JF:5:alice:12:héllo: 👋');
    assert.equal(canonicalPost({ id: '', from: '', text: '' }), '0::0::0:');
    // the vector in the Swift ProofOfWork tests
    assert.equal(canonicalPost({ id: 'm-1', from: 'zoë', text: 'a:b !pow' }), '3:m-1:4:zoë:8:a:b !pow');
  });

  it('is the v1 prefix and the hex SHA-256 of the canonical post', async () => {
    const post = { id: 'e1', from: 'bob', text: 'a:b' };
    assert.equal(await challengeFor(post), `warren-pow:v1:${sha256('2:e1:3:bob:3:a:b')}`);
    assert.equal((await challengeFor(post)).length, 78);
  });

  it('cannot confuse fields that contain colons', async () => {
    const a = await challengeFor({ id: 'x', from: 'a', text: 'b:c' });
    const b = await challengeFor({ id: 'x', from: 'a:b', text: 'c' });
    assert.notEqual(a, b);
  });
});

describe('leadingZeroBits', () => {
  it('counts bits, not hex digits', () => {
    assert.equal(leadingZeroBits('ff'), 0);
    assert.equal(leadingZeroBits('7f'), 1);
    assert.equal(leadingZeroBits('1f'), 3);
    assert.equal(leadingZeroBits('0f'), 4);
    assert.equal(leadingZeroBits('008f'), 8);
    assert.equal(leadingZeroBits('0001'), 15);
    assert.equal(leadingZeroBits('0'.repeat(64)), 256);
  });
});

describe('verifyProof', () => {
  const post = { id: '01JFQ7Z8K2M3N4P5Q6R7S8T9V0', kind: 'proof', from: 'alice', text: 'héllo wörld 👋', at: '2026-11-23T11:20:00.123Z', clientId: 'c-1' };
  let event;

  before(() => {
    event = { ...post, proof: solve(post, 8) };
  });

  it('accepts a proof found by brute force at 8 bits', async () => {
    assert.ok(leadingZeroBits(event.proof.hash) >= 8);
    assert.deepEqual(await verifyProof(event, { minBits: 8 }), { status: 'verified' });
  });

  it('accepts a nonce sent as a JSON number', async () => {
    const numeric = { ...event, proof: { ...event.proof, nonce: Number(event.proof.nonce) } };
    assert.equal((await verifyProof(numeric, { minBits: 8 })).status, 'verified');
  });

  it('accepts an uppercase hash', async () => {
    const upper = { ...event, proof: { ...event.proof, hash: event.proof.hash.toUpperCase() } };
    assert.equal((await verifyProof(upper, { minBits: 8 })).status, 'verified');
  });

  it('refuses a proof for another text, author or id', async () => {
    for (const change of [{ text: `${post.text}!` }, { from: 'mallory' }, { id: 'other' }]) {
      const result = await verifyProof({ ...event, ...change }, { minBits: 8 });
      assert.equal(result.status, 'invalid', JSON.stringify(change));
      assert.match(result.reason, /challenge does not match/);
    }
  });

  it('refuses another nonce', async () => {
    const nonce = String(Number(event.proof.nonce) + 1);
    const result = await verifyProof({ ...event, proof: { ...event.proof, nonce } }, { minBits: 8 });
    assert.equal(result.status, 'invalid');
    assert.match(result.reason, /not the stated hash/);
  });

  it('refuses a hash that is not SHA-256 of challenge and nonce', async () => {
    const hash = `00${'1'.repeat(62)}`;
    assert.equal((await verifyProof({ ...event, proof: { ...event.proof, hash } }, { minBits: 8 })).status, 'invalid');
  });

  it('refuses more bits than the hash has, and fewer than the room asks for', async () => {
    const zeros = leadingZeroBits(event.proof.hash);
    const overstated = await verifyProof({ ...event, proof: { ...event.proof, bits: zeros + 1 } }, { minBits: 8 });
    assert.equal(overstated.status, 'invalid');
    assert.match(overstated.reason, new RegExp(`has ${zeros} leading zero bits, not ${zeros + 1}`));
    const weak = await verifyProof(event, { minBits: 24 });
    assert.deepEqual(weak, { status: 'invalid', reason: 'the proof has 8 bits; this room asks for 24' });
  });

  it('refuses malformed proofs without hashing', async () => {
    const cases = [
      [{ ...event, proof: undefined }, /no proof/],
      [{ ...event, proof: { ...event.proof, bits: '8' } }, /bits/],
      [{ ...event, proof: { ...event.proof, nonce: '-1' } }, /nonce/],
      [{ ...event, proof: { ...event.proof, nonce: 1.5 } }, /nonce/],
      [{ ...event, proof: { ...event.proof, nonce: '0x1f' } }, /nonce/],
      [{ ...event, proof: { ...event.proof, hash: 'zz' } }, /64 hex/],
      [{ ...event, proof: { ...event.proof, challenge: undefined } }, /challenge/],
    ];
    for (const [bad, reason] of cases) {
      const result = await verifyProof(bad, { minBits: 8 });
      assert.equal(result.status, 'invalid');
      assert.match(result.reason, reason);
    }
  });

  it('says so when WebCrypto is missing (a page on plain http to another host)', async () => {
    assert.equal((await verifyProof(event, { minBits: 8, subtle: null })).status, 'unavailable');
  });
});
