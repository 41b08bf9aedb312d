// StompClient: handshake, heart-beats, reconnect and backoff, auth failure, activate/deactivate.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { brokerFrame, flush, makeClient } from './support/fakes.js';

const stateNames = (states) => states.map((s) => s.state);

describe('StompClient handshake', () => {
  it('opens a v12.stomp socket with binaryType arraybuffer and sends CONNECT', () => {
    const t = makeClient({ heartbeat: { outgoing: 10000, incoming: 5000 } });
    t.client.activate();
    const ws = t.socket();
    assert.equal(ws.url, 'ws://broker/ws');
    assert.deepEqual(ws.protocols, ['v12.stomp']);
    assert.equal(ws.binaryType, 'arraybuffer');
    assert.deepEqual(ws.sent, []); // nothing before the socket opens
    ws.open();
    const connect = ws.last();
    assert.equal(connect.command, 'CONNECT');
    assert.deepEqual({ ...connect.headers }, {
      'accept-version': '1.2',
      host: 'warren',
      login: 'alice',
      passcode: 'secret',
      'heart-beat': '10000,5000',
    });
    assert.equal(t.client.state, 'connecting');
  });

  it('sends CONNECT headers unescaped', () => {
    const t = makeClient({ passcode: 'a:b\\c' });
    t.client.activate();
    t.socket().open();
    assert.match(t.socket().sent[0], /\npasscode:a:b\\c\n/);
  });

  it('reports connecting then connected', () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    assert.deepEqual(stateNames(t.states), ['connecting', 'connected']);
    assert.equal(t.client.connected, true);
    assert.equal(t.states[1].headers.server, 'RabbitMQ/3.10.8');
  });

  it('retries when CONNECTED does not arrive in time', () => {
    const t = makeClient({ connectTimeoutMs: 5000 });
    t.client.activate();
    t.socket().open();
    t.clock.advance(4999);
    assert.equal(t.sockets.length, 1);
    t.clock.advance(1);
    assert.equal(t.errors.at(-1).code, 'connect-timeout');
    assert.equal(t.sockets[0].closed, true);
    assert.equal(t.client.state, 'reconnecting');
    t.clock.advance(t.states.at(-1).delayMs);
    assert.equal(t.sockets.length, 2);
  });

  it('drops the connection on an unparsable frame and reconnects', () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    t.socket().receive('MESSAGE\nbad:\\t\n\n\0');
    assert.equal(t.errors.at(-1).code, 'parse-error');
    assert.equal(t.client.state, 'reconnecting');
  });

  it('enforces maxFrameSize on inbound frames', () => {
    const t = makeClient({ maxFrameSize: 100 });
    t.client.activate();
    t.connect();
    t.socket().receive('MESSAGE\nsubscription:x\n\n' + 'z'.repeat(200));
    assert.equal(t.errors.at(-1).code, 'parse-error');
  });

  it('accepts frames as ArrayBuffer', () => {
    const t = makeClient();
    t.client.activate();
    t.socket().open();
    t.socket().receive(new TextEncoder().encode(brokerFrame('CONNECTED', { version: '1.2' })).buffer);
    assert.equal(t.client.connected, true);
  });
});

describe('StompClient heart-beats', () => {
  it('negotiates MAX per direction and sends an EOL when the outgoing side is idle', () => {
    const t = makeClient({ heartbeat: { outgoing: 4000, incoming: 0 } });
    t.client.activate();
    t.connect('0,10000'); // broker wants a beat every 10 s at most; we can do 4 s → 10 s
    const ws = t.socket();
    const beats = () => ws.sent.filter((d) => d === '\n').length;
    t.clock.advance(9999);
    assert.equal(beats(), 0);
    t.clock.advance(1);
    assert.equal(beats(), 1);
    t.clock.advance(5000);
    t.client.send('/q', 'x').catch(() => {}); // traffic resets the idle clock
    t.clock.advance(9999);
    assert.equal(beats(), 1);
    t.clock.advance(1);
    assert.equal(beats(), 2);
  });

  it('sends no beats when the broker says 0 or omits the header', () => {
    for (const header of ['0,0', undefined]) {
      const t = makeClient({ heartbeat: { outgoing: 1000, incoming: 1000 } });
      t.client.activate();
      t.socket().open();
      const headers = header === undefined ? { version: '1.2' } : { version: '1.2', 'heart-beat': header };
      t.socket().receive(brokerFrame('CONNECTED', headers));
      t.clock.advance(60000);
      assert.equal(t.socket().sent.filter((d) => d === '\n').length, 0);
      assert.equal(t.client.state, 'connected');
      assert.equal(t.sockets.length, 1);
    }
  });

  it('treats silence beyond twice the incoming interval as a dead connection', () => {
    const t = makeClient({ heartbeat: { outgoing: 0, incoming: 5000 } });
    t.client.activate();
    t.connect('3000,0'); // incoming = max(5000, 3000) = 5000 → dead after 10 s of silence
    t.clock.advance(9000);
    t.socket().receive('\n'); // a heart-beat keeps it alive
    t.clock.advance(9999);
    assert.equal(t.client.state, 'connected');
    t.clock.advance(1);
    assert.equal(t.errors.at(-1).code, 'heartbeat-timeout');
    assert.equal(t.sockets[0].closed, true);
    assert.equal(t.client.state, 'reconnecting');
    t.clock.advance(t.states.at(-1).delayMs);
    assert.equal(t.sockets.length, 2);
  });

  it('stops the heart-beat timers of a dropped socket', () => {
    const t = makeClient({ heartbeat: { outgoing: 1000, incoming: 1000 } });
    t.client.activate();
    t.connect('1000,1000');
    t.socket().serverClose(1006);
    const old = t.sockets[0].sent.length;
    t.clock.advance(500);
    assert.equal(t.sockets[0].sent.length, old);
  });
});

