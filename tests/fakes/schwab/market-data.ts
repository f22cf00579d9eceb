/**
 * The fake's market: equity prices set by tests, and option prices from a deterministic
 * Black-Scholes model over them (volatility per underlying from the seed), rendered as Schwab's
 * `/quotes` and `/chains` answers. Equities quote a one-cent spread around the set price and fill
 * at it; options fill at the model's mark.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { type OptionSymbol, optionSymbol, parseOptionSymbol } from './order-rules.js';

const RISK_FREE_RATE = 0.045;
const MULTIPLIER = 100;
const QUOTE_FIELDS = ['quote', 'fundamental', 'extended', 'reference', 'regular'] as const;
type QuoteField = (typeof QUOTE_FIELDS)[number];

/** A market-data error entry, `{id, status, title, detail, source?}`. */
export interface MarketDataError {
  readonly status: number;
  readonly detail: string;
  readonly source?: { readonly parameter?: string; readonly pointer?: string[] };
}

export function marketDataErrorBody(errors: readonly MarketDataError[]): {
  errors: Record<string, unknown>[];
} {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return {
    errors: errors.map((error) => ({
      id: randomUUID(),
      status: String(error.status),
      title: titles[error.status] ?? 'Error',
      detail: error.detail,
      ...(error.source === undefined ? {} : { source: error.source }),
    })),
  };
}

interface PriceRecord {
  price: Decimal;
  /** The first price set: what the quote reports as the previous close. */
  readonly close: Decimal;
}

export interface OptionValuation {
  readonly mark: Decimal;
  readonly bid: Decimal;
  readonly ask: Decimal;
  readonly theoretical: number;
  readonly delta: number;
  readonly gamma: number;
  readonly theta: number;
  readonly vega: number;
  readonly rho: number;
  readonly volatility: number;
  readonly daysToExpiration: number;
  readonly intrinsic: Decimal;
}

export class FakeMarket {
  private readonly prices = new Map<string, PriceRecord>();

  constructor(
    private readonly seed: number,
    private readonly now: () => Date,
  ) {}

  setPrice(symbol: string, price: string): void {
    const value = new Decimal(price);
    if (!value.isFinite() || value.lte(0)) throw new Error(`fake Schwab: bad price ${price} for ${symbol}`);
    const existing = this.prices.get(symbol);
    if (existing === undefined) this.prices.set(symbol, { price: value, close: value });
    else existing.price = value;
  }

  /** Equity price as set, undefined when the fake does not know the symbol. */
  equityPrice(symbol: string): Decimal | undefined {
    return this.prices.get(symbol)?.price;
  }

  /** Model value of a live contract on a known underlying; an explicitly set price overrides the mark. */
  valueOption(symbol: string): OptionValuation | undefined {
    const option = parseOptionSymbol(symbol);
    if (option === undefined) return undefined;
    const underlying = this.prices.get(option.root)?.price;
    if (underlying === undefined) return undefined;
    const days = daysBetween(easternDate(this.now()), option.expiration);
    if (days < 0) return undefined;
    const valuation = this.model(option, underlying, days);
    const override = this.prices.get(symbol)?.price;
    return override === undefined ? valuation : { ...valuation, ...spreadAround(override) };
  }

  /** The price a market order fills at: the set price (equity) or the model mark (option). */
  fillPrice(symbol: string, assetType: 'EQUITY' | 'OPTION'): Decimal | undefined {
    return assetType === 'EQUITY' ? this.equityPrice(symbol) : this.valueOption(symbol)?.mark;
  }

