import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { OpsPoller, overviewRows } from '../ops-view.js';
import { FakeClock, flush } from './support/fakes.js';

const overview = {
  ok: true,
  management: { ok: true },
  ageSeconds: 2,
  roles: [
    { role: 'login', instances: 2, queues: ['login', 'inbox'] },
    { role: 'cron', instances: 0, queues: ['cron'] },
  ],
  queues: [{ queue: 'inbox', messages: 1234, ready: 1200, unacked: 34, consumers: 2, publishRate: 10.25, deliverRate: 9 }],
  tabs: 1,
  deadLetters: { waiting: 3, shown: [{ queue: 'inbox', reason: 'rejected', time: 0, payload: '<b>x</b>' }] },
};

/** A fetch answering from `answers` in turn ([status, body] or an Error to throw). */
function scripted(answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const answer = answers[Math.min(calls.length, answers.length) - 1];
    if (answer instanceof Error) throw answer;
    const [status, body] = answer;
    return { status, json: async () => body };
  };
  return { fetch, calls };
}

describe('OpsPoller', () => {
  it('asks /api/ops with the bearer token now and again after the interval', async () => {
    const clock = new FakeClock();
    const server = scripted([[200, overview]]);
    const updates = [];
    const poller = new OpsPoller({ token: async () => 't1', fetch: server.fetch, onUpdate: (u) => updates.push(u), clock, intervalMs: 5000 });
    poller.start();
    await flush();
    assert.equal(server.calls.length, 1);
    assert.equal(server.calls[0].url, '/api/ops');
    assert.equal(server.calls[0].init.headers.authorization, 'Bearer t1');
    assert.deepEqual(updates.map((u) => u.kind), ['overview']);
    clock.advance(4999);
    await flush();
    assert.equal(server.calls.length, 1, 'not before the interval');
    clock.advance(1);
    await flush();
    assert.equal(server.calls.length, 2);
    poller.stop();
    clock.advance(60000);
    await flush();
    assert.equal(server.calls.length, 2, 'stopped');
  });

  it('stops on 403 (not an operator) and on 401 (signed out), with the server\'s words', async () => {
    for (const [status, kind] of [[403, 'forbidden'], [401, 'signedOut']]) {
      const clock = new FakeClock();
      const server = scripted([[status, { ok: false, code: 'x', error: 'bob is not an operator' }]]);
      const updates = [];
      const poller = new OpsPoller({ token: async () => 't', fetch: server.fetch, onUpdate: (u) => updates.push(u), clock });
      poller.start();
      await flush();
      assert.deepEqual(updates, [{ kind, message: 'bob is not an operator' }]);
      assert.equal(poller.running, false);
      assert.equal(clock.pending, 0, 'no further question scheduled');
    }
  });

  it('goes on after a network error or a 503', async () => {
    const clock = new FakeClock();
    const server = scripted([new TypeError('Failed to fetch'), [503, { ok: false, error: 'no management API' }], [200, overview]]);
    const updates = [];
    const poller = new OpsPoller({ token: async () => 't', fetch: server.fetch, onUpdate: (u) => updates.push(u), clock, intervalMs: 100 });
    poller.start();
    for (let i = 0; i < 3; i += 1) {
      await flush();
      clock.advance(100);
    }
    await flush();
    assert.deepEqual(updates.slice(0, 3).map((u) => u.kind), ['error', 'error', 'overview']);
    assert.match(updates[0].message, /cannot be reached/);
    assert.equal(updates[1].message, 'no management API');
    poller.stop();
  });
});

describe('overviewRows', () => {
  it('turns the answer into text rows', () => {
    const view = overviewRows(overview);
    assert.equal(view.summary, '1 of 2 roles online, 1 tab signed in (figures 2 s old)');
    assert.deepEqual(view.roles, [['login', 'online (2)', 'login, inbox'], ['cron', 'offline', 'cron']]);
    assert.deepEqual(view.queues, [['inbox', '1,234', '1,200', '34', '2', '10.3/s', '9.0/s']]);
    assert.deepEqual(view.deadLetters, [['1970-01-01 00:00:00', 'inbox', 'rejected', '<b>x</b>']]);
    assert.match(view.deadSummary, /^3 dead letters waiting/);
    assert.equal(view.management, null);
  });

  it('says when the management API did not answer', () => {
    const view = overviewRows({ ...overview, management: { ok: false, error: 'refused' }, deadLetters: { waiting: 0, shown: [] } });
    assert.equal(view.management, "The broker's management API: refused");
    assert.equal(view.deadSummary, 'No dead letters.');
  });
});

describe('ops.html', () => {
  const web = join(dirname(fileURLToPath(import.meta.url)), '..');
  const html = readFileSync(join(web, 'ops.html'), 'utf8');

  it('names every element ops.js looks up, with no inline script or style', () => {
    const ids = [...readFileSync(join(web, 'ops.js'), 'utf8').matchAll(/\$\('([^']+)'\)/g)].map((m) => m[1]);
    assert.ok(ids.length > 8);
    for (const id of ids) assert.match(html, new RegExp(`id="${id}"`), id);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i);
    assert.doesNotMatch(html, /<style\b|\sstyle\s*=|\son[a-z]+\s*=/i);
    assert.match(html, /<script type="module" src="ops\.js"><\/script>/);
  });
});
