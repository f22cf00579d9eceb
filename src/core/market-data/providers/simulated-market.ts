/**
 * The offline market every installation has: deterministic, plausible quotes for stocks, ETFs,
 * crypto and equity options, with no network. The same seed, symbol and time always give the same
 * quote (in any process), so paper trading and tests are reproducible.
 *
 * Price model: log price = log(base) + a sum of hashed "value noise" components at several time
 * scales (1 minute to 30 days). Each component interpolates between Gaussian knots drawn from a hash
 * of (seed, symbol, scale, knot index), so a quote at any time costs a fixed handful of hashes instead
 * of replaying every minute since an epoch, and prices wander realistically but stay near the base.
 */
import { Decimal } from '../../domain/values.js';
import type { Instrument, SymbolResolver } from '../instruments.js';
import {
  type MarketDataProvider,
  type MarketSession,
  type OptionContract,
  type Quote,
  type QuoteRequest,
  UnknownInstrumentError,
} from '../market-data.js';
import { type ExpiryKind, expiryKind, isLive, monthlyExpiry, weekExpiry } from '../option-expiries.js';
import { blackScholes, occSymbol, parseOccSymbol } from './options.js';
import { addDays, newYorkInstant, newYorkTime, sessionFor } from './us-market-calendar.js';

/** Spread tiers: how liquid an instrument is. */
type Tier = 'mega' | 'stock' | 'etf' | 'crypto-major' | 'crypto' | 'stable';

interface Profile {
  /** Approximate price the walk wanders around. */
  readonly base: number;
  /** Annualised volatility, also used as the option implied volatility. */
  readonly volatility: number;
  readonly tier: Tier;
}

/** Approximate real prices (2025) so the simulated market looks familiar for well-known tickers. */
const KNOWN: Readonly<Record<string, Profile>> = {
  AAPL: { base: 230, volatility: 0.25, tier: 'mega' },
  MSFT: { base: 510, volatility: 0.22, tier: 'mega' },
  NVDA: { base: 180, volatility: 0.45, tier: 'mega' },
  TSLA: { base: 330, volatility: 0.55, tier: 'mega' },
  AMZN: { base: 225, volatility: 0.3, tier: 'mega' },
  GOOGL: { base: 200, volatility: 0.28, tier: 'mega' },
  GOOG: { base: 201, volatility: 0.28, tier: 'mega' },
  META: { base: 750, volatility: 0.35, tier: 'mega' },
  AVGO: { base: 300, volatility: 0.4, tier: 'mega' },
  'BRK.B': { base: 480, volatility: 0.16, tier: 'mega' },
  SPY: { base: 640, volatility: 0.15, tier: 'mega' },
  QQQ: { base: 570, volatility: 0.19, tier: 'mega' },
  IWM: { base: 230, volatility: 0.22, tier: 'mega' },
  DIA: { base: 450, volatility: 0.15, tier: 'mega' },
  VOO: { base: 590, volatility: 0.15, tier: 'mega' },
  SOFI: { base: 22, volatility: 0.6, tier: 'stock' },
  AMD: { base: 170, volatility: 0.5, tier: 'stock' },
  NFLX: { base: 1200, volatility: 0.35, tier: 'stock' },
  JPM: { base: 290, volatility: 0.22, tier: 'stock' },
  V: { base: 345, volatility: 0.2, tier: 'stock' },
  WMT: { base: 100, volatility: 0.2, tier: 'stock' },
  COST: { base: 950, volatility: 0.2, tier: 'stock' },
  INTC: { base: 23, volatility: 0.45, tier: 'stock' },
  PLTR: { base: 180, volatility: 0.65, tier: 'stock' },
  KO: { base: 70, volatility: 0.15, tier: 'stock' },
  DIS: { base: 120, volatility: 0.28, tier: 'stock' },
  BA: { base: 220, volatility: 0.35, tier: 'stock' },
  UBER: { base: 95, volatility: 0.4, tier: 'stock' },
  COIN: { base: 320, volatility: 0.7, tier: 'stock' },
  F: { base: 11, volatility: 0.35, tier: 'stock' },
  BTC: { base: 110_000, volatility: 0.5, tier: 'crypto-major' },
  ETH: { base: 4000, volatility: 0.65, tier: 'crypto-major' },
  SOL: { base: 200, volatility: 0.85, tier: 'crypto' },
  XRP: { base: 3, volatility: 0.9, tier: 'crypto' },
  DOGE: { base: 0.22, volatility: 1, tier: 'crypto' },
  ADA: { base: 0.85, volatility: 0.9, tier: 'crypto' },
  LTC: { base: 110, volatility: 0.75, tier: 'crypto' },
  AVAX: { base: 24, volatility: 0.9, tier: 'crypto' },
  LINK: { base: 22, volatility: 0.85, tier: 'crypto' },
  DOT: { base: 4, volatility: 0.85, tier: 'crypto' },
  SHIB: { base: 0.000013, volatility: 1, tier: 'crypto' },
  USDC: { base: 1, volatility: 0.01, tier: 'stable' },
  USDT: { base: 1, volatility: 0.01, tier: 'stable' },
};

