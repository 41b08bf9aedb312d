// Bookkeeping for answers the client waits for: RECEIPTs by receipt id, replies by correlation id.
// Each entry settles once, with its timer cleared, whichever of answer, timeout or failure comes first.

/** Pending RECEIPTs, each with a timeout. */
export class ReceiptBook {
  /** @param {{setTimeout: Function, clearTimeout: Function}} clock */
  constructor(clock) {
    this._clock = clock;
    this._entries = new Map();
  }

  /**
   * Waits for the RECEIPT with this id.
   * @param {string} receipt
   * @param {{resolve: (frame: any) => void, reject: (error: Error) => void, timeoutMs: number,
   *          timeoutError: () => Error}} handlers
   */
  expect(receipt, { resolve, reject, timeoutMs, timeoutError }) {
    const timer = this._clock.setTimeout(() => {
      this._entries.delete(receipt);
      reject(timeoutError());
    }, timeoutMs);
    this._entries.set(receipt, { resolve, reject, timer });
  }

  /**
   * Settles the entry a RECEIPT answers.
   * @param {string} receipt the RECEIPT's receipt-id
   * @param {unknown} frame passed to resolve
   * @returns {boolean} whether anyone was waiting
   */
  resolve(receipt, frame) {
    const entry = this._take(receipt);
    entry?.resolve(frame);
    return Boolean(entry);
  }

  /**
   * Rejects every pending receipt (the connection that would carry them is gone).
   * @param {Error} error
   */
  rejectAll(error) {
    for (const receipt of [...this._entries.keys()]) this._take(receipt)?.reject(error);
  }

  _take(receipt) {
    const entry = this._entries.get(receipt);
    if (!entry) return undefined;
    this._entries.delete(receipt);
    this._clock.clearTimeout(entry.timer);
    return entry;
  }
}

/**
 * Pending requests by correlation id. An entry records the link its request went out on, since
 * a reply cannot outlive the temporary queue, which dies with that link.
 */
export class RequestBook {
  /** @param {{setTimeout: Function, clearTimeout: Function}} clock */
  constructor(clock) {
    this._clock = clock;
    this._entries = new Map();
  }

  /**
   * Opens a pending request.
   * @param {string} correlationId
   * @param {{resolve: (message: any) => void, reject: (error: Error) => void, timeoutMs: number,
   *          timeoutError: () => Error, settled?: () => void}} handlers `settled` runs once,
   *   whichever way it ends
   * @returns {{link: object | null, resolve: (message: any) => void, reject: (error: Error) => void}}
   */
  open(correlationId, { resolve, reject, timeoutMs, timeoutError, settled }) {
    const finish = (fn, value) => {
      if (this._entries.get(correlationId) !== pending) return;
      this._entries.delete(correlationId);
      this._clock.clearTimeout(timer);
      settled?.();
      fn(value);
    };
    const pending = {
      link: null,
      resolve: (message) => finish(resolve, message),
      reject: (error) => finish(reject, error),
    };
    const timer = this._clock.setTimeout(() => pending.reject(timeoutError()), timeoutMs);
    this._entries.set(correlationId, pending);
    return pending;
  }

  /**
   * The pending request with this correlation id, if any.
   * @param {string | undefined} correlationId
   */
  get(correlationId) {
    return this._entries.get(correlationId);
  }

  /**
   * Rejects the requests matching a predicate (all when none is given).
   * @param {Error} error
   * @param {(pending: {link: object | null}) => boolean} [which]
   */
  reject(error, which = () => true) {
    for (const pending of [...this._entries.values()]) if (which(pending)) pending.reject(error);
  }
}
