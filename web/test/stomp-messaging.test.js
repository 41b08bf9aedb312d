// StompClient: subscribe/ack/nack, send with receipts, request/reply, no outbox, ERROR, "STOMP died".

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { brokerFrame, flush, makeClient } from './support/fakes.js';

function connected(options) {
  const t = makeClient(options);
  t.client.activate();
  t.connect();
  return t;
}

const message = (subscription, headers = {}, body = '') =>
  brokerFrame('MESSAGE', { subscription, destination: '/amq/queue/q', 'message-id': 'm1', ...headers }, body);

/** Records how a promise settled, without awaiting it. */
function track(promise) {
  const result = { settled: false };
  promise.then(
    (value) => Object.assign(result, { settled: true, value }),
    (error) => Object.assign(result, { settled: true, error }),
  );
  return result;
}

describe('StompClient subscriptions', () => {
  it('sends SUBSCRIBE with id, ack mode, prefetch and extra headers', () => {
    const t = connected();
    const sub = t.client.subscribe('/amq/queue/chat.user.alice.s1', () => {}, {
      ack: 'client-individual',
      prefetch: 10,
      headers: { 'x-stream-offset': 'first', id: 'ignored' },
    });
    const frame = t.socket().last();
    assert.equal(frame.command, 'SUBSCRIBE');
    assert.equal(frame.headers.id, sub.id);
    assert.equal(frame.headers.destination, '/amq/queue/chat.user.alice.s1');
    assert.equal(frame.headers.ack, 'client-individual');
    assert.equal(frame.headers['prefetch-count'], '10');
    assert.equal(frame.headers['x-stream-offset'], 'first');
    assert.ok(frame.headers.receipt);
  });

  it('subscribes made before connecting go out on CONNECTED', () => {
    const t = makeClient();
    t.client.subscribe('/amq/queue/a', () => {});
    t.client.activate();
    t.connect();
    assert.deepEqual(t.socket().framesOf('SUBSCRIBE').map((f) => f.headers.destination), ['/amq/queue/a']);
  });

  it('delivers messages to the right handler, as text and bytes', () => {
    const t = connected();
    const got = { a: [], b: [] };
    const a = t.client.subscribe('/amq/queue/a', (m) => got.a.push(m));
    const b = t.client.subscribe('/amq/queue/b', (m) => got.b.push(m));
    t.socket().receive(message(a.id, { 'content-length': '7' }, 'héllo!'));
    t.socket().receive(message(b.id, {}, 'two'));
    t.socket().receive(message('sub-unknown', {}, 'lost'));
    assert.equal(got.a.length, 1);
    assert.equal(got.a[0].body, 'héllo!');
    assert.equal(got.a[0].binaryBody.length, 7);
    assert.equal(got.a[0].subscription, a.id);
    assert.equal(got.b[0].body, 'two');
  });

  it('acks and nacks with the MESSAGE ack header as id', () => {
    const t = connected();
    const got = [];
    const sub = t.client.subscribe('/amq/queue/a', (m) => got.push(m), { ack: 'client-individual' });
    t.socket().receive(message(sub.id, { ack: 'T_1', 'message-id': 'other' }));
    t.socket().receive(message(sub.id, { ack: 'T_2' }));
    assert.equal(got[0].ack(), true);
    assert.equal(got[1].nack({ requeue: 'false' }), true);
    const [ack] = t.socket().framesOf('ACK');
    const [nack] = t.socket().framesOf('NACK');
    assert.deepEqual({ ...ack.headers }, { id: 'T_1' });
    assert.deepEqual({ ...nack.headers }, { requeue: 'false', id: 'T_2' });
  });

  it('refuses to ack a message without an ack header', () => {
    const t = connected();
    let msg;
    const sub = t.client.subscribe('/amq/queue/a', (m) => (msg = m));
    t.socket().receive(message(sub.id));
    assert.throws(() => msg.ack(), TypeError);
  });

  it('does not ack a message from a previous connection', () => {
    const t = connected();
    let msg;
    const sub = t.client.subscribe('/amq/queue/a', (m) => (msg = m), { ack: 'client' });
    t.socket().receive(message(sub.id, { ack: 'T_1' }));
    t.socket().serverClose(1006);
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    assert.equal(msg.ack(), false);
    assert.equal(t.socket().framesOf('ACK').length, 0);
  });

  it('keeps delivering when a handler throws or rejects, and reports it', async () => {
    const t = connected();
    const seen = [];
    const sub = t.client.subscribe('/amq/queue/a', (m) => {
      seen.push(m.body);
      if (m.body === 'boom') throw new Error('handler bug');
      if (m.body === 'async') return Promise.reject(new Error('async bug'));
      return undefined;
    });
    t.socket().receive(message(sub.id, {}, 'boom') + message(sub.id, {}, 'async') + message(sub.id, {}, 'fine'));
    await flush();
    assert.deepEqual(seen, ['boom', 'async', 'fine']);
    assert.deepEqual(t.errors.map((e) => [e.code, e.cause.message]), [
      ['handler-failed', 'handler bug'],
      ['handler-failed', 'async bug'],
    ]);
    assert.equal(t.client.state, 'connected');
  });

  it('a throwing error listener does not break the client', () => {
    const t = connected();
    t.client.on('error', () => {
      throw new Error('listener bug');
    });
    const sub = t.client.subscribe('/amq/queue/a', () => {
      throw new Error('x');
    });
    t.socket().receive(message(sub.id));
    assert.equal(t.client.state, 'connected');
  });

  it('unsubscribe sends UNSUBSCRIBE and stops delivery', () => {
    const t = connected();
    const got = [];
    const sub = t.client.subscribe('/amq/queue/a', (m) => got.push(m));
    sub.unsubscribe();
    sub.unsubscribe();
    assert.deepEqual(t.socket().framesOf('UNSUBSCRIBE').map((f) => ({ ...f.headers })), [{ id: sub.id }]);
    t.socket().receive(message(sub.id));
    assert.equal(got.length, 0);
  });

  it('re-subscribes every active subscription after a reconnect, with the same ids, each once the one before is confirmed', () => {
    const t = connected();
    const a = t.client.subscribe('/amq/queue/a', () => {}, { ack: 'client', prefetch: 5 });
    const b = t.client.subscribe('/amq/queue/b', () => {});
    const c = t.client.subscribe('/amq/queue/c', () => {});
    c.unsubscribe();
    t.socket().serverClose(1006);
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    assert.deepEqual(t.socket().framesOf('SUBSCRIBE').map((f) => f.headers.id), [a.id], 'one unconfirmed at a time');
    t.socket().receive(brokerFrame('RECEIPT', { 'receipt-id': t.socket().framesOf('SUBSCRIBE')[0].headers.receipt }));
    const subs = t.socket().framesOf('SUBSCRIBE');
    assert.deepEqual(subs.map((f) => [f.headers.id, f.headers.destination]), [
      [a.id, '/amq/queue/a'],
      [b.id, '/amq/queue/b'],
    ]);
    assert.equal(subs[0].headers['prefetch-count'], '5');
    assert.equal(subs[0].headers.ack, 'client');
  });

  it('asks a headers function at every SUBSCRIBE, so a renewal carries what changed meanwhile', () => {
    const t = connected();
    let offset = 'next';
    const sub = t.client.subscribe('/amq/queue/chat.stream.general', () => {}, {
      ack: 'client',
      prefetch: 100,
      headers: () => ({ 'x-stream-offset': offset, ack: 'auto', id: 'ignored' }),
    });
    assert.equal(t.socket().last().headers['x-stream-offset'], 'next');
    offset = 'offset=43';
    t.socket().serverClose(1006);
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    const [renewed] = t.socket().framesOf('SUBSCRIBE');
    assert.deepEqual([renewed.headers.id, renewed.headers['x-stream-offset']], [sub.id, 'offset=43']);
    assert.deepEqual([renewed.headers.ack, renewed.headers['prefetch-count']], ['client', '100'], 'the options win');
    assert.equal(sub.headers['x-stream-offset'], 'offset=43');
  });

  it('refuses to SUBSCRIBE to a /temp-queue/', () => {
    const t = connected();
    assert.throws(() => t.client.subscribe('/temp-queue/x', () => {}), TypeError);
  });
});

