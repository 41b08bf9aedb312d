// A cluster of broker nodes: the page connects to one, and when that node goes it moves to
// another after the backoff's jittered wait; many tabs spread over the nodes. Clock, random
// source and sockets injected.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { StompClient } from '../stomp.js';
import { FakeClock, FakeSocket, acceptConnection } from './support/fakes.js';

const NODES = ['ws://node1/ws', 'ws://node2/ws', 'ws://node3/ws'];

function tab(clock, random, urls = NODES) {
  const sockets = [];
  const client = new StompClient({
    urls,
    heartbeat: { outgoing: 0, incoming: 0 },
    clock,
    random,
    webSocketFactory: (url, protocols) => {
      const ws = new FakeSocket(url, protocols);
      sockets.push(ws);
      return ws;
    },
  });
  return { client, sockets };
}

const connect = acceptConnection;

describe('failover between broker nodes', () => {
  it('moves to the next node when its node goes, after a jittered wait', () => {
    const clock = new FakeClock();
    const draws = [0.4, 0.5]; // the first node drawn (0.4 × 3: node 2), then the backoff's jitter
    const { client, sockets } = tab(clock, () => draws.shift() ?? 0.5);
    client.activate();
    assert.equal(sockets[0].url, 'ws://node2/ws');
    connect(sockets[0]);
    assert.ok(client.connected);

    sockets[0].serverClose(1006); // node 2 dies
    assert.equal(client.state, 'reconnecting');
    clock.advance(499);
    assert.equal(sockets.length, 1, 'waits the jittered delay (1 s with half taken off)');
    clock.advance(1);
    assert.equal(sockets.length, 2);
    assert.equal(sockets[1].url, 'ws://node3/ws');

    // Node 3 refuses too: the next try goes round to node 1, which answers.
    sockets[1].serverClose(1006);
    clock.advance(2000);
    assert.equal(sockets[2].url, 'ws://node1/ws');
    connect(sockets[2]);
    assert.ok(client.connected);
  });

  it('spreads tabs over the nodes at first', () => {
    const clock = new FakeClock();
    let seed = 0;
    const counts = new Map();
    for (let i = 0; i < 300; i += 1) {
      const { client, sockets } = tab(clock, () => ((seed = (seed * 9301 + 49297) % 233280) / 233280));
      client.activate();
      counts.set(sockets[0].url, (counts.get(sockets[0].url) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), NODES);
    for (const count of counts.values()) assert.ok(count > 60, `each node gets a share (${[...counts.values()]})`);
  });

  it('with one node keeps going back to it', () => {
    const clock = new FakeClock();
    const { client, sockets } = tab(clock, () => 0.5, ['ws://only/ws']);
    client.activate();
    connect(sockets[0]);
    sockets[0].serverClose(1006);
    clock.advance(1000);
    assert.equal(sockets[1].url, 'ws://only/ws');
  });
});
