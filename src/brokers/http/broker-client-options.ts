/**
 * What every broker client takes besides its credentials: test hooks (fetch, sleep, clock), a
 * logger, and overrides of the HTTP client's defaults. One place, so the brokers cannot drift.
 */
import type { Logger } from '../../core/logging/logger.js';
import type { BreakerOptions, BrokerHttpOptions, RetryOptions } from './broker-http-client.js';
import type { RateLimits } from './rate-limiter.js';

/** Overrides of the HTTP client's defaults (tests use small values). */
export interface HttpOverrides {
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  readonly breaker?: BreakerOptions;
  readonly rateLimits?: RateLimits;
}

export interface BrokerClientOptions {
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
  readonly logger?: Logger;
  readonly http?: HttpOverrides;
}

type SharedHttpOptions = Pick<
  BrokerHttpOptions,
  'rateLimits' | 'timeoutMs' | 'retry' | 'breaker' | 'fetch' | 'sleep' | 'now' | 'logger'
>;

/** The HTTP client options a broker passes through unchanged, with its own documented quotas. */
export function sharedHttpOptions(options: BrokerClientOptions, rateLimits: RateLimits): SharedHttpOptions {
  const { http } = options;
  return {
    rateLimits: http?.rateLimits ?? rateLimits,
    ...(http?.timeoutMs !== undefined && { timeoutMs: http.timeoutMs }),
    ...(http?.retry && { retry: http.retry }),
    ...(http?.breaker && { breaker: http.breaker }),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.sleep && { sleep: options.sleep }),
    ...(options.now && { now: options.now }),
    ...(options.logger && { logger: options.logger }),
  };
}
