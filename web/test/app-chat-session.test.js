// ChatSession, the owner of the page's state, driven with a fake STOMP client, Auth and storage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ChatSession, PREFETCH, RELOGIN_PAUSE_MS } from '../chat-session.js';
import { OUTBOX_LIMIT } from '../outbox.js';
import { PageState } from '../page-state.js';
import { verifyProof } from '../proof.js';
import { loadSession, saveSession, saveUnsent } from '../session.js';
import { FakeClock, flush } from './support/fakes.js';
import { FakeAuth, FakeStompClient, MemoryStorage } from './support/fake-chat.js';
import { provenEvent } from './support/proofs.js';
import { rules } from '../validate.js';

const CONFIG = Object.freeze({ stompURL: 'ws://broker/ws', vhost: 'warren', prefix: 'chat', powBits: 4 });
const SAVED = 'SavedSessionIdOfThisTab'; // 23 characters of base64url
const id = (n) => `01JF${String(n).padStart(22, '0')}`;
const event = (n, fields) => ({ id: id(n), kind: 'message', from: 'bob', text: `t${n}`, at: '2026-11-23T11:20:00.123Z', ...fields });
const quiet = { warn: () => {} };

function setup({ config = CONFIG, resumes = null, storage = new MemoryStorage(), fetch } = {}) {
  const page = new PageState();
  const auth = new FakeAuth({ resumes });
  const clock = new FakeClock();
  const clients = [];
  let sessions = 0;
  let posts = 0;
  const session = new ChatSession({
    page,
    auth,
    storage,
    loadConfig: async () => {
      if (config instanceof Error) throw config;
      return config;
    },
    createClient: (cfg, hooks) => {
      const client = new FakeStompClient();
      client.config = cfg;
      client.hooks = hooks;
      clients.push(client);
      return client;
    },
    verifyProof,
    newSessionId: () => `FreshSessionNumber${String(++sessions).padStart(4, '0')}`,
    newClientId: () => `post-${++posts}`,
    clock,
    log: quiet,
    fetch,
  });
  const changes = [];
  session.onRoomChange((change) => changes.push(change));
  const client = () => clients.at(-1);
  return { page, auth, clock, storage, session, client, changes };
}

/** Lets the fake broker accept the connection, then answers the login request. */
async function admit(t, reply = {}) {
  await flush();
  if (!t.client().connected) t.client().connect();
  await flush();
  const request = t.client().requests[0];
  t.client().reply({ ok: true, queue: `chat.user.${request.body.login}.${request.body.session}`, login: request.body.login, session: request.body.session, ...reply });
  await flush();
  return request;
}

async function signedIn(name = 'alice', options) {
  const t = setup(options);
  await t.session.start();
  assert.equal(await t.session.authenticate({ name, password: 'a good password' }), name);
  const entering = t.session.enterAs(name);
  const request = await admit(t);
  assert.equal(await entering, true);
  return { ...t, request };
}

