/**
 * Properties of the fast-path parser: total (never throws, always schema-valid), no orders without
 * a trade verb, canonical order text round-trips, and negated / conditional / question forms of
 * valid orders are never orders.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Command, commandSchema, type OrderCommand } from '../../src/core/conversation/commands.js';
import { parseMessage, StaticSymbolResolver } from '../../src/core/conversation/parser/index.js';
import type { Instrument } from '../../src/core/market-data/instruments.js';

function instrument(
  symbol: string,
  aliases: string[],
  assetClass: 'equity' | 'crypto' = 'equity',
): Instrument {
  return {
    symbol,
    name: symbol,
    assetClass,
    kind: assetClass === 'crypto' ? 'crypto' : 'stock',
    aliases,
    indexes: [],
  };
}

const EQUITIES = [
  'AAPL',
  'TSLA',
  'AMD',
  'ALL',
  'NOW',
  'A',
  'IT',
  'ON',
  'KEY',
  'LOW',
  'BRK.B',
  'SPY',
] as const;
const CRYPTO = ['BTC', 'ETH', 'SOL'] as const;

const symbols = new StaticSymbolResolver([
  ...EQUITIES.map((symbol) => instrument(symbol, [])),
  instrument('MSFT', ['microsoft']),
  ...CRYPTO.map((symbol) => instrument(symbol, [], 'crypto')),
  instrument('DOGE', ['dogecoin'], 'crypto'),
]);
const now = new Date('2025-06-15T15:00:00Z');
const parse = (text: string): Command => parseMessage(text, { symbols, now });

function expectValid(result: Command): void {
  const checked = commandSchema.safeParse(result);
  if (!checked.success) throw new Error(`not a valid command: ${JSON.stringify(result)}`);
}

const digits = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), maxLength });

/** A canonical positive decimal (no leading or trailing zeros) with at most `maxDecimals` decimals. */
const decimal = (maxWhole: number, maxDecimals: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: maxWhole }), digits(maxDecimals))
    .map(([whole, fraction]) => {
      const trimmed = fraction.replace(/0+$/, '');
      return trimmed === '' ? String(whole) : `${whole}.${trimmed}`;
    })
    .filter((value) => value !== '0');

const price = decimal(100_000, 4);

interface Spec {
  readonly text: string;
  readonly order: OrderCommand;
}

const typeAndPrices = fc.oneof(
  fc.record({
    orderType: fc.constant('market' as const),
    words: fc.constantFrom('', ' at market', ' market'),
  }),
  fc.record({ orderType: fc.constant('limit' as const), limitPrice: price }),
  fc.record({ orderType: fc.constant('stop' as const), stopPrice: price }),
  fc.record({ orderType: fc.constant('stop_limit' as const), stopPrice: price, limitPrice: price }),
);

function renderType(type: {
  orderType: OrderCommand['orderType'];
  limitPrice?: string;
  stopPrice?: string;
  words?: string;
}): string {
  switch (type.orderType) {
    case 'market':
      return type.words ?? '';
    case 'limit':
      return ` limit ${type.limitPrice}`;
    case 'stop':
      return ` stop ${type.stopPrice}`;
    case 'stop_limit':
      return ` stop ${type.stopPrice} limit ${type.limitPrice}`;
  }
}

const tif = fc.constantFrom(undefined, 'day', 'gtc', 'ioc', 'fok');

