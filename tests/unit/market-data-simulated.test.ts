import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/domain/values.js';
import type { Instrument, SymbolResolver } from '../../src/core/market-data/instruments.js';
import {
  type OptionContract,
  type Quote,
  UnknownInstrumentError,
} from '../../src/core/market-data/market-data.js';
import { blackScholes, occSymbol, parseOccSymbol } from '../../src/core/market-data/providers/options.js';
import { SimulatedMarket, tickSize } from '../../src/core/market-data/providers/simulated-market.js';
import {
  newYorkOffsetMinutes,
  usTradingDay,
} from '../../src/core/market-data/providers/us-market-calendar.js';

/** A tiny fixture directory (the real one lives elsewhere). */
function fixtureResolver(): SymbolResolver {
  const instrument = (
    symbol: string,
    kind: Instrument['kind'],
    extra: Partial<Instrument> = {},
  ): Instrument => ({
    symbol,
    name: symbol,
    assetClass: kind === 'crypto' ? 'crypto' : 'equity',
    kind,
    aliases: [],
    indexes: [],
    ...extra,
  });
  const list: Instrument[] = [
    instrument('AAPL', 'stock'),
    instrument('SPY', 'etf'),
    instrument('SOFI', 'stock'),
    instrument('TSLA', 'stock'),
    instrument('ZZTOP', 'stock'),
    instrument('BTC', 'crypto', { coingeckoId: 'bitcoin' }),
    instrument('DOGE', 'crypto', { coingeckoId: 'dogecoin' }),
    instrument('NEWCOIN', 'crypto', { coingeckoId: 'newcoin' }),
  ];
  const bySymbol = new Map(list.map((item) => [item.symbol, item]));
  return {
    get: (symbol) => bySymbol.get(symbol.trim().toUpperCase()),
    resolve: (text) => bySymbol.get(text.trim().replace(/^\$/, '').toUpperCase()),
    search: (prefix, limit = 10) =>
      list.filter((item) => item.symbol.startsWith(prefix.toUpperCase())).slice(0, limit),
    all: () => list,
  };
}

const symbols = fixtureResolver();
const T0 = new Date('2026-03-10T15:00:00Z'); // Tuesday 11:00 ET

function market(seed: number, at: Date = T0): SimulatedMarket {
  return new SimulatedMarket({ seed, symbols, clock: () => at });
}

function mid(quote: Quote): Decimal {
  return quote.bid.plus(quote.ask).dividedBy(2);
}

function spreadBps(quote: Quote): number {
  return quote.ask.minus(quote.bid).dividedBy(mid(quote)).times(10_000).toNumber();
}

function contract(strike: number, right: 'call' | 'put', expiry = '2026-04-17'): OptionContract {
  return { underlying: 'AAPL', expiry, right, strike: new Decimal(strike) };
}

