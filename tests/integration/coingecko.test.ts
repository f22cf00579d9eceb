import { afterEach, describe, expect, it } from 'vitest';
import type { Instrument, SymbolResolver } from '../../src/core/market-data/instruments.js';
import {
  MarketDataUnavailableError,
  UnknownInstrumentError,
} from '../../src/core/market-data/market-data.js';
import {
  type CoinGeckoOptions,
  CoinGeckoPrices,
  retryAfterMs,
} from '../../src/core/market-data/providers/coingecko.js';
import { FakeCoinGecko, type FakeCoinGeckoOptions } from '../fakes/coingecko/fake-coingecko.js';

const DEMO_KEY = 'CG-test-demo-key-7f3a9c';

/** A tiny fixture directory (the real one lives elsewhere). */
function fixtureResolver(): SymbolResolver {
  const coin = (symbol: string, coingeckoId?: string): Instrument => ({
    symbol,
    name: symbol,
    assetClass: 'crypto',
    kind: 'crypto',
    aliases: [],
    indexes: [],
    ...(coingeckoId ? { coingeckoId } : {}),
  });
  const list: Instrument[] = [
    coin('BTC', 'bitcoin'),
    coin('ETH', 'ethereum'),
    coin('SOL', 'solana'),
    coin('GONE', 'delisted-coin'),
    coin('NOID'),
    { symbol: 'AAPL', name: 'Apple', assetClass: 'equity', kind: 'stock', aliases: [], indexes: [] },
  ];
  const bySymbol = new Map(list.map((item) => [item.symbol, item]));
  return {
    get: (symbol) => bySymbol.get(symbol.trim().toUpperCase()),
    resolve: (text) => bySymbol.get(text.trim().toUpperCase()),
    search: (prefix) => list.filter((item) => item.symbol.startsWith(prefix.toUpperCase())),
    all: () => list,
  };
}

const symbols = fixtureResolver();
let fake: FakeCoinGecko | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  fakeOptions: FakeCoinGeckoOptions = { apiKey: DEMO_KEY, plan: 'demo' },
  providerOptions: Partial<CoinGeckoOptions> = {},
) {
  fake = await FakeCoinGecko.start({
    coins: {
      bitcoin: { usd: 67_187.33, change24h: 1.2, lastUpdatedAt: 1_774_000_000 },
      ethereum: 3456.78,
      solana: 187.5,
    },
    ...fakeOptions,
  });
  let now = new Date('2026-03-10T15:00:00Z');
  const provider = new CoinGeckoPrices({
    baseUrl: fake.baseUrl,
    apiKey: DEMO_KEY,
    plan: 'demo',
    symbols,
    clock: () => now,
    ...providerOptions,
  });
  return {
    fake,
    provider,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`non-Error thrown: ${String(error)}`);
  }
  throw new Error('expected a failure');
}