describe('ChatSession: start and sign-in', () => {
  it('shows why it cannot start when /config.json does not load', async () => {
    const t = setup({ config: new Error('Could not load /config.json: the server answered 502.') });
    await t.session.start();
    assert.equal(t.page.view, 'fatal');
    assert.match(t.page.fatalText, /^Could not load \/config.json: the server answered 502\. The page needs the warren web server/);
    assert.deepEqual(t.page.status, { kind: 'disconnected', text: 'Not connected' });
  });

  it('shows the sign-in form, saying the session ended when this tab had one', async () => {
    const storage = new MemoryStorage();
    saveSession(storage, { login: 'alice', session: SAVED });
    const t = setup({ storage });
    await t.session.start();
    assert.equal(t.page.view, 'login');
    assert.equal(t.page.notice, 'Your session has ended; please sign in again.');
    assert.deepEqual(t.page.takeEffects(), [{ loginName: 'alice' }, { focus: 'login-name' }]);
    assert.equal(t.client().active, false, 'nobody signed in: no connection');
  });

  it('refuses a bad name or password before asking the server, naming the field', async () => {
    const t = setup();
    await t.session.start();
    t.page.takeEffects();
    assert.equal(await t.session.authenticate({ name: 'al ice', password: 'a good password' }), null);
    assert.equal(t.page.invalidField, 'name');
    assert.deepEqual(t.page.takeEffects(), [{ focus: 'login-name' }]);
    assert.equal(await t.session.authenticate({ name: 'alice', password: 'short' }), null);
    assert.equal(t.page.invalidField, 'password');
    assert.match(t.page.loginError, /use at least 8/);
    assert.equal(await t.session.authenticate({ name: 'alice', password: 'wrong password' }), null);
    assert.equal(t.page.loginError, 'The name or the password is wrong.');
    assert.equal(t.page.busy, null);
    assert.deepEqual(t.auth.calls, ['resume', 'login alice']);
  });

  it('logs in with a fresh session id as resume: false, once connected, and shows the room', async () => {
    const t = setup();
    await t.session.start();
    await t.session.authenticate({ name: 'alice', password: 'a good password' });
    const entering = t.session.enterAs('alice');
    await flush();
    assert.equal(t.page.busy, 'Joining…');
    assert.equal(t.client().active, true);
    assert.equal(t.client().requests.length, 0, 'the login request waits for the connection');
    const request = await admit(t);
    assert.equal(await entering, true);
    assert.equal(request.destination, '/exchange/chat.in/chat.login');
    assert.equal(JSON.stringify(request.body), '{"action":"login","login":"alice","session":"FreshSessionNumber0001","resume":false}');
    assert.equal(request.headers['user-id'], 'alice');
    assert.deepEqual(t.session.identity, { login: 'alice', session: 'FreshSessionNumber0001' });
    assert.deepEqual(loadSession(t.storage), t.session.identity);
    const sub = t.client().subscription;
    assert.equal(sub.destination, '/amq/queue/chat.user.alice.FreshSessionNumber0001');
    assert.deepEqual({ ack: sub.options.ack, prefetch: sub.options.prefetch }, { ack: 'client-individual', prefetch: PREFETCH });
    assert.equal(t.page.view, 'room');
    assert.equal(t.page.me, 'alice');
    assert.equal(t.page.busy, null);
    assert.ok(t.page.takeEffects().some((e) => e.focus === 'compose-text'));
  });

  it('logs in with the saved session id as resume: true after a reload', async () => {
    const storage = new MemoryStorage();
    saveSession(storage, { login: 'alice', session: SAVED });
    const t = setup({ storage, resumes: 'alice' });
    const starting = t.session.start();
    const request = await admit(t);
    await starting;
    assert.deepEqual(request.body, { action: 'login', login: 'alice', session: SAVED, resume: true });
    assert.equal(t.page.view, 'room');
  });

  it('uses a fresh session id when the saved one is someone else\'s', async () => {
    const storage = new MemoryStorage();
    saveSession(storage, { login: 'bob', session: SAVED });
    const t = setup({ storage, resumes: 'alice' });
    const starting = t.session.start();
    const request = await admit(t);
    await starting;
    assert.equal(request.body.resume, false);
    assert.notEqual(request.body.session, SAVED);
  });

  it('goes back to the form when the login service refuses, forgetting the session', async () => {
    const storage = new MemoryStorage();
    saveSession(storage, { login: 'alice', session: SAVED });
    const t = setup({ storage, resumes: 'alice' });
    const starting = t.session.start();
    await admit(t, { ok: false, code: 'login.notVouched', error: 'The broker did not vouch for alice.' });
    await starting;
    assert.equal(t.page.view, 'login');
    assert.equal(t.page.loginError, 'The broker did not vouch for alice.');
    assert.equal(loadSession(storage), null);
    assert.ok(t.client().log.includes('deactivate'));
    assert.equal(t.auth.signedIn, false);
  });

  it('keeps the session when the broker could not be reached, and says so', async () => {
    const storage = new MemoryStorage();
    saveSession(storage, { login: 'alice', session: SAVED });
    const t = setup({ storage, resumes: 'alice' });
    const starting = t.session.start();
    await flush();
    t.client().timeOut();
    await starting;
    assert.equal(t.page.view, 'login');
    assert.match(t.page.loginError, /^Could not connect to the chat broker at ws:\/\/broker\/ws; it may be down/);
    assert.deepEqual(loadSession(storage), { login: 'alice', session: SAVED });
  });

  it('keeps the broker\'s refusal banner when the CONNECT was refused', async () => {
    const t = setup({ resumes: 'alice' });
    const starting = t.session.start();
    await flush();
    t.client().refuse('access refused');
    await starting;
    assert.match(t.page.loginError, /^The broker refused your sign-in \(connection refused: access refused\)/);
    assert.match(t.page.banner.text, /^The broker refused the connection: connection refused: access refused\.$/);
    assert.equal(t.page.banner.action, true);
    assert.ok(!t.client().log.includes('deactivate'));
  });

  it('signs every connection in with the person\'s name and a fresh token, and none without one', async () => {
    const t = await signedIn();
    const client = t.client();
    await client.hooks.beforeConnect(client);
    assert.deepEqual([client.login, client.passcode], ['alice', 'token']);
    await t.auth.logout();
    await assert.rejects(client.hooks.beforeConnect(client), /nobody is signed in/);
    assert.ok(client.log.includes('deactivate'));
  });
});