/** Spread range in basis points per tier (mega caps and big ETFs 1-3 bps, crypto 2-10). */
const SPREAD_BPS: Readonly<Record<Tier, readonly [number, number]>> = {
  mega: [1, 3],
  etf: [2, 6],
  stock: [4, 15],
  'crypto-major': [2, 4],
  crypto: [4, 10],
  stable: [2, 3],
};

/** Noise scales in minutes: 1 min, 5 min, 30 min, 4 h, 1 day, 1 week, 30 days. */
const SCALES = [1, 5, 30, 240, 1440, 10_080, 43_200] as const;
const MINUTES_PER_YEAR = 525_600;
const YEAR_MS = 365 * 24 * 3_600_000;
const RISK_FREE_RATE = 0.04;
const CENT = new Decimal('0.01');

export interface SimulatedMarketOptions {
  readonly seed: number;
  readonly symbols: SymbolResolver;
  readonly clock?: () => Date;
}

/** A price pinned by `override`. */
export interface PinnedQuote {
  readonly bid: Decimal.Value;
  readonly ask: Decimal.Value;
  readonly last: Decimal.Value;
}

/** One option in a chain, priced like `quote()` would price it. */
export interface OptionChainEntry {
  readonly contract: OptionContract;
  /** OCC symbol. */
  readonly symbol: string;
  readonly bid: Decimal;
  readonly ask: Decimal;
  readonly last: Decimal;
  /** Black-Scholes delta, 4 decimals (calls 0..1, puts -1..0). */
  readonly delta: Decimal;
  /** Implied volatility used for this strike, 4 decimals (0.25 = 25%). */
  readonly impliedVolatility: Decimal;
}

export interface OptionChainStrike {
  readonly strike: Decimal;
  readonly call: OptionChainEntry;
  readonly put: OptionChainEntry;
}

export interface OptionChainExpiration {
  /** YYYY-MM-DD (a Friday, or Thursday when Friday is a holiday). */
  readonly expiry: string;
  /** Calendar days from the chain's date to expiry. */
  readonly daysToExpiry: number;
  /** Monthly = the third-Friday standard expiration. */
  readonly kind: 'weekly' | 'monthly';
  readonly strikes: readonly OptionChainStrike[];
}

export interface OptionChain {
  readonly underlying: string;
  readonly underlyingPrice: Decimal;
  readonly at: Date;
  readonly source: string;
  readonly expirations: readonly OptionChainExpiration[];
}

/** Something that can list option chains (the simulated market today, a broker later). */
export interface OptionChainProvider {
  optionChain(underlying: string, at?: Date): Promise<OptionChain>;
}

interface Prices {
  readonly bid: Decimal;
  readonly ask: Decimal;
  readonly last: Decimal;
}

interface PricedOption extends Prices {
  readonly delta: number;
  readonly volatility: number;
}

export class SimulatedMarket implements MarketDataProvider, OptionChainProvider {
  readonly name = 'simulated';
  private readonly seed: number;
  private readonly symbols: SymbolResolver;
  private readonly clock: () => Date;
  private readonly pins = new Map<string, Prices>();