describe('SimulatedMarket quotes', () => {
  it('is deterministic per seed, symbol and time across instances', async () => {
    const a = await market(7).quote({ assetClass: 'equity', symbol: 'AAPL' });
    const b = await market(7).quote({ assetClass: 'equity', symbol: 'aapl' });
    expect(b).toEqual(a);
    expect(a.symbol).toBe('AAPL');
    expect(a.source).toBe('simulated');
    const other = await market(8).quote({ assetClass: 'equity', symbol: 'AAPL' });
    expect(other.last.equals(a.last)).toBe(false);
  });

  it('gives the same prices in every process (golden values)', async () => {
    const quote = await market(42).quote({ assetClass: 'equity', symbol: 'AAPL' });
    const btc = await market(42).quote({ assetClass: 'crypto', symbol: 'BTC' });
    expect([quote.bid.toFixed(), quote.ask.toFixed(), quote.last.toFixed()]).toEqual(GOLDEN_AAPL);
    expect([btc.bid.toFixed(), btc.ask.toFixed(), btc.last.toFixed()]).toEqual(GOLDEN_BTC);
  });

  it('moves over time but stays in a plausible band and positive', async () => {
    const lasts = new Set<string>();
    for (let minute = 0; minute < 60 * 24 * 365; minute += 997) {
      const at = new Date(T0.getTime() + minute * 60_000);
      const quote = await market(3, at).quote({ assetClass: 'equity', symbol: 'AAPL' });
      lasts.add(quote.last.toFixed());
      expect(quote.last.toNumber()).toBeGreaterThan(230 * 0.5);
      expect(quote.last.toNumber()).toBeLessThan(230 * 1.6);
    }
    expect(lasts.size).toBeGreaterThan(200);
    const now = await market(3).quote({ assetClass: 'equity', symbol: 'AAPL' });
    const later = await market(3, new Date(T0.getTime() + 5 * 60_000)).quote({
      assetClass: 'equity',
      symbol: 'AAPL',
    });
    expect(later.last.equals(now.last)).toBe(false);
    // Five minutes is a small move, not a jump.
    expect(later.last.minus(now.last).abs().dividedBy(now.last).toNumber()).toBeLessThan(0.02);
  });

  it('quotes bid < last < ask on the tick grid with realistic spreads', async () => {
    const spreads: Record<string, number[]> = { AAPL: [], SPY: [], SOFI: [], BTC: [], ZZTOP: [] };
    for (let minute = 0; minute < 300; minute += 7) {
      const simulated = market(11, new Date(T0.getTime() + minute * 60_000));
      for (const symbol of Object.keys(spreads)) {
        const assetClass = symbol === 'BTC' ? 'crypto' : 'equity';
        const quote = await simulated.quote({ assetClass, symbol });
        expect(quote.bid.lt(quote.ask)).toBe(true);
        expect(quote.last.gte(quote.bid) && quote.last.lte(quote.ask)).toBe(true);
        expect(quote.bid.gt(0)).toBe(true);
        for (const price of [quote.bid, quote.ask, quote.last]) {
          expect(price.decimalPlaces()).toBeLessThanOrEqual(2);
        }
        spreads[symbol]?.push(spreadBps(quote));
      }
    }
    const average = (values: number[] = []) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(Math.max(...(spreads['AAPL'] ?? []))).toBeLessThanOrEqual(4);
    expect(Math.max(...(spreads['SPY'] ?? []))).toBeLessThanOrEqual(4);
    expect(average(spreads['SOFI'])).toBeGreaterThan(average(spreads['AAPL']));
    expect(average(spreads['ZZTOP'])).toBeGreaterThan(average(spreads['SPY']));
    expect(Math.min(...(spreads['BTC'] ?? []))).toBeGreaterThanOrEqual(1.9);
    expect(Math.max(...(spreads['BTC'] ?? []))).toBeLessThanOrEqual(10.1);
  });

  it('uses sensible ticks: pennies, 1/100 cent below $1, significant digits for crypto', async () => {
    expect(tickSize('equity', 230).toFixed()).toBe('0.01');
    expect(tickSize('equity', 0.5).toFixed()).toBe('0.0001');
    expect(tickSize('option', 0.5).toFixed()).toBe('0.01');
    expect(tickSize('crypto', 110_000).toFixed()).toBe('0.01');
    expect(tickSize('crypto', 0.22).toFixed()).toBe('0.000001');
    const doge = await market(5).quote({ assetClass: 'crypto', symbol: 'DOGE' });
    expect(doge.bid.lt(doge.ask)).toBe(true);
    expect(doge.last.toNumber()).toBeGreaterThan(0.05);
    expect(doge.last.toNumber()).toBeLessThan(1);
    expect(doge.last.decimalPlaces()).toBeLessThanOrEqual(6);
  });

  it('prices unknown-to-the-table instruments plausibly by kind', async () => {
    const stock = await market(1).quote({ assetClass: 'equity', symbol: 'ZZTOP' });
    expect(stock.last.toNumber()).toBeGreaterThan(3);
    expect(stock.last.toNumber()).toBeLessThan(600);
    const coin = await market(1).quote({ assetClass: 'crypto', symbol: 'NEWCOIN' });
    expect(coin.last.gt(0)).toBe(true);
  });

  it('throws UnknownInstrumentError for unknown symbols and wrong asset classes', async () => {
    const simulated = market(1);
    await expect(simulated.quote({ assetClass: 'equity', symbol: 'NOPE' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    await expect(simulated.quote({ assetClass: 'crypto', symbol: 'AAPL' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    await expect(simulated.quote({ assetClass: 'equity', symbol: 'BTC' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    await expect(
      simulated.quote({ assetClass: 'option', contract: { ...contract(100, 'call'), underlying: 'BTC' } }),
    ).rejects.toBeInstanceOf(UnknownInstrumentError);
  });

  it('pins and unpins quotes with override', async () => {
    const simulated = market(1);
    const before = await simulated.quote({ assetClass: 'equity', symbol: 'AAPL' });
    simulated.override('aapl', { bid: '300.00', ask: '300.02', last: new Decimal('300.01') });
    const pinned = await simulated.quote({ assetClass: 'equity', symbol: 'AAPL' });
    expect([pinned.bid.toFixed(2), pinned.ask.toFixed(2), pinned.last.toFixed(2)]).toEqual([
      '300.00',
      '300.02',
      '300.01',
    ]);
    // Options follow the pinned underlying.
    const call = await simulated.quote({ assetClass: 'option', contract: contract(300, 'call') });
    expect(call.last.toNumber()).toBeGreaterThan(5);
    expect(call.last.toNumber()).toBeLessThan(30);
    simulated.override('AAPL', undefined);
    expect(await simulated.quote({ assetClass: 'equity', symbol: 'AAPL' })).toEqual(before);
    expect(() => simulated.override('AAPL', { bid: 2, ask: 1, last: 1 })).toThrow(RangeError);
    // Option symbols can be pinned too, padded or not.
    simulated.override('AAPL260417C00300000', { bid: 1, ask: 1.1, last: 1.05 });
    const pinnedCall = await simulated.quote({ assetClass: 'option', contract: contract(300, 'call') });
    expect(pinnedCall.last.toFixed(2)).toBe('1.05');
  });
});

describe('options', () => {
  it('formats and parses OCC symbols', () => {
    expect(
      occSymbol({ underlying: 'AAPL', expiry: '2024-05-17', right: 'put', strike: new Decimal(190) }),
    ).toBe('AAPL  240517P00190000');
    expect(
      occSymbol({ underlying: 'spy', expiry: '2026-01-16', right: 'call', strike: new Decimal('512.5') }),
    ).toBe('SPY   260116C00512500');
    expect(
      occSymbol({ underlying: 'BRK.B', expiry: '2026-12-18', right: 'call', strike: new Decimal('2.5') }),
    ).toBe('BRKB  261218C00002500');
    expect(
      occSymbol({ underlying: 'GOOGL', expiry: '2027-01-15', right: 'put', strike: new Decimal(1000) }),
    ).toHaveLength(21);
    expect(() =>
      occSymbol({ underlying: 'TOOLONGX', expiry: '2026-01-16', right: 'call', strike: new Decimal(1) }),
    ).toThrow(RangeError);
    expect(() =>
      occSymbol({ underlying: 'AAPL', expiry: '2026-1-16', right: 'call', strike: new Decimal(1) }),
    ).toThrow(RangeError);
    expect(() =>
      occSymbol({ underlying: 'AAPL', expiry: '2026-01-16', right: 'call', strike: new Decimal('0.0001') }),
    ).toThrow(RangeError);
    const parsed = parseOccSymbol('AAPL  240517P00190000');
    expect(parsed?.underlying).toBe('AAPL');
    expect(parsed?.expiry).toBe('2024-05-17');
    expect(parsed?.right).toBe('put');
    expect(parsed?.strike.toFixed()).toBe('190');
    expect(parseOccSymbol('AAPL')).toBeUndefined();
  });

  it('prices with Black-Scholes: textbook value, put-call parity, monotone in strike', async () => {
    // Hull's classic example: S=42, K=40, r=10%, sigma=20%, T=0.5 -> call 4.76, put 0.81.
    const call = blackScholes({
      spot: 42,
      strike: 40,
      years: 0.5,
      rate: 0.1,
      volatility: 0.2,
      right: 'call',
    });
    const put = blackScholes({ spot: 42, strike: 40, years: 0.5, rate: 0.1, volatility: 0.2, right: 'put' });
    expect(call.price).toBeCloseTo(4.76, 2);
    expect(put.price).toBeCloseTo(0.81, 2);

    const simulated = market(9);
    const spot = mid(await simulated.quote({ assetClass: 'equity', symbol: 'AAPL' })).toNumber();
    const years = (Date.parse('2026-04-17T20:00:00Z') - T0.getTime()) / (365 * 86_400_000);
    for (const strike of [200, 220, 230, 240, 260]) {
      const c = await simulated.quote({ assetClass: 'option', contract: contract(strike, 'call') });
      const p = await simulated.quote({ assetClass: 'option', contract: contract(strike, 'put') });
      expect(c.symbol).toBe(`AAPL  260417C00${strike}000`);
      expect(c.assetClass).toBe('option');
      const parity = mid(c).minus(mid(p)).toNumber();
      expect(Math.abs(parity - (spot - strike * Math.exp(-0.04 * years)))).toBeLessThan(0.3);
      for (const quote of [c, p]) {
        expect(quote.bid.gte('0.01')).toBe(true);
        expect(quote.bid.lt(quote.ask)).toBe(true);
        expect(quote.last.decimalPlaces()).toBeLessThanOrEqual(2);
      }
    }
    const prices = async (right: 'call' | 'put') =>
      Promise.all(
        [180, 200, 220, 240, 260, 280].map(async (strike) =>
          (
            await simulated.quote({ assetClass: 'option', contract: contract(strike, right) })
          ).last.toNumber(),
        ),
      );
    const calls = await prices('call');
    const puts = await prices('put');
    // Deeper in the money is worth more: calls fall with strike, puts rise.
    for (let i = 1; i < calls.length; i += 1) {
      expect(calls[i]).toBeLessThan(calls[i - 1] ?? 0);
      expect(puts[i]).toBeGreaterThan(puts[i - 1] ?? 0);
    }
    // Far out of the money is still at least a cent.
    const far = await simulated.quote({ assetClass: 'option', contract: contract(600, 'call') });
    expect(far.bid.toFixed(2)).toBe('0.01');
  });

  it('refuses expired contracts', async () => {
    await expect(
      market(1).quote({ assetClass: 'option', contract: contract(200, 'call', '2026-03-06') }),
    ).rejects.toBeInstanceOf(UnknownInstrumentError);
  });

  it('builds an option chain of Friday expirations around the money', async () => {
    // Thursday 2026-03-26, so Good Friday (2026-04-03) moves that week's expiry to Thursday.
    const at = new Date('2026-03-26T15:00:00Z');
    const chain = await market(4, at).optionChain('aapl');
    expect(chain.underlying).toBe('AAPL');
    expect(chain.source).toBe('simulated');
    const expiries = chain.expirations.map((expiration) => expiration.expiry);
    expect(expiries).toEqual(['2026-03-27', '2026-04-02', '2026-04-10', '2026-04-17', '2026-05-15']);
    expect(chain.expirations.find((e) => e.expiry === '2026-04-17')?.kind).toBe('monthly');
    expect(chain.expirations[0]?.daysToExpiry).toBe(1);
    const first = chain.expirations[0];
    expect(first?.strikes.length).toBe(11);
    const spot = chain.underlyingPrice.toNumber();
    const strikes = first?.strikes.map((row) => row.strike.toNumber()) ?? [];
    expect(strikes).toEqual([...strikes].sort((a, b) => a - b));
    expect(Math.min(...strikes)).toBeLessThan(spot);
    expect(Math.max(...strikes)).toBeGreaterThan(spot);
    for (const row of first?.strikes ?? []) {
      expect(row.call.delta.toNumber()).toBeGreaterThanOrEqual(0);
      expect(row.call.delta.toNumber()).toBeLessThanOrEqual(1);
      expect(row.put.delta.toNumber()).toBeGreaterThanOrEqual(-1);
      expect(row.put.delta.toNumber()).toBeLessThanOrEqual(0);
      expect(row.call.bid.lt(row.call.ask)).toBe(true);
      expect(row.call.symbol).toBe(occSymbol(row.call.contract));
    }
    // The chain agrees with quote().
    const row = first?.strikes[5];
    if (!row) throw new Error('missing strike');
    const quote = await market(4, at).quote({ assetClass: 'option', contract: row.put.contract });
    expect(quote.bid.equals(row.put.bid) && quote.ask.equals(row.put.ask)).toBe(true);
    await expect(market(4, at).optionChain('BTC')).rejects.toBeInstanceOf(UnknownInstrumentError);
  });
});

describe('sessions', () => {
  const session = (iso: string) => market(1).session('equity', new Date(iso));

  it('crypto is always open', () => {
    const crypto = market(1).session('crypto', new Date('2026-12-25T12:00:00Z'));
    expect(crypto.open).toBe(true);
  });

  it('follows New York time across daylight saving changes', () => {
    expect(newYorkOffsetMinutes(new Date('2026-01-15T12:00:00Z'))).toBe(-300);
    expect(newYorkOffsetMinutes(new Date('2026-07-15T12:00:00Z'))).toBe(-240);
    // Friday before DST starts (EST): 09:30 ET = 14:30 UTC.
    expect(session('2026-03-06T14:29:00Z').open).toBe(false);
    expect(session('2026-03-06T14:30:00Z').open).toBe(true);
    // After the close on Friday, the next open is Monday 09:30 EDT = 13:30 UTC.
    const friday = session('2026-03-06T21:30:00Z');
    expect(friday.open).toBe(false);
    expect(friday.nextOpen?.toISOString()).toBe('2026-03-09T13:30:00.000Z');
    // Monday after DST started.
    expect(session('2026-03-09T13:29:00Z').open).toBe(false);
    const monday = session('2026-03-09T13:30:00Z');
    expect(monday.open).toBe(true);
    expect(monday.nextClose?.toISOString()).toBe('2026-03-09T20:00:00.000Z');
    expect(monday.nextOpen?.toISOString()).toBe('2026-03-10T13:30:00.000Z');
    expect(monday.description).toBe('US markets are open; they close today at 16:00 ET');
    // DST ends Sunday 2026-11-01: Monday opens 14:30 UTC again.
    expect(session('2026-11-02T13:30:00Z').open).toBe(false);
    expect(session('2026-11-02T14:30:00Z').open).toBe(true);
    expect(session('2026-10-30T20:59:00Z').open).toBe(false);
    expect(session('2026-10-30T19:59:00Z').open).toBe(true);
  });

  it('is closed on weekends, before the open and after the close', () => {
    const saturday = session('2026-03-14T16:00:00Z');
    expect(saturday.open).toBe(false);
    expect(saturday.description).toBe('US markets are closed for the weekend; they open Monday 09:30 ET');
    expect(saturday.nextOpen?.toISOString()).toBe('2026-03-16T13:30:00.000Z');
    expect(saturday.nextClose?.toISOString()).toBe('2026-03-16T20:00:00.000Z');
    expect(session('2026-03-10T12:00:00Z').description).toBe(
      'US markets are closed (pre-market); they open today 09:30 ET',
    );
    expect(session('2026-03-10T20:00:00Z').description).toBe(
      'US markets are closed (after hours); they open Wednesday 09:30 ET',
    );
    expect(market(1).session('option', new Date('2026-03-14T16:00:00Z')).description).toContain(
      'US options markets',
    );
  });

  it('knows every 2026 NYSE holiday', () => {
    const holidays = [
      '2026-01-01',
      '2026-01-19',
      '2026-02-16',
      '2026-04-03',
      '2026-05-25',
      '2026-06-19',
      '2026-07-03',
      '2026-09-07',
      '2026-11-26',
      '2026-12-25',
    ];
    for (const date of holidays) {
      expect(usTradingDay(date).trading, date).toBe(false);
      expect(session(`${date}T16:00:00Z`).open, date).toBe(false);
    }
    expect(session('2026-11-26T16:00:00Z').description).toBe(
      'US markets are closed for Thanksgiving; they open Friday 09:30 ET (early close 13:00 ET)',
    );
    const christmas = session('2026-12-25T16:00:00Z');
    expect(christmas.description).toBe('US markets are closed for Christmas; they open Monday 09:30 ET');
    expect(christmas.nextOpen?.toISOString()).toBe('2026-12-28T14:30:00.000Z');
    // 2025 and 2027 too: the day of mourning and Christmas observed on Friday.
    expect(usTradingDay('2025-01-09').trading).toBe(false);
    expect(usTradingDay('2027-12-24').trading).toBe(false);
    expect(usTradingDay('2027-03-26').closedFor).toBe('Good Friday');
    // Ordinary days trade.
    expect(usTradingDay('2026-11-25').trading).toBe(true);
  });

  it('closes at 13:00 ET on early-close days', () => {
    const morning = session('2026-11-27T17:59:00Z');
    expect(morning.open).toBe(true);
    expect(morning.nextClose?.toISOString()).toBe('2026-11-27T18:00:00.000Z');
    expect(morning.description).toBe('US markets are open; they close early today at 13:00 ET');
    const afternoon = session('2026-11-27T18:30:00Z');
    expect(afternoon.open).toBe(false);
    expect(afternoon.nextOpen?.toISOString()).toBe('2026-11-30T14:30:00.000Z');
    expect(usTradingDay('2026-12-24').earlyClose).toBe(true);
    expect(usTradingDay('2025-07-03').earlyClose).toBe(true);
    expect(usTradingDay('2026-07-02').earlyClose).toBe(false);
  });
});

const GOLDEN_AAPL = ['237.56', '237.63', '237.59'];
const GOLDEN_BTC = ['114432.16', '114475.87', '114450.57'];
