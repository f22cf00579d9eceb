/**
 * One HTTP client per broker connection, shared by every broker adapter (Alpaca, Schwab, E*TRADE,
 * Coinbase). It owns the rules that keep an order from being placed twice or lost:
 *
 * - A request is repeated only when that is safe: a 429 (the broker did not process it), or a
 *   timeout / reset / 5xx on a request marked `idempotent`. An order POST with an unknown outcome
 *   becomes `BrokerUnreachableError` at once, and the adapter reconciles by client order id.
 * - A circuit breaker (cockatiel) stops sending after repeated network errors, timeouts and 5xx;
 *   while open, requests fail at once with `BrokerCircuitOpenError` (nothing was sent).
 * - Every attempt waits for a slot in its rate-limit bucket (p-throttle) and has its own timeout.
 * - Logs carry method, path, query keys (never values), status and attempt; never headers or bodies.
 */
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleType,
  type IBackoff,
  isBrokenCircuitError,
} from 'cockatiel';
import type { z } from 'zod';
import { type BrokerProvider, BrokerUnreachableError } from '../../core/brokers/broker.js';
import type { Logger } from '../../core/logging/logger.js';
import {
  BrokerAuthError,
  BrokerCircuitOpenError,
  BrokerRateLimitedError,
  BrokerRequestRejectedError,
  BrokerUnexpectedAnswerError,
} from './errors.js';
import { RateLimiter, type RateLimits } from './rate-limiter.js';
import { retryAfterMs } from './retry-after.js';
import { type AttemptOutcome, isBreakerFailure, retryDelayMs, retryReason } from './retry-policy.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RetryOptions {
  /** Attempts in all for a request that may be repeated after a timeout, reset or 5xx. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * Attempts in all while the broker answers 429. Counted apart from `maxAttempts`: a 429 is a
   * definite "not processed", so waiting it out is always safe. Default 6.
   */
  readonly maxRateLimitedAttempts?: number;
  /** Longest Retry-After we wait for; a longer one ends the request. Default 60 s. */
  readonly maxRetryAfterMs?: number;
}

export interface BreakerOptions {
  /** Consecutive failed attempts (network error, timeout, 5xx) that open the circuit. */
  readonly consecutiveFailures: number;
  /** How long the circuit stays open before one trial request may go through. */
  readonly halfOpenAfterMs: number;
}

export interface BrokerHttpOptions {
  readonly provider: BrokerProvider;
  /** Scheme, host and any path prefix (e.g. `https://api.schwabapi.com/trader/v1`); paths are appended. */
  readonly baseUrl: string;
  /**
   * Documented quotas; requests wait for a slot. A request uses the bucket it names, else `default`,
   * e.g. `{ default: { limit: 200, intervalMs: 60_000 }, orders: { limit: 120, intervalMs: 60_000 } }`.
   */
  readonly rateLimits: RateLimits;
  /** Per attempt. Default 10 s. */
  readonly timeoutMs?: number;
  /** Default 3 attempts, 250 ms base, 5 s cap. */
  readonly retry?: RetryOptions;
  /** Default 5 consecutive failures, 30 s open. */
  readonly breaker?: BreakerOptions;
  /**
   * Auth headers for one attempt (API keys, Bearer, an OAuth 1.0a signature over method + url).
   * Called again for every attempt, so signatures with timestamps and nonces stay fresh.
   */
  authorize(request: { method: string; url: URL }): Promise<Record<string, string>> | Record<string, string>;
  /** Turns an error answer into a sentence fit for the chat (e.g. Alpaca's `{code, message}`). */
  describeError(status: number, body: unknown): string;
  /** The broker's own error code in an error answer, if it has one. */
  errorCode?(status: number, body: unknown): string | undefined;
  /** The broker's name in messages; defaults to a name derived from `provider`. */
  readonly displayName?: string;
  readonly fetch?: typeof fetch;
  /** Waits between attempts (injected by tests to record the delays). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
  readonly logger?: Logger;
}

export interface BrokerHttpRequest<T> {
  readonly method: HttpMethod;
  /** Appended to `baseUrl`; path segments from user data must already be URI-encoded. */
  readonly path: string;
  /** Array values become repeated parameters (`a=1&a=2`); undefined values are left out. */
  readonly query?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** The expected body of a 2xx answer (an empty body parses as `undefined`). */
  readonly schema: z.ZodType<T>;
  readonly bucket?: string;
  /**
   * Safe to repeat after an unknown outcome (GETs, and DELETE/PUT the broker documents as
   * idempotent). Defaults to true for GET and false for everything else.
   */
  readonly idempotent?: boolean;
}

