import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { HistoryLoader, HistoryStatus, fetchEvents, historyURL, renderResult, searchURL } from '../history.js';
import { syncList } from '../render.js';
import { Room } from '../room.js';
import { MiniDocument } from './support/mini-dom.js';

const id = (n) => `01JF${String(n).padStart(22, '0')}`;
const event = (n, fields) => ({ id: id(n), kind: 'message', from: 'bob', text: `t${n}`, at: '2026-11-23T11:20:00.123Z', ...fields });
const ids = (room) => room.entries().map((e) => e.event.id);

/** A history server over events 1...count: answers /api/history like the web role does. */
function fakeServer(count, { fail } = {}) {
  const asked = [];
  const fetchFn = async (url) => {
    asked.push(url);
    if (fail) return { ok: false, status: 503, json: async () => ({ ok: false, code: 'history.unavailable', error: fail }) };
    const query = new URL(url, 'http://page').searchParams;
    const limit = Number(query.get('limit'));
    const before = query.get('before');
    const all = Array.from({ length: count }, (_, i) => event(i + 1));
    const older = before ? all.filter((e) => e.id < before) : all;
    return { ok: true, status: 200, json: async () => ({ ok: true, events: older.slice(-limit) }) };
  };
  return { fetchFn, asked };
}

describe('history URLs', () => {
  it('asks for the latest page without before, and escapes the search text', () => {
    assert.equal(historyURL(undefined, 50), '/api/history?limit=50');
    assert.equal(historyURL(id(7), 50), `/api/history?limit=50&before=${id(7)}`);
    assert.equal(searchURL('a&b c+d', 20), '/api/search?q=a%26b%20c%2Bd&limit=20');
  });
});

describe('HistoryLoader', () => {
  it('loads pages before the oldest event shown until none are left, then says so', async () => {
    const room = new Room({ limit: 500 });
    for (const n of [118, 119, 120]) room.receive(event(n)); // the backfill
    const server = fakeServer(120);
    const loader = new HistoryLoader({ room, receive: (e) => room.receive(e), fetch: server.fetchFn, pageSize: 50 });
    assert.equal(await loader.loadEarlier(), 50);
    assert.equal(server.asked[0], historyURL(id(118), 50));
    assert.equal(loader.status, HistoryStatus.idle);
    assert.equal(await loader.loadEarlier(), 50);
    assert.equal(await loader.loadEarlier(), 17);
    assert.equal(loader.status, HistoryStatus.done);
    assert.equal(loader.statusText, 'Beginning of the room');
    assert.equal(await loader.loadEarlier(), 0, 'nothing more is asked for');
    assert.equal(server.asked.length, 3);
    assert.deepEqual(ids(room), Array.from({ length: 120 }, (_, i) => id(i + 1)));
  });

  it('merges a page that overlaps live and backfilled events: each once, in id order', async () => {
    const room = new Room();
    const loader = new HistoryLoader({ room, receive: (e) => room.receive(e), fetch: fakeServer(10).fetchFn, pageSize: 50 });
    const loading = loader.loadEarlier(); // nothing shown yet: the latest page
    assert.equal(loader.status, HistoryStatus.loading);
    assert.equal(loader.statusText, 'Loading earlier messages…');
    for (const n of [9, 10, 11]) room.receive(event(n)); // backfill and live, meanwhile
    assert.equal(await loading, 8);
    assert.deepEqual(ids(room), Array.from({ length: 11 }, (_, i) => id(i + 1)));
    assert.equal(loader.status, HistoryStatus.done);
  });

  it('shows the server\'s refusal and tries again on the next call', async () => {
    const room = new Room();
    room.receive(event(5));
    const loader = new HistoryLoader({ room, receive: (e) => room.receive(e), fetch: fakeServer(5, { fail: 'The history store could not answer; try again later.' }).fetchFn });
    assert.equal(await loader.loadEarlier(), 0);
    assert.equal(loader.status, HistoryStatus.failed);
    assert.match(loader.statusText, /Could not load earlier messages: The history store could not answer/);
    assert.equal(loader.canLoad, true);
    loader.fetch = fakeServer(5).fetchFn;
    assert.equal(await loader.loadEarlier(), 4);
    assert.equal(loader.status, HistoryStatus.done);
  });

  it('does not ask for a page the room could not keep', async () => {
    const room = new Room({ limit: 60 });
    for (let n = 100; n < 120; n += 1) room.receive(event(n));
    const server = fakeServer(200);
    const loader = new HistoryLoader({ room, receive: (e) => room.receive(e), fetch: server.fetchFn, pageSize: 50 });
    assert.equal(await loader.loadEarlier(), 0);
    assert.equal(loader.status, HistoryStatus.full);
    assert.equal(server.asked.length, 0);
  });

  it('drops an answer that arrives after a reset (logout)', async () => {
    const room = new Room();
    const loader = new HistoryLoader({ room, receive: (e) => room.receive(e), fetch: fakeServer(3).fetchFn });
    const loading = loader.loadEarlier();
    loader.reset();
    room.clear();
    assert.equal(await loading, 0);
    assert.equal(room.size, 0);
    assert.equal(loader.status, HistoryStatus.idle);
  });
});

describe('fetchEvents', () => {
  it('describes a network failure, a non-JSON answer and a missing list', async () => {
    await assert.rejects(fetchEvents(async () => { throw new TypeError('Failed to fetch'); }, '/x'), /could not be reached \(Failed to fetch\)/);
    await assert.rejects(fetchEvents(async () => ({ ok: false, status: 502, json: async () => { throw new SyntaxError('x'); } }), '/x'), /answered 502/);
    await assert.rejects(fetchEvents(async () => ({ ok: true, status: 200, json: async () => ({ ok: true }) }), '/x'), /no list of events/);
    await assert.rejects(
      fetchEvents(async () => ({ ok: false, status: 400, json: async () => ({ ok: false, error: 'The search text is empty.' }) }), '/x'),
      /^Error: The search text is empty\.$/,
    );
  });
});

describe('rendering', () => {
  const doc = new MiniDocument();

  it('renders a search result as text, never markup', () => {
    const item = renderResult(doc, event(1, { from: 'mallory', text: '<img src=x onerror=alert(1)>' }));
    assert.equal(item.querySelectorAll('text')[0].textContent, '<img src=x onerror=alert(1)>');
    assert.equal(item.querySelectorAll('author')[0].textContent, 'mallory');
    assert.equal(item.querySelectorAll('room')[0].textContent, 'in general', 'no room: general');
  });

  it('names the room of each search result as the sidebar does', () => {
    const names = { 'dm.5.alice.carol': 'carol' };
    const item = renderResult(doc, event(1, { room: 'dm.5.alice.carol' }), (id) => names[id] ?? id);
    assert.equal(item.querySelectorAll('room')[0].textContent, 'in carol');
    assert.equal(renderResult(doc, event(2, { room: 'ops' })).querySelectorAll('room')[0].textContent, 'in ops');
  });

  it('keeps a data-fixed status line first while the entries change', () => {
    const list = doc.createElement('ol');
    const line = doc.createElement('li');
    line.dataset.fixed = '';
    list.append(line);
    const room = new Room();
    const cache = new Map();
    room.receive(event(5));
    syncList(list, room.entries(), cache);
    room.receive(event(3));
    room.receive(event(7));
    syncList(list, room.entries(), cache);
    assert.equal(list.children[0], line);
    assert.deepEqual(list.children.slice(1).map((li) => li.dataset.key), [3, 5, 7].map((n) => `e:${id(n)}`));
  });
});
