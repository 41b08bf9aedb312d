import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Room, normaliseEvent } from '../room.js';

let seq = 0;
const ev = (fields) => ({ id: `e${String(++seq).padStart(6, '0')}`, kind: 'message', from: 'bob', text: 'hi', at: '2026-11-23T11:20:00.123Z', ...fields });
const keys = (room) => room.entries().map((e) => e.key);

describe('Room: events', () => {
  it('shows events in id order and marks the user\'s own', () => {
    const room = new Room();
    room.me = 'alice';
    const a = ev({ from: 'bob' });
    const b = ev({ from: 'alice' });
    const c = ev({ kind: 'system', from: 'cron', text: 'Hello world!' });
    for (const e of [a, b, c]) assert.equal(room.receive(e).accepted, true);
    assert.deepEqual(keys(room), [`e:${a.id}`, `e:${b.id}`, `e:${c.id}`]);
    assert.deepEqual(room.entries().map((e) => e.own), [false, true, false]);
  });

  it('shows an event once even when delivered twice (by id)', () => {
    const room = new Room();
    const a = ev();
    room.receive(a);
    assert.deepEqual(room.receive({ ...a }), { accepted: false, reason: 'duplicate' });
    assert.equal(room.size, 1);
  });

  it('shows a post once even when it reaches the room twice under two ids (by clientId)', () => {
    const room = new Room();
    room.receive(ev({ clientId: 'c1' }));
    assert.equal(room.receive(ev({ clientId: 'c1' })).reason, 'duplicate');
    assert.equal(room.receive(ev({ kind: 'proof', clientId: 'c1' })).reason, 'duplicate');
    assert.equal(room.size, 1);
  });

  it('does not let another author\'s event with the same clientId hide or replace a post', () => {
    const room = new Room();
    room.me = 'alice';
    room.receive(ev({ from: 'bob', clientId: 'c1', text: 'bob' }));
    assert.equal(room.receive(ev({ from: 'mallory', clientId: 'c1', text: 'copy' })).accepted, true);
    room.addPending({ clientId: 'c2', text: 'mine' });
    const forged = room.receive(ev({ from: 'mallory', clientId: 'c2', text: 'forged' }));
    assert.equal(forged.replaced, undefined);
    assert.equal(room.pending('c2').pending.text, 'mine');
    assert.equal(room.receive(ev({ from: 'alice', clientId: 'c2', text: 'mine' })).replaced, 'c2');
  });

  it('drops events it cannot show, and keeps unknown kinds', () => {
    const room = new Room();
    for (const bad of [null, 'x', [], {}, { id: 'a' }, { id: 'a', kind: 'message', from: 'b' }, { id: '', kind: 'message', from: 'b', text: '' }]) {
      assert.deepEqual(room.receive(bad), { accepted: false, reason: 'malformed' });
    }
    assert.equal(room.receive(ev({ kind: 'poll' })).accepted, true);
    assert.equal(normaliseEvent({ id: 'a', kind: 'message', from: 'b', text: '', at: 5, inReplyTo: '' }).at, '');
    assert.equal('inReplyTo' in normaliseEvent({ id: 'a', kind: 'message', from: 'b', text: '', inReplyTo: '' }), false);
  });

  it('keeps only the last `limit` events, and still knows the ids it dropped', () => {
    const room = new Room({ limit: 3 });
    const events = Array.from({ length: 5 }, () => ev());
    for (const e of events) room.receive(e);
    assert.deepEqual(keys(room), events.slice(2).map((e) => `e:${e.id}`));
    assert.equal(room.event(events[0].id), undefined);
    assert.equal(room.receive(events[0]).reason, 'duplicate');
  });

  it('remembers a bounded number of ids', () => {
    const room = new Room({ limit: 2, seenLimit: 4 });
    const events = Array.from({ length: 6 }, () => ev());
    for (const e of events) room.receive(e);
    assert.equal(room.receive(events[0]).accepted, true); // forgotten long ago
    assert.equal(room.receive(events[5]).accepted, false);
  });

  it('changes an entry\'s rev whenever it changes, and sets `changed`', () => {
    const room = new Room();
    const post = ev();
    const { entry } = room.receive(post);
    const rev = entry.rev;
    room.changed = false;
    room.receive(ev({ kind: 'reply', from: 'reverser', inReplyTo: post.id }));
    assert.ok(entry.rev > rev);
    assert.equal(room.changed, true);
  });
});

