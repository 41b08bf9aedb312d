// A thousand tabs lose their broker at once: with the default backoff (full jitter) they come
// back spread over the first second, not in the same millisecond. Random source and clock injected.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { StompClient } from '../stomp.js';
import { FakeClock, FakeSocket, acceptConnection } from './support/fakes.js';

/** A small seeded generator (mulberry32), so the run is the same every time. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tabs(count, clock, random) {
  const opened = []; // [tab, time] of every socket opened
  const sockets = [];
  const clients = [];
  for (let tab = 0; tab < count; tab += 1) {
    const client = new StompClient({
      url: 'ws://broker/ws',
      heartbeat: { outgoing: 0, incoming: 0 },
      clock,
      random,
      webSocketFactory: (url, protocols) => {
        const ws = new FakeSocket(url, protocols);
        opened.push([tab, clock.now()]);
        sockets[tab] = ws;
        return ws;
      },
    });
    clients.push(client);
  }
  return { clients, sockets, opened };
}

const connect = acceptConnection;

describe('reconnect backoff across many tabs', () => {
  it('spreads 1,000 tabs whose broker went away over the first second, and the next tries over two', () => {
    const clock = new FakeClock();
    const { clients, sockets, opened } = tabs(1000, clock, seeded(42));
    for (const client of clients) client.activate();
    sockets.forEach(connect);
    assert.ok(clients.every((c) => c.connected));

    const dropped = clock.now();
    opened.length = 0;
    for (const ws of sockets) ws.serverClose(1006); // the broker restarts
    assert.ok(clients.every((c) => c.state === 'reconnecting'));
    clock.advance(1000);
    assert.equal(opened.length, 1000, 'every tab tried again within a second');
    const perMs = new Map();
    for (const [, at] of opened) perMs.set(at - dropped, (perMs.get(at - dropped) ?? 0) + 1);
    assert.ok(Math.max(...perMs.values()) <= 8, `at most a handful in the same millisecond, not ${Math.max(...perMs.values())}`);
    assert.ok(perMs.size > 500, `spread over ${perMs.size} distinct milliseconds`);

    // The broker is still down: each first try fails, and the second waits up to two seconds.
    const failed = clock.now();
    opened.length = 0;
    for (const ws of sockets) ws.serverClose(1006);
    clock.advance(2000);
    assert.equal(opened.length, 1000);
    const late = opened.filter(([, at]) => at - failed > 1000).length;
    assert.ok(late > 300 && late < 700, `about half wait past the first second (${late})`);
  });

  it('waits for the drawn delay exactly, as the clock says', () => {
    const clock = new FakeClock();
    const { clients, sockets, opened } = tabs(1, clock, () => 0.75);
    clients[0].activate();
    connect(sockets[0]);
    sockets[0].serverClose(1006);
    assert.equal(clients[0].state, 'reconnecting');
    clock.advance(249);
    assert.equal(opened.length, 1);
    clock.advance(1);
    assert.equal(opened.length, 2);
  });
});
