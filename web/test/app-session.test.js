import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  SESSION_ID_PATTERN,
  base64url,
  clearSession,
  loadSession,
  loadStreamPosition,
  loadUnsent,
  newClientId,
  newSessionId,
  parseLoginReply,
  saveSession,
  saveStreamPosition,
  saveUnsent,
} from '../session.js';
import { MemoryStorage } from './support/fake-chat.js';

describe('session ids', () => {
  it('are 22 base64url characters made from 16 random bytes', () => {
    let asked = 0;
    const fake = {
      getRandomValues(array) {
        asked = array.length;
        array.fill(0xff);
        return array;
      },
    };
    assert.equal(newSessionId(fake), '_____________________w');
    assert.equal(asked, 16);
    assert.equal(base64url(new Uint8Array([0xfb, 0xff, 0xbf])), '-_-_');
  });

  it('differ every time and use the whole alphabet (about 128 bits each)', () => {
    const ids = Array.from({ length: 2000 }, () => newSessionId());
    assert.equal(new Set(ids).size, ids.length);
    const counts = new Map();
    for (const id of ids) {
      assert.match(id, /^[A-Za-z0-9_-]{22}$/);
      assert.match(id, SESSION_ID_PATTERN);
      for (const c of id.slice(0, 21)) counts.set(c, (counts.get(c) ?? 0) + 1);
      assert.match(id[21], /^[AQgw]$/); // the last character carries the 2 remaining bits
    }
    assert.equal(counts.size, 64);
    // 42,000 characters over 64 symbols: about 656 each; a fair source stays far inside these bounds.
    for (const [c, n] of counts) assert.ok(n > 450 && n < 880, `${c}: ${n}`);
    // Shannon entropy per character close to 6 bits: 21 * 6 + 2 = 128 bits per id.
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const entropy = -[...counts.values()].reduce((h, n) => h + (n / total) * Math.log2(n / total), 0);
    assert.ok(entropy > 5.95, `entropy ${entropy}`);
  });
});