describe('StompClient send and receipts', () => {
  it('sends with a receipt and resolves on the RECEIPT', async () => {
    const t = connected();
    const result = track(t.client.send('/amq/queue/chat.inbox', '{"text":"hi"}', { 'content-type': 'application/json' }));
    const frame = t.socket().last();
    assert.equal(frame.command, 'SEND');
    assert.equal(frame.headers.destination, '/amq/queue/chat.inbox');
    assert.equal(frame.headers['content-type'], 'application/json');
    assert.equal(frame.body, '{"text":"hi"}');
    await flush();
    assert.equal(result.settled, false);
    t.receipt('SEND');
    await flush();
    assert.equal(result.value.command, 'RECEIPT');
  });

  it('sends binary bodies as binary frames', () => {
    const t = connected();
    t.client.send('/q', new Uint8Array([1, 0, 2])).catch(() => {});
    const raw = t.socket().sent.at(-1);
    assert.ok(raw instanceof Uint8Array);
    assert.deepEqual([...t.socket().last().binaryBody], [1, 0, 2]);
  });

  it('rejects on receipt timeout', async () => {
    const t = connected({ receiptTimeoutMs: 3000 });
    const sent = t.client.send('/q', 'x');
    t.clock.advance(3000);
    await assert.rejects(sent, { code: 'receipt-timeout', operation: 'SEND /q' });
  });

  it('rejects pending receipts on an ERROR frame and surfaces it', async () => {
    const t = connected();
    const first = t.client.send('/q1', 'x');
    const second = t.client.send('/q2', 'y');
    const receipt = t.socket().framesOf('SEND')[1].headers.receipt;
    t.socket().receive(brokerFrame('ERROR', { message: 'not_found', 'receipt-id': receipt }, 'NOT_FOUND - no queue q2'));
    const error = t.errors.at(-1);
    assert.equal(error.code, 'broker-error');
    assert.equal(error.headers.message, 'not_found');
    assert.equal(error.body, 'NOT_FOUND - no queue q2');
    assert.equal(error.operation, 'SEND /q2');
    assert.match(error.message, /not_found: NOT_FOUND - no queue q2/);
    await assert.rejects(first, { code: 'broker-error' });
    await assert.rejects(second, { code: 'broker-error' });
    assert.equal(t.sockets[0].closed, true);
    assert.equal(t.client.state, 'reconnecting');
  });

  it('rejects pending receipts when the connection is lost', async () => {
    const t = connected();
    const sent = t.client.send('/q', 'x');
    t.socket().serverClose(1006);
    await assert.rejects(sent, { code: 'connection-lost' });
  });
});

