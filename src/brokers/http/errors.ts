/**
 * The errors the broker HTTP client raises on purpose, refining the core's two roots
 * (src/core/brokers/errors.ts) with what HTTP adds (the status). Each sets the core `kind` that
 * core reads; core never names these classes.
 *
 * Every subclass of `BrokerRejectedError` here means "nothing was placed": the broker answered
 * with a refusal, or we never sent the request. Anything that may have reached the broker without
 * a usable answer stays a plain `BrokerUnreachableError` (reconcile first).
 */
import {
  type BrokerProvider,
  BrokerRejectedError,
  type BrokerRejectionKind,
} from '../../core/brokers/broker.js';

/** The broker answered with an HTTP error status (4xx other than 429): it refused the request. */
export class BrokerRequestRejectedError extends BrokerRejectedError {
  constructor(
    provider: BrokerProvider,
    reason: string,
    /** The HTTP status the broker answered with. */
    readonly status: number,
    code?: string,
    kind: BrokerRejectionKind = 'refused',
  ) {
    super(provider, reason, code, kind);
  }
}

/** 401: the broker no longer accepts our credentials; the connection needs the user's attention. */
export class BrokerAuthError extends BrokerRequestRejectedError {
  constructor(provider: BrokerProvider, reason: string, code?: string) {
    super(provider, reason, 401, code, 'auth');
  }
}

/**
 * The circuit breaker is open after repeated failures: the request was not sent, so nothing was
 * placed. Retrying later is safe.
 */
export class BrokerCircuitOpenError extends BrokerRejectedError {
  constructor(provider: BrokerProvider, reason: string) {
    super(provider, reason, 'circuit_open', 'circuit_open');
  }
}

/**
 * The broker kept answering 429 (or asked us to wait longer than we are willing to): it did not
 * process the request, so nothing was placed.
 */
export class BrokerRateLimitedError extends BrokerRequestRejectedError {
  constructor(provider: BrokerProvider, reason: string) {
    super(provider, reason, 429, 'rate_limited', 'rate_limited');
  }
}

/**
 * A read (GET) answered 2xx with a body that does not match its schema. Reads change nothing, so
 * "nothing was placed" holds; retrying would get the same answer. Writes with such an answer are
 * `BrokerUnreachableError` instead, because we cannot tell what the broker did.
 */
export class BrokerUnexpectedAnswerError extends BrokerRejectedError {
  constructor(provider: BrokerProvider, reason: string) {
    super(provider, reason, 'unexpected_answer', 'unexpected_answer');
  }
}
