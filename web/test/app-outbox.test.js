import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { OUTBOX_LIMIT, Outbox, describeSendError } from '../outbox.js';
import { Room } from '../room.js';
import { FakeClock } from './support/fakes.js';

const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup({ connected = true } = {}) {
  const room = new Room();
  room.me = 'alice';
  const clock = new FakeClock();
  const sends = [];
  let ids = 0;
  const world = { connected };
  const transport = {
    get connected() {
      return world.connected;
    },
    send: (payload) => new Promise((resolve, reject) => sends.push({ payload, resolve, reject })),
  };
  const outbox = new Outbox({
    room,
    clock,
    transport,
    identity: () => ({ login: 'alice', session: 'S'.repeat(22) }),
    newClientId: () => `c${++ids}`,
  });
  return { room, clock, sends, outbox, world };
}

const lost = () => Object.assign(new Error('socket closed'), { code: 'connection-lost' });

describe('Outbox', () => {
  it('lists the posts the broker has not confirmed, and takes them back on a new page under their clientIds', async () => {
    const first = setup({ connected: false });
    const queued = first.outbox.post('written offline');
    first.world.connected = true;
    const sent = first.outbox.post('sent, no receipt yet');
    const confirmed = first.outbox.post('confirmed');
    await flush();
    first.sends[1].resolve(); // the queued one was never handed to the client
    await flush();
    const kept = first.outbox.unconfirmed();
    assert.deepEqual(kept, [
      { clientId: queued, text: 'written offline', proof: false },
      { clientId: sent, text: 'sent, no receipt yet', proof: false },
    ]);
    assert.equal(first.room.pending(confirmed).pending.status, 'sent');

    const next = setup(); // the page after a reload
    assert.equal(next.outbox.restore(kept), 2);
    assert.equal(next.outbox.restore(kept), 0); // already pending: not twice
    await flush();
    assert.deepEqual(next.sends.map((s) => s.payload.clientId), [queued, sent]);
    next.room.receive({ id: 'e1', kind: 'message', from: 'alice', text: 'written offline', at: '', clientId: queued });
    assert.equal(next.room.pending(queued), undefined);
  });

  it('sends again the posts the broker took that the room never echoed (after a login again for a lost tab queue)', async () => {
    const { room, sends, outbox } = setup();
    const taken = outbox.post('taken, then refused for a queue that was gone');
    const echoed = outbox.post('echoed');
    await flush();
    for (const s of sends) s.resolve();
    await flush();
    room.receive({ id: 'e1', kind: 'message', from: 'alice', text: 'echoed', at: '', clientId: echoed });
    outbox.resendUnechoed();
    await flush();
    assert.deepEqual(sends.slice(2).map((s) => s.payload.clientId), [taken]);
    assert.equal(room.pending(taken).pending.status, 'sending');
    sends[2].resolve();
    await flush();
    room.receive({ id: 'e2', kind: 'message', from: 'alice', text: 'taken, then refused for a queue that was gone', at: '', clientId: taken });
    assert.equal(room.pending(taken), undefined);
    outbox.resendUnechoed();
    await flush();
    assert.equal(sends.length, 3, 'nothing left to send again');
  });

  it('sends again after a login again a post that failed because the connection dropped under both sends', async () => {
    const { room, clock, sends, outbox } = setup();
    const dropped = outbox.post('dropped twice');
    await flush();
    sends[0].reject(lost());
    await flush();
    clock.advance(1500);
    await flush();
    sends[1].reject(lost());
    await flush();
    assert.equal(room.pending(dropped).pending.status, 'failed');
    outbox.resendUnechoed();
    await flush();
    assert.deepEqual(sends.map((s) => s.payload.clientId), [dropped, dropped, dropped]);
    sends[2].reject(Object.assign(new Error('refused'), { code: 'broker-error' }));
    await flush();
    outbox.resendUnechoed();
    await flush();
    assert.equal(room.pending(dropped).pending.status, 'failed');
    assert.equal(sends.length, 3, 'a post the broker refused is not sent again');
  });

  it('sends the post with its clientId, login and session, and marks it sent on RECEIPT', async () => {
    const { room, sends, outbox } = setup();
    const clientId = outbox.post('hello');
    await flush();
    assert.deepEqual(sends[0].payload, { text: 'hello', clientId, login: 'alice', session: 'S'.repeat(22) });
    assert.equal(room.pending(clientId).pending.status, 'sending');
    sends[0].resolve();
    await flush();
    assert.equal(room.pending(clientId).pending.status, 'sent');
    room.receive({ id: 'e1', kind: 'message', from: 'alice', text: 'hello', at: '', clientId });
    assert.equal(room.pendingCount, 0);
  });

  it('holds posts written while disconnected (waiting), and sends them once, in order, when connected', async () => {
    const { room, sends, outbox, world } = setup({ connected: false });
    const first = outbox.post('later');
    const second = outbox.post('later still');
    await flush();
    assert.equal(room.pending(first).pending.status, 'queued');
    assert.equal(sends.length, 0); // nothing goes to the STOMP client while disconnected
    world.connected = true;
    outbox.connected();
    assert.equal(room.pending(first).pending.status, 'sending');
    await flush();
    assert.deepEqual(sends.map((s) => s.payload.text), ['later', 'later still']);
    sends[0].resolve();
    sends[1].resolve();
    await flush();
    assert.equal(room.pending(first).pending.status, 'sent');
    assert.equal(room.pending(second).pending.status, 'sent');
    outbox.connected(); // another reconnect sends nothing again
    await flush();
    assert.equal(sends.length, 2);
  });

  it('holds a post the client refused as not connected, without counting it as an attempt', async () => {
    const { room, sends, outbox, world } = setup();
    const a = outbox.post('raced the disconnect');
    await flush();
    world.connected = false;
    sends[0].reject(Object.assign(new Error('not connected'), { code: 'not-connected' }));
    await flush();
    assert.equal(room.pending(a).pending.status, 'queued');
    world.connected = true;
    outbox.connected();
    await flush();
    sends[1].reject(lost());
    await flush();
    assert.equal(room.pending(a).pending.status, 'queued', 'one real attempt so far: it is sent again');
  });

  it('sends a post whose RECEIPT was lost once more, after reconnecting, unless the room has it', async () => {
    const { room, clock, sends, outbox, world } = setup();
    const a = outbox.post('a');
    const b = outbox.post('b');
    await flush();
    world.connected = false;
    sends[0].reject(lost());
    sends[1].reject(lost());
    await flush();
    assert.equal(room.pending(a).pending.status, 'queued');
    world.connected = true;
    outbox.connected();
    room.receive({ id: 'e1', kind: 'message', from: 'alice', text: 'a', at: '', clientId: a }); // a did get through
    clock.advance(1500);
    await flush();
    assert.deepEqual(sends.slice(2).map((s) => s.payload.clientId), [b]);
    sends[2].reject(lost()); // second loss: give up, let the person decide
    await flush();
    assert.equal(room.pending(b).pending.status, 'failed');
    assert.match(room.pending(b).pending.error, /connection was lost/);
  });

  it('retries a failed post by hand, and dismisses one', async () => {
    const { room, sends, outbox } = setup();
    const a = outbox.post('a');
    await flush();
    sends[0].reject(Object.assign(new Error('refused'), { code: 'broker-error' }));
    await flush();
    assert.equal(room.pending(a).pending.status, 'failed');
    outbox.retry(a);
    await flush();
    assert.equal(sends.length, 2);
    assert.equal(sends[1].payload.clientId, a);
    sends[1].resolve();
    await flush();
    assert.equal(room.pending(a).pending.status, 'sent');
    outbox.dismiss(a);
    assert.equal(room.pending(a), undefined);
  });

  it('leaves a refused post refused even if its RECEIPT comes later', async () => {
    const { room, sends, outbox } = setup();
    const a = outbox.post('a');
    await flush();
    room.receive({ id: 'x', kind: 'error', from: 'warren', text: 'nope', at: '', inReplyTo: a });
    sends[0].resolve();
    await flush();
    assert.equal(room.pending(a).pending.status, 'refused');
  });

  it('ignores failures after logout', async () => {
    const { room, sends, outbox } = setup();
    const a = outbox.post('a');
    await flush();
    sends[0].reject(Object.assign(new Error('bye'), { code: 'deactivated' }));
    await flush();
    assert.equal(room.pending(a).pending.status, 'sending');
  });

  it('refuses posts beyond the pending limit', () => {
    const { room, outbox } = setup();
    room.pendingLimit = 1;
    outbox.post('a');
    assert.throws(() => outbox.post('b'), RangeError);
  });

  it('holds at most OUTBOX_LIMIT posts while disconnected', () => {
    const { room, outbox, sends } = setup({ connected: false });
    room.pendingLimit = OUTBOX_LIMIT;
    for (let i = 0; i < OUTBOX_LIMIT; i += 1) outbox.post(`p${i}`);
    assert.throws(() => outbox.post('one too many'), RangeError);
    assert.equal(outbox.unconfirmed().length, OUTBOX_LIMIT);
    assert.equal(sends.length, 0);
  });

  it('explains send errors', () => {
    assert.match(describeSendError({ code: 'receipt-timeout' }), /may or may not/);
    assert.match(describeSendError({ code: 'broker-error', message: 'broker error: access refused' }), /refused it: broker error/);
    assert.equal(describeSendError({ code: 'other', message: 'x' }), 'x');
    assert.equal(describeSendError(undefined), 'It could not be sent.');
  });
});