export interface BrokerHttpResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly data: T;
}

export type HealthStatus = 'healthy' | 'degraded' | 'down';
export type CircuitStatus = 'closed' | 'open' | 'half_open';

export interface BrokerHttpHealth {
  /** down: the circuit is open; degraded: recent failures or a trial in progress; healthy otherwise. */
  readonly status: HealthStatus;
  readonly circuit: CircuitStatus;
  readonly consecutiveFailures: number;
  readonly lastSuccessAt?: Date;
  readonly lastFailureAt?: Date;
  /** A short, secret-free description of the last failure (e.g. "HTTP 503", "timed out"). */
  readonly lastError?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY: RetryOptions = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 5_000 };
const DEFAULT_BREAKER: BreakerOptions = { consecutiveFailures: 5, halfOpenAfterMs: 30_000 };
const DEFAULT_MAX_RATE_LIMITED_ATTEMPTS = 6;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

const DISPLAY_NAMES: Record<BrokerProvider, string> = {
  paper: 'The paper broker',
  schwab: 'Schwab',
  etrade: 'E*TRADE',
  alpaca: 'Alpaca',
  coinbase: 'Coinbase',
  cdp_wallet: 'The Coinbase wallet',
};

/** One attempt's answer, or its network failure. */
type Attempt =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly retryAfterMs: number | undefined;
      readonly headers: Headers;
      readonly body: unknown;
    }
  | { readonly kind: 'network'; readonly timedOut: boolean; readonly error: unknown };

/**
 * Carries a failed attempt through the circuit breaker, which counts only these; `attempt` unwraps
 * it at once, so it never leaves this file.
 */
class TransportFailure extends Error {
  constructor(readonly attempt: Attempt) {
    super('broker transport failure');
  }
}

