// RoomFeed: live deliveries (single events and backfill bundles), history pages, proof checks,
// and acknowledgement after drawing, never on a later connection.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { HistoryLoader } from '../history.js';
import { verifyProof } from '../proof.js';
import { Room } from '../room.js';
import { RoomFeed } from '../room-feed.js';
import { flush } from './support/fakes.js';
import { provenEvent } from './support/proofs.js';

const id = (n) => `01JF${String(n).padStart(22, '0')}`;
const event = (n, fields) => ({ id: id(n), kind: 'message', from: 'bob', text: `t${n}`, at: '2026-11-23T11:20:00.123Z', ...fields });
const quiet = { warn: () => {} };

/** A delivered STOMP message stand-in that records its ACKs. */
function delivery(value) {
  const message = { body: typeof value === 'string' ? value : JSON.stringify(value), acks: 0 };
  message.ack = () => {
    message.acks += 1;
    return true;
  };
  return message;
}

function setup(options = {}) {
  const room = new Room({ limit: 500 });
  let changes = 0;
  const feed = new RoomFeed({ room, verifyProof, minBits: () => 4, onChange: () => (changes += 1), log: quiet, ...options });
  return { room, feed, changes: () => changes };
}

/** Waits (WebCrypto works off the main thread) until no proof in the room is being checked. */
async function settled(room) {
  const checking = () => room.entries().some((e) => e.proofCheck?.status === 'checking');
  for (let waited = 0; checking() && waited < 2000; waited += 5) await new Promise((r) => setTimeout(r, 5));
  await flush();
}

describe('RoomFeed', () => {
  it('takes in a single event, and acknowledges it only once it is drawn', () => {
    const { room, feed, changes } = setup();
    const message = delivery(event(1));
    feed.delivered(message);
    assert.equal(room.size, 1);
    assert.equal(changes(), 1);
    assert.equal(message.acks, 0);
    feed.drawn();
    assert.equal(message.acks, 1);
    feed.drawn();
    assert.equal(message.acks, 1);
  });

  it('takes in without acknowledging (the stream reader acks its own way), dropping what `keep` refuses', () => {
    const { room, feed, changes } = setup();
    const message = delivery(event(1));
    feed.takeIn(message.body);
    feed.takeIn(JSON.stringify(event(2)), { keep: (value) => value.id !== id(2) });
    feed.takeIn(JSON.stringify({ kind: 'backfill', events: [event(2), event(3)] }), { keep: () => false });
    assert.deepEqual(room.entries().map((e) => e.event.id), [id(1), id(2), id(3)], 'keep judges single events only');
    assert.equal(changes(), 3);
    feed.drawn();
    assert.equal(message.acks, 0);
  });

  it('shows general only: events of other rooms and typing or rooms notices are taken in but not shown', () => {
    const { room, feed } = setup();
    const others = [event(1, { room: 'ops' }), event(2, { kind: 'typing' }), event(3, { kind: 'rooms', room: 'ops' })];
    const messages = others.map(delivery);
    for (const message of messages) feed.delivered(message);
    feed.delivered(delivery(event(4, { room: 'general' })));
    feed.delivered(delivery({ kind: 'backfill', events: [event(5, { room: 'dm.5.alice.carol' }), event(6)] }));
    assert.deepEqual(room.entries().map((e) => e.event.id), [id(4), id(6)]);
    feed.drawn();
    assert.deepEqual(messages.map((m) => m.acks), [1, 1, 1]);
  });

  it('takes in a backfill bundle, each event like a live one, de-duplicated by id, acknowledged once', async () => {
    const { room, feed } = setup();
    feed.delivered(delivery(event(3))); // live, before the backfill arrived
    const proof = provenEvent(id(2), 'proven');
    const bundle = delivery({ kind: 'backfill', events: [event(1), proof, event(3)] });
    feed.delivered(bundle);
    assert.deepEqual(room.entries().map((e) => e.event.id), [id(1), id(2), id(3)]);
    feed.drawn();
    assert.equal(bundle.acks, 1);
    await settled(room);
    assert.equal(room.event(id(2)).proofCheck.status, 'verified');
  });

  it('still accepts an empty backfill, and drops (but acknowledges) what it cannot read', () => {
    const { room, feed } = setup();
    const empty = delivery({ kind: 'backfill', events: [] });
    const garbage = delivery('not json');
    const odd = delivery({ kind: 'message' });
    for (const m of [empty, garbage, odd]) feed.delivered(m);
    assert.equal(room.size, 0);
    feed.drawn();
    assert.deepEqual([empty.acks, garbage.acks, odd.acks], [1, 1, 1]);
  });

  it('checks a live proof and marks a bad one invalid', async () => {
    const { room, feed } = setup();
    const good = provenEvent(id(1), 'good');
    const bad = { ...provenEvent(id(2), 'bad'), text: 'changed after proving' };
    feed.delivered(delivery(good));
    feed.delivered(delivery(bad));
    assert.equal(room.event(id(1)).proofCheck.status, 'checking');
    await settled(room);
    assert.equal(room.event(id(1)).proofCheck.status, 'verified');
    assert.equal(room.event(id(2)).proofCheck.status, 'invalid');
  });

  it('never acknowledges on a later connection what an earlier one delivered: the broker redelivers it', () => {
    const { feed } = setup();
    const early = delivery(event(1));
    feed.delivered(early);
    feed.connectionLost();
    const redelivered = delivery(event(1)); // the same event, on the new connection
    feed.delivered(redelivered);
    feed.drawn();
    assert.equal(early.acks, 0);
    assert.equal(redelivered.acks, 1);
  });
});

describe('history through the feed', () => {
  it('checks the proof of an event loaded by scrolling back, like a live one', async () => {
    const { room, feed } = setup();
    feed.delivered(delivery(event(10)));
    const older = provenEvent(id(5), 'proven long ago');
    const forged = { ...provenEvent(id(6), 'forged'), from: 'mallory' };
    const fetchFn = async () => ({ ok: true, status: 200, json: async () => ({ ok: true, events: [older, forged] }) });
    const loader = new HistoryLoader({ room, receive: (e) => feed.receive(e), fetch: fetchFn, pageSize: 50 });
    assert.equal(await loader.loadEarlier(), 2);
    await settled(room);
    assert.equal(room.event(id(5)).proofCheck.status, 'verified');
    assert.equal(room.event(id(6)).proofCheck.status, 'invalid');
  });

  it('needs a receive that checks proofs', () => {
    const room = new Room();
    assert.throws(() => new HistoryLoader({ room, fetch: async () => ({}) }), TypeError);
  });
});