describe('Room: replies', () => {
  it('threads a reply under its post', () => {
    const room = new Room();
    const post = ev();
    room.receive(post);
    const reply = ev({ kind: 'reply', from: 'reverser', text: 'ih', inReplyTo: post.id });
    room.receive(reply);
    assert.deepEqual(keys(room), [`e:${post.id}`]);
    assert.deepEqual(room.entries()[0].replies.map((r) => r.event.id), [reply.id]);
  });

  it('shows a reply that arrives before its post on its own, then moves it under the post', () => {
    const room = new Room();
    const post = ev();
    const reply = ev({ kind: 'reply', from: 'reverser', inReplyTo: post.id });
    const { entry } = room.receive(reply);
    assert.equal(entry.orphan, true);
    assert.deepEqual(keys(room), [`e:${reply.id}`]);
    room.receive(post);
    assert.deepEqual(keys(room), [`e:${post.id}`]);
    assert.equal(entry.orphan, false);
    assert.deepEqual(room.entries()[0].replies, [entry]);
  });

  it('puts a reply to a reply in the same thread', () => {
    const room = new Room();
    const post = ev();
    const r1 = ev({ kind: 'reply', inReplyTo: post.id });
    const r2 = ev({ kind: 'reply', inReplyTo: r1.id });
    for (const e of [post, r1, r2]) room.receive(e);
    assert.deepEqual(room.entries()[0].replies.map((r) => r.event.id), [r1.id, r2.id]);
  });

  it('de-duplicates replies too', () => {
    const room = new Room();
    const post = ev();
    const reply = ev({ kind: 'reply', inReplyTo: post.id });
    room.receive(post);
    room.receive(reply);
    assert.equal(room.receive({ ...reply }).reason, 'duplicate');
    assert.equal(room.entries()[0].replies.length, 1);
  });

  it('forgets the replies of a post that falls off the end', () => {
    const room = new Room({ limit: 1 });
    const post = ev();
    const reply = ev({ kind: 'reply', inReplyTo: post.id });
    room.receive(post);
    room.receive(reply);
    room.receive(ev());
    assert.equal(room.event(reply.id), undefined);
  });
});