describe('CoinGeckoPrices against the fake CoinGecko', () => {
  it('sends the demo key header and reports bid = ask = last', async () => {
    const { fake, provider } = await setup();
    const quote = await provider.quote({ assetClass: 'crypto', symbol: 'btc' });
    expect(quote.symbol).toBe('BTC');
    expect(quote.assetClass).toBe('crypto');
    expect(quote.source).toBe('coingecko');
    expect(quote.last.toFixed()).toBe('67187.33');
    expect(quote.bid.equals(quote.last) && quote.ask.equals(quote.last)).toBe(true);
    expect(quote.at.toISOString()).toBe(new Date(1_774_000_000_000).toISOString());
    expect(quote.change24hPercent?.toFixed()).toBe('1.2');
    const [request] = fake.priceRequests;
    expect(request?.headers['x-cg-demo-api-key']).toBe(DEMO_KEY);
    expect(request?.headers['x-cg-pro-api-key']).toBeUndefined();
    expect(request?.query).toMatchObject({
      ids: 'bitcoin',
      vs_currencies: 'usd',
      include_24hr_change: 'true',
      include_last_updated_at: 'true',
    });
  });

  it('uses the pro header on the pro plan', async () => {
    const { fake, provider } = await setup(
      { apiKey: 'pro-key', plan: 'pro' },
      { apiKey: 'pro-key', plan: 'pro' },
    );
    const quote = await provider.quote({ assetClass: 'crypto', symbol: 'ETH' });
    expect(quote.last.toFixed()).toBe('3456.78');
    expect(fake.priceRequests[0]?.headers['x-cg-pro-api-key']).toBe('pro-key');
  });

  it('serves repeated lookups from the cache and refetches after the TTL', async () => {
    const { fake, provider, advance } = await setup(undefined, { cacheTtlMs: 30_000 });
    await provider.quote({ assetClass: 'crypto', symbol: 'BTC' });
    fake.setCoin('bitcoin', 70_000);
    advance(29_000);
    const cached = await provider.quote({ assetClass: 'crypto', symbol: 'BTC' });
    expect(cached.last.toFixed()).toBe('67187.33');
    expect(fake.priceRequests).toHaveLength(1);
    advance(2000);
    const fresh = await provider.quote({ assetClass: 'crypto', symbol: 'BTC' });
    expect(fresh.last.toFixed()).toBe('70000');
    expect(fake.priceRequests).toHaveLength(2);
  });

  it('batches concurrent lookups for different coins into one call', async () => {
    const { fake, provider } = await setup();
    const quotes = await Promise.all(
      ['BTC', 'ETH', 'SOL', 'BTC'].map((symbol) => provider.quote({ assetClass: 'crypto', symbol })),
    );
    expect(quotes.map((quote) => quote.last.toFixed())).toEqual(['67187.33', '3456.78', '187.5', '67187.33']);
    expect(fake.priceRequests).toHaveLength(1);
    expect(fake.priceRequests[0]?.query['ids']?.split(',').sort()).toEqual(['bitcoin', 'ethereum', 'solana']);
  });

  it('waits for retry-after on 429 and then succeeds', async () => {
    const { fake, provider } = await setup(undefined, { timeoutMs: 5000 });
    fake.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const started = performance.now();
    const quote = await provider.quote({ assetClass: 'crypto', symbol: 'BTC' });
    expect(quote.last.toFixed()).toBe('67187.33');
    expect(fake.priceRequests.map((request) => request.status)).toEqual([429, 200]);
    const [first, second] = fake.priceRequests;
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('gives up on a 429 storm with MarketDataUnavailableError inside the time budget', async () => {
    const { fake, provider } = await setup(undefined, { timeoutMs: 2500, maxRetries: 10 });
    fake.failNext(100, { status: 429, retryAfterSeconds: 1 });
    const started = performance.now();
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toMatch(/rate limit/i);
    expect(error.message).toContain('2500 ms budget');
    expect(elapsed).toBeLessThan(2500);
    expect(fake.priceRequests.length).toBeGreaterThanOrEqual(2);
    expect(fake.priceRequests.length).toBeLessThanOrEqual(3);
  });

  it('never retries more than maxRetries times', async () => {
    const { fake, provider } = await setup(undefined, { timeoutMs: 5000, maxRetries: 2 });
    fake.failNext(100, { status: 429, retryAfterSeconds: 0 });
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toContain('gave up after 3 attempts');
    expect(fake.priceRequests).toHaveLength(3);
  });

  it('fails at once when retry-after is longer than the budget', async () => {
    const { fake, provider } = await setup(undefined, { timeoutMs: 2000 });
    fake.failNext(1, { status: 429, retryAfterSeconds: 60 });
    const started = performance.now();
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toContain('retry-after 60 s');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(fake.priceRequests).toHaveLength(1);
  });

  it('retries server errors with backoff, then reports them', async () => {
    const { fake, provider } = await setup(undefined, { timeoutMs: 5000, maxRetries: 2 });
    fake.failNext(1, { status: 500 });
    const quote = await provider.quote({ assetClass: 'crypto', symbol: 'ETH' });
    expect(quote.last.toFixed()).toBe('3456.78');
    expect(fake.priceRequests.map((request) => request.status)).toEqual([500, 200]);

    fake.failNext(10, { status: 503 });
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'SOL' }));
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toContain('HTTP 503');
  });

  it('times out slow answers within the budget', async () => {
    const { fake, provider } = await setup(undefined, { timeoutMs: 300 });
    fake.latencyMs = 3000;
    const started = performance.now();
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toContain('within 300 ms');
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('rejects malformed answers', async () => {
    const { fake, provider } = await setup();
    fake.failNext(1, { status: 200, body: '{"bitcoin":{"usd":"lots"}}' });
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toContain('unexpected response shape');
  });

  it('reports unknown coins and non-crypto requests as UnknownInstrumentError', async () => {
    const { fake, provider } = await setup();
    await expect(provider.quote({ assetClass: 'crypto', symbol: 'GONE' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    expect(fake.priceRequests[0]?.query['ids']).toBe('delisted-coin');
    await expect(provider.quote({ assetClass: 'crypto', symbol: 'NOID' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    await expect(provider.quote({ assetClass: 'crypto', symbol: 'WHAT' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    await expect(provider.quote({ assetClass: 'equity', symbol: 'AAPL' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    await expect(provider.quote({ assetClass: 'crypto', symbol: 'AAPL' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    expect(fake.priceRequests).toHaveLength(1);
    expect(provider.session('crypto', new Date()).open).toBe(true);
  });

  it('explains a rejected key without revealing it', async () => {
    const { fake, provider } = await setup({ apiKey: 'the-right-key', plan: 'demo' });
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toContain('HTTP 401');
    expect(error.message).toContain('check the API key');
    expect(error.message).not.toContain(DEMO_KEY);
    expect(JSON.stringify(error)).not.toContain(DEMO_KEY);
    expect(String(error.stack)).not.toContain(DEMO_KEY);
    // Auth failures are not retried.
    expect(fake.priceRequests).toHaveLength(1);
  });

  it('explains a missing key', async () => {
    const { fake, provider } = await setup(undefined, { apiKey: undefined });
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect(error.message).toContain('error 10002');
    expect(error.message).toContain('set a CoinGecko API key');
    expect(fake.priceRequests[0]?.headers['x-cg-demo-api-key']).toBeUndefined();
  });

  it('works without a key when the server does not require one', async () => {
    const { fake, provider } = await setup({}, { apiKey: undefined });
    const quote = await provider.quote({ assetClass: 'crypto', symbol: 'SOL' });
    expect(quote.last.toFixed()).toBe('187.5');
    expect(fake.priceRequests[0]?.headers['x-cg-demo-api-key']).toBeUndefined();
  });

  it('reports a demo key sent to a pro endpoint', async () => {
    const { provider } = await setup({ apiKey: DEMO_KEY, plan: 'pro' });
    const error = await failure(provider.quote({ assetClass: 'crypto', symbol: 'BTC' }));
    expect(error.message).toContain('error 10010');
    expect(error.message).toContain('pro-api.coingecko.com');
    expect(error.message).not.toContain(DEMO_KEY);
  });
});

describe('fake CoinGecko enforcement', () => {
  it('requires ids and vs_currencies, omits unknown ids and answers JSON numbers', async () => {
    const { fake } = await setup({});
    const base = `${fake.baseUrl}/simple/price`;
    const missingIds = await fetch(`${base}?vs_currencies=usd`);
    expect(missingIds.status).toBe(400);
    const missingCurrencies = await fetch(`${base}?ids=bitcoin`);
    expect(missingCurrencies.status).toBe(400);
    expect(await missingCurrencies.json()).toEqual({
      status: { error_code: 400, error_message: 'Missing parameter vs_currencies' },
    });
    const answer = await fetch(`${base}?ids=bitcoin,nope&vs_currencies=usd&include_24hr_change=true`);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toBe('{"bitcoin":{"usd":67187.33,"usd_24h_change":1.2}}');
    expect((await fetch(`${fake.baseUrl}/coins/list`)).status).toBe(404);
  });

  it('answers 401 with CoinGecko error bodies for missing or wrong keys', async () => {
    const { fake } = await setup({ apiKey: 'k1', plan: 'demo' });
    const url = `${fake.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd`;
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    const body = (await missing.json()) as { status: { error_code: number; error_message: string } };
    expect(body.status.error_code).toBe(10002);
    const wrong = await fetch(url, { headers: { 'x-cg-demo-api-key': 'k2' } });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
    const right = await fetch(url, { headers: { 'x-cg-demo-api-key': 'k1' } });
    expect(right.status).toBe(200);
    await right.body?.cancel();
  });

  it('injects 429 with retry-after and the documented body', async () => {
    const { fake } = await setup({});
    fake.failNext(1, { status: 429, retryAfterSeconds: 7 });
    const limited = await fetch(`${fake.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    const body = (await limited.json()) as { status: { error_code: number; error_message: string } };
    expect(body.status.error_code).toBe(429);
    expect(body.status.error_message).toMatch(/Rate Limit/);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const now = Date.parse('2026-03-10T15:00:00Z');
    expect(retryAfterMs('Tue, 10 Mar 2026 15:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Tue, 10 Mar 2026 14:00:00 GMT', now)).toBe(0);
  });
});
