// General read from its stream (config.generalStream), on the wire: ChatSession with the real
// StompClient over a scripted socket, the test playing the broker.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ChatSession } from '../chat-session.js';
import { PageState } from '../page-state.js';
import { verifyProof } from '../proof.js';
import { loadStreamPosition } from '../session.js';
import { StompClient } from '../stomp.js';
import { rules } from '../validate.js';
import { FakeClock, brokerFrame, fakeSockets, flush } from './support/fakes.js';
import { FakeAuth, MemoryStorage } from './support/fake-chat.js';

const STREAM = 'chat.stream.general';
const STREAM_DESTINATION = `/amq/queue/${STREAM}`;
const LOGIN_DESTINATION = '/exchange/chat.in/chat.login';
const CONFIG = Object.freeze({ stompURL: 'ws://broker/ws', stompURLs: ['ws://broker/ws'], vhost: 'warren', prefix: 'chat', powBits: 4, generalStream: STREAM });
const { generalStream, ...WITHOUT_STREAM } = CONFIG;
const START = Date.parse('2026-11-23T11:20:00.000Z');
const id = (n) => `01JF${String(n).padStart(22, '0')}`;
const event = (n, fields) => ({ id: id(n), kind: 'message', from: 'bob', text: `t${n}`, at: '2026-11-23T11:20:00.123Z', ...fields });

function setup({ config = CONFIG, storage = new MemoryStorage(), resumes = null, clock = new FakeClock(START) } = {}) {
  const sockets = [];
  const warnings = [];
  const page = new PageState();
  let sessions = 0;
  const session = new ChatSession({
    page,
    auth: new FakeAuth({ resumes }),
    storage,
    loadConfig: async () => config,
    createClient: (cfg, { beforeConnect }) => new StompClient({
      urls: cfg.stompURLs,
      host: cfg.vhost,
      beforeConnect,
      heartbeat: { outgoing: 0, incoming: 0 },
      webSocketFactory: fakeSockets(sockets),
      clock,
      random: () => 0,
    }),
    verifyProof,
    newSessionId: () => `FreshSessionNumber${String(++sessions).padStart(4, '0')}`,
    newClientId: () => 'post',
    clock,
    log: { warn: (...args) => warnings.push(args.join(' ')) },
  });
  const seen = []; // every event the feed passed on (typing and online included)
  const onEvent = session.feed.onEvent;
  session.feed.onEvent = (value, source) => {
    seen.push(value);
    onEvent(value, source);
  };
  const socket = () => sockets.at(-1);
  const t = {
    page, storage, clock, session, sockets, warnings, seen, socket,
    /** The broker takes the socket being opened: CONNECTED, and what the client sends on it. */
    async accept() {
      await flush();
      socket().open();
      socket().receive(brokerFrame('CONNECTED', { version: '1.2', 'heart-beat': '0,0' }));
      await flush();
    },
    /** The socket drops; the client reconnects after its backoff, and the broker takes it. */
    async reconnect(reason = '') {
      socket().serverClose(reason ? 1000 : 1006, reason);
      await flush();
      clock.advance(5_000); // the client's backoff (1 s, then 2 s, 4 s: it starts again once connected)
      await t.accept();
    },
    /** What went out on a socket (the current one by default), as `COMMAND destination-or-id`. */
    wire(ws = socket()) {
      return ws.frames().filter((f) => f.command !== 'CONNECT').map((f) => `${f.command} ${f.headers.destination ?? f.headers.id}`);
    },
    subscribeFrame(destination, ws = socket()) {
      return ws.framesOf('SUBSCRIBE').find((f) => f.headers.destination === destination);
    },
    acks(ws = socket()) {
      return ws.framesOf('ACK').map((f) => f.headers.id);
    },
    /** Answers the login request on the current socket. */
    answerLogin() {
      const request = socket().framesOf('SEND').filter((f) => f.headers.destination === LOGIN_DESTINATION).at(-1);
      const body = JSON.parse(request.body);
      const reply = body.action === 'login' ? { ok: true, queue: `chat.user.${body.login}.${body.session}`, login: body.login, session: body.session } : { ok: true };
      socket().receive(brokerFrame('MESSAGE', { subscription: '/temp-queue/replies', destination: '/temp-queue/replies', 'message-id': 'r', 'correlation-id': request.headers['correlation-id'] }, JSON.stringify(reply)));
      return body;
    },
    /** A delivery from general's stream at `offset`. */
    fromStream(offset, value) {
      const sub = t.subscribeFrame(STREAM_DESTINATION).headers.id;
      socket().receive(brokerFrame('MESSAGE', { subscription: sub, destination: STREAM_DESTINATION, 'message-id': `s${offset}`, ack: `S${offset}`, 'x-stream-offset': String(offset) }, JSON.stringify(value)));
    },
    /** A delivery from the tab queue. */
    fromQueue(value, ack) {
      const frame = socket().framesOf('SUBSCRIBE').find((f) => f.headers.destination.startsWith('/amq/queue/chat.user.'));
      socket().receive(brokerFrame('MESSAGE', { subscription: frame.headers.id, destination: frame.headers.destination, 'message-id': ack, ack }, JSON.stringify(value)));
    },
    shown: () => session.room.entries().map((e) => e.event.id),
  };
  return t;
}

