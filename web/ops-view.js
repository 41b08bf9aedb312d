// The operator's page without the DOM: asks GET /api/ops every few seconds with the access
// token, and turns its answer into rows to draw. ops.js draws them.

/** How often the page asks (the server reads the broker at most every 5 s anyway). */
export const OPS_REFRESH_MS = 5000;

/**
 * Polls /api/ops and tells `onUpdate` what to show after each answer:
 *   {kind: 'overview', overview} | {kind: 'forbidden', message} | {kind: 'signedOut', message}
 *   | {kind: 'error', message}
 * A 403 (not an operator) or a 401 (the sign-in is over) stops the polling.
 */
export class OpsPoller {
  /**
   * @param {object} options
   * @param {() => Promise<string>} options.token a fresh access token (Auth.freshToken)
   * @param {typeof fetch} options.fetch
   * @param {(update: object) => void} options.onUpdate
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.clock]
   * @param {number} [options.intervalMs]
   */
  constructor({ token, fetch, onUpdate, clock = globalThis, intervalMs = OPS_REFRESH_MS }) {
    this._token = token;
    this._fetch = fetch;
    this._onUpdate = onUpdate;
    this._clock = clock;
    this.intervalMs = intervalMs;
    this._timer = null;
    this.running = false;
  }

  /** Asks now, then every interval until stop() or a 401/403. */
  start() {
    if (this.running) return;
    this.running = true;
    this._tick();
  }

  stop() {
    this.running = false;
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._timer = null;
  }

  async _tick() {
    this._timer = null;
    const update = await this.askOnce();
    if (!this.running) return;
    this._onUpdate(update);
    if (update.kind === 'forbidden' || update.kind === 'signedOut') {
      this.running = false;
      return;
    }
    this._timer = this._clock.setTimeout(() => this._tick(), this.intervalMs);
  }

  /** One question; never throws. @returns {Promise<object>} the update */
  async askOnce() {
    let response;
    try {
      const token = await this._token();
      response = await this._fetch('/api/ops', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    } catch (error) {
      if (error?.sessionEnded || error?.code === 'signed_out') return { kind: 'signedOut', message: error.message };
      return { kind: 'error', message: `The server cannot be reached (${error?.message ?? error}); trying again.` };
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.status === 200 && body?.ok) return { kind: 'overview', overview: body };
    const message = body?.error ?? `The server answered ${response.status}.`;
    if (response.status === 403) return { kind: 'forbidden', message };
    if (response.status === 401) return { kind: 'signedOut', message };
    return { kind: 'error', message };
  }
}

/** `1234` → "1,234"; a rate to one decimal ("0.5/s"). */
const count = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const rate = (r) => `${(Number.isFinite(r) ? r : 0).toFixed(1)}/s`;

/**
 * The rows of the page, as text, from an /api/ops answer.
 * @returns {{summary: string, management: string | null, roles: string[][], queues: string[][],
 *   deadLetters: string[][], deadSummary: string}}
 */
export function overviewRows(overview) {
  const roles = (overview.roles ?? []).map((r) => [r.role, r.instances > 0 ? `online (${r.instances})` : 'offline', r.queues.join(', ')]);
  const queues = (overview.queues ?? []).map((q) => [
    q.queue, count(q.messages), count(q.ready), count(q.unacked), count(q.consumers), rate(q.publishRate), rate(q.deliverRate),
  ]);
  const dead = overview.deadLetters ?? { waiting: 0, shown: [] };
  const deadLetters = dead.shown.map((d) => [
    Number.isFinite(d.time) ? new Date(d.time * 1000).toISOString().replace('T', ' ').slice(0, 19) : '',
    d.queue ?? '',
    d.reason ?? '',
    d.payload ?? '',
  ]);
  const online = roles.filter((r) => r[1] !== 'offline').length;
  const tabs = overview.tabs == null ? '' : `, ${count(overview.tabs)} tab${overview.tabs === 1 ? '' : 's'} signed in`;
  const age = Number.isFinite(overview.ageSeconds) ? ` (figures ${overview.ageSeconds.toFixed(0)} s old)` : '';
  return {
    summary: `${online} of ${roles.length} roles online${tabs}${age}`,
    management: overview.management?.ok === false ? `The broker's management API: ${overview.management.error}` : null,
    roles,
    queues,
    deadLetters,
    deadSummary: dead.waiting === 0
      ? 'No dead letters.'
      : `${count(dead.waiting)} dead letter${dead.waiting === 1 ? '' : 's'} waiting; the newest ${dead.shown.length} of the first ones shown.`,
  };
}
