import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { describeState, formatDuration, formatFullTime, formatRate, formatTime, shortHash } from '../format.js';

describe('formatRate', () => {
  it('uses three significant digits and the right unit', () => {
    assert.equal(formatRate(0), '0 H/s');
    assert.equal(formatRate(512), '512 H/s');
    assert.equal(formatRate(999.4), '999 H/s');
    assert.equal(formatRate(999.6), '1 kH/s');
    assert.equal(formatRate(1234), '1.23 kH/s');
    assert.equal(formatRate(21_300_000), '21.3 MH/s');
    assert.equal(formatRate(20_654_000), '20.7 MH/s');
    assert.equal(formatRate(999_999_999), '1 GH/s');
    assert.equal(formatRate(1.25e9), '1.25 GH/s');
    assert.equal(formatRate(3e15), '3000 TH/s');
  });

  it('shows a dash for nonsense', () => {
    assert.equal(formatRate(-1), '—');
    assert.equal(formatRate(Number.NaN), '—');
    assert.equal(formatRate(undefined), '—');
  });
});

describe('formatDuration', () => {
  it('picks ms, s or minutes', () => {
    assert.equal(formatDuration(0), '0 ms');
    assert.equal(formatDuration(812), '812 ms');
    assert.equal(formatDuration(1420), '1.42 s');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatDuration(null), '—');
  });
});

describe('formatTime', () => {
  const options = { now: new Date('2026-11-23T12:00:00Z'), locale: 'en-GB', timeZone: 'UTC' };

  it('shows only the time for today', () => {
    assert.equal(formatTime('2026-11-23T11:20:00.123Z', options), '11:20');
  });

  it('adds the day for other days', () => {
    assert.equal(formatTime('2026-11-20T08:05:00.000Z', options), '20 Nov, 08:05');
  });

  it('uses the reader\'s time zone for the day too', () => {
    const tokyo = { ...options, timeZone: 'Asia/Tokyo' };
    assert.equal(formatTime('2026-11-23T11:20:00.000Z', tokyo), '20:20');
    assert.equal(formatTime('2026-11-22T16:00:00.000Z', tokyo), '01:00'); // already the 23rd in Tokyo
  });

  it('returns nothing for an unreadable time', () => {
    assert.equal(formatTime('yesterday', options), '');
    assert.equal(formatTime(undefined, options), '');
    assert.equal(formatFullTime('nope'), '');
    assert.match(formatFullTime('2026-11-23T11:20:00.123Z', { locale: 'en-GB', timeZone: 'UTC' }), /23 Nov 2026.*11:20:00/);
  });
});

describe('shortHash and describeState', () => {
  it('shortens a hash', () => {
    assert.equal(shortHash('000000a3f1c2b4d5e6f7'), '000000a3f1c2b4d5…');
    assert.equal(shortHash('abc'), 'abc');
    assert.equal(shortHash(undefined), '');
  });

  it('describes connection states', () => {
    assert.equal(describeState({ state: 'connected' }), 'Connected');
    assert.equal(describeState({ state: 'reconnecting', delayMs: 2400 }), 'Reconnecting in 2 s…');
    assert.equal(describeState({ state: 'reconnecting', delayMs: 100 }), 'Reconnecting in 1 s…');
    assert.equal(describeState({ state: 'auth-failed' }), 'Refused by the broker');
    assert.equal(describeState({ state: 'connecting' }), 'Connecting…');
  });
});
