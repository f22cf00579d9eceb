/**
 * Where a backtest gets its prices: quotes, option chains and sessions at any moment it asks for,
 * instead of "now". Two sources: the simulated market (the same deterministic prices paper trading
 * sees) and a supplied daily price series, with options priced by Black-Scholes.
 */
import { Decimal } from '../../core/domain/values.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import {
  type MarketSession,
  type OptionContract,
  type Quote,
  type QuoteRequest,
  UnknownInstrumentError,
} from '../../core/market-data/market-data.js';
import { blackScholes, occSymbol } from '../../core/market-data/providers/options.js';
import {
  type OptionChain,
  type OptionChainEntry,
  type OptionChainExpiration,
  SimulatedMarket,
  strikeStep,
} from '../../core/market-data/providers/simulated-market.js';
import {
  addDays,
  newYorkInstant,
  newYorkTime,
  sessionFor,
  usTradingDay,
  weekdayOf,
} from '../../core/market-data/providers/us-market-calendar.js';

/** Market data at a chosen moment. */
export interface BacktestMarket {
  readonly name: string;
  /** @throws UnknownInstrumentError when there is no price (unknown symbol, expired option) */
  quote(request: QuoteRequest, at: Date): Promise<Quote>;
  optionChain(underlying: string, at: Date): Promise<OptionChain>;
  session(assetClass: 'equity' | 'option' | 'crypto', at: Date): MarketSession;
}

/**
 * The simulated market driven by the backtest's clock. It takes the market's seed and symbols
 * rather than an instance because `SimulatedMarket.quote` reads the clock it was built with.
 */
export function simulatedBacktestMarket(options: {
  readonly seed: number;
  readonly symbols: SymbolResolver;
}): BacktestMarket {
  let now = new Date(0);
  const market = new SimulatedMarket({ seed: options.seed, symbols: options.symbols, clock: () => now });
  return {
    name: 'simulated',
    // `quote` reads the clock before its first await, so setting it just before is enough.
    quote(request, at) {
      now = at;
      return market.quote(request);
    },
    optionChain: (underlying, at) => market.optionChain(underlying, at),
    session: (assetClass, at) => market.session(assetClass, at),
  };
}

/** One day's close of a supplied series. */
export interface DailyClose {
  /** YYYY-MM-DD (New York). */
  readonly date: string;
  readonly close: Decimal.Value;
}

export interface PriceSeriesOptions {
  /** The one ticker the series prices. */
  readonly symbol: string;
  /** Daily closes, any order; a date without a close uses the latest earlier one. */
  readonly closes: readonly DailyClose[];
  /** Annualised volatility for option prices, e.g. 0.6. */
  readonly volatility: number;
  /** Continuously compounded risk-free rate (default 0.04). */
  readonly rate?: number;
}

const YEAR_MS = 365 * 24 * 3_600_000;
const CENT = new Decimal('0.01');
/** Weekly expirations listed ahead, enough for a 60-day window. */
const WEEKS_LISTED = 9;
/** Strikes listed each side of the money. */
const STRIKES_EACH_SIDE = 10;

/**
 * A market made of one daily series: the stock trades at that day's close all day (bid = ask =
 * last, so share P&L is plain arithmetic); options are Black-Scholes at the given volatility with a
 * spread of 4% of the price (at least 2 cents), and a chain of nine weekly expirations (Fridays,
 * Thursday when Friday is a holiday) with strikes around the money.
 */