/** Signs alice in with a new session, or (`resumes`) resumes the one saved in storage. */
async function signedIn(options = {}) {
  const t = setup(options);
  let entering;
  if (options.resumes) {
    entering = t.session.start().then(() => t.page.view === 'room');
  } else {
    await t.session.start();
    await t.session.authenticate({ name: 'alice', password: 'a good password' });
    entering = t.session.enterAs('alice');
  }
  await t.accept();
  t.firstWire = t.wire();
  t.login = t.answerLogin();
  assert.equal(await entering, true);
  await flush();
  return t;
}

describe('General from its stream: subscribing', () => {
  it('subscribes to the stream before the login request of a new session, from `next`, acknowledging in client mode', async () => {
    const t = await signedIn();
    assert.deepEqual(t.firstWire, [`SUBSCRIBE ${STREAM_DESTINATION}`, `SEND ${LOGIN_DESTINATION}`]);
    assert.equal(t.login.resume, false);
    const { headers } = t.subscribeFrame(STREAM_DESTINATION);
    assert.deepEqual([headers.ack, headers['prefetch-count'], headers['x-stream-offset']], ['client', String(rules.streamPrefetch), 'next']);
    assert.deepEqual(t.wire().slice(2), ['SUBSCRIBE /amq/queue/chat.user.alice.FreshSessionNumber0001']);
    assert.deepEqual(t.subscribeFrame('/amq/queue/chat.user.alice.FreshSessionNumber0001').headers.ack, 'client-individual');
  });

  it('renews the subscription after a reconnect from the offset after the newest taken in', async () => {
    const t = await signedIn();
    t.fromStream(41, event(1));
    t.fromStream(42, event(2));
    assert.deepEqual(t.shown(), [id(1), id(2)]);
    await t.reconnect();
    assert.equal(t.subscribeFrame(STREAM_DESTINATION).headers['x-stream-offset'], 'offset=43');
    t.fromStream(43, event(3));
    await t.reconnect();
    assert.equal(t.subscribeFrame(STREAM_DESTINATION).headers['x-stream-offset'], 'offset=44');
    assert.deepEqual(t.shown(), [id(1), id(2), id(3)]);
  });

  it('renews it from a minute before the first SUBSCRIBE when nothing came yet, after a reconnect and after a reload', async () => {
    const t = await signedIn();
    const first = Math.floor(START / 1000);
    t.clock.advance(5 * 60_000);
    await t.reconnect();
    assert.equal(t.subscribeFrame(STREAM_DESTINATION).headers['x-stream-offset'], `timestamp=${first - 60}`);
    t.session.drawn(); // keeps the first SUBSCRIBE's time for a reload
    const reloaded = await signedIn({ storage: t.storage, resumes: 'alice', clock: t.clock });
    assert.equal(reloaded.login.resume, true);
    assert.equal(reloaded.subscribeFrame(STREAM_DESTINATION).headers['x-stream-offset'], `timestamp=${first - 60}`);
  });

  it('goes on after a reload from the newest offset drawn, subscribing before the login', async () => {
    const t = await signedIn();
    t.fromStream(7, event(1));
    t.fromStream(8, event(2));
    t.session.drawn();
    t.fromStream(9, event(3)); // not drawn before the reload: it comes again
    const reloaded = await signedIn({ storage: t.storage, resumes: 'alice' });
    assert.deepEqual(reloaded.firstWire, [`SUBSCRIBE ${STREAM_DESTINATION}`, `SEND ${LOGIN_DESTINATION}`]);
    assert.deepEqual([reloaded.login.session, reloaded.login.resume], [t.login.session, true]);
    assert.equal(reloaded.subscribeFrame(STREAM_DESTINATION).headers['x-stream-offset'], 'offset=9');
  });

  it('warns, naming the stream, when the broker refuses the SUBSCRIBE, and the sign-in goes through without it', async () => {
    const t = setup();
    await t.session.start();
    await t.session.authenticate({ name: 'alice', password: 'a good password' });
    const entering = t.session.enterAs('alice');
    await t.accept();
    assert.deepEqual(t.wire(), [`SUBSCRIBE ${STREAM_DESTINATION}`, `SEND ${LOGIN_DESTINATION}`]);
    await t.reconnect('STOMP died'); // refused once: the login request went with the connection
    assert.deepEqual(t.wire(), [`SUBSCRIBE ${STREAM_DESTINATION}`, `SEND ${LOGIN_DESTINATION}`]);
    await t.reconnect('STOMP died'); // twice: the client gives up on that SUBSCRIBE
    assert.deepEqual(t.wire(), [`SEND ${LOGIN_DESTINATION}`]);
    assert.equal(t.answerLogin().resume, true, 'sent again as a resume');
    assert.equal(await entering, true);
    assert.equal(t.page.view, 'room');
    assert.ok(t.warnings.some((w) => w.includes(`general's stream ${STREAM} cannot be read`)), t.warnings.join('\n'));
  });
});