describe('StompClient reconnect', () => {
  it('backs off exponentially with jitter, capped, and resets after CONNECTED', () => {
    const t = makeClient({ backoff: { baseMs: 100, factor: 2, capMs: 1000, jitter: 0.5 } });
    t.setRandom(0.5); // takes a quarter off
    t.client.activate();
    const delays = [];
    for (let i = 0; i < 7; i += 1) {
      t.socket().serverClose(1006);
      const s = t.states.at(-1);
      assert.equal(s.state, 'reconnecting');
      assert.equal(s.attempt, i + 1);
      delays.push(s.delayMs);
      t.clock.advance(s.delayMs - 1);
      assert.equal(t.sockets.length, i + 1);
      t.clock.advance(1);
      assert.equal(t.sockets.length, i + 2);
    }
    assert.deepEqual(delays, [75, 150, 300, 600, 750, 750, 750]);
    t.connect();
    t.socket().serverClose(1006);
    assert.equal(t.states.at(-1).delayMs, 75);
  });

  it('carries the reason in the reconnecting state', () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    t.socket().serverClose(1001, 'going away');
    const s = t.states.at(-1);
    assert.equal(s.error.code, 'connection-lost');
    assert.equal(s.error.closeCode, 1001);
    assert.match(s.error.message, /going away/);
  });

  it('retries when the socket factory throws', () => {
    let calls = 0;
    const t = makeClient();
    const original = t.client._createSocket;
    t.client._createSocket = (...args) => {
      calls += 1;
      if (calls === 1) throw new Error('bad url');
      return original(...args);
    };
    t.client.activate();
    assert.equal(t.client.state, 'reconnecting');
    t.clock.advance(t.states.at(-1).delayMs);
    assert.equal(t.sockets.length, 1);
  });

  it('deactivate cancels a pending reconnect', async () => {
    const t = makeClient();
    t.client.activate();
    t.socket().serverClose(1006);
    await t.client.deactivate();
    assert.equal(t.client.state, 'disconnected');
    t.clock.advance(120000);
    assert.equal(t.sockets.length, 1);
    assert.equal(t.clock.pending, 0);
  });
});

describe('StompClient auth failure', () => {
  it('surfaces ERROR before CONNECTED as auth-failed, closes the socket and stops', () => {
    const t = makeClient();
    t.client.activate();
    const ws = t.socket();
    ws.open();
    ws.receive(brokerFrame('ERROR', { message: 'Bad CONNECT', 'content-type': 'text/plain' }, "Access refused for user 'alice'"));
    assert.equal(t.client.state, 'auth-failed');
    const error = t.errors.at(-1);
    assert.equal(error.code, 'auth-failed');
    assert.match(error.message, /Bad CONNECT: Access refused for user 'alice'/);
    assert.equal(error.headers.message, 'Bad CONNECT');
    assert.equal(ws.closed, true); // the broker leaves it open; we don't
    t.clock.advance(10 * 60 * 1000);
    assert.equal(t.sockets.length, 1);
    assert.equal(t.clock.pending, 0);
  });

  it('rejects whenConnected() on auth failure', async () => {
    const t = makeClient();
    const sent = t.client.whenConnected();
    t.client.activate();
    t.socket().open();
    t.socket().receive(brokerFrame('ERROR', { message: 'Bad CONNECT' }));
    await assert.rejects(sent, { code: 'auth-failed' });
  });

  it('retries sooner by up to half the wait, at random, so refused tabs do not return together', () => {
    const t = makeClient({ authRetryMs: 10000, random: () => 0.5 });
    t.client.activate();
    t.socket().open();
    t.socket().receive(brokerFrame('ERROR', { message: 'Bad CONNECT' }));
    assert.equal(t.states.at(-1).delayMs, 7500);
    t.clock.advance(7499);
    assert.equal(t.sockets.length, 1);
    t.clock.advance(1);
    assert.equal(t.sockets.length, 2);
  });

  it('can retry after a long wait when authRetryMs is set', () => {
    const t = makeClient({ authRetryMs: 300000 });
    t.client.activate();
    t.socket().open();
    t.socket().receive(brokerFrame('ERROR', { message: 'Bad CONNECT' }));
    assert.equal(t.states.at(-1).state, 'auth-failed');
    assert.equal(t.states.at(-1).delayMs, 300000);
    t.clock.advance(299999);
    assert.equal(t.sockets.length, 1);
    t.clock.advance(1);
    assert.equal(t.sockets.length, 2);
  });

  it('starts again on activate() with new credentials', () => {
    const t = makeClient();
    t.client.activate();
    t.socket().open();
    t.socket().receive(brokerFrame('ERROR', { message: 'Bad CONNECT' }));
    t.client.passcode = 'right';
    t.client.activate();
    t.socket().open();
    assert.equal(t.socket().last().headers.passcode, 'right');
  });
});

