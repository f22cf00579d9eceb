/**
 * Crypto prices from CoinGecko's `/simple/price`. CoinGecko publishes one aggregated price per coin
 * (no order book), so quotes report bid = ask = last = that price; order previews should treat crypto
 * spreads as unknown rather than zero-cost.
 *
 * CoinGecko refreshes prices about once a minute, so answers are cached per coin for `cacheTtlMs`,
 * concurrent requests for different coins share one HTTP call, and rate limits (429 + retry-after)
 * and server errors are retried a bounded number of times within the `timeoutMs` budget.
 * The API key only ever travels in a request header; error messages never contain it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { Decimal } from '../../domain/values.js';
import type { SymbolResolver } from '../instruments.js';
import {
  type MarketDataProvider,
  MarketDataUnavailableError,
  type MarketSession,
  type Quote,
  type QuoteRequest,
  UnknownInstrumentError,
} from '../market-data.js';
import { sessionFor } from './us-market-calendar.js';

export interface CoinGeckoOptions {
  /** API root including `/api/v3`: https://api.coingecko.com/api/v3 (demo) or https://pro-api.coingecko.com/api/v3 (pro). */
  readonly baseUrl: string;
  readonly apiKey?: string;
  /** Decides the key header: `x-cg-demo-api-key` or `x-cg-pro-api-key`. */
  readonly plan: 'demo' | 'pro';
  readonly symbols: SymbolResolver;
  /** How long a price is reused; CoinGecko itself refreshes about every 60 s. Default 30 000. */
  readonly cacheTtlMs?: number;
  /** Total time budget for one lookup, retries and waits included. Default 5000. */
  readonly timeoutMs?: number;
  /** Retries after a 429, 5xx or network failure. Default 2. */
  readonly maxRetries?: number;
  /** Time source for the cache (tests advance it). */
  readonly clock?: () => Date;
}

/** A CoinGecko quote: `bid`, `ask` and `last` are the same aggregated price. */
export interface CoinGeckoQuote extends Quote {
  /** 24 h change in percent, when CoinGecko reports it. */
  readonly change24hPercent?: Decimal;
}

/** At most this many ids per call, to keep URLs short. */
const MAX_IDS_PER_REQUEST = 50;
/** First backoff for failures without a retry-after header; doubles each attempt. */
const BASE_BACKOFF_MS = 250;

const coinSchema = z.object({
  usd: z.number().positive().optional(),
  usd_24h_change: z.number().nullable().optional(),
  last_updated_at: z.number().int().nonnegative().optional(),
});
const priceResponseSchema = z.record(z.string(), coinSchema);
const errorBodySchema = z.union([
  z.object({ status: z.object({ error_code: z.number().optional(), error_message: z.string().optional() }) }),
  z.object({ error: z.string() }),
]);

interface CoinPrice {
  readonly price: Decimal;
  readonly updatedAt?: Date;
  readonly change24hPercent?: Decimal;
}

interface CacheEntry {
  /** Undefined: CoinGecko does not know the coin (cached too, so typos do not hammer the API). */
  readonly price: CoinPrice | undefined;
  readonly fetchedAt: number;
}

interface Waiter {
  resolve(price: CoinPrice | undefined): void;
  reject(error: unknown): void;
}

export class CoinGeckoPrices implements MarketDataProvider {
  readonly name = 'coingecko';
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly plan: 'demo' | 'pro';
  private readonly symbols: SymbolResolver;
  private readonly cacheTtlMs: number;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly clock: () => Date;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<CoinPrice | undefined>>();
  private pending = new Map<string, Waiter>();
  private flushScheduled = false;