/** Plain equity and crypto orders with their canonical text. */
const plainOrder: fc.Arbitrary<Spec> = fc
  .record({
    side: fc.constantFrom('buy' as const, 'sell' as const),
    symbol: fc.constantFrom<string>(...EQUITIES, ...CRYPTO),
    size: fc.oneof(
      fc.record({ kind: fc.constant('quantity' as const), value: decimal(1_000_000_000, 8) }),
      fc.record({ kind: fc.constant('notional' as const), value: decimal(1_000_000, 2) }),
      fc.record({
        kind: fc.constant('percent' as const),
        value: decimal(99, 2),
      }),
    ),
    type: typeAndPrices,
    tif,
    upper: fc.boolean(),
  })
  .filter(
    (spec) =>
      spec.size.kind !== 'quantity' ||
      spec.size.value.split('.')[0] !== '1000000000' ||
      !spec.size.value.includes('.'),
  )
  .map((spec) => {
    const side = spec.size.kind === 'percent' ? 'sell' : spec.side;
    const crypto = (CRYPTO as readonly string[]).includes(spec.symbol);
    const size =
      spec.size.kind === 'quantity'
        ? `${spec.size.value} ${spec.symbol}`
        : spec.size.kind === 'notional'
          ? `$${spec.size.value} of ${spec.symbol}`
          : `${spec.size.value}% of my ${spec.symbol}`;
    const raw = `${side} ${size}${renderType(spec.type)}${spec.tif === undefined ? '' : ` ${spec.tif}`}`;
    const order: OrderCommand = {
      kind: 'order',
      side,
      symbol: spec.symbol,
      assetClass: crypto ? 'crypto' : 'equity',
      orderType: spec.type.orderType,
      timeInForce: spec.tif ?? (crypto ? 'gtc' : 'day'),
    };
    if (spec.size.kind === 'quantity') order.quantity = spec.size.value;
    if (spec.size.kind === 'notional') order.notional = spec.size.value;
    if (spec.size.kind === 'percent') order.fractionOfPosition = percentToFraction(spec.size.value);
    if ('limitPrice' in spec.type) order.limitPrice = spec.type.limitPrice;
    if ('stopPrice' in spec.type) order.stopPrice = spec.type.stopPrice;
    return { text: spec.upper ? raw.toUpperCase() : raw.toLowerCase(), order };
  });

/** "12.5" (percent) -> "0.125", by moving the decimal point two places: no float arithmetic. */
function percentToFraction(percent: string): string {
  const [whole = '0', fraction = ''] = percent.split('.');
  const padded = whole.padStart(3, '0');
  const digitsAfter = `${padded.slice(-2)}${fraction}`.replace(/0+$/, '');
  const before = String(Number(padded.slice(0, -2)));
  return digitsAfter === '' ? before : `${before}.${digitsAfter}`;
}

const pad = (value: number): string => String(value).padStart(2, '0');