describe('General from its stream: a SUBSCRIBE given up', () => {
  it('subscribes to the stream anew, at its offset, when it logs in again (the drops were the lost tab queue\'s)', async () => {
    const t = await signedIn();
    t.fromStream(3, event(3));
    t.session.drawn();
    await t.reconnect('STOMP died'); // the tab queue's SUBSCRIBE, blamed on the stream's (the oldest)
    await t.reconnect('STOMP died');
    assert.ok(t.warnings.some((w) => w.includes(`general's stream ${STREAM} cannot be read`)), t.warnings.join('\n'));
    const before = t.wire().length;
    const relogin = t.session.relogin();
    await flush();
    t.answerLogin();
    await relogin;
    const again = t.wire().slice(before);
    assert.deepEqual(again.slice(0, 2), [`SUBSCRIBE ${STREAM_DESTINATION}`, `SEND ${LOGIN_DESTINATION}`], 'the stream before the login, as at the sign-in');
    assert.equal(t.subscribeFrame(STREAM_DESTINATION).headers['x-stream-offset'], 'offset=4');
  });
});

describe('General from its stream: acknowledging', () => {
  it('acknowledges once per streamAckEvery deliveries drawn, by ACKing the newest; the tab queue as before', async () => {
    const t = await signedIn();
    const every = rules.streamAckEvery;
    assert.ok(every < rules.streamPrefetch);
    for (let n = 1; n < every; n += 1) t.fromStream(n, event(n));
    t.fromQueue(event(100, { room: 'ops' }), 'Q1');
    t.session.drawn();
    assert.deepEqual(t.acks(), ['Q1'], 'fewer than streamAckEvery wait: no ACK of the stream yet');
    t.fromStream(every, event(every));
    assert.deepEqual(t.acks(), ['Q1'], 'not before it is drawn');
    t.session.drawn();
    assert.deepEqual(t.acks(), ['Q1', `S${every}`]);
    for (let n = every + 1; n <= every + 3; n += 1) t.fromStream(n, event(n));
    t.session.drawn();
    t.session.drawn();
    assert.deepEqual(t.acks(), ['Q1', `S${every}`]);
    assert.equal(t.shown().length, every + 3);
  });

  it('never acknowledges on a later connection what an earlier one brought: the count starts again', async () => {
    const t = await signedIn();
    const every = rules.streamAckEvery;
    for (let n = 1; n < every; n += 1) t.fromStream(n, event(n));
    const lost = t.socket();
    await t.reconnect();
    t.fromStream(every, event(every));
    t.session.drawn();
    assert.deepEqual([t.acks(lost), t.acks()], [[], []]);
    for (let n = every + 1; n < 2 * every; n += 1) t.fromStream(n, event(n));
    t.session.drawn();
    assert.deepEqual(t.acks(), [`S${2 * every - 1}`]);
  });
});

