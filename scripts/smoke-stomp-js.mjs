// Live check of web/stomp.js against a running RabbitMQ Web-STOMP (not part of scripts/test-js).
//   node --experimental-websocket scripts/smoke-stomp-js.mjs
// Env: STOMP_URL (ws://127.0.0.1:15674/ws), STOMP_LOGIN / STOMP_PASSCODE (guest/guest),
// STOMP_HOST (/). Needs a user that may declare /queue/stomp-js-smoke*. Exits 1 on any failure.

import assert from 'node:assert/strict';
import { StompClient } from '../web/stomp.js';

const url = process.env.STOMP_URL ?? 'ws://127.0.0.1:15674/ws';
const login = process.env.STOMP_LOGIN ?? 'guest';
const passcode = process.env.STOMP_PASSCODE ?? 'guest';
const host = process.env.STOMP_HOST ?? '/';
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(condition, ms = 5000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

function make(name, options = {}) {
  const client = new StompClient({
    url, login, passcode, host,
    webSocketFactory: (u, p) => new WebSocket(u, p),
    heartbeat: { outgoing: 2000, incoming: 2000 },
    backoff: { baseMs: 200, factor: 2, capMs: 2000, jitter: 0.5 },
    ...options,
  });
  client.on('state', (s) => log(name, 'state', s.state, s.delayMs ?? '', s.error?.message ?? ''));
  client.on('error', (e) => log(name, 'error', e.code, e.message));
  return client;
}

const responder = make('responder');
responder.activate();
responder.subscribe('/queue/stomp-js-smoke.rpc', (m) => {
  const reversed = [...m.body].reverse().join('');
  responder.send(m.headers['reply-to'], reversed, { 'correlation-id': m.headers['correlation-id'] }).catch(() => {});
});

const client = make('client');
client.activate();
await until(() => client.connected && responder.connected);

// subscribe, send text / UTF-8 / NULs / escaped headers, ack
const got = [];
const sub = client.subscribe('/queue/stomp-js-smoke', (m) => { got.push(m); m.ack(); }, { ack: 'client-individual', prefetch: 10 });
await sleep(200);
await client.send('/queue/stomp-js-smoke', 'héllo ☃ 😀', { 'content-type': 'text/plain' });
await client.send('/queue/stomp-js-smoke', new Uint8Array([0, 1, 2, 0, 65])); // valid UTF-8: text WS frames allow it
await client.send('/queue/stomp-js-smoke', 'two\nlines', { 'x-odd': 'a:b\\c\nd' });
await until(() => got.length === 3);
assert.equal(got[0].body, 'héllo ☃ 😀');
assert.deepEqual([...got[1].binaryBody], [0, 1, 2, 0, 65]);
assert.equal(got[2].headers['x-odd'], 'a:b\\c\nd');
sub.unsubscribe();
log('pub/sub ok');

// request/reply over /temp-queue/
const replies = await Promise.all(['stressed', 'abc'].map((t) => client.request('/queue/stomp-js-smoke.rpc', t, { timeoutMs: 3000 })));
assert.deepEqual(replies.map((m) => m.body), ['desserts', 'cba']);
log('request/reply ok');

// heart-beats keep an idle connection up
await sleep(5000);
assert.equal(client.state, 'connected');
log('idle ok');

// a refused SUBSCRIBE: "STOMP died", named, dropped after two refusals, then a healthy connection
let refused;
client.subscribe('/amq/queue/stomp-js-smoke-missing', () => {}, { onError: (e) => (refused = e) });
await until(() => refused, 10000);
assert.equal(refused.code, 'subscribe-refused');
await until(() => client.connected, 10000);
assert.equal((await client.request('/queue/stomp-js-smoke.rpc', 'ok')).body, 'ko');
log('refused subscribe ok');

// a bad passcode: auth-failed and no reconnect
const bad = make('bad', { passcode: `${passcode}-wrong` });
bad.activate();
await sleep(1500);
assert.equal(bad.state, 'auth-failed');
log('auth failure ok');

await Promise.all([client.deactivate(), responder.deactivate(), bad.deactivate()]);
log('smoke passed');