describe('StompClient without a connection', () => {
  it('keeps no outbox: a send while disconnected is refused at once with not-connected, and never sent later', async () => {
    const t = connected();
    t.socket().serverClose(1006);
    await assert.rejects(t.client.send('/q', 'one'), { code: 'not-connected', operation: 'SEND /q' });
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    assert.equal(t.socket().framesOf('SEND').length, 0);
  });

  it('refuses a send before the first connect', async () => {
    const t = makeClient();
    await assert.rejects(t.client.send('/q', 'early'), { code: 'not-connected' });
    t.client.activate();
    t.connect();
    assert.deepEqual(t.socket().frames().map((f) => f.command), ['CONNECT']);
  });

  it('whenConnected resolves on CONNECTED, at once when connected, and fails on timeout or a refused login', async () => {
    const t = makeClient();
    const first = track(t.client.whenConnected({ timeoutMs: 5000 }));
    t.client.activate();
    await flush();
    assert.equal(first.settled, false);
    t.connect();
    await flush();
    assert.equal(first.settled, true);
    await t.client.whenConnected();
    t.socket().serverClose(1006);
    const timedOut = t.client.whenConnected({ timeoutMs: 100 });
    t.clock.advance(100);
    await assert.rejects(timedOut, { code: 'connect-timeout' });

    const refused = makeClient();
    const waiting = refused.client.whenConnected();
    refused.client.activate();
    refused.socket().open();
    refused.socket().receive(brokerFrame('ERROR', { message: 'Bad CONNECT' }));
    await assert.rejects(waiting, { code: 'auth-failed' });
  });
});

