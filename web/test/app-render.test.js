import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { renderEntry, syncList } from '../render.js';
import { Room } from '../room.js';
import { MiniDocument } from './support/mini-dom.js';

const doc = new MiniDocument();
let seq = 0;
const ev = (fields) => ({ id: `e${++seq}`, kind: 'message', from: 'bob', text: 'hi', at: '2026-11-23T11:20:00.123Z', ...fields });
const texts = (list) => list.children.map((li) => li.querySelectorAll('.text')[0]?.textContent ?? li.textContent);

describe('render', () => {
  it('puts markup in as text', () => {
    const room = new Room();
    const { entry } = room.receive(ev({ text: '<img src=x onerror=alert(1)>\nsecond line' }));
    const li = renderEntry(doc, entry);
    const text = li.querySelectorAll('.text')[0];
    assert.equal(text.textContent, '<img src=x onerror=alert(1)>\nsecond line');
    assert.equal(text.children.length, 0);
  });

  it('keeps the list in the room\'s order, rebuilding only changed entries', () => {
    const room = new Room({ limit: 3 });
    const list = doc.createElement('ol');
    const cache = new Map();
    const a = ev({ text: 'a' });
    const b = ev({ text: 'b' });
    room.receive(a);
    room.addPending({ clientId: 'c1', text: 'mine' });
    room.receive(b);
    syncList(list, room.entries(), cache);
    assert.deepEqual(texts(list), ['a', 'b', 'mine']);
    const first = list.children[0];

    room.receive(ev({ kind: 'reply', from: 'reverser', text: 'a!', inReplyTo: a.id }));
    room.receive(ev({ from: 'alice', text: 'mine', clientId: 'c1' }));
    syncList(list, room.entries(), cache);
    assert.deepEqual(texts(list), ['a', 'b', 'mine']);
    assert.notEqual(list.children[0], first, 'a changed (it has a reply), so it was rebuilt');
    assert.equal(list.children[0].querySelectorAll('.replies').length, 1);
    const second = list.children[1];
    assert.equal(list.children[2].dataset.key.startsWith('e:'), true, 'the echo replaced the pending post');

    room.receive(ev({ text: 'c' })); // pushes a out (limit 3)
    syncList(list, room.entries(), cache);
    assert.deepEqual(texts(list), ['b', 'mine', 'c']);
    assert.equal(list.children[0], second, 'b did not change, so its element was kept');
    assert.equal(cache.size, 3);
  });

  it('moves an orphan reply under its post when the post arrives', () => {
    const room = new Room();
    const list = doc.createElement('ol');
    const cache = new Map();
    const post = ev({ text: 'post' });
    room.receive(ev({ kind: 'reply', text: 'early reply', inReplyTo: post.id }));
    syncList(list, room.entries(), cache);
    assert.equal(list.children.length, 1);
    assert.equal(list.children[0].querySelectorAll('.note')[0].textContent, 'in reply to a post that is not shown');
    room.receive(post);
    syncList(list, room.entries(), cache);
    assert.equal(list.children.length, 1);
    assert.equal(list.children[0].querySelectorAll('.reply')[0].querySelectorAll('.text')[0].textContent, 'early reply');
  });

  it('shows a pending proof post as working, with a spinner, and failed posts with buttons', () => {
    const room = new Room();
    room.addPending({ clientId: 'p', text: 'x !pow', proof: true, status: 'sent' });
    const working = renderEntry(doc, room.pending('p'));
    assert.ok(working.className.includes('working'));
    assert.equal(working.querySelectorAll('.spinner').length, 1);
    assert.equal(working.querySelectorAll('.pending-label')[0].textContent, 'Working on proof of work…');

    room.addPending({ clientId: 'f', text: 'y' });
    room.setPendingStatus('f', 'failed', 'The connection was lost before the broker confirmed it.');
    const failed = renderEntry(doc, room.pending('f'));
    const buttons = failed.querySelectorAll('small');
    assert.deepEqual(buttons.map((b) => [b.dataset.action, b.dataset.clientId, b.textContent]), [['retry', 'f', 'Retry'], ['dismiss', 'f', 'Dismiss']]);
    assert.match(failed.querySelectorAll('.pending-label')[0].textContent, /^Not sent: The connection was lost/);
  });

  it('shows a proof\'s facts and its check', () => {
    const room = new Room();
    const proof = { bits: 24, challenge: 'c', nonce: '17283', hash: `000000a3${'f'.repeat(56)}`, elapsedMs: 812, hashesPerSecond: 21_300_000, via: 'rpc' };
    const event = ev({ kind: 'proof', proof });
    room.receive(event);
    room.setProofCheck(event.id, { status: 'invalid', reason: 'the challenge does not match this post (id, author or text changed)' });
    const li = renderEntry(doc, room.event(event.id));
    const box = li.querySelectorAll('proof')[0];
    assert.ok(box.className.includes('check-invalid'));
    assert.match(box.textContent, /⚠ invalid proof — the challenge does not match/);
    for (const fact of ['bits24', 'nonce17283', 'hash000000a3ffffffff…', 'time812 ms', 'rate21.3 MH/s', 'viaRPC']) {
      assert.ok(box.textContent.includes(fact), fact);
    }
  });

  it('shows system, presence and error lines, and unknown kinds as system lines', () => {
    const room = new Room();
    const kinds = ['system', 'presence', 'error', 'poll'].map((kind) => room.receive(ev({ kind, text: `${kind} text` })).entry);
    const classes = kinds.map((entry) => renderEntry(doc, entry).className);
    assert.deepEqual(classes, ['entry kind-system', 'entry kind-presence', 'entry kind-error', 'entry kind-system']);
    assert.match(renderEntry(doc, kinds[2]).textContent, /^Error: error text/);
  });
});
