// Small text formatters for the page: times, hash rates, durations, hashes, connection states.

/**
 * An event's time in the reader's zone: "14:05" today, "23 Nov, 14:05" on other days.
 * @param {string} at RFC 3339
 * @param {{now?: Date, locale?: string, timeZone?: string}} [options]
 * @returns {string} empty for an unreadable time
 */
export function formatTime(at, { now = new Date(), locale, timeZone } = {}) {
  const date = new Date(at);
  if (typeof at !== 'string' || Number.isNaN(date.getTime())) return '';
  const day = (d) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  const time = { hour: '2-digit', minute: '2-digit', timeZone };
  if (day(date) === day(now)) return new Intl.DateTimeFormat(locale, time).format(date);
  return new Intl.DateTimeFormat(locale, { ...time, day: 'numeric', month: 'short' }).format(date);
}

/**
 * The full time, for a tooltip.
 * @param {string} at
 * @param {{locale?: string, timeZone?: string}} [options]
 * @returns {string}
 */
export function formatFullTime(at, { locale, timeZone } = {}) {
  const date = new Date(at);
  if (typeof at !== 'string' || Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone }).format(date);
}

const RATE_UNITS = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s'];

/**
 * A hash rate with three significant digits: "512 H/s", "21.3 MH/s".
 * @param {number} hashesPerSecond
 * @returns {string}
 */
export function formatRate(hashesPerSecond) {
  if (!Number.isFinite(hashesPerSecond) || hashesPerSecond < 0) return '—';
  let unit = 0;
  let value = hashesPerSecond;
  while (unit < RATE_UNITS.length - 1 && Number(value.toPrecision(3)) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  const shown = unit === 0 ? String(Math.round(value)) : String(Number(value.toPrecision(3)));
  return `${shown} ${RATE_UNITS[unit]}`;
}

/**
 * A duration: "812 ms", "1.42 s", "2 min 5 s".
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toPrecision(3))} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * The start of a hex hash: "000000a3f1c2…".
 * @param {string} hash
 * @param {number} [length]
 * @returns {string}
 */
export function shortHash(hash, length = 16) {
  if (typeof hash !== 'string') return '';
  return hash.length > length ? `${hash.slice(0, length)}…` : hash;
}

/**
 * What the status area says for a connection state event.
 * @param {{state: string, delayMs?: number}} detail
 * @returns {string}
 */
export function describeState({ state, delayMs }) {
  switch (state) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'reconnecting':
      return delayMs > 0 ? `Reconnecting in ${Math.max(1, Math.round(delayMs / 1000))} s…` : 'Reconnecting…';
    case 'disconnected':
      return 'Disconnected';
    case 'auth-failed':
      return 'Refused by the broker';
    default:
      return String(state);
  }
}
