import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Auth, AuthError, checkCredentials } from '../auth.js';
import { FakeClock, flush } from './support/fakes.js';

/** A fake /api: answers from `routes[path]`, a function of the request returning [status, body]. */
function fakeServer(routes) {
  const calls = [];
  const fetch = async (path, init) => {
    calls.push({ path, init, body: JSON.parse(init.body) });
    const route = routes[path];
    if (!route) throw new TypeError('Failed to fetch');
    const [status, body, headers = {}] = route(calls.at(-1));
    return {
      ok: status >= 200 && status < 300,
      status,
      headers: { get: (name) => headers[name.toLowerCase()] ?? null },
      json: async () => (body === undefined ? Promise.reject(new SyntaxError('no body')) : body),
    };
  };
  return { fetch, calls };
}

const pair = (name, token, expiresIn = 900) => [200, { name, accessToken: token, expiresIn, expiresAt: 0, tokenType: 'Bearer', refreshExpiresAt: 0 }];
const ended = () => [401, { error: 'invalid_token', message: 'The refresh token is invalid or expired; sign in again.' }];

describe('checkCredentials', () => {
  it('takes a valid name and a password of 8 or more characters', () => {
    assert.deepEqual(checkCredentials('alice', 'correct horse'), { ok: true, name: 'alice' });
    assert.deepEqual(checkCredentials('a.b-c_9', '12345678'), { ok: true, name: 'a.b-c_9' });
  });

  it('names what is wrong, as the server would', () => {
    assert.deepEqual(checkCredentials('', 'correct horse').field, 'name');
    assert.match(checkCredentials('al ice', 'correct horse').message, /U\+0020/);
    assert.deepEqual(checkCredentials('alice', '1234567'), {
      ok: false, field: 'password', message: 'The password is 7 characters long; use at least 8.',
    });
    assert.equal(checkCredentials('alice', 'ü'.repeat(7)).ok, false, 'characters, not bytes, count toward the minimum');
    assert.equal(checkCredentials('alice', 'ü'.repeat(8)).ok, true);
    assert.match(checkCredentials('alice', 'x'.repeat(1025)).message, /at most 1024 bytes/);
    assert.match(checkCredentials('alice', 'tab\there!').message, /control character/);
  });
});

