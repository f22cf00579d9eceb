/**
 * Client-side quotas per bucket: every request waits for a slot in its bucket before it is sent,
 * so we stay under the broker's documented limits instead of collecting 429s.
 */
import pThrottle from 'p-throttle';

export interface RateLimit {
  /** Requests allowed per interval. */
  readonly limit: number;
  readonly intervalMs: number;
}

/** Buckets by name; `default` is used by requests that name no bucket. */
export type RateLimits = { readonly default: RateLimit } & Readonly<Record<string, RateLimit>>;

/**
 * The broker counts a request when it arrives, not when we sent it: a request delayed on the way
 * (a new connection, a slow hop) lands closer to the next window's first request than we sent it.
 * Widening each window a little keeps the broker's count under the limit.
 */
export function safetyMarginMs(intervalMs: number): number {
  return Math.max(50, Math.ceil(intervalMs * 0.02));
}

export class RateLimiter {
  private readonly slots = new Map<string, () => Promise<void>>();

  constructor(limits: RateLimits) {
    for (const [name, { limit, intervalMs }] of Object.entries(limits)) {
      // strict: a sliding window, so no interval ever holds more than `limit` requests
      // (the default windowed algorithm allows up to twice that across a window boundary).
      const throttle = pThrottle({ limit, interval: intervalMs + safetyMarginMs(intervalMs), strict: true });
      this.slots.set(
        name,
        throttle(async () => undefined),
      );
    }
  }

  /** Resolves when a request in `bucket` may be sent. An unknown bucket is a programming error. */
  async acquire(bucket = 'default'): Promise<void> {
    const slot = this.slots.get(bucket);
    if (slot === undefined) throw new TypeError(`no rate limit bucket named ${bucket}`);
    await slot();
  }
}
