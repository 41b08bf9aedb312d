// Errors the STOMP client reports: one class, an open-ended string code, and context.

/**
 * Error codes. Compare `error.code` with these; new codes may appear, so keep a default branch.
 * @readonly
 */
export const ErrorCode = Object.freeze({
  /** The broker sent an ERROR frame after CONNECTED; `headers` and `body` hold it. */
  brokerError: 'broker-error',
  /** The broker answered CONNECT with ERROR (bad login or passcode, or vhost refused). */
  authFailed: 'auth-failed',
  /** Web-STOMP closed the socket with 1000 "STOMP died": it refused an operation (see `operation`). */
  stompDied: 'stomp-died',
  /** A SUBSCRIBE was refused repeatedly, so the subscription was dropped. */
  subscribeRefused: 'subscribe-refused',
  /** The socket closed or failed for another reason. */
  connectionLost: 'connection-lost',
  /** The broker went quiet for longer than twice the negotiated heart-beat. */
  heartbeatTimeout: 'heartbeat-timeout',
  /** CONNECTED did not arrive in time. */
  connectTimeout: 'connect-timeout',
  /** The broker sent a frame that does not parse, or one too large. */
  parseError: 'parse-error',
  /** No RECEIPT in time. */
  receiptTimeout: 'receipt-timeout',
  /** No reply to a request in time. */
  requestTimeout: 'request-timeout',
  /** Not connected now: the SEND or request was not sent (nothing is kept for later). */
  notConnected: 'not-connected',
  /** The client was deactivated while the operation was pending. */
  deactivated: 'deactivated',
  /** A subscription handler threw or its promise rejected; `cause` holds what it threw. */
  handlerFailed: 'handler-failed',
});

/** An error from the STOMP client: `code` (see ErrorCode) plus whatever context is known. */
export class StompError extends Error {
  /**
   * @param {string} code one of ErrorCode (or a future one)
   * @param {string} message human-readable description
   * @param {{headers?: Record<string, string>, body?: string, operation?: string,
   *          closeCode?: number, closeReason?: string, cause?: unknown}} [context]
   */
  constructor(code, message, context = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'StompError';
    this.code = code;
    this.headers = context.headers;
    this.body = context.body;
    this.operation = context.operation;
    this.closeCode = context.closeCode;
    this.closeReason = context.closeReason;
  }
}