describe('Auth', () => {
  it('signs in with JSON, keeps the token in memory and gives it out while it is fresh', async () => {
    const clock = new FakeClock();
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1') });
    const auth = new Auth({ fetch: server.fetch, clock, locks: null, storage: null });
    assert.equal(await auth.login('alice', 'correct horse'), 'alice');
    assert.equal(auth.name, 'alice');
    assert.equal(await auth.freshToken(), 'T1');
    const call = server.calls[0];
    assert.equal(call.init.method, 'POST');
    assert.equal(call.init.credentials, 'same-origin');
    assert.equal(call.init.headers['content-type'], 'application/json');
    assert.deepEqual(call.body, { name: 'alice', password: 'correct horse' });
    assert.equal(server.calls.length, 1, 'a fresh token needs no refresh');
  });

  it('reports the server\'s error: a wrong password, a taken name, throttling', async () => {
    const server = fakeServer({
      '/api/login': () => [401, { error: 'invalid_credentials', message: 'The name or the password is wrong.' }],
      '/api/register': () => [409, { error: 'name_taken', message: 'The name "bob" is taken; choose another.' }],
    });
    const auth = new Auth({ fetch: server.fetch, clock: new FakeClock(), locks: null, storage: null });
    await assert.rejects(auth.login('alice', 'wrong password'), { code: 'invalid_credentials', message: 'The name or the password is wrong.', status: 401 });
    await assert.rejects(auth.register('bob', 'correct horse'), { code: 'name_taken', status: 409 });
    assert.equal(auth.signedIn, false);

    const throttled = fakeServer({ '/api/login': () => [429, { error: 'too_many_attempts', message: 'Too many failed sign-ins; try again in 42 seconds.' }, { 'retry-after': '42' }] });
    const again = new Auth({ fetch: throttled.fetch, clock: new FakeClock(), locks: null, storage: null });
    await assert.rejects(again.login('alice', 'wrong password'), { code: 'too_many_attempts', retryAfter: 42 });
    const down = new Auth({ fetch: fakeServer({}).fetch, clock: new FakeClock(), locks: null, storage: null });
    await assert.rejects(down.login('alice', 'correct horse'), { code: 'network', message: 'Could not reach the server: Failed to fetch.' });
    const proxy = new Auth({ fetch: fakeServer({ '/api/login': () => [502, undefined] }).fetch, clock: new FakeClock(), locks: null, storage: null });
    await assert.rejects(proxy.login('alice', 'correct horse'), { code: 'http', message: 'The server answered 502.' });
  });

  it('refreshes a minute before the access token expires, then gives out the new one', async () => {
    const clock = new FakeClock();
    let n = 1;
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1'), '/api/refresh': () => pair('alice', `T${++n}`) });
    const auth = new Auth({ fetch: server.fetch, clock, locks: null, storage: null });
    await auth.login('alice', 'correct horse');
    clock.advance(839_000);
    await flush();
    assert.equal(server.calls.length, 1, 'no refresh before 14 minutes');
    clock.advance(1_000);
    await flush();
    assert.deepEqual(server.calls.map((c) => c.path), ['/api/login', '/api/refresh']);
    assert.deepEqual(server.calls[1].body, {}, 'the refresh token travels only in the cookie');
    assert.equal(await auth.freshToken(), 'T2');
    clock.advance(840_000);
    await flush();
    assert.equal(await auth.freshToken(), 'T3', 'and again for the next token');
  });

  it('refreshes before handing out a token that is about to expire (a reconnect)', async () => {
    const clock = new FakeClock();
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1', 90), '/api/refresh': () => pair('alice', 'T2') });
    const auth = new Auth({ fetch: server.fetch, clock, locks: null, storage: null });
    await auth.login('alice', 'correct horse');
    clock.now = () => clock._now + 40_000; // 50 s left, timers not yet run
    assert.equal(await auth.freshToken(), 'T2');
    assert.equal(server.calls.filter((c) => c.path === '/api/refresh').length, 1);
  });

  it('shares one refresh between callers, through the cross-tab lock', async () => {
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const locked = [];
    const locks = { request: async (name, fn) => { locked.push(name); await gate; return fn(); } };
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1'), '/api/refresh': () => pair('alice', 'T2') });
    const auth = new Auth({ fetch: server.fetch, clock: new FakeClock(), locks, storage: null });
    await auth.login('alice', 'correct horse');
    const a = auth.refresh();
    const b = auth.refresh();
    assert.equal(a, b);
    release();
    await a;
    assert.deepEqual(locked, ['warren.refresh']);
    assert.equal(server.calls.filter((c) => c.path === '/api/refresh').length, 1);
    assert.equal(await auth.freshToken(), 'T2');
  });

  it('ends the sign-in when the server refuses the refresh token, and says why', async () => {
    const clock = new FakeClock();
    const messages = [];
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1'), '/api/refresh': ended });
    const auth = new Auth({ fetch: server.fetch, clock, locks: null, storage: null, onEnded: (m) => messages.push(m) });
    await auth.login('alice', 'correct horse');
    clock.advance(840_000);
    await flush();
    assert.equal(auth.signedIn, false);
    assert.deepEqual(messages, ['Your session has ended: The refresh token is invalid or expired; sign in again.']);
    await assert.rejects(auth.freshToken(), { code: 'signed_out' });
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('keeps the sign-in and retries when the server cannot be reached', async () => {
    const clock = new FakeClock();
    let up = false;
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1'), '/api/refresh': () => (up ? pair('alice', 'T2') : [503, { error: 'unavailable', message: 'down' }]) });
    const ended = [];
    const auth = new Auth({ fetch: server.fetch, clock, locks: null, storage: null, onEnded: (m) => ended.push(m) });
    await auth.login('alice', 'correct horse');
    clock.advance(840_000);
    await flush();
    assert.equal(auth.signedIn, true);
    assert.deepEqual(ended, []);
    up = true;
    clock.advance(15_000);
    await flush();
    assert.equal(await auth.freshToken(), 'T2');
  });

  it('resumes after a reload from the cookie, or finds nothing to resume', async () => {
    const good = fakeServer({ '/api/refresh': () => pair('bob', 'T9') });
    const auth = new Auth({ fetch: good.fetch, clock: new FakeClock(), locks: null, storage: null });
    assert.equal(await auth.resume(), 'bob');
    assert.equal(await auth.freshToken(), 'T9');

    const messages = [];
    const none = new Auth({ fetch: fakeServer({ '/api/refresh': ended }).fetch, clock: new FakeClock(), locks: null, storage: null, onEnded: (m) => messages.push(m) });
    assert.equal(await none.resume(), null);
    assert.deepEqual(messages, [], 'no cookie is not an ended session');

    const down = new Auth({ fetch: fakeServer({}).fetch, clock: new FakeClock(), locks: null, storage: null });
    await assert.rejects(down.resume(), AuthError);
  });

  it('signs out with the access token as bearer and forgets it, even when the server is down', async () => {
    const clock = new FakeClock();
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1'), '/api/logout': () => [204, undefined] });
    const auth = new Auth({ fetch: server.fetch, clock, locks: null, storage: null });
    await auth.login('alice', 'correct horse');
    await auth.logout();
    const call = server.calls.at(-1);
    assert.equal(call.path, '/api/logout');
    assert.equal(call.init.headers.authorization, 'Bearer T1');
    assert.equal(auth.signedIn, false);
    assert.equal(clock.pending, 0);

    const warn = console.warn;
    console.warn = () => {};
    try {
      const offline = new Auth({ fetch: fakeServer({ '/api/login': () => pair('alice', 'T1') }).fetch, clock: new FakeClock(), locks: null, storage: null });
      await offline.login('alice', 'correct horse');
      await offline.logout();
      assert.equal(offline.signedIn, false);
    } finally {
      console.warn = warn;
    }
  });

  it('ignores a refresh that finishes after sign-out', async () => {
    let answer;
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1'), '/api/logout': () => [204, undefined] });
    const fetch = (path, init) => (path === '/api/refresh' ? new Promise((resolve) => (answer = resolve)).then(() => server.fetch('/api/login', init)) : server.fetch(path, init));
    const auth = new Auth({ fetch, clock: new FakeClock(), locks: null, storage: null });
    await auth.login('alice', 'correct horse');
    const late = auth.refresh();
    await auth.logout();
    answer();
    await late;
    assert.equal(auth.signedIn, false);
  });

  it('asks /api/refresh on a load only when this browser signed in before', async () => {
    const storage = new Map();
    const store = { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, String(v)), removeItem: (k) => storage.delete(k) };
    const server = fakeServer({ '/api/login': () => pair('alice', 'T1'), '/api/refresh': () => pair('alice', 'T2'), '/api/logout': () => [204, undefined] });
    const fresh = new Auth({ fetch: server.fetch, clock: new FakeClock(), locks: null, storage: store });
    assert.equal(await fresh.resume(), null);
    assert.equal(server.calls.length, 0, 'no sign-in in this browser: nothing asked');
    await fresh.login('alice', 'correct horse');
    assert.equal(storage.get('warren.signedIn'), 'alice');
    assert.doesNotMatch(JSON.stringify([...storage]), /T1/, 'no token in storage');
    const reloaded = new Auth({ fetch: server.fetch, clock: new FakeClock(), locks: null, storage: store });
    assert.equal(await reloaded.resume(), 'alice');
    await reloaded.logout();
    assert.equal(storage.has('warren.signedIn'), false);
  });

  it('refuses an answer of the wrong shape', async () => {
    const auth = new Auth({ fetch: fakeServer({ '/api/login': () => [200, { name: 'alice' }] }).fetch, clock: new FakeClock(), locks: null, storage: null });
    await assert.rejects(auth.login('alice', 'correct horse'), { code: 'malformed' });
    assert.equal(auth.signedIn, false);
  });
});
