// Time arithmetic for the STOMP client: heart-beat negotiation, reconnect backoff, the clock.

/**
 * Negotiates heart-beats as STOMP 1.2 says: each direction is MAX of what one side can do and
 * the other wants, or 0 (off) when either side says 0. A missing header counts as "0,0".
 * @param {{outgoing: number, incoming: number}} client what the client sent as `cx,cy`
 * @param {string | undefined} serverHeader the CONNECTED frame's `heart-beat` header (`sx,sy`)
 * @returns {{outgoing: number, incoming: number}} ms between client EOLs; ms expected between server beats
 */
export function negotiateHeartbeat(client, serverHeader) {
  const [sx, sy] = parseHeartbeat(serverHeader);
  const cx = client.outgoing;
  const cy = client.incoming;
  return {
    outgoing: cx === 0 || sy === 0 ? 0 : Math.max(cx, sy),
    incoming: cy === 0 || sx === 0 ? 0 : Math.max(cy, sx),
  };
}

function parseHeartbeat(header) {
  const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(header ?? '');
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/**
 * Default reconnect policy, "full jitter": attempt n waits a random time in [0, min(8 s, 1 s · 2^n)],
 * so the first retry comes within a second and a thousand tabs that lost their broker together
 * come back spread over that time instead of in the same millisecond.
 */
export const DEFAULT_BACKOFF = Object.freeze({ baseMs: 1000, factor: 2, capMs: 8000, jitter: 1 });

/**
 * The delay before reconnect attempt `attempt` (0 for the first): exponential growth with a cap,
 * then jitter that removes up to `jitter` of it (all of it with jitter 1: full jitter), so clients
 * that lost the broker together spread out.
 * @param {number} attempt 0, 1, 2, ...
 * @param {{baseMs: number, factor: number, capMs: number, jitter: number}} policy
 * @param {() => number} random a source of numbers in [0, 1)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, policy, random) {
  const { baseMs, factor, capMs, jitter } = policy;
  const ceiling = Math.min(capMs, baseMs * Math.pow(factor, attempt));
  return Math.round(ceiling * (1 - jitter * random()));
}

/**
 * The real clock, in the shape the client takes (tests pass a fake one).
 * @type {{now: () => number, setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (handle: any) => void}}
 */
export const systemClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
});
