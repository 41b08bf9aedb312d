import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ReceiptBook, RequestBook } from '../stomp-pending.js';
import { FakeClock } from './support/fakes.js';

function recorder() {
  const calls = [];
  return {
    calls,
    resolve: (v) => calls.push(['resolve', v]),
    reject: (e) => calls.push(['reject', e.message]),
  };
}

describe('ReceiptBook', () => {
  it('settles once: receipt, then a late timeout or failure does nothing', () => {
    const clock = new FakeClock();
    const book = new ReceiptBook(clock);
    const r = recorder();
    book.expect('r1', { ...r, timeoutMs: 100, timeoutError: () => new Error('timeout') });
    assert.equal(book.resolve('r1', 'frame'), true);
    assert.equal(book.resolve('r1', 'again'), false);
    clock.advance(100);
    book.rejectAll(new Error('gone'));
    assert.deepEqual(r.calls, [['resolve', 'frame']]);
    assert.equal(clock.pending, 0);
  });

  it('times out, and rejectAll rejects what is left', () => {
    const clock = new FakeClock();
    const book = new ReceiptBook(clock);
    const a = recorder();
    const b = recorder();
    book.expect('a', { ...a, timeoutMs: 100, timeoutError: () => new Error('timeout') });
    book.expect('b', { ...b, timeoutMs: 500, timeoutError: () => new Error('timeout') });
    clock.advance(100);
    book.rejectAll(new Error('gone'));
    assert.deepEqual(a.calls, [['reject', 'timeout']]);
    assert.deepEqual(b.calls, [['reject', 'gone']]);
    assert.equal(clock.pending, 0);
  });
});

describe('RequestBook', () => {
  it('settles once and runs `settled` once', () => {
    const clock = new FakeClock();
    const book = new RequestBook(clock);
    const r = recorder();
    let settled = 0;
    const pending = book.open('c1', { ...r, timeoutMs: 100, timeoutError: () => new Error('timeout'), settled: () => (settled += 1) });
    assert.equal(book.get('c1'), pending);
    pending.resolve('reply');
    pending.reject(new Error('late'));
    clock.advance(100);
    assert.deepEqual(r.calls, [['resolve', 'reply']]);
    assert.equal(settled, 1);
    assert.equal(book.get('c1'), undefined);
  });

  it('rejects by predicate and on timeout', () => {
    const clock = new FakeClock();
    const book = new RequestBook(clock);
    const onA = recorder();
    const onB = recorder();
    const late = recorder();
    book.open('a', { ...onA, timeoutMs: 1000, timeoutError: () => new Error('timeout') }).link = 'A';
    book.open('b', { ...onB, timeoutMs: 1000, timeoutError: () => new Error('timeout') }).link = 'B';
    book.open('c', { ...late, timeoutMs: 10, timeoutError: () => new Error('timeout') });
    book.reject(new Error('A lost'), (p) => p.link === 'A');
    clock.advance(10);
    assert.deepEqual(onA.calls, [['reject', 'A lost']]);
    assert.deepEqual(onB.calls, []);
    assert.deepEqual(late.calls, [['reject', 'timeout']]);
    book.reject(new Error('all'));
    assert.deepEqual(onB.calls, [['reject', 'all']]);
    assert.equal(clock.pending, 0);
  });
});