describe('ChatSession: the room', () => {
  it('takes in a backfill bundle and single events, acknowledging each delivery once drawn', async () => {
    const t = await signedIn();
    const proof = provenEvent(id(2), 'proven');
    const bundle = t.client().deliver({ kind: 'backfill', events: [event(1), proof, event(3)] });
    const live = t.client().deliver(event(3)); // also in the backfill: shown once
    const next = t.client().deliver(event(4));
    assert.deepEqual(t.session.room.entries().map((e) => e.event.id), [id(1), id(2), id(3), id(4)]);
    assert.ok(t.changes.length > 0);
    assert.deepEqual([bundle.acks, live.acks, next.acks], [0, 0, 0]);
    t.session.drawn();
    assert.deepEqual([bundle.acks, live.acks, next.acks], [1, 1, 1]);
  });

  it('does not acknowledge on a new connection what came on the old one', async () => {
    const t = await signedIn();
    const early = t.client().deliver(event(1));
    t.client().drop();
    t.client().connect();
    const again = t.client().deliver(event(1)); // redelivered
    t.session.drawn();
    assert.equal(early.acks, 0);
    assert.equal(again.acks, 1);
  });

  it('takes no error event as a reason to log in again (the server sends no session.unknown)', async () => {
    const t = await signedIn();
    t.client().deliver({ id: id(9), kind: 'error', from: 'warren', text: 'gone', code: 'session.unknown', at: '' });
    await flush();
    assert.equal(t.client().requests.length, 0);
  });

  it('logs in again (resume: true) when the tab queue is gone, at most every 10 s', async () => {
    const t = await signedIn();
    const old = t.client().subscription;
    const undrawn = t.client().deliver(event(1));
    const taken = t.session.outbox.post('taken while the queue was gone');
    await flush();
    t.client().sends[0].resolve(); // the broker took it; the login service found no queue to answer
    old.options.onError(new Error('gave up on SUBSCRIBE'));
    await flush();
    assert.deepEqual(t.client().requests[0].body, { action: 'login', login: 'alice', session: 'FreshSessionNumber0001', resume: true });
    t.client().reply({ ok: true, queue: 'chat.user.alice.FreshSessionNumber0001', login: 'alice', session: 'FreshSessionNumber0001' });
    await flush();
    assert.deepEqual(t.client().sends.map((s) => s.body.clientId), [taken, taken], 'the unechoed post goes again once the queue is back');
    assert.equal(undrawn.acks, 1, 'acknowledged before its subscription went');
    assert.equal(old.active, false);
    assert.notEqual(t.client().subscription, old);
    old.options.onError(new Error('again'));
    await flush();
    assert.equal(t.client().requests.length, 0);
    t.clock.advance(RELOGIN_PAUSE_MS);
    old.options.onError(new Error('later'));
    await flush();
    assert.equal(t.client().requests.length, 1);
  });

  it('sends the login again once connected when the connection drops before its reply (the lost queue\'s SUBSCRIBE)', async () => {
    const t = await signedIn();
    const relogin = t.session.relogin();
    await flush();
    const [first] = t.client().requests.splice(0);
    t.client().drop();
    first.reject(Object.assign(new Error('STOMP died'), { code: 'stomp-died' }));
    await flush();
    assert.equal(t.client().requests.length, 0, 'not before the connection is back');
    t.client().connect();
    await flush();
    assert.deepEqual(t.client().requests[0].body, { action: 'login', login: 'alice', session: 'FreshSessionNumber0001', resume: true });
    t.client().reply({ ok: true, queue: 'chat.user.alice.FreshSessionNumber0001', login: 'alice', session: 'FreshSessionNumber0001' });
    await relogin;
    assert.equal(t.page.banner, null, 'no "Could not rejoin the room"');
    assert.equal(t.client().subscription.destination, '/amq/queue/chat.user.alice.FreshSessionNumber0001');
  });

  it('shows the connection in the status line and the banner', async () => {
    const t = await signedIn();
    t.client().drop();
    assert.deepEqual(t.page.status, { kind: 'reconnecting', text: 'Reconnecting in 1 s…' });
    assert.match(t.page.banner.text, /^The connection to the chat was lost\. Reconnecting…/);
    t.client().connect();
    assert.equal(t.page.banner, null);
    assert.deepEqual(t.page.status, { kind: 'connected', text: 'Connected' });
    t.client().refuse();
    await flush();
    assert.ok(t.auth.calls.includes('refresh'), 'a refused CONNECT may be a revoked sign-in');
    t.session.reconnect();
    assert.equal(t.page.banner, null);
    assert.equal(t.client().active, true);
  });
});