describe('General from its stream: what is shown', () => {
  it('shows once an event that is in the backfill and comes from the stream too', async () => {
    const t = await signedIn();
    t.fromQueue({ kind: 'backfill', events: [event(1), event(2)] }, 'Q1');
    t.fromStream(5, event(2));
    t.fromStream(6, event(3));
    assert.deepEqual(t.shown(), [id(1), id(2), id(3)]);
  });

  it('drops typing and online notices from the stream older than typingShownMs, and shows fresh ones', async () => {
    const t = await signedIn();
    const ago = (ms) => new Date(t.clock.now() - ms).toISOString();
    const stale = rules.typingShownMs + 1000;
    t.fromStream(1, event(1, { kind: 'typing', from: 'bob', text: '', at: ago(stale) }));
    t.fromStream(2, event(2, { kind: 'online', from: 'bob', text: 'bob came online', at: ago(stale) }));
    t.fromStream(3, event(3, { kind: 'typing', from: 'carol', text: '', at: ago(1000) }));
    t.fromStream(4, event(4, { kind: 'online', from: 'carol', text: 'carol came online', at: ago(1000) }));
    t.fromStream(5, event(5, { kind: 'message', at: ago(stale) }));
    assert.deepEqual(t.seen.map((e) => e.id), [id(3), id(4), id(5)]);
    assert.equal(t.session.rooms.typing.text('general', t.clock.now()), 'carol is typing…');
    assert.deepEqual(t.shown(), [id(5)], 'an old post is no notice: it is shown');
  });
});

describe('General from its stream: logging in again, logging out', () => {
  it('keeps the subscription and its offset when it logs in again (the tab queue was lost)', async () => {
    const t = await signedIn();
    t.fromStream(3, event(3));
    const before = t.wire().length;
    const relogin = t.session.relogin();
    await flush();
    t.answerLogin();
    await relogin;
    assert.deepEqual(t.wire().slice(before), [`SEND ${LOGIN_DESTINATION}`, 'UNSUBSCRIBE ' + t.subscribeFrame('/amq/queue/chat.user.alice.FreshSessionNumber0001').headers.id, 'SUBSCRIBE /amq/queue/chat.user.alice.FreshSessionNumber0001']);
    await t.reconnect();
    assert.equal(t.subscribeFrame(STREAM_DESTINATION).headers['x-stream-offset'], 'offset=4');
  });

  it('unsubscribes at logout and forgets the saved offset', async () => {
    const t = await signedIn();
    t.fromStream(3, event(3));
    t.session.drawn();
    assert.equal(loadStreamPosition(t.storage, t.login.session).offset, 3n);
    const streamId = t.subscribeFrame(STREAM_DESTINATION).headers.id;
    const before = t.wire().length;
    const leaving = t.session.leave();
    await flush();
    const wire = t.wire().slice(before);
    assert.ok(wire.indexOf(`UNSUBSCRIBE ${streamId}`) >= 0 && wire.indexOf(`UNSUBSCRIBE ${streamId}`) < wire.indexOf(`SEND ${LOGIN_DESTINATION}`), wire.join('\n'));
    assert.equal(t.answerLogin().action, 'logout');
    await flush();
    const [disconnect] = t.socket().framesOf('DISCONNECT');
    t.socket().receive(brokerFrame('RECEIPT', { 'receipt-id': disconnect.headers.receipt }));
    await leaving;
    assert.equal(t.storage.getItem('warren.stream'), null);
    assert.equal(t.session.stream, null);
  });
});

describe('General without a stream (config.generalStream absent)', () => {
  it('subscribes to nothing more and keeps no stream position: the tab queue brings general', async () => {
    const t = await signedIn({ config: WITHOUT_STREAM });
    assert.equal(generalStream, STREAM);
    assert.deepEqual(t.firstWire, [`SEND ${LOGIN_DESTINATION}`]);
    assert.deepEqual(t.wire(), [`SEND ${LOGIN_DESTINATION}`, 'SUBSCRIBE /amq/queue/chat.user.alice.FreshSessionNumber0001']);
    t.fromQueue(event(1), 'Q1');
    t.session.drawn();
    assert.deepEqual(t.acks(), ['Q1']);
    assert.deepEqual(t.shown(), [id(1)]);
    assert.equal(t.storage.getItem('warren.stream'), null);
    assert.equal(t.session.stream, null);
  });
});