  /** `GET /quotes`: map keyed by symbol; unknown ones listed under `errors.invalidSymbols`. */
  quotes(
    query: URLSearchParams,
  ): { status: 200; body: Record<string, unknown> } | { status: 400; errors: MarketDataError[] } {
    const symbolsParameter = query.get('symbols');
    const fieldsParameter = query.get('fields');
    const errors: MarketDataError[] = [];
    const symbols = (symbolsParameter ?? '')
      .split(',')
      .map((symbol) => symbol.trim())
      .filter((symbol) => symbol !== '');
    if (symbols.length === 0) {
      errors.push({
        status: 400,
        detail: 'Search combination should have min of 1.',
        source: {
          pointer: ['/data/attributes/symbols', '/data/attributes/cusips', '/data/attributes/ssids'],
        },
      });
    }
    if (symbols.length > 500) {
      errors.push({
        status: 400,
        detail: 'Search combination should not exceed 500.',
        source: { pointer: ['/data/attributes/symbols'] },
      });
    }
    const requested = (fieldsParameter ?? 'all').split(',').map((field) => field.trim());
    const valid = requested.every(
      (field) => field === '' || field === 'all' || (QUOTE_FIELDS as readonly string[]).includes(field),
    );
    if (!valid) {
      errors.push({
        status: 400,
        detail:
          'valid fields should be any of all,fundamental,reference,extended,quote,regular or empty value',
        source: { parameter: 'fields' },
      });
    }
    if (errors.length > 0) return { status: 400, errors };
    const fields = new Set<QuoteField>(
      requested.includes('all') || requested.every((field) => field === '')
        ? QUOTE_FIELDS
        : (requested.filter((field) => field !== '') as QuoteField[]),
    );
    const body: Record<string, unknown> = {};
    const invalid: string[] = [];
    for (const symbol of new Set(symbols)) {
      const quote = this.equityQuote(symbol, fields) ?? this.optionQuote(symbol, fields);
      if (quote === undefined) invalid.push(symbol);
      else body[symbol] = quote;
    }
    if (invalid.length > 0) body['errors'] = { invalidSymbols: invalid };
    return { status: 200, body };
  }