describe('ChatSession: posting through the one outbox', () => {
  it('sends a post to the inbox with the person\'s user-id, and marks it sent on RECEIPT', async () => {
    const t = await signedIn();
    const clientId = t.session.outbox.post('hello');
    await flush();
    const [send] = t.client().sends;
    assert.equal(send.destination, '/exchange/chat.in/chat.inbox');
    assert.deepEqual(send.body, { text: 'hello', clientId, login: 'alice', session: 'FreshSessionNumber0001' });
    assert.deepEqual(send.headers, { 'content-type': 'application/json', persistent: 'true', 'user-id': 'alice' });
    send.resolve();
    await flush();
    assert.equal(t.session.room.pending(clientId).pending.status, 'sent');
  });

  it('keeps posts written while disconnected, waiting, and sends each once after the reconnect', async () => {
    const t = await signedIn();
    t.client().drop();
    const a = t.session.outbox.post('written offline');
    const b = t.session.outbox.post('and another');
    await flush();
    assert.equal(t.client().sends.length, 0);
    assert.equal(t.session.room.pending(a).pending.status, 'queued');
    t.client().connect();
    await flush();
    assert.deepEqual(t.client().sends.map((s) => s.body.clientId), [a, b]);
    for (const s of t.client().sends) s.resolve();
    await flush();
    t.client().drop();
    t.client().connect();
    t.clock.advance(5000);
    await flush();
    assert.equal(t.client().sends.length, 2, 'confirmed posts are not sent again');
  });

  it('holds at most OUTBOX_LIMIT posts', async () => {
    const t = await signedIn();
    t.client().drop();
    for (let i = 0; i < OUTBOX_LIMIT; i += 1) t.session.outbox.post(`p${i}`);
    assert.throws(() => t.session.outbox.post('one too many'), RangeError);
  });

  it('keeps unconfirmed posts for a reload when the page is hidden, and sends them from the next page', async () => {
    const t = await signedIn();
    t.client().drop();
    const a = t.session.outbox.post('before the reload');
    t.session.pageHidden();
    assert.ok(t.client().log.includes('suspend'));
    const next = setup({ storage: t.storage, resumes: 'alice' });
    const starting = next.session.start();
    const request = await admit(next);
    await starting;
    assert.equal(request.body.resume, true);
    await flush();
    assert.deepEqual(next.client().sends.map((s) => [s.body.clientId, s.body.text]), [[a, 'before the reload']]);
  });

  it('drops kept posts the rules refuse', async () => {
    const storage = new MemoryStorage();
    saveSession(storage, { login: 'alice', session: SAVED });
    saveUnsent(storage, SAVED, [{ clientId: 'c1', text: 'fine', proof: false }, { clientId: 'c2', text: '\u0007', proof: false }]);
    const t = setup({ storage, resumes: 'alice' });
    const starting = t.session.start();
    await admit(t);
    await starting;
    await flush();
    assert.deepEqual(t.client().sends.map((s) => s.body.clientId), ['c1']);
  });
});

describe('ChatSession: leaving', () => {
  it('logs out, disconnects, signs out, forgets the tab and empties the room', async () => {
    const t = await signedIn();
    t.client().deliver(event(1));
    const leaving = t.session.leave({ notice: 'Your sign-in ended.' });
    assert.equal(t.page.leaving, true);
    await flush();
    assert.deepEqual(t.client().requests[0].body, { action: 'logout', login: 'alice', session: 'FreshSessionNumber0001' });
    t.client().reply({ ok: true });
    await leaving;
    assert.ok(t.client().log.includes('deactivate'));
    assert.equal(t.auth.signedIn, false);
    assert.equal(t.session.identity, null);
    assert.equal(loadSession(t.storage), null);
    assert.equal(t.session.room.size, 0);
    assert.deepEqual(t.changes.at(-1), { cleared: true });
    assert.equal(t.page.view, 'login');
    assert.equal(t.page.notice, 'Your sign-in ended.');
    assert.equal(t.page.leaving, false);
    assert.deepEqual(t.page.status, { kind: 'disconnected', text: 'Not connected' });
  });

  it('does not wait for the login service while disconnected', async () => {
    const t = await signedIn();
    t.client().drop();
    await t.session.leave();
    assert.equal(t.client().requests.length, 0);
    assert.equal(t.page.view, 'login');
  });
});