  constructor(options: SimulatedMarketOptions) {
    this.seed = options.seed;
    this.symbols = options.symbols;
    this.clock = options.clock ?? (() => new Date());
  }

  async quote(request: QuoteRequest): Promise<Quote> {
    const at = this.clock();
    if (request.assetClass === 'option') {
      const instrument = this.optionable(request.contract.underlying, occLabel(request.contract));
      const symbol = occSymbol({ ...request.contract, underlying: instrument.symbol });
      const pinned = this.pins.get(symbol);
      const prices = pinned ?? this.priceOption(instrument, request.contract, at, symbol);
      return { symbol, assetClass: 'option', ...pick(prices), at, source: this.name };
    }
    const instrument = this.symbols.get(request.symbol);
    if (!instrument || instrument.assetClass !== request.assetClass) {
      throw new UnknownInstrumentError(request.symbol);
    }
    const prices = this.pins.get(instrument.symbol) ?? this.priceUnderlying(instrument, at);
    return {
      symbol: instrument.symbol,
      assetClass: instrument.assetClass,
      ...pick(prices),
      at,
      source: this.name,
    };
  }

  session(assetClass: 'equity' | 'option' | 'crypto', at: Date): MarketSession {
    return sessionFor(assetClass, at);
  }

  /**
   * Pins the quote for a ticker or OCC symbol (tests use it to move a price past a tolerance);
   * `undefined` removes the pin. Option prices follow a pinned underlying's `last`.
   * @throws RangeError when bid > ask or a price is not positive
   */
  override(symbol: string, prices: PinnedQuote | undefined): void {
    const key = pinKey(symbol);
    if (prices === undefined) {
      this.pins.delete(key);
      return;
    }
    const bid = new Decimal(prices.bid);
    const ask = new Decimal(prices.ask);
    const last = new Decimal(prices.last);
    if (bid.lte(0) || ask.lte(0) || last.lte(0))
      throw new RangeError(`Pinned prices for ${key} must be positive`);
    if (bid.gt(ask))
      throw new RangeError(`Pinned bid ${bid.toFixed()} for ${key} is above the ask ${ask.toFixed()}`);
    this.pins.set(key, { bid, ask, last });
  }