export function priceSeriesMarket(options: PriceSeriesOptions): BacktestMarket {
  const symbol = options.symbol.trim().toUpperCase();
  const closes = [...options.closes]
    .map((entry) => ({ date: entry.date, close: new Decimal(entry.close) }))
    .sort((a, b) => a.date.localeCompare(b.date));
  if (closes.length === 0) throw new RangeError('A price series needs at least one close');
  for (const entry of closes) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(entry.date)) throw new RangeError(`"${entry.date}" is not YYYY-MM-DD`);
    if (!entry.close.isFinite() || entry.close.lte(0))
      throw new RangeError(`The close on ${entry.date} must be a positive price`);
  }
  if (!(options.volatility > 0)) throw new RangeError('The volatility must be positive');
  const rate = options.rate ?? 0.04;

  const closeOn = (at: Date): Decimal => {
    const date = newYorkTime(at).date;
    let found: Decimal | undefined;
    for (const entry of closes) {
      if (entry.date > date) break;
      found = entry.close;
    }
    if (found === undefined) throw new UnknownInstrumentError(`${symbol} before ${closes[0]?.date ?? ''}`);
    return found;
  };

  const priceOption = (
    contract: OptionContract,
    at: Date,
  ): { bid: Decimal; ask: Decimal; last: Decimal; delta: number } => {
    const years = (newYorkInstant(contract.expiry, 16, 0).getTime() - at.getTime()) / YEAR_MS;
    if (years <= 0) throw new UnknownInstrumentError(occSymbol(contract));
    const { price, delta } = blackScholes({
      spot: closeOn(at).toNumber(),
      strike: contract.strike.toNumber(),
      years,
      rate,
      volatility: options.volatility,
      right: contract.right,
    });
    const width = Math.max(0.02, price * 0.04);
    const bid = Decimal.max(CENT, new Decimal(price - width / 2).toNearest(CENT, Decimal.ROUND_DOWN));
    const ask = Decimal.max(bid.plus(CENT), new Decimal(price + width / 2).toNearest(CENT, Decimal.ROUND_UP));
    const last = Decimal.min(Decimal.max(new Decimal(price).toDecimalPlaces(2), bid), ask);
    return { bid, ask, last, delta };
  };

  const own = (underlying: string): void => {
    if (underlying.trim().toUpperCase() !== symbol) throw new UnknownInstrumentError(underlying);
  };

  return {
    name: 'price series',
    async quote(request, at) {
      if (request.assetClass === 'option') {
        own(request.contract.underlying);
        const { bid, ask, last } = priceOption(request.contract, at);
        return {
          symbol: occSymbol(request.contract),
          assetClass: 'option',
          bid,
          ask,
          last,
          at,
          source: 'series',
        };
      }
      own(request.symbol);
      const close = closeOn(at);
      return {
        symbol,
        assetClass: request.assetClass,
        bid: close,
        ask: close,
        last: close,
        at,
        source: 'series',
      };
    },
    async optionChain(underlying, at) {
      own(underlying);
      const spot = closeOn(at);
      const step = strikeStep(spot.toNumber());
      const atm = spot.dividedBy(step).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).times(step);
      const strikes: Decimal[] = [];
      for (let i = -STRIKES_EACH_SIDE; i <= STRIKES_EACH_SIDE; i += 1) {
        const strike = atm.plus(new Decimal(step).times(i));
        if (strike.gt(0)) strikes.push(strike);
      }
      const today = newYorkTime(at).date;
      const expirations: OptionChainExpiration[] = weeklyExpirations(at).map((expiry) => ({
        expiry,
        kind: isThirdFriday(expiry) ? 'monthly' : 'weekly',
        daysToExpiry: Math.round(
          (Date.parse(`${expiry}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000,
        ),
        strikes: strikes.map((strike) => {
          const entry = (right: 'call' | 'put'): OptionChainEntry => {
            const contract: OptionContract = { underlying: symbol, expiry, right, strike };
            const priced = priceOption(contract, at);
            return {
              contract,
              symbol: occSymbol(contract),
              bid: priced.bid,
              ask: priced.ask,
              last: priced.last,
              delta: new Decimal(priced.delta).toDecimalPlaces(4),
              impliedVolatility: new Decimal(options.volatility).toDecimalPlaces(4),
            };
          };
          return { strike, call: entry('call'), put: entry('put') };
        }),
      }));
      return { underlying: symbol, underlyingPrice: spot, at, source: 'series', expirations };
    },
    session: (assetClass, at) => sessionFor(assetClass, at),
  };
}

/** The next weekly expirations still trading at `at`. */
function weeklyExpirations(at: Date): string[] {
  let friday = newYorkTime(at).date;
  while (weekdayOf(friday) !== 5) friday = addDays(friday, 1);
  const expiries: string[] = [];
  for (let week = 0; expiries.length < WEEKS_LISTED && week < WEEKS_LISTED + 2; week += 1) {
    const candidate = addDays(friday, 7 * week);
    const expiry = usTradingDay(candidate).trading ? candidate : addDays(candidate, -1);
    if (newYorkInstant(expiry, 16, 0).getTime() > at.getTime()) expiries.push(expiry);
  }
  return expiries;
}

/** A Friday (or the Thursday before a Friday holiday) in the third week. */
function isThirdFriday(expiry: string): boolean {
  const friday = weekdayOf(expiry) === 5 ? expiry : addDays(expiry, 1);
  const day = Number(friday.slice(8, 10));
  return day >= 15 && day <= 21;
}
