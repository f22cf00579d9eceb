/**
 * When a failed attempt may be sent again: the rule that keeps orders from being placed twice.
 * Pure, so it is tested with plain values.
 */

/** What one attempt produced, as far as retrying is concerned. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfterMs: number | undefined }
  | { readonly kind: 'network'; readonly timedOut: boolean };

/**
 * Why the attempt may be repeated, or false.
 * - `rate_limited`: a 429 means the broker did not process the request, so any method may repeat.
 * - `transient`: a timeout, a connection error or a 5xx leaves the outcome unknown; only requests
 *   that are safe to repeat (reads, documented-idempotent writes) may be sent again. An order POST
 *   never is: the caller reconciles by client order id instead.
 */
export function retryReason(
  outcome: AttemptOutcome,
  idempotent: boolean,
): 'rate_limited' | 'transient' | false {
  if (outcome.kind === 'response' && outcome.status === 429) return 'rate_limited';
  const transient = outcome.kind === 'network' || outcome.status >= 500;
  return transient && idempotent ? 'transient' : false;
}

/**
 * How long to wait before the next attempt: what the broker asked for (Retry-After on 429/503),
 * else the jittered exponential backoff.
 */
export function retryDelayMs(outcome: AttemptOutcome, backoffMs: number): number {
  if (outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503)) {
    return outcome.retryAfterMs ?? backoffMs;
  }
  return backoffMs;
}

/** Failures the circuit breaker counts: the broker is not answering (not: it answered "no"). */
export function isBreakerFailure(outcome: AttemptOutcome): boolean {
  return outcome.kind === 'network' || outcome.status >= 500;
}
