import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULT_BACKOFF, backoffDelay, negotiateHeartbeat } from '../stomp-timing.js';

describe('negotiateHeartbeat', () => {
  const client = { outgoing: 10000, incoming: 10000 };

  it('takes the larger of what one side can do and the other wants', () => {
    assert.deepEqual(negotiateHeartbeat(client, '4000,20000'), { outgoing: 20000, incoming: 10000 });
    assert.deepEqual(negotiateHeartbeat({ outgoing: 1000, incoming: 2000 }, '5000,500'), { outgoing: 1000, incoming: 5000 });
  });

  it('turns a direction off when either side says 0', () => {
    assert.deepEqual(negotiateHeartbeat(client, '0,5000'), { outgoing: 10000, incoming: 0 });
    assert.deepEqual(negotiateHeartbeat(client, '5000,0'), { outgoing: 0, incoming: 10000 });
    assert.deepEqual(negotiateHeartbeat({ outgoing: 0, incoming: 0 }, '5000,5000'), { outgoing: 0, incoming: 0 });
  });

  it('treats a missing or malformed header as 0,0', () => {
    assert.deepEqual(negotiateHeartbeat(client, undefined), { outgoing: 0, incoming: 0 });
    assert.deepEqual(negotiateHeartbeat(client, 'soon'), { outgoing: 0, incoming: 0 });
  });
});

describe('backoffDelay', () => {
  const policy = { baseMs: 1000, factor: 2, capMs: 30000, jitter: 0.5 };

  it('grows exponentially up to the cap', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(n, policy, () => 0));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('takes up to `jitter` of the delay off at random', () => {
    assert.equal(backoffDelay(2, policy, () => 0.999999), 2000);
    assert.equal(backoffDelay(2, policy, () => 0.5), 3000);
    assert.equal(backoffDelay(10, policy, () => 0.5), 22500);
    assert.equal(backoffDelay(2, { ...policy, jitter: 0 }, () => 0.9), 4000);
  });

  it('spreads reconnects by default: full jitter, the first within a second, none beyond 15 s', () => {
    assert.deepEqual({ ...DEFAULT_BACKOFF }, { baseMs: 1000, factor: 2, capMs: 8000, jitter: 1 });
    assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 0), 1000);
    assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999999), 0);
    assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 0.25), 750);
    assert.equal(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5), 4000);
    assert.equal(backoffDelay(9, DEFAULT_BACKOFF, () => 0), 8000);
  });
});