  constructor(options: CoinGeckoOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey === '' ? undefined : options.apiKey;
    this.plan = options.plan;
    this.symbols = options.symbols;
    this.cacheTtlMs = options.cacheTtlMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 2));
    this.clock = options.clock ?? (() => new Date());
  }

  async quote(request: QuoteRequest): Promise<CoinGeckoQuote> {
    if (request.assetClass !== 'crypto') {
      throw new UnknownInstrumentError(
        request.assetClass === 'option' ? request.contract.underlying : request.symbol,
      );
    }
    const instrument = this.symbols.get(request.symbol);
    const id = instrument?.assetClass === 'crypto' ? instrument.coingeckoId : undefined;
    if (!instrument || id === undefined) throw new UnknownInstrumentError(request.symbol);
    const coin = await this.priceFor(id);
    if (!coin) throw new UnknownInstrumentError(instrument.symbol);
    return {
      symbol: instrument.symbol,
      assetClass: 'crypto',
      bid: coin.price,
      ask: coin.price,
      last: coin.price,
      at: coin.updatedAt ?? this.clock(),
      source: this.name,
      ...(coin.change24hPercent ? { change24hPercent: coin.change24hPercent } : {}),
    };
  }

  session(assetClass: 'equity' | 'option' | 'crypto', at: Date): MarketSession {
    return sessionFor(assetClass, at);
  }

  /** Cached price, an in-flight lookup, or a place in the next batched call. */
  private priceFor(id: string): Promise<CoinPrice | undefined> {
    const cached = this.cache.get(id);
    if (cached && this.clock().getTime() - cached.fetchedAt < this.cacheTtlMs)
      return Promise.resolve(cached.price);
    const running = this.inflight.get(id);
    if (running) return running;
    const promise = new Promise<CoinPrice | undefined>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.inflight.set(id, promise);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Lookups started in the same tick (Promise.all over several coins) go out as one call.
      queueMicrotask(() => {
        void this.flush();
      });
    }
    return promise;
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const ids = [...batch.keys()];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST)
      chunks.push(ids.slice(i, i + MAX_IDS_PER_REQUEST));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const prices = await this.fetchPrices(chunk);
          const fetchedAt = this.clock().getTime();
          for (const id of chunk) {
            const price = prices.get(id);
            this.cache.set(id, { price, fetchedAt });
            batch.get(id)?.resolve(price);
          }
        } catch (error) {
          for (const id of chunk) batch.get(id)?.reject(error);
        } finally {
          for (const id of chunk) this.inflight.delete(id);
        }
      }),
    );
  }

  /** One `/simple/price` call with bounded retries inside the time budget. */
  private async fetchPrices(ids: readonly string[]): Promise<Map<string, CoinPrice>> {
    const url = new URL(`${this.baseUrl}/simple/price`);
    url.searchParams.set('ids', ids.join(','));
    url.searchParams.set('vs_currencies', 'usd');
    url.searchParams.set('include_24hr_change', 'true');
    url.searchParams.set('include_last_updated_at', 'true');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey !== undefined) headers[`x-cg-${this.plan}-api-key`] = this.apiKey;

    const deadline = performance.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw this.unavailable(`CoinGecko did not answer within ${this.timeoutMs} ms`);
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, { headers, signal: AbortSignal.timeout(Math.ceil(remaining)) });
        text = await response.text();
      } catch (error) {
        if (isTimeout(error)) {
          throw this.unavailable(`CoinGecko did not answer within ${this.timeoutMs} ms`, error);
        }
        const message = `could not reach CoinGecko (${error instanceof Error ? error.message : String(error)})`;
        await this.beforeRetry(attempt, undefined, deadline, message, error);
        continue;
      }

      if (response.ok) return this.parsePrices(text);
      const detail = this.errorDetail(text);
      if (response.status === 401 || response.status === 403) {
        const hint =
          this.apiKey === undefined
            ? 'set a CoinGecko API key'
            : `check the API key and that the plan (${this.plan}) matches the base URL (demo: api.coingecko.com, pro: pro-api.coingecko.com)`;
        throw this.unavailable(`CoinGecko rejected the request (HTTP ${response.status}${detail}): ${hint}`);
      }
      if (response.status === 429 || response.status >= 500) {
        const reason =
          response.status === 429
            ? `CoinGecko rate limit hit (HTTP 429${detail})`
            : `CoinGecko failed (HTTP ${response.status}${detail})`;
        await this.beforeRetry(attempt, retryAfterMs(response.headers.get('retry-after')), deadline, reason);
        continue;
      }
      throw this.unavailable(`CoinGecko answered HTTP ${response.status}${detail}`);
    }
  }

  /** Waits before the next attempt, or throws when retries or the time budget are used up. */
  private async beforeRetry(
    attempt: number,
    retryAfter: number | undefined,
    deadline: number,
    reason: string,
    cause?: unknown,
  ): Promise<void> {
    if (attempt >= this.maxRetries) {
      throw this.unavailable(`${reason}; gave up after ${attempt + 1} attempts`, cause);
    }
    const wait = retryAfter ?? BASE_BACKOFF_MS * 2 ** attempt;
    const remaining = deadline - performance.now();
    if (wait >= remaining) {
      const asked = retryAfter === undefined ? '' : ` (retry-after ${Math.ceil(retryAfter / 1000)} s)`;
      throw this.unavailable(`${reason}; cannot retry within the ${this.timeoutMs} ms budget${asked}`, cause);
    }
    await sleep(wait);
  }

  private parsePrices(text: string): Map<string, CoinPrice> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.unavailable('CoinGecko answered with invalid JSON', error);
    }
    const parsed = priceResponseSchema.safeParse(json);
    if (!parsed.success) throw this.unavailable('CoinGecko answered with an unexpected response shape');
    const prices = new Map<string, CoinPrice>();
    for (const [id, coin] of Object.entries(parsed.data)) {
      if (coin.usd === undefined) continue;
      const change = coin.usd_24h_change;
      prices.set(id, {
        price: new Decimal(coin.usd),
        ...(coin.last_updated_at !== undefined ? { updatedAt: new Date(coin.last_updated_at * 1000) } : {}),
        ...(change !== undefined && change !== null
          ? { change24hPercent: new Decimal(change).toDecimalPlaces(4) }
          : {}),
      });
    }
    return prices;
  }

  /** ": <message> (code N)" from CoinGecko's error body, or "" when there is none. */
  private errorDetail(text: string): string {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return '';
    }
    const parsed = errorBodySchema.safeParse(json);
    if (!parsed.success) return '';
    if ('error' in parsed.data) return `: ${truncate(parsed.data.error)}`;
    const { error_code: code, error_message: message } = parsed.data.status;
    if (message === undefined) return code === undefined ? '' : `: error ${code}`;
    return `: ${truncate(message)}${code === undefined ? '' : ` (error ${code})`}`;
  }

  /** Every error goes through here so the API key can never leak into a message. */
  private unavailable(message: string, cause?: unknown): MarketDataUnavailableError {
    const key = this.apiKey;
    const safe = key === undefined ? message : message.split(key).join('[redacted]');
    return new MarketDataUnavailableError(this.name, safe, cause === undefined ? undefined : { cause });
  }
}

/** Milliseconds from a retry-after header (delta seconds or an HTTP date); undefined when absent or invalid. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