describe('StompClient activate/deactivate', () => {
  it('sends DISCONNECT with a receipt and resolves on the RECEIPT', async () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    let done = false;
    const promise = t.client.deactivate().then(() => (done = true));
    const disconnect = t.socket().last();
    assert.equal(disconnect.command, 'DISCONNECT');
    assert.ok(disconnect.headers.receipt);
    await flush();
    assert.equal(done, false);
    t.receipt('DISCONNECT');
    await promise;
    assert.equal(t.socket().closed, true);
    assert.equal(t.client.state, 'disconnected');
    assert.equal(t.clock.pending, 0);
  });

  it('resolves deactivate when the DISCONNECT receipt never comes', async () => {
    const t = makeClient({ disconnectTimeoutMs: 2000 });
    t.client.activate();
    t.connect();
    const promise = t.client.deactivate();
    t.clock.advance(2000);
    await promise;
    assert.equal(t.socket().closed, true);
  });

  it('resolves deactivate when the broker closes first, quietly even with "STOMP died"', async () => {
    for (const reason of ['', 'STOMP died']) {
      const t = makeClient();
      t.client.activate();
      t.connect();
      t.client.send('/q', 'x').catch(() => {});
      t.receipt('SEND');
      const promise = t.client.deactivate();
      t.socket().serverClose(1000, reason); // what Web-STOMP 3.10 does on DISCONNECT
      await promise;
      assert.equal(t.client.state, 'disconnected');
      assert.equal(t.sockets.length, 1);
      assert.deepEqual(t.errors, []);
    }
  });

  it('is safe in any order', async () => {
    const t = makeClient();
    await t.client.deactivate(); // never activated
    assert.deepEqual(t.states, []);
    t.client.activate();
    t.client.activate(); // idempotent
    assert.equal(t.sockets.length, 1);
    const a = t.client.deactivate(); // while connecting
    const b = t.client.deactivate();
    await Promise.all([a, b]);
    assert.equal(t.sockets[0].closed, true);
    t.client.activate();
    t.connect();
    const c = t.client.deactivate();
    t.client.activate(); // while deactivating: reconnects once the DISCONNECT completes
    assert.equal(t.sockets.length, 2);
    t.receipt('DISCONNECT');
    await c;
    assert.equal(t.sockets.length, 3);
    assert.equal(t.client.state, 'connecting');
    t.connect();
    const d = t.client.deactivate();
    t.clock.advance(2000);
    await d;
    assert.equal(t.client.state, 'disconnected');
  });

  it('sends nothing after DISCONNECT; a send then is rejected with deactivated', async () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    const done = t.client.deactivate();
    const late = t.client.send('/q', 'late');
    t.client.subscribe('/amq/queue/a', () => {});
    assert.equal(t.socket().last().command, 'DISCONNECT');
    t.receipt('DISCONNECT');
    await done;
    await assert.rejects(late, { code: 'deactivated' });
  });

  it('rejects pending work with deactivated', async () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    const sent = t.client.send('/q', 'x');
    const asked = t.client.request('/amq/queue/chat.login', '{}');
    const done = t.client.deactivate();
    t.receipt('DISCONNECT');
    await done;
    await assert.rejects(sent, { code: 'deactivated' });
    await assert.rejects(asked, { code: 'deactivated' });
  });

  it('force skips DISCONNECT and drops the socket at once', async () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    await t.client.deactivate({ force: true });
    assert.equal(t.socket().framesOf('DISCONNECT').length, 0);
    assert.equal(t.socket().closed, true);
    assert.equal(t.client.state, 'disconnected');
  });

  it('force cuts short a graceful deactivation', async () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    const graceful = t.client.deactivate();
    await t.client.deactivate({ force: true });
    await graceful;
    assert.equal(t.socket().framesOf('DISCONNECT').length, 1);
    assert.equal(t.clock.pending, 0);
  });
});