  /** `GET /chains`: weekly expirations, strikes around the underlying, contracts from the model. */
  chain(
    query: URLSearchParams,
  ): { status: 200; body: Record<string, unknown> } | { status: 400; errors: MarketDataError[] } {
    const errors: MarketDataError[] = [];
    const symbol = query.get('symbol');
    if (symbol === null || symbol === '') {
      errors.push({ status: 400, detail: 'symbol is required', source: { parameter: 'symbol' } });
    }
    const contractType = query.get('contractType') ?? 'ALL';
    if (!['CALL', 'PUT', 'ALL'].includes(contractType)) {
      errors.push({
        status: 400,
        detail: 'contractType must be one of CALL, PUT, ALL',
        source: { parameter: 'contractType' },
      });
    }
    const strategy = query.get('strategy') ?? 'SINGLE';
    if (strategy !== 'SINGLE') {
      errors.push({
        status: 400,
        detail: `strategy ${strategy} is not modelled by the fake (only SINGLE)`,
        source: { parameter: 'strategy' },
      });
    }
    const today = easternDate(this.now());
    const dates: Record<'fromDate' | 'toDate', string> = { fromDate: today, toDate: addDays(today, 60) };
    for (const name of ['fromDate', 'toDate'] as const) {
      const value = query.get(name);
      if (value === null) continue;
      if (!/^\d{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$/.test(value)) {
        errors.push({ status: 400, detail: `${name} must be yyyy-MM-dd`, source: { parameter: name } });
      } else dates[name] = value;
    }
    const strikeCountParameter = query.get('strikeCount');
    const strikeCount = strikeCountParameter === null ? 20 : Number(strikeCountParameter);
    if (!Number.isInteger(strikeCount) || strikeCount <= 0) {
      errors.push({
        status: 400,
        detail: 'strikeCount must be a positive integer',
        source: { parameter: 'strikeCount' },
      });
    }
    const includeUnderlying = query.get('includeUnderlyingQuote');
    if (includeUnderlying !== null && includeUnderlying !== 'true' && includeUnderlying !== 'false') {
      errors.push({
        status: 400,
        detail: 'includeUnderlyingQuote must be true or false',
        source: { parameter: 'includeUnderlyingQuote' },
      });
    }
    if (errors.length > 0 || symbol === null) return { status: 400, errors };
    const underlying = this.prices.get(symbol);
    const volatility = this.volatility(symbol);
    const empty = { callExpDateMap: {}, putExpDateMap: {} };
    if (underlying === undefined) {
      return {
        status: 200,
        body: { symbol, status: 'FAILED', strategy: 'SINGLE', isDelayed: false, isIndex: false, ...empty },
      };
    }
    const strikes = strikeGrid(underlying.price, strikeCount);
    const callExpDateMap: Record<string, Record<string, unknown[]>> = {};
    const putExpDateMap: Record<string, Record<string, unknown[]>> = {};
    for (const expiration of fridaysBetween(dates.fromDate, dates.toDate)) {
      const days = daysBetween(today, expiration);
      const key = `${expiration}:${days}`;
      for (const putCall of ['CALL', 'PUT'] as const) {
        if (contractType !== 'ALL' && contractType !== putCall) continue;
        const target = putCall === 'CALL' ? callExpDateMap : putExpDateMap;
        const byStrike: Record<string, unknown[]> = {};
        for (const strike of strikes) {
          const option: OptionSymbol = { root: symbol, expiration, putCall, strike };
          byStrike[strikeKey(strike)] = [this.contract(option, underlying.price, days)];
        }
        target[key] = byStrike;
      }
    }
    return {
      status: 200,
      body: {
        symbol,
        status: 'SUCCESS',
        strategy: 'SINGLE',
        interval: 0,
        isDelayed: false,
        isIndex: false,
        interestRate: RISK_FREE_RATE * 100,
        underlyingPrice: money(underlying.price),
        volatility: round(volatility * 100, 3),
        daysToExpiration: 0,
        numberOfContracts:
          Object.values(callExpDateMap).length * strikes.length +
          Object.values(putExpDateMap).length * strikes.length,
        ...(includeUnderlying === 'true' ? { underlying: this.underlyingBlock(symbol, underlying) } : {}),
        callExpDateMap,
        putExpDateMap,
      },
    };
  }

  private contract(option: OptionSymbol, underlying: Decimal, days: number): Record<string, unknown> {
    const value = this.model(option, underlying, days);
    const symbol = optionSymbol(option.root, option.expiration, option.putCall, option.strike);
    const override = this.prices.get(symbol)?.price;
    const prices = override === undefined ? value : { ...value, ...spreadAround(override) };
    return {
      putCall: option.putCall,
      symbol,
      description: optionDescription(option),
      exchangeName: 'OPR',
      bid: money(prices.bid),
      ask: money(prices.ask),
      last: money(prices.mark),
      mark: money(prices.mark),
      bidSize: 10,
      askSize: 10,
      lastSize: 1,
      highPrice: money(prices.mark),
      lowPrice: money(prices.mark),
      openPrice: money(prices.mark),
      closePrice: money(prices.mark),
      totalVolume: 0,
      netChange: 0,
      volatility: round(value.volatility * 100, 3),
      delta: value.delta,
      gamma: value.gamma,
      theta: value.theta,
      vega: value.vega,
      rho: value.rho,
      openInterest: 0,
      timeValue: money(Decimal.max(prices.mark.minus(value.intrinsic), 0)),
      theoreticalOptionValue: round(value.theoretical, 3),
      theoreticalVolatility: round(value.volatility * 100, 3),
      strikePrice: option.strike.toNumber(),
      expirationDate: `${option.expiration}T20:00:00.000+00:00`,
      daysToExpiration: days,
      expirationType: isThirdFriday(option.expiration) ? 'S' : 'W',
      lastTradingDay: Date.parse(`${option.expiration}T20:00:00.000Z`),
      multiplier: MULTIPLIER,
      settlementType: 'P',
      deliverableNote: '',
      percentChange: 0,
      markChange: 0,
      markPercentChange: 0,
      intrinsicValue: money(value.intrinsic),
      optionRoot: option.root,
    };
  }

  private equityQuote(symbol: string, fields: ReadonlySet<QuoteField>): Record<string, unknown> | undefined {
    if (parseOptionSymbol(symbol) !== undefined) return undefined;
    const record = this.prices.get(symbol);
    if (record === undefined) return undefined;
    const time = this.now().getTime();
    const { bid, ask } = centSpread(record.price);
    const change = record.price.minus(record.close);
    const percent = record.close.isZero() ? 0 : round(change.div(record.close).mul(100).toNumber(), 4);
    return {
      assetMainType: 'EQUITY',
      ...(fields.has('quote') || fields.has('reference') ? { assetSubType: 'COE' } : {}),
      quoteType: 'NBBO',
      realtime: true,
      ssid: this.ssid(symbol),
      symbol,
      ...(fields.has('quote')
        ? {
            quote: {
              '52WeekHigh': money(Decimal.max(record.price, record.close)),
              '52WeekLow': money(Decimal.min(record.price, record.close)),
              askMICId: 'XNAS',
              askPrice: money(ask),
              askSize: 100,
              askTime: time,
              bidMICId: 'XNAS',
              bidPrice: money(bid),
              bidSize: 100,
              bidTime: time,
              closePrice: money(record.close),
              highPrice: money(Decimal.max(record.price, record.close)),
              lastMICId: 'XNAS',
              lastPrice: money(record.price),
              lastSize: 100,
              lowPrice: money(Decimal.min(record.price, record.close)),
              mark: money(record.price),
              markChange: money(change),
              markPercentChange: percent,
              netChange: money(change),
              netPercentChange: percent,
              openPrice: money(record.close),
              quoteTime: time,
              securityStatus: 'Normal',
              totalVolume: 0,
              tradeTime: time,
              volatility: round(this.volatility(symbol), 4),
            },
          }
        : {}),
      ...(fields.has('reference')
        ? {
            reference: {
              cusip: this.cusip(symbol),
              description: `${symbol} (fake Schwab)`,
              exchange: 'Q',
              exchangeName: 'NASDAQ',
              isHardToBorrow: false,
              isShortable: true,
            },
          }
        : {}),
      ...(fields.has('regular')
        ? {
            regular: {
              regularMarketLastPrice: money(record.price),
              regularMarketLastSize: 100,
              regularMarketNetChange: money(change),
              regularMarketPercentChange: percent,
              regularMarketTradeTime: time,
            },
          }
        : {}),
      ...(fields.has('fundamental')
        ? {
            fundamental: {
              avg10DaysVolume: 0,
              avg1YearVolume: 0,
              divAmount: 0,
              divYield: 0,
              eps: 0,
              peRatio: 0,
            },
          }
        : {}),
      ...(fields.has('extended')
        ? {
            extended: {
              askPrice: 0,
              askSize: 0,
              bidPrice: 0,
              bidSize: 0,
              lastPrice: 0,
              lastSize: 0,
              mark: 0,
              quoteTime: 0,
              totalVolume: 0,
              tradeTime: 0,
            },
          }
        : {}),
    };
  }

  private optionQuote(symbol: string, fields: ReadonlySet<QuoteField>): Record<string, unknown> | undefined {
    const option = parseOptionSymbol(symbol);
    const value = this.valueOption(symbol);
    const underlying = option === undefined ? undefined : this.prices.get(option.root)?.price;
    if (option === undefined || value === undefined || underlying === undefined) return undefined;
    const time = this.now().getTime();
    const [year, month, day] = option.expiration.split('-').map(Number);
    return {
      assetMainType: 'OPTION',
      realtime: true,
      ssid: this.ssid(symbol),
      symbol,
      ...(fields.has('quote')
        ? {
            quote: {
              askPrice: money(value.ask),
              askSize: 10,
              bidPrice: money(value.bid),
              bidSize: 10,
              closePrice: money(value.mark),
              delta: value.delta,
              gamma: value.gamma,
              highPrice: money(value.mark),
              lastPrice: money(value.mark),
              lastSize: 1,
              lowPrice: money(value.mark),
              mark: money(value.mark),
              markChange: 0,
              markPercentChange: 0,
              moneyIntrinsicValue: money(value.intrinsic),
              netChange: 0,
              netPercentChange: 0,
              openInterest: 0,
              openPrice: money(value.mark),
              quoteTime: time,
              rho: value.rho,
              securityStatus: 'Normal',
              theoreticalOptionValue: round(value.theoretical, 3),
              theta: value.theta,
              timeValue: money(Decimal.max(value.mark.minus(value.intrinsic), 0)),
              totalVolume: 0,
              tradeTime: time,
              underlyingPrice: money(underlying),
              vega: value.vega,
              volatility: round(value.volatility * 100, 3),
            },
          }
        : {}),
      ...(fields.has('reference')
        ? {
            reference: {
              contractType: option.putCall === 'PUT' ? 'P' : 'C',
              daysToExpiration: value.daysToExpiration,
              description: optionDescription(option),
              exchange: 'o',
              exchangeName: 'OPR',
              exerciseType: 'A',
              expirationDay: day,
              expirationMonth: month,
              expirationYear: year,
              expirationType: isThirdFriday(option.expiration) ? 'S' : 'W',
              isPennyPilot: true,
              lastTradingDay: Date.parse(`${option.expiration}T20:00:00.000Z`),
              multiplier: MULTIPLIER,
              settlementType: 'P',
              strikePrice: option.strike.toNumber(),
              underlying: option.root,
            },
          }
        : {}),
    };
  }

  private underlyingBlock(symbol: string, record: PriceRecord): Record<string, unknown> {
    const { bid, ask } = centSpread(record.price);
    const time = this.now().getTime();
    return {
      symbol,
      description: `${symbol} (fake Schwab)`,
      bid: money(bid),
      ask: money(ask),
      last: money(record.price),
      mark: money(record.price),
      close: money(record.close),
      change: money(record.price.minus(record.close)),
      bidSize: 100,
      askSize: 100,
      delayed: false,
      exchangeName: 'NAS',
      quoteTime: time,
      tradeTime: time,
      totalVolume: 0,
    };
  }

  private model(option: OptionSymbol, underlying: Decimal, days: number): OptionValuation {
    const volatility = this.volatility(option.root);
    const now = this.now().getTime();
    const expiry = Date.parse(`${option.expiration}T20:00:00.000Z`);
    const years = Math.max(expiry - now, 3_600_000) / (365 * 24 * 3_600_000);
    const s = underlying.toNumber();
    const k = option.strike.toNumber();
    const sqrtT = Math.sqrt(years);
    const d1 =
      (Math.log(s / k) + (RISK_FREE_RATE + (volatility * volatility) / 2) * years) / (volatility * sqrtT);
    const d2 = d1 - volatility * sqrtT;
    const discount = Math.exp(-RISK_FREE_RATE * years);
    const call = option.putCall === 'CALL';
    const theoretical = call
      ? s * normalCdf(d1) - k * discount * normalCdf(d2)
      : k * discount * normalCdf(-d2) - s * normalCdf(-d1);
    const gamma = normalPdf(d1) / (s * volatility * sqrtT);
    const vega = (s * normalPdf(d1) * sqrtT) / 100;
    const thetaYear = call
      ? -(s * normalPdf(d1) * volatility) / (2 * sqrtT) - RISK_FREE_RATE * k * discount * normalCdf(d2)
      : -(s * normalPdf(d1) * volatility) / (2 * sqrtT) + RISK_FREE_RATE * k * discount * normalCdf(-d2);
    const rho = call
      ? (k * years * discount * normalCdf(d2)) / 100
      : (-k * years * discount * normalCdf(-d2)) / 100;
    const intrinsic = Decimal.max(
      call ? underlying.minus(option.strike) : option.strike.minus(underlying),
      0,
    );
    const mark = Decimal.max(new Decimal(theoretical).toDecimalPlaces(2), '0.01');
    return {
      ...spreadAround(mark),
      theoretical,
      delta: round(call ? normalCdf(d1) : normalCdf(d1) - 1, 4),
      gamma: round(gamma, 4),
      theta: round(thetaYear / 365, 4),
      vega: round(vega, 4),
      rho: round(rho, 4),
      volatility,
      daysToExpiration: days,
      intrinsic,
    };
  }

  /** 20% to 40% a year, fixed per underlying and seed. */
  private volatility(symbol: string): number {
    return 0.2 + (this.hash(symbol) % 2001) / 10_000;
  }

  private ssid(symbol: string): number {
    return 1_000_000_000 + (this.hash(`ssid:${symbol}`) % 1_000_000_000);
  }

  private cusip(symbol: string): string {
    return String(this.hash(`cusip:${symbol}`) % 1_000_000_000).padStart(9, '0');
  }

  private hash(text: string): number {
    return createHash('sha256').update(`${this.seed}:${text}`).digest().readUInt32BE(0);
  }
}

/** Equities: one cent either side of the set price, which is where market orders fill. */
function centSpread(price: Decimal): { bid: Decimal; ask: Decimal } {
  return { bid: Decimal.max(price.minus('0.01'), 0), ask: price.plus('0.01') };
}

/** Options: 2% either side of the mark, at least a cent. */
function spreadAround(mark: Decimal): { mark: Decimal; bid: Decimal; ask: Decimal } {
  const half = Decimal.max(mark.mul('0.02').toDecimalPlaces(2), '0.01');
  return { mark, bid: Decimal.max(mark.minus(half), 0), ask: mark.plus(half) };
}

/** `190.0`, `192.5`: a Java double's rendering, as Schwab keys strikes. */
export function strikeKey(strike: Decimal): string {
  return strike.isInteger() ? strike.toFixed(1) : strike.toString();
}

function strikeGrid(price: Decimal, count: number): Decimal[] {
  const p = price.toNumber();
  const step = p < 25 ? '0.5' : p < 100 ? '1' : p < 250 ? '2.5' : p < 1000 ? '5' : '10';
  const atm = price.div(step).toDecimalPlaces(0).mul(step);
  const below = Math.ceil((count - 1) / 2);
  const strikes: Decimal[] = [];
  for (let index = -below; strikes.length < count; index += 1) {
    const strike = atm.plus(new Decimal(step).mul(index));
    if (strike.gt(0)) strikes.push(strike);
  }
  return strikes;
}

function optionDescription(option: OptionSymbol): string {
  const [year, month, day] = option.expiration.split('-');
  return `${option.root} ${month}/${day}/${year} ${option.strike.toFixed(2)} ${option.putCall === 'PUT' ? 'P' : 'C'}`;
}

/** The calendar date in New York, where US options expire. */
export function easternDate(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'America/New_York',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function fridaysBetween(from: string, to: string): string[] {
  const fridays: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) {
    if (new Date(`${day}T00:00:00Z`).getUTCDay() === 5) fridays.push(day);
  }
  return fridays;
}

function isThirdFriday(date: string): boolean {
  const day = Number(date.slice(8, 10));
  return new Date(`${date}T00:00:00Z`).getUTCDay() === 5 && day >= 15 && day <= 21;
}

function money(value: Decimal): number {
  return value.toDecimalPlaces(2).toNumber();
}

function round(value: number, places: number): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}

function normalPdf(x: number): number {
  return Math.exp(-(x * x) / 2) / Math.sqrt(2 * Math.PI);
}

/** Abramowitz-Stegun 26.2.17 (error below 7.5e-8): deterministic everywhere. */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const poly =
    t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const upper = normalPdf(x) * poly;
  return x >= 0 ? 1 - upper : upper;
}