/** Single-leg option orders with explicit ISO expiries after `now`. */
const optionOrder: fc.Arbitrary<Spec> = fc
  .record({
    side: fc.constantFrom('buy' as const, 'sell' as const),
    effect: fc.constantFrom(undefined, 'open' as const, 'close' as const),
    quantity: fc.integer({ min: 1, max: 500 }),
    underlying: fc.constantFrom(...EQUITIES),
    strike: decimal(2_000, 2),
    right: fc.constantFrom('call' as const, 'put' as const),
    plural: fc.boolean(),
    year: fc.integer({ min: 2026, max: 2030 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    limit: price,
    stop: fc.option(price, { nil: undefined }),
    tif: fc.constantFrom(undefined, 'day' as const, 'gtc' as const),
  })
  .map((spec) => {
    const expiry = `${spec.year}-${pad(spec.month)}-${pad(spec.day)}`;
    const verb = spec.effect === undefined ? spec.side : `${spec.side} to ${spec.effect}`;
    const right = spec.plural ? `${spec.right}s` : spec.right;
    const prices =
      spec.stop === undefined ? ` limit ${spec.limit}` : ` stop ${spec.stop} limit ${spec.limit}`;
    const text = `${verb} ${spec.quantity} ${spec.underlying} ${spec.strike} ${right} ${expiry}${prices}${
      spec.tif === undefined ? '' : ` ${spec.tif}`
    }`;
    const order: OrderCommand = {
      kind: 'order',
      side: spec.side,
      symbol: spec.underlying,
      assetClass: 'option',
      quantity: String(spec.quantity),
      orderType: spec.stop === undefined ? 'limit' : 'stop_limit',
      limitPrice: spec.limit,
      timeInForce: spec.tif ?? 'day',
      option: { underlying: spec.underlying, expiry, right: spec.right, strike: spec.strike },
    };
    if (spec.stop !== undefined) order.stopPrice = spec.stop;
    if (spec.effect !== undefined && order.option !== undefined) order.option.positionEffect = spec.effect;
    return { text, order };
  });

const anyOrder = fc.oneof(plainOrder, optionOrder);

/** Words from every part of the grammar, but no trade verb. */
const NON_VERB_WORDS = [
  '10',
  '0.5',
  '$',
  '500',
  '%',
  '?',
  ',',
  'AAPL',
  'aapl',
  'BTC',
  'ALL',
  'NOW',
  'A',
  'shares',
  'of',
  'my',
  'half',
  'all',
  'a',
  'third',
  'dozen',
  'ten',
  'limit',
  'stop',
  'at',
  '@',
  'market',
  'gtc',
  'day',
  'put',
  'call',
  'May',
  '17',
  '2026-01-16',
  'to',
  'open',
  'close',
  'price',
  'quote',
  'balance',
  'positions',
  'orders',
  'cancel',
  'link',
  'schwab',
  'paper',
  'live',
  'mode',
  'go',
  'switch',
  'what',
  'is',
  'how',
  'much',
  'please',
  'now',
  'buyer',
  'seller',
  'buys',
  'sells',
  'buying',
  '/',
  'order',
];

const WITH_VERBS = [...NON_VERB_WORDS, 'buy', 'sell', 'purchase', 'Buy', 'SELL'];

describe('parseMessage properties', () => {
  it('never throws and always returns a valid command for arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: 'grapheme', maxLength: 100 }),
          fc.string({ unit: 'binary', minLength: 400, maxLength: 3_000 }),
          fc.string({ maxLength: 100 }).map((rest) => `buy ${rest}`),
          fc.string({ maxLength: 100 }).map((rest) => `sell 1 AAPL ${rest}`),
        ),
        (text) => {
          expectValid(parse(text));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('returns valid commands for word salads with trade verbs', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WITH_VERBS), { maxLength: 12 }), (words) => {
        expectValid(parse(words.join(' ')));
      }),
      { numRuns: 3_000 },
    );
  });

  it('never returns an order for text without a buy/sell verb', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...NON_VERB_WORDS), { maxLength: 12 }), (words) => {
        const result = parse(words.join(' '));
        expectValid(result);
        expect(result.kind).not.toBe('order');
      }),
      { numRuns: 3_000 },
    );
  });

  it('parses canonical order text back to the same order', () => {
    fc.assert(
      fc.property(anyOrder, ({ text, order }) => {
        expect(parse(text)).toStrictEqual(order);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never treats negated, conditional or question forms of valid orders as orders', () => {
    const wrap = fc.constantFrom(
      (t: string) => `don't ${t}`,
      (t: string) => `do not ${t}`,
      (t: string) => `never ${t}`,
      (t: string) => `should I ${t}?`,
      (t: string) => `can I ${t}`,
      (t: string) => `${t}?`,
      (t: string) => `${t} if it drops`,
      (t: string) => `${t} when it hits 100`,
      (t: string) => `${t} unless it rises`,
      (t: string) => `if TSLA drops ${t}`,
      (t: string) => `${t} and sell 5 TSLA`,
      (t: string) => `${t} and also buy 1 BTC`,
    );
    fc.assert(
      fc.property(anyOrder, wrap, ({ text }, variant) => {
        const result = parse(variant(text));
        expectValid(result);
        expect(result.kind).toBe('unknown');
      }),
      { numRuns: 2_000 },
    );
  });
});