export class BrokerHttpClient {
  readonly provider: BrokerProvider;
  private readonly displayName: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;
  private readonly breakerOptions: BreakerOptions;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly limiter: RateLimiter;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  private consecutiveFailures = 0;
  private lastSuccessAt: Date | undefined;
  private lastFailureAt: Date | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: BrokerHttpOptions) {
    this.provider = options.provider;
    this.displayName = options.displayName ?? DISPLAY_NAMES[options.provider];
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const retry = options.retry ?? DEFAULT_RETRY;
    this.retry = {
      ...retry,
      maxRateLimitedAttempts: retry.maxRateLimitedAttempts ?? DEFAULT_MAX_RATE_LIMITED_ATTEMPTS,
      maxRetryAfterMs: retry.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
    };
    this.breakerOptions = options.breaker ?? DEFAULT_BREAKER;
    this.breaker = circuitBreaker(handleType(TransportFailure), {
      halfOpenAfter: this.breakerOptions.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.breakerOptions.consecutiveFailures),
    });
    this.breaker.onBreak(() =>
      options.logger?.warn({ provider: this.provider }, 'broker circuit opened: requests stop for a while'),
    );
    this.breaker.onReset(() => options.logger?.info({ provider: this.provider }, 'broker circuit closed'));
    this.limiter = new RateLimiter(options.rateLimits);
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Sends one request under the rules above.
   * @throws BrokerRequestRejectedError (4xx), BrokerAuthError (401), BrokerRateLimitedError (429s
   *   beyond the budget), BrokerCircuitOpenError, BrokerUnexpectedAnswerError (a GET's 2xx body did
   *   not match `schema`) — all mean nothing was placed
   * @throws BrokerUnreachableError when the outcome is unknown (timeout, reset, 5xx, or a write's
   *   2xx body that did not match `schema`)
   */
  async request<T>(request: BrokerHttpRequest<T>): Promise<BrokerHttpResponse<T>> {
    const url = this.urlFor(request.path, request.query);
    const idempotent = request.idempotent ?? request.method === 'GET';
    let backoff: IBackoff<unknown> = new ExponentialBackoff({
      initialDelay: this.retry.baseDelayMs,
      maxDelay: this.retry.maxDelayMs,
    }).next();
    let transientFailures = 0;
    let rateLimitedAnswers = 0;
    for (let attemptNo = 1; ; attemptNo++) {
      const attempt = await this.attempt(request, url, attemptNo);
      if (attempt.kind === 'response' && attempt.status >= 200 && attempt.status < 300) {
        return { status: attempt.status, headers: attempt.headers, data: this.parse(request, attempt.body) };
      }
      const outcome: AttemptOutcome =
        attempt.kind === 'response'
          ? { kind: 'response', status: attempt.status, retryAfterMs: attempt.retryAfterMs }
          : { kind: 'network', timedOut: attempt.timedOut };
      const reason = retryReason(outcome, idempotent);
      const budgetLeft =
        reason === 'rate_limited'
          ? ++rateLimitedAnswers < this.retry.maxRateLimitedAttempts
          : reason === 'transient' && ++transientFailures < this.retry.maxAttempts;
      if (!budgetLeft) throw this.failure(request, attempt);
      backoff = backoff.next(undefined);
      const delayMs = retryDelayMs(outcome, Math.round(backoff.duration));
      if (delayMs > this.retry.maxRetryAfterMs) throw this.failure(request, attempt);
      await this.sleep(delayMs);
    }
  }

  /** The connection's health as the circuit breaker and recent attempts see it. */
  health(): BrokerHttpHealth {
    const circuit = circuitStatus(this.breaker.state);
    const status: HealthStatus =
      circuit === 'open'
        ? 'down'
        : circuit === 'half_open' || this.consecutiveFailures > 0
          ? 'degraded'
          : 'healthy';
    return {
      status,
      circuit,
      consecutiveFailures: this.consecutiveFailures,
      ...(this.lastSuccessAt && { lastSuccessAt: this.lastSuccessAt }),
      ...(this.lastFailureAt && { lastFailureAt: this.lastFailureAt }),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }

  // ------------------------------------------------------------------ internals

  /** One attempt through the breaker: open circuit → BrokerCircuitOpenError, nothing sent. */
  private async attempt(request: BrokerHttpRequest<unknown>, url: URL, attemptNo: number): Promise<Attempt> {
    try {
      return await this.breaker.execute(async () => {
        await this.limiter.acquire(request.bucket);
        const attempt = await this.send(request, url);
        this.log(request, url, attemptNo, attempt);
        if (attempt.kind === 'network' || isBreakerFailure(attempt)) {
          this.recordFailure(attempt);
          throw new TransportFailure(attempt);
        }
        this.recordSuccess();
        return attempt;
      });
    } catch (error) {
      if (error instanceof TransportFailure) return error.attempt;
      if (isBrokenCircuitError(error)) {
        const seconds = Math.ceil(this.breakerOptions.halfOpenAfterMs / 1000);
        throw new BrokerCircuitOpenError(
          this.provider,
          `${this.displayName} is not answering; we stopped sending requests for ${seconds} s.`,
        );
      }
      throw error;
    }
  }

  private async send(request: BrokerHttpRequest<unknown>, url: URL): Promise<Attempt> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(await this.options.authorize({ method: request.method, url: new URL(url) })),
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await this.fetchImpl(url, {
        method: request.method,
        headers,
        body: request.body === undefined ? null : JSON.stringify(request.body),
        signal: AbortSignal.timeout(this.timeoutMs),
        // A redirected POST could be replayed by fetch; an unexpected 3xx is handled below instead.
        redirect: 'manual',
      });
      const text = await response.text();
      return {
        kind: 'response',
        status: response.status,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after'), this.now()),
        headers: response.headers,
        body: parseBody(text),
      };
    } catch (error) {
      return { kind: 'network', timedOut: isTimeout(error), error };
    }
  }

  private parse<T>(request: BrokerHttpRequest<T>, body: unknown): T {
    const parsed = request.schema.safeParse(body);
    if (parsed.success) return parsed.data;
    this.options.logger?.warn(
      {
        provider: this.provider,
        method: request.method,
        path: request.path,
        issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.code}`),
      },
      'broker answer did not match its schema',
    );
    throw this.unexpectedAnswer(request);
  }

  /**
   * A body or status we do not understand. For a read that changes nothing; for a write we cannot
   * tell whether it took effect, so the caller must reconcile.
   */
  private unexpectedAnswer(request: BrokerHttpRequest<unknown>): Error {
    if (request.method === 'GET') {
      return new BrokerUnexpectedAnswerError(
        this.provider,
        `${this.displayName} answered in a way we do not understand.`,
      );
    }
    return new BrokerUnreachableError(
      this.provider,
      `${this.displayName} answered ${request.method} ${request.path} in a way we do not understand; it may have taken effect`,
    );
  }

  /** The error for an attempt we will not repeat. */
  private failure(request: BrokerHttpRequest<unknown>, attempt: Attempt): Error {
    if (attempt.kind === 'network') {
      return new BrokerUnreachableError(
        this.provider,
        attempt.timedOut
          ? `${this.displayName} did not answer ${request.method} ${request.path} in time`
          : `${this.displayName} could not be reached for ${request.method} ${request.path}`,
        { cause: attempt.error },
      );
    }
    const { status, body } = attempt;
    if (status >= 500) {
      return new BrokerUnreachableError(
        this.provider,
        `${this.displayName} answered ${request.method} ${request.path} with HTTP ${status}: ${this.options.describeError(status, body)}`,
      );
    }
    if (status === 429) {
      return new BrokerRateLimitedError(
        this.provider,
        `${this.displayName} is limiting how often we may call it. Nothing was placed; try again in a minute.`,
      );
    }
    const reason = this.options.describeError(status, body);
    const code = this.options.errorCode?.(status, body);
    if (status === 401) return new BrokerAuthError(this.provider, reason, code);
    if (status >= 400) return new BrokerRequestRejectedError(this.provider, reason, status, code);
    return this.unexpectedAnswer(request);
  }

  private urlFor(path: string, query: BrokerHttpRequest<unknown>['query']): URL {
    const url = new URL(`${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const item of typeof value === 'string' ? [value] : value) url.searchParams.append(key, item);
    }
    return url;
  }

  private recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.lastSuccessAt = this.now();
  }

  private recordFailure(attempt: Attempt): void {
    this.consecutiveFailures += 1;
    this.lastFailureAt = this.now();
    this.lastError =
      attempt.kind === 'response'
        ? `HTTP ${attempt.status}`
        : attempt.timedOut
          ? 'timed out'
          : 'connection failed';
  }

  private log(request: BrokerHttpRequest<unknown>, url: URL, attemptNo: number, attempt: Attempt): void {
    const logger = this.options.logger;
    if (logger === undefined) return;
    const fields = {
      provider: this.provider,
      method: request.method,
      path: request.path,
      // Keys only: query values can be account numbers or tokens.
      queryKeys: [...new Set(url.searchParams.keys())],
      attempt: attemptNo,
      status: attempt.kind === 'response' ? attempt.status : attempt.timedOut ? 'timeout' : 'network_error',
    };
    if (attempt.kind === 'response' && attempt.status < 400) logger.debug(fields, 'broker request');
    else logger.warn(fields, 'broker request failed');
  }
}

function circuitStatus(state: CircuitState): CircuitStatus {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half_open';
    default:
      return 'open';
  }
}

/** JSON when it parses, the raw text otherwise, undefined when empty (204, Schwab's 201). */
function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