describe('StompClient request/reply', () => {
  it('sends reply-to and correlation-id without a SUBSCRIBE and resolves on the matching reply', async () => {
    const t = connected();
    const first = track(t.client.request('/amq/queue/chat.login', '{"action":"login"}'));
    const second = track(t.client.request('/amq/queue/chat.login', '{"action":"logout"}'));
    const [s1, s2] = t.socket().framesOf('SEND');
    assert.equal(s1.headers['reply-to'], '/temp-queue/replies');
    assert.ok(s1.headers['correlation-id']);
    assert.notEqual(s1.headers['correlation-id'], s2.headers['correlation-id']);
    assert.equal(t.socket().framesOf('SUBSCRIBE').length, 0);
    const reply = (cid, body) =>
      brokerFrame('MESSAGE', { subscription: '/temp-queue/replies', destination: '/queue/amq.gen-x', 'message-id': 'r', 'correlation-id': cid }, body);
    t.socket().receive(reply('someone-else', 'stray'));
    t.socket().receive(reply(s2.headers['correlation-id'], 'second'));
    t.socket().receive(reply(s1.headers['correlation-id'], 'first'));
    await flush();
    assert.equal(first.value.body, 'first');
    assert.equal(second.value.body, 'second');
    assert.equal(t.errors.length, 0);
  });

  it('expires in the broker when the asker stops waiting', () => {
    const t = connected();
    t.client.request('/q', 'x', { timeoutMs: 1500 }).catch(() => {});
    assert.equal(t.socket().last().headers.expiration, '1500');
    t.client.request('/q', 'y', { timeoutMs: 1500, headers: { expiration: '200' } }).catch(() => {});
    assert.equal(t.socket().last().headers.expiration, '200');
  });

  it('uses the configured reply queue name', () => {
    const t = connected({ replyQueue: 'tab-42' });
    t.client.request('/q', '').catch(() => {});
    assert.equal(t.socket().last().headers['reply-to'], '/temp-queue/tab-42');
  });

  it('times out, and a late reply is dropped', async () => {
    const t = connected();
    const asked = t.client.request('/q', 'x', { timeoutMs: 500 });
    const cid = t.socket().last().headers['correlation-id'];
    t.clock.advance(500);
    await assert.rejects(asked, { code: 'request-timeout' });
    t.socket().receive(brokerFrame('MESSAGE', { subscription: '/temp-queue/replies', 'correlation-id': cid }, 'late'));
    assert.equal(t.client.state, 'connected');
  });

  it('is rejected when the connection carrying it is lost', async () => {
    const t = connected();
    const asked = t.client.request('/q', 'x');
    t.receipt('SEND'); // the broker took it; the reply would come to the dead temp queue
    await flush();
    t.socket().serverClose(1006);
    await assert.rejects(asked, { code: 'connection-lost' });
  });

  it('is refused at once while disconnected, and not sent later', async () => {
    const t = makeClient();
    await assert.rejects(t.client.request('/q', 'x', { timeoutMs: 1000 }), { code: 'not-connected' });
    assert.equal(t.clock.pending, 0);
    t.client.activate();
    t.connect();
    assert.equal(t.socket().framesOf('SEND').length, 0);
  });
});