  /**
   * A few expirations (the next four weekly Fridays and the next standard monthlies) with strikes
   * around the money, priced like `quote()`.
   * @throws UnknownInstrumentError when the underlying is not a known stock or ETF
   */
  async optionChain(underlying: string, at: Date = this.clock()): Promise<OptionChain> {
    const instrument = this.optionable(underlying, underlying);
    const spot = this.underlyingMid(instrument, at);
    const step = strikeStep(spot);
    const atm = Math.round(spot / step) * step;
    const strikes: Decimal[] = [];
    for (let i = -5; i <= 5; i += 1) {
      const strike = new Decimal(atm).plus(new Decimal(step).times(i)).toDecimalPlaces(3);
      if (strike.gt(0)) strikes.push(strike);
    }
    const today = newYorkTime(at).date;
    const expirations = upcomingExpirations(at).map(({ expiry, kind }) => ({
      expiry,
      kind,
      daysToExpiry: Math.round(
        (Date.parse(`${expiry}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000,
      ),
      strikes: strikes.map((strike) => ({
        strike,
        call: this.chainEntry(
          instrument,
          { underlying: instrument.symbol, expiry, right: 'call', strike },
          at,
        ),
        put: this.chainEntry(instrument, { underlying: instrument.symbol, expiry, right: 'put', strike }, at),
      })),
    }));
    return {
      underlying: instrument.symbol,
      underlyingPrice: roundTo(spot, tickSize('equity', spot), Decimal.ROUND_HALF_UP),
      at,
      source: this.name,
      expirations,
    };
  }

  private chainEntry(instrument: Instrument, contract: OptionContract, at: Date): OptionChainEntry {
    const symbol = occSymbol(contract);
    const priced = this.priceOption(instrument, contract, at, symbol);
    const pinned = this.pins.get(symbol);
    return {
      contract,
      symbol,
      ...pick(pinned ?? priced),
      delta: new Decimal(priced.delta).toDecimalPlaces(4),
      impliedVolatility: new Decimal(priced.volatility).toDecimalPlaces(4),
    };
  }

  private optionable(underlying: string, label: string): Instrument {
    const instrument = this.symbols.get(underlying);
    if (instrument?.assetClass !== 'equity') throw new UnknownInstrumentError(label);
    return instrument;
  }

  private profile(instrument: Instrument): Profile {
    const known = KNOWN[instrument.symbol];
    if (known) return known;
    // Unknown tickers get a stable, plausible profile for their kind, derived from the seed.
    const u = unit(`${this.seed}|${instrument.symbol}|profile`);
    const v = unit(`${this.seed}|${instrument.symbol}|volatility`);
    if (instrument.kind === 'crypto')
      return { base: logUniform(0.05, 50, u), volatility: 0.8 + 0.4 * v, tier: 'crypto' };
    if (instrument.kind === 'etf')
      return { base: logUniform(20, 400, u), volatility: 0.15 + 0.15 * v, tier: 'etf' };
    return { base: logUniform(8, 250, u), volatility: 0.3 + 0.3 * v, tier: 'stock' };
  }

  /** Mid price of a stock, ETF or coin at `at` (a float; rounding happens when quoting). */
  private simulatedMid(instrument: Instrument, at: Date): number {
    const profile = this.profile(instrument);
    const minutes = at.getTime() / 60_000;
    let noise = 0;
    for (const scale of SCALES) {
      const position = minutes / scale;
      const index = Math.floor(position);
      const fraction = position - index;
      const from = gaussian(`${this.seed}|${instrument.symbol}|${scale}|${index}`);
      const to = gaussian(`${this.seed}|${instrument.symbol}|${scale}|${index + 1}`);
      // Each scale contributes the variance a random walk would accumulate over that many minutes.
      noise += Math.sqrt(scale) * (from + (to - from) * fraction);
    }
    return profile.base * Math.exp((noise * profile.volatility) / Math.sqrt(MINUTES_PER_YEAR));
  }

  private underlyingMid(instrument: Instrument, at: Date): number {
    const pinned = this.pins.get(instrument.symbol);
    return pinned ? pinned.last.toNumber() : this.simulatedMid(instrument, at);
  }

  private priceUnderlying(instrument: Instrument, at: Date): Prices {
    const mid = this.simulatedMid(instrument, at);
    const profile = this.profile(instrument);
    const minute = Math.floor(at.getTime() / 60_000);
    const [low, high] = SPREAD_BPS[profile.tier];
    const bps = low + (high - low) * unit(`${this.seed}|${instrument.symbol}|spread|${minute}`);
    const half = (mid * bps) / 20_000;
    const tick = tickSize(instrument.assetClass, mid);
    // Nearest ticks keep the quoted spread close to the target; at least one tick wide.
    let bid = roundTo(mid - half, tick, Decimal.ROUND_HALF_DOWN);
    if (bid.lte(0)) bid = tick;
    let ask = roundTo(mid + half, tick, Decimal.ROUND_HALF_UP);
    if (ask.lte(bid)) ask = bid.plus(tick);
    const jitter = unit(`${this.seed}|${instrument.symbol}|last|${minute}`) - 0.5;
    const last = clamp(roundTo(mid + jitter * half, tick, Decimal.ROUND_HALF_UP), bid, ask);
    return { bid, ask, last };
  }

  private priceOption(
    instrument: Instrument,
    contract: OptionContract,
    at: Date,
    symbol: string,
  ): PricedOption {
    const expiresAt = newYorkInstant(contract.expiry, 16, 0);
    const years = (expiresAt.getTime() - at.getTime()) / YEAR_MS;
    // An expired contract no longer trades, so there is nothing to quote.
    if (years <= 0) throw new UnknownInstrumentError(symbol);
    const spot = this.underlyingMid(instrument, at);
    const strike = contract.strike.toNumber();
    const moneyness = Math.log(strike / spot);
    // A mild smile with put skew: lower strikes carry more volatility.
    const smile = Math.min(Math.max(1 - 0.25 * moneyness + 1.2 * moneyness * moneyness, 0.7), 2.5);
    const volatility = this.profile(instrument).volatility * smile;
    const { price, delta } = blackScholes({
      spot,
      strike,
      years,
      rate: RISK_FREE_RATE,
      volatility,
      right: contract.right,
    });
    const liquid = this.profile(instrument).tier === 'mega';
    const width = Math.max(0.02, price * (liquid ? 0.015 : 0.04));
    const bid = Decimal.max(CENT, roundTo(price - width / 2, CENT, Decimal.ROUND_DOWN));
    const ask = Decimal.max(bid.plus(CENT), roundTo(price + width / 2, CENT, Decimal.ROUND_UP));
    const last = clamp(Decimal.max(CENT, roundTo(price, CENT, Decimal.ROUND_HALF_UP)), bid, ask);
    return { bid, ask, last, delta, volatility };
  }
}

/**
 * Price increment: equities $0.01 ($0.0001 below $1), options $0.01, crypto about six significant
 * digits (BTC and ETH in cents, DOGE in 1e-6, SHIB in 1e-10).
 */
export function tickSize(assetClass: 'equity' | 'option' | 'crypto', price: number): Decimal {
  if (assetClass === 'option') return CENT;
  if (assetClass === 'equity') return price < 1 ? new Decimal('0.0001') : CENT;
  const exponent = Math.min(-2, Math.max(-10, Math.floor(Math.log10(Math.max(price, 1e-12))) - 5));
  return new Decimal(10).pow(exponent);
}

/** Next four weekly expirations plus the next standard monthlies (third Fridays) not already listed. */
function upcomingExpirations(at: Date): { expiry: string; kind: ExpiryKind }[] {
  const today = newYorkTime(at).date;
  const result = new Map<string, ExpiryKind>();
  for (let weeks = 0; result.size < 4 && weeks < 6; weeks += 1) {
    const expiry = weekExpiry(addDays(today, 7 * weeks));
    if (isLive(expiry, at)) result.set(expiry, expiryKind(expiry) ?? 'weekly');
  }
  const [year = 0, month = 1] = today.split('-').map(Number);
  let monthlies = 0;
  for (let offset = 0; monthlies < 2 && offset < 4; offset += 1) {
    const expiry = monthlyExpiry(
      year + Math.floor((month - 1 + offset) / 12),
      ((month - 1 + offset) % 12) + 1,
    );
    if (!isLive(expiry, at)) continue;
    monthlies += 1;
    result.set(expiry, 'monthly');
  }
  return [...result.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([expiry, kind]) => ({ expiry, kind }));
}

/** Strike spacing by price, as listed options are. */
export function strikeStep(spot: number): number {
  if (spot < 5) return 0.5;
  if (spot < 25) return 1;
  if (spot < 100) return 2.5;
  if (spot < 300) return 5;
  if (spot < 1000) return 10;
  return 25;
}

function pinKey(symbol: string): string {
  const contract = parseOccSymbol(symbol);
  return contract ? occSymbol(contract) : symbol.trim().toUpperCase();
}

function occLabel(contract: OptionContract): string {
  try {
    return occSymbol(contract);
  } catch {
    return `${contract.underlying} ${contract.expiry} ${contract.right} ${contract.strike.toFixed()}`;
  }
}

function pick(prices: Prices): Prices {
  return { bid: prices.bid, ask: prices.ask, last: prices.last };
}

function roundTo(value: number, tick: Decimal, rounding: Decimal.Rounding): Decimal {
  return new Decimal(value).toNearest(tick, rounding);
}

function clamp(value: Decimal, low: Decimal, high: Decimal): Decimal {
  return Decimal.min(Decimal.max(value, low), high);
}

function logUniform(low: number, high: number, u: number): number {
  return Math.exp(Math.log(low) + (Math.log(high) - Math.log(low)) * u);
}

/** FNV-1a then the murmur3 finaliser: fast, stable across processes and platforms. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Uniform in (0, 1). */
function unit(text: string): number {
  return (hash32(text) + 0.5) / 4_294_967_296;
}

/** Standard normal via Box-Muller, clamped to +-4 so prices stay in a plausible band. */
function gaussian(text: string): number {
  const u = unit(`${text}|u`);
  const v = unit(`${text}|v`);
  const value = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.min(4, Math.max(-4, value));
}