describe('StompClient beforeConnect', () => {
  it('runs (async) before every attempt and may change credentials', async () => {
    let n = 0;
    const t = makeClient({
      beforeConnect: async (client) => {
        n += 1;
        await flush();
        client.passcode = `token-${n}`;
      },
    });
    t.client.activate();
    assert.equal(t.sockets.length, 0);
    await flush();
    await flush();
    t.socket().open();
    assert.equal(t.socket().last().headers.passcode, 'token-1');
    t.socket().serverClose(1006);
    t.clock.advance(t.states.at(-1).delayMs);
    await flush();
    await flush();
    t.socket().open();
    assert.equal(t.socket().last().headers.passcode, 'token-2');
  });

  it('may call deactivate, and then no socket is opened', async () => {
    const t = makeClient({ beforeConnect: (client) => client.deactivate() });
    t.client.activate();
    await flush();
    assert.equal(t.sockets.length, 0);
    assert.equal(t.client.state, 'disconnected');
  });

  it('deactivate during beforeConnect wins', async () => {
    const t = makeClient({ beforeConnect: () => flush() });
    t.client.activate();
    t.client.activate(); // still one attempt
    await t.client.deactivate();
    await flush();
    await flush();
    assert.equal(t.sockets.length, 0);
  });

  it('a failing beforeConnect counts as a failed attempt', async () => {
    let fail = true;
    const t = makeClient({
      beforeConnect: () => {
        if (fail) throw new Error('no token');
      },
    });
    t.client.activate();
    await flush();
    assert.equal(t.errors.at(-1).cause.message, 'no token');
    assert.equal(t.client.state, 'reconnecting');
    fail = false;
    t.clock.advance(t.states.at(-1).delayMs);
    await flush();
    assert.equal(t.sockets.length, 1);
  });
});

describe('StompClient suspend/resume (a page in the back/forward cache)', () => {
  const message = (sub, ack) => brokerFrame('MESSAGE', { subscription: sub, destination: '/amq/queue/a', 'message-id': ack, ack }, 'x');

  it('drops the socket, opens none while suspended, and reconnects and resubscribes on resume', () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    const got = [];
    const sub = t.client.subscribe('/amq/queue/a', (m) => got.push(m), { ack: 'client-individual' });
    t.socket().receive(message(sub.id, 'T_1'));
    t.client.suspend();
    assert.equal(t.sockets[0].closed, true);
    assert.equal(t.client.state, 'disconnected');
    assert.equal(t.clock.pending, 0); // no reconnect timer while hidden
    t.client.activate(); // e.g. a banner button: still nothing until resume
    assert.equal(t.sockets.length, 1);
    // A message taken in before the page was hidden is not acknowledged on a dead socket.
    assert.equal(got[0].ack(), false);
    t.client.resume();
    assert.equal(t.sockets.length, 2);
    t.connect();
    assert.equal(t.client.state, 'connected');
    assert.deepEqual(t.socket().framesOf('SUBSCRIBE').map((f) => f.headers.id), [sub.id]);
    assert.equal(t.sockets[0].framesOf('ACK').length + t.sockets[1].framesOf('ACK').length, 0);
  });

  it('fails unconfirmed sends as connection-lost when suspended, and refuses sends while hidden', async () => {
    const t = makeClient();
    t.client.activate();
    t.connect();
    const unconfirmed = t.client.send('/q', 'before');
    t.client.suspend();
    await assert.rejects(unconfirmed, { code: 'connection-lost' });
    await assert.rejects(t.client.send('/q', 'while hidden'), { code: 'not-connected' });
    const back = t.client.whenConnected();
    t.client.resume();
    t.connect();
    await back;
    assert.equal(t.socket().framesOf('SEND').length, 0);
  });

  it('resume does nothing unless suspended, and nothing for an inactive client', () => {
    const t = makeClient();
    t.client.resume();
    assert.equal(t.sockets.length, 0);
    t.client.suspend();
    t.client.resume();
    assert.equal(t.sockets.length, 0);
    t.client.activate();
    t.connect();
    t.client.resume();
    assert.equal(t.sockets.length, 1);
    assert.equal(t.client.state, 'connected');
  });
});