describe('ChatSession: rooms', () => {
  /** The web server's rooms API: alice is in general and ops. */
  const roomsFetch = (calls) => async (url, init = {}) => {
    calls.push(`${init.method ?? 'GET'} ${url}`);
    const body = url === '/api/rooms'
      ? { ok: true, rooms: [{ id: 'general', name: 'general', visibility: 'public', unread: 0 }, { id: 'ops', name: 'ops', visibility: 'private', unread: 1 }], publicRooms: [] }
      : { ok: true, members: ['alice', 'bob'], online: ['alice'] };
    return { ok: true, status: 200, json: async () => body };
  };

  it('reads the rooms list again after a connection lost longer than a rooms notice lives', async () => {
    const calls = [];
    const t = await signedIn('alice', { fetch: roomsFetch(calls) });
    await flush();
    const lists = () => calls.filter((c) => c === 'GET /api/rooms').length;
    assert.equal(lists(), 1);
    t.client().drop();
    t.clock.advance(rules.roomNoticeTtlMs - 1000);
    t.client().connect();
    await flush();
    assert.equal(lists(), 1, 'a short gap: the notices waited in the tab queue');
    t.client().drop();
    t.clock.advance(rules.roomNoticeTtlMs);
    t.client().connect();
    await flush();
    assert.equal(lists(), 2, 'a long gap: some notices may have expired');
  });

  it('subscribes to the online queue again when a login again follows its loss (the client gave up on it)', async () => {
    const t = setup();
    await t.session.start();
    await t.session.authenticate({ name: 'alice', password: 'a good password' });
    const entering = t.session.enterAs('alice');
    await admit(t, { online: 'chat.user.alice.online' });
    assert.equal(await entering, true);
    const onlines = () => t.client().subscriptions.filter((s) => s.destination === '/amq/queue/chat.user.alice.online');
    onlines()[0].active = false; // refused twice: the queue went with its node
    t.client().subscription.options.onError(new Error('gave up on SUBSCRIBE')); // the tab queue too
    await flush();
    t.client().reply({ ok: true, queue: 'chat.user.alice.FreshSessionNumber0001', login: 'alice', session: 'FreshSessionNumber0001', online: 'chat.user.alice.online' });
    await flush();
    assert.deepEqual(onlines().map((s) => s.active), [false, true]);
  });

  it('counts as online through the online queue, routes events by room, and posts and types in the open room', async () => {
    const calls = [];
    const t = setup({ fetch: roomsFetch(calls) });
    await t.session.start();
    await t.session.authenticate({ name: 'alice', password: 'a good password' });
    const entering = t.session.enterAs('alice');
    await admit(t, { online: 'chat.user.alice.online' });
    assert.equal(await entering, true);
    await flush();
    const online = t.client().subscriptions.find((s) => s.destination === '/amq/queue/chat.user.alice.online');
    assert.deepEqual(online?.options, { ack: 'auto', prefetch: 1 });
    assert.ok(calls.includes('GET /api/rooms'));

    t.client().deliver(event(1, { room: 'ops' }));
    t.client().deliver(event(2));
    assert.deepEqual(t.session.room.entries().map((e) => e.event.id), [id(2)], 'general shows general\'s');
    assert.equal(t.session.rooms.list.room('ops').unread, 2);

    assert.equal(await t.session.rooms.open('ops'), true);
    assert.deepEqual(t.session.room.entries(), [], 'ops was not held before it opened: its history loads');
    t.session.outbox.post('to ops');
    t.session.rooms.typed('x');
    await flush();
    const post = t.client().sends.find((s) => !s.body.typing).body;
    const typingSend = t.client().sends.find((s) => s.body.typing);
    const typing = typingSend.body;
    assert.equal(post.room, 'ops');
    assert.equal(post.text, 'to ops');
    assert.deepEqual({ ...typing, clientId: undefined }, { clientId: undefined, login: 'alice', session: typing.session, room: 'ops', text: '', typing: true });
    assert.equal(typingSend.headers.persistent, undefined, 'typing notices are transient');

    t.client().drop(); // no logout request to answer
    await t.session.leave();
    assert.equal(online.active, false, 'no longer counted online');
    assert.equal(t.session.rooms.openId, 'general');
  });
});