describe('client ids', () => {
  it('are random UUIDs', () => {
    const a = newClientId();
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, newClientId());
  });

  it('are built from getRandomValues where randomUUID is missing (no secure context)', () => {
    const id = newClientId({ getRandomValues: (array) => array.fill(0xff) });
    assert.equal(id, 'ffffffff-ffff-4fff-bfff-ffffffffffff');
    const other = newClientId({ getRandomValues: (array) => globalThis.crypto.getRandomValues(array) });
    assert.match(other, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('the saved session', () => {
  it('round-trips through storage and is forgotten on logout', () => {
    const storage = new MemoryStorage();
    assert.equal(loadSession(storage), null);
    const session = newSessionId();
    saveSession(storage, { login: 'alice', session });
    assert.deepEqual(loadSession(storage), { login: 'alice', session });
    clearSession(storage);
    assert.equal(loadSession(storage), null);
  });

  it('ignores damaged entries', () => {
    const storage = new MemoryStorage();
    for (const bad of ['{', '"x"', '{"login":"a","session":"short"}', '{"login":1,"session":"AAAAAAAAAAAAAAAAAAAAAA"}']) {
      storage.setItem('warren.session', bad);
      assert.equal(loadSession(storage), null, bad);
    }
  });

  it('survives storage that throws', () => {
    const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('full'); }, removeItem() { throw new Error('denied'); } };
    assert.equal(loadSession(broken), null);
    saveSession(broken, { login: 'a', session: 'b' });
    clearSession(broken);
  });
});

describe('parseLoginReply', () => {
  it('reads a success', () => {
    const body = JSON.stringify({ ok: true, queue: 'chat.user.alice.S', login: 'alice', session: 'S' });
    assert.deepEqual(parseLoginReply(body), { ok: true, queue: 'chat.user.alice.S', login: 'alice', session: 'S' });
  });

  it('reads a refusal with its message', () => {
    const body = JSON.stringify({ ok: false, error: 'The login name is 40 characters long; at most 32 are allowed.', code: 'login.tooLong' });
    assert.deepEqual(parseLoginReply(body), { ok: false, code: 'login.tooLong', message: 'The login name is 40 characters long; at most 32 are allowed.' });
  });

  it('turns nonsense into a refusal', () => {
    assert.equal(parseLoginReply('nope').code, 'reply.malformed');
    assert.equal(parseLoginReply('{"ok":true}').code, 'reply.malformed');
    assert.equal(parseLoginReply('{"ok":false}').message, 'The login service refused the login.');
  });
});

describe('unsent posts kept across a reload', () => {
  const posts = [
    { clientId: 'c1', text: 'one', proof: false },
    { clientId: 'c2', text: 'two !pow', proof: true },
  ];

  it('round-trip for the same session only, and go with logout', () => {
    const storage = new MemoryStorage();
    assert.deepEqual(loadUnsent(storage, 'S1'), []);
    saveUnsent(storage, 'S1', posts);
    assert.deepEqual(loadUnsent(storage, 'S1'), posts);
    assert.deepEqual(loadUnsent(storage, 'S2'), []);
    clearSession(storage);
    assert.deepEqual(loadUnsent(storage, 'S1'), []);
  });

  it('an empty list removes the entry; damaged or odd entries are skipped; the count is bounded', () => {
    const storage = new MemoryStorage();
    saveUnsent(storage, 'S1', posts);
    assert.equal(saveUnsent(storage, 'S1', []), '');
    assert.equal(storage.getItem('warren.unsent'), null);
    storage.setItem('warren.unsent', '{not json');
    assert.deepEqual(loadUnsent(storage, 'S1'), []);
    storage.setItem('warren.unsent', JSON.stringify({ session: 'S1', posts: [{ clientId: '', text: 'x' }, { clientId: 'c3' }, 7, { clientId: 'c4', text: 'ok', proof: 'yes' }] }));
    assert.deepEqual(loadUnsent(storage, 'S1'), [{ clientId: 'c4', text: 'ok', proof: false }]);
    saveUnsent(storage, 'S1', Array.from({ length: 5 }, (_, i) => ({ clientId: `c${i}`, text: 't', proof: false })));
    assert.equal(loadUnsent(storage, 'S1', 3).length, 3);
  });
});

describe('the position in general\'s stream kept across a reload', () => {
  const none = { offset: null, since: null };

  it('round-trips for the same session only, offsets past 2^53 included, and goes with logout', () => {
    const storage = new MemoryStorage();
    assert.deepEqual(loadStreamPosition(storage, 'S1'), none);
    saveStreamPosition(storage, 'S1', { offset: 9007199254740993n, since: 1_800_000_000 });
    assert.deepEqual(loadStreamPosition(storage, 'S1'), { offset: 9007199254740993n, since: 1_800_000_000 });
    assert.deepEqual(loadStreamPosition(storage, 'S2'), none);
    saveStreamPosition(storage, 'S1', { offset: null, since: 1_800_000_000 });
    assert.deepEqual(loadStreamPosition(storage, 'S1'), { offset: null, since: 1_800_000_000 });
    clearSession(storage);
    assert.deepEqual(loadStreamPosition(storage, 'S1'), none);
  });

  it('ignores damaged entries and storage that throws', () => {
    const storage = new MemoryStorage();
    for (const bad of ['{', 'null', '{"session":"S1","offset":"-1","since":"soon"}', '{"session":"S1","offset":12,"since":0}']) {
      storage.setItem('warren.stream', bad);
      assert.deepEqual(loadStreamPosition(storage, 'S1'), none, bad);
    }
    const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('full'); } };
    assert.deepEqual(loadStreamPosition(broken, 'S1'), none);
    saveStreamPosition(broken, 'S1', { offset: 1n, since: 1 });
  });
});