describe('StompClient and "STOMP died"', () => {
  it('names the refused SEND, rejects it and reconnects', async () => {
    const t = connected();
    const ok = t.client.send('/amq/queue/chat.inbox', 'fine');
    t.receipt('SEND');
    const refused = t.client.send('/amq/queue/nope', 'x');
    t.socket().serverClose(1000, 'STOMP died');
    assert.equal((await ok).command, 'RECEIPT');
    await assert.rejects(refused, { code: 'stomp-died', operation: 'SEND /amq/queue/nope' });
    const error = t.errors.at(-1);
    assert.equal(error.code, 'stomp-died');
    assert.match(error.message, /STOMP died.*SEND \/amq\/queue\/nope/);
    assert.equal(error.closeCode, 1000);
    assert.equal(t.client.state, 'reconnecting');
    t.clock.advance(t.states.at(-1).delayMs);
    assert.equal(t.sockets.length, 2);
  });

  it('blames the first unconfirmed SUBSCRIBE and drops it after repeated refusals', () => {
    const t = connected({ maxSubscribeFailures: 2 });
    const subErrors = [];
    const good = t.client.subscribe('/amq/queue/good', () => {});
    t.receipt('SUBSCRIBE');
    const bad = t.client.subscribe('/amq/queue/missing', () => {}, { onError: (e) => subErrors.push(e) });
    t.socket().serverClose(1000, 'STOMP died');
    assert.equal(t.errors.at(-1).operation, `SUBSCRIBE /amq/queue/missing (id ${bad.id})`);
    assert.equal(bad.active, true);
    // reconnect: both are renewed, the bad one once the good one is confirmed; it kills the socket again
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    const [g] = t.socket().framesOf('SUBSCRIBE');
    assert.equal(g.headers.id, good.id);
    t.socket().receive(brokerFrame('RECEIPT', { 'receipt-id': g.headers.receipt }));
    const [, b] = t.socket().framesOf('SUBSCRIBE');
    assert.equal(b.headers.id, bad.id);
    t.socket().serverClose(1000, 'STOMP died');
    assert.equal(bad.active, false);
    assert.equal(subErrors[0].code, 'subscribe-refused');
    assert.ok(t.errors.some((e) => e.code === 'subscribe-refused'));
    // the next connection renews only the good one
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    assert.deepEqual(t.socket().framesOf('SUBSCRIBE').map((f) => f.headers.id), [good.id]);
  });

  it('renewing, blames the SUBSCRIBE sent last, not an earlier one whose RECEIPT is slow (a stream\'s)', () => {
    const t = connected({ maxSubscribeFailures: 2 });
    const stream = t.client.subscribe('/amq/queue/chat.stream.general', () => {});
    t.receipt('SUBSCRIBE');
    const lost = t.client.subscribe('/amq/queue/chat.user.alice.S', () => {});
    t.receipt('SUBSCRIBE');
    t.socket().serverClose(1006); // the node goes, and the tab queue with it
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    assert.deepEqual(t.socket().framesOf('SUBSCRIBE').map((f) => f.headers.id), [stream.id], 'the lost queue waits for the stream');
    t.clock.advance(1000); // the stream's RECEIPT is slow ...
    t.socket().receive(brokerFrame('RECEIPT', { 'receipt-id': t.socket().framesOf('SUBSCRIBE')[0].headers.receipt }));
    t.socket().serverClose(1000, 'STOMP died'); // ... and then the lost queue's SUBSCRIBE kills the socket
    assert.equal(t.errors.at(-1).operation, `SUBSCRIBE /amq/queue/chat.user.alice.S (id ${lost.id})`);
    assert.equal(stream.failures, 0);
  });

  it('a confirmed SUBSCRIBE starts its refusal count again', () => {
    const t = connected({ maxSubscribeFailures: 2 });
    const sub = t.client.subscribe('/amq/queue/flaky', () => {});
    t.socket().serverClose(1000, 'STOMP died');
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    t.receipt('SUBSCRIBE');
    assert.equal(sub.failures, 0);
  });

  it('falls back to the last operation sent when every frame was confirmed', () => {
    const t = connected();
    let msg;
    const sub = t.client.subscribe('/amq/queue/s', (m) => (msg = m), { ack: 'client' });
    t.receipt('SUBSCRIBE');
    t.socket().receive(message(sub.id, { ack: 'A1' }));
    msg.nack();
    t.socket().serverClose(1000, 'STOMP died');
    assert.equal(t.errors.at(-1).operation, 'NACK (id A1)');
    assert.equal(sub.active, true);
  });

  it('does not blame an ACK when the broker closes the connection itself (close_all_connections)', () => {
    // Seen on RabbitMQ 3.10: a forced close arrives as 1000 "STOMP died", often right after an
    // ACK of a message from that same connection; the broker refused nothing.
    const t = connected({ maxSubscribeFailures: 1 });
    const got = [];
    const sub = t.client.subscribe('/amq/queue/s', (m) => got.push(m), { ack: 'client-individual' });
    t.receipt('SUBSCRIBE');
    t.socket().receive(message(sub.id, { ack: 'T_sub-3@@session-old@@208' }));
    assert.equal(got[0].ack(), true);
    t.socket().serverClose(1000, 'STOMP died');
    const error = t.errors.at(-1);
    assert.equal(error.code, 'stomp-died');
    assert.equal(error.operation, undefined);
    assert.doesNotMatch(error.message, /refusing ACK/);
    assert.match(error.message, /closed by the broker/);
    assert.equal(sub.active, true);
    // The next connection renews the subscription and sends no ACK of the old delivery.
    t.clock.advance(t.states.at(-1).delayMs);
    t.connect();
    assert.equal(got[0].ack(), false);
    assert.deepEqual(t.socket().framesOf('SUBSCRIBE').map((f) => f.headers.id), [sub.id]);
    assert.equal(t.socket().framesOf('ACK').length, 0);
  });

  it('acknowledges a message once: a second ACK or NACK would be refused, so it is not sent', () => {
    const t = connected();
    let msg;
    const sub = t.client.subscribe('/amq/queue/s', (m) => (msg = m), { ack: 'client-individual' });
    t.socket().receive(message(sub.id, { ack: 'A1' }));
    assert.equal(msg.ack(), true);
    assert.equal(msg.ack(), false);
    assert.equal(msg.nack(), false);
    assert.equal(t.socket().framesOf('ACK').length, 1);
    assert.equal(t.socket().framesOf('NACK').length, 0);
  });

  it('a plain close 1000 is not "STOMP died"', () => {
    const t = connected();
    t.socket().serverClose(1000, '');
    assert.equal(t.errors.length, 0);
    assert.equal(t.states.at(-1).error.code, 'connection-lost');
  });
});