describe('Room: pending posts', () => {
  it('goes pending → sent → replaced by the room\'s event with the same clientId', () => {
    const room = new Room();
    room.me = 'alice';
    const entry = room.addPending({ clientId: 'c1', text: 'hello' });
    assert.equal(entry.pending.status, 'sending');
    assert.deepEqual(keys(room), ['p:c1']);
    assert.equal(room.setPendingStatus('c1', 'sent'), true);
    assert.equal(room.pending('c1').pending.status, 'sent');
    const echo = ev({ from: 'alice', text: 'hello', clientId: 'c1' });
    assert.deepEqual(room.receive(echo).replaced, 'c1');
    assert.deepEqual(keys(room), [`e:${echo.id}`]);
    assert.equal(room.pendingCount, 0);
    assert.equal(room.entries()[0].own, true);
    assert.equal(room.setPendingStatus('c1', 'sent'), false); // a late RECEIPT changes nothing
  });

  it('keeps pending posts below the room\'s events until they are echoed', () => {
    const room = new Room();
    room.addPending({ clientId: 'c1', text: 'mine' });
    const other = ev({ from: 'bob' });
    room.receive(other);
    assert.deepEqual(keys(room), [`e:${other.id}`, 'p:c1']);
  });

  it('replaces a !pow post only when its proof event arrives', () => {
    const room = new Room();
    room.addPending({ clientId: 'c2', text: 'work !pow', proof: true });
    room.setPendingStatus('c2', 'sent');
    const proof = ev({ kind: 'proof', from: 'alice', text: 'work', clientId: 'c2', proof: { bits: 24 } });
    const result = room.receive(proof);
    assert.equal(result.replaced, 'c2');
    assert.deepEqual(result.entry.proofCheck, { status: 'checking' });
    assert.equal(room.setProofCheck(proof.id, { status: 'verified' }), true);
    assert.deepEqual(room.entries()[0].proofCheck, { status: 'verified' });
    assert.equal(room.setProofCheck('gone', { status: 'verified' }), false);
  });

  it('attaches an error naming a pending post\'s clientId to it', () => {
    const room = new Room();
    room.addPending({ clientId: 'c3', text: 'x' });
    const error = ev({ kind: 'error', from: 'warren', text: 'The post is empty; write at least one character.', inReplyTo: 'c3', code: 'text.empty' });
    const { entry } = room.receive(error);
    assert.equal(entry.key, 'p:c3');
    assert.equal(entry.pending.status, 'refused');
    assert.equal(entry.pending.error, error.text);
    assert.deepEqual(entry.errors, [{ text: error.text, code: 'text.empty', at: error.at }]);
    assert.deepEqual(keys(room), ['p:c3']);
  });

  it('shows an error about nothing it knows as a line of its own', () => {
    const room = new Room();
    const error = ev({ kind: 'error', text: 'Something broke', inReplyTo: 'unknown' });
    room.receive(error);
    assert.deepEqual(keys(room), [`e:${error.id}`]);
    const plain = ev({ kind: 'error', text: 'No target' });
    room.receive(plain);
    assert.equal(room.size, 2);
  });

  it('attaches an error to the user\'s post already shown', () => {
    const room = new Room();
    room.me = 'alice';
    const post = ev({ from: 'alice', clientId: 'c4' });
    room.receive(post);
    room.receive(ev({ kind: 'error', text: 'proof timed out', inReplyTo: 'c4' }));
    assert.equal(room.entries()[0].errors[0].text, 'proof timed out');
  });

  it('is bounded', () => {
    const room = new Room({ pendingLimit: 2 });
    room.addPending({ clientId: 'a', text: '1' });
    room.addPending({ clientId: 'b', text: '2' });
    assert.throws(() => room.addPending({ clientId: 'c', text: '3' }), RangeError);
    assert.equal(room.removePending('a'), true);
    room.addPending({ clientId: 'c', text: '3' });
    assert.deepEqual(keys(room), ['p:b', 'p:c']);
  });

  it('does not add the same clientId twice', () => {
    const room = new Room();
    const first = room.addPending({ clientId: 'a', text: '1' });
    assert.equal(room.addPending({ clientId: 'a', text: '1' }), first);
    assert.equal(room.pendingCount, 1);
  });

  it('forgets everything on clear()', () => {
    const room = new Room();
    const post = ev();
    room.receive(post);
    room.addPending({ clientId: 'a', text: '1' });
    room.clear();
    assert.deepEqual(room.entries(), []);
    assert.equal(room.receive(post).accepted, true);
  });
});

describe('Room: one timeline from backfill, scroll-back and live delivery', () => {
  const id = (n) => `01JF${String(n).padStart(22, '0')}`;
  const at = (n, fields) => ({ id: id(n), kind: 'message', from: 'bob', text: `t${n}`, at: '2026-11-23T11:20:00.123Z', ...fields });
  const ids = (room) => room.entries().map((e) => e.event.id);

  it('orders events by id whatever order they arrive in, each once', () => {
    const room = new Room();
    for (const n of [5, 6, 7]) room.receive(at(n)); // backfill
    for (const n of [7, 8]) room.receive(at(n)); // live, overlapping the backfill
    for (const n of [2, 3, 4, 5]) room.receive(at(n)); // scroll-back, overlapping at 5
    assert.deepEqual(ids(room), [2, 3, 4, 5, 6, 7, 8].map(id));
    assert.equal(room.oldestId, id(2));
  });

  it('keeps pending posts after every room event', () => {
    const room = new Room();
    room.me = 'alice';
    room.receive(at(5));
    room.addPending({ clientId: 'c1', text: 'mine' });
    room.receive(at(3));
    assert.deepEqual(room.entries().map((e) => e.key), [`e:${id(3)}`, `e:${id(5)}`, 'p:c1']);
  });

  it('has no oldest id when empty', () => {
    assert.equal(new Room().oldestId, undefined);
  });
});
