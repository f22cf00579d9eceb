/**
 * The fake E*TRADE's quotas: accounts and orders share one (~2/s documented), market data has its
 * own (~4/s), counted in real time over a sliding window; `forceNext` puts the next requests of a
 * bucket (or of one path in it) over the limit. Over the limit, E*TRADE answers HTTP 400 with an HTML page.
 */

export type FakeRateBucket = 'accounts' | 'market';

export interface FakeRateLimit {
  readonly limit: number;
  readonly intervalMs: number;
}

export class FakeRateLimits {
  private readonly limits: Partial<Record<FakeRateBucket, FakeRateLimit>>;
  private readonly windows: Record<FakeRateBucket, number[]> = { accounts: [], market: [] };
  private readonly forced: { bucket: FakeRateBucket; pathSuffix: string; left: number }[] = [];

  constructor(limits: Partial<Record<FakeRateBucket, FakeRateLimit>> = {}) {
    this.limits = { ...limits };
  }

  /** The next `count` requests of `bucket` whose path ends with `pathSuffix` are over the limit. */
  forceNext(count: number, bucket: FakeRateBucket, pathSuffix = ''): void {
    if (count > 0) this.forced.push({ bucket, pathSuffix, left: count });
  }

  /** Sets (or with undefined, lifts) a bucket's quota. */
  set(bucket: FakeRateBucket, limit: FakeRateLimit | undefined): void {
    if (limit === undefined) delete this.limits[bucket];
    else this.limits[bucket] = limit;
    this.windows[bucket] = [];
  }

  /** Whether a request to `path` is over its quota (and counts it when it is not). */
  exceeded(path: string): boolean {
    const bucket = bucketOf(path);
    if (bucket === undefined) return false;
    const forced = this.forced.find((entry) => entry.bucket === bucket && path.endsWith(entry.pathSuffix));
    if (forced !== undefined) {
      forced.left -= 1;
      if (forced.left === 0) this.forced.splice(this.forced.indexOf(forced), 1);
      return true;
    }
    const limit = this.limits[bucket];
    if (limit === undefined) return false;
    const at = performance.now();
    const window = this.windows[bucket].filter((time) => at - time < limit.intervalMs);
    this.windows[bucket] = window;
    if (window.length >= limit.limit) return true;
    window.push(at);
    return false;
  }
}

/** Accounts and orders share one quota, market data has its own; OAuth calls have none. */
function bucketOf(path: string): FakeRateBucket | undefined {
  if (path.startsWith('/v1/market/')) return 'market';
  if (path.startsWith('/v1/accounts')) return 'accounts';
  return undefined;
}
