import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import {
  costOf,
  estimatedCost,
  estimatePrice,
  quoteAt,
  touchOf,
  unitsOf,
} from '../../../src/core/intents/pricing.js';
import type { Quote, QuoteRequest } from '../../../src/core/market-data/market-data.js';

const book = { bid: new Decimal('199.50'), ask: new Decimal('200.50') };
const d = (value: string | number) => new Decimal(value);

describe('pricing', () => {
  it('meets the ask when buying and the bid when selling', () => {
    expect(touchOf('buy', book).toFixed()).toBe('200.5');
    expect(touchOf('sell', book).toFixed()).toBe('199.5');
  });

  it('prices a market order at the touch, a resting limit at its limit, a marketable limit at the touch', () => {
    expect(estimatePrice({ side: 'buy' }, book).toFixed()).toBe('200.5');
    // Resting: a buy below the ask, a sell above the bid.
    expect(estimatePrice({ side: 'buy', limitPrice: d(190) }, book).toFixed()).toBe('190');
    expect(estimatePrice({ side: 'sell', limitPrice: d(210) }, book).toFixed()).toBe('210');
    // Marketable: through the book it trades at the touch, not at the limit.
    expect(estimatePrice({ side: 'buy', limitPrice: d(250) }, book).toFixed()).toBe('200.5');
    expect(estimatePrice({ side: 'sell', limitPrice: d(150) }, book).toFixed()).toBe('199.5');
  });

  it('prices a stop at its stop, and a stop limit at its limit', () => {
    expect(estimatePrice({ side: 'sell', stopPrice: d(180) }, book).toFixed()).toBe('180');
    expect(estimatePrice({ side: 'sell', stopPrice: d(180), limitPrice: d(205) }, book).toFixed()).toBe(
      '205',
    );
  });

  it('turns a dollar amount into units at the price, per contract for options', () => {
    expect(unitsOf({ notional: d(500) }, d(250), 1).toFixed()).toBe('2');
    expect(unitsOf({ notional: d(845) }, d('8.45'), 100).toFixed()).toBe('1');
    // A quantity wins over a notional; neither is zero units.
    expect(unitsOf({ quantity: d(3), notional: d(500) }, d(250), 1).toFixed()).toBe('3');
    expect(unitsOf({}, d(250), 1).toFixed()).toBe('0');
  });

  it('costs an order to the cent, an option contract as 100 shares of premium', () => {
    expect(costOf(d('0.001'), d(59_000), 1).toFixed()).toBe('59');
    expect(costOf(d(1), d('8.45'), 100).toFixed()).toBe('845');
    expect(costOf(d(3), d('0.3333'), 1).toFixed()).toBe('1');
  });

  it('estimates an order with a limit and a quantity at quantity x limit, whatever it previews at', () => {
    const expected = { units: d('0.001'), price: d(59_000), multiplier: 1 };
    const btc = { side: 'buy' as const, quantity: d('0.001'), limitPrice: d(59_000) };
    expect(estimatedCost(btc, expected, undefined).toFixed()).toBe('59');
    // A preview that prices only what fills at once: 0 for a resting limit. Its fees still count.
    const resting = { total: d(0), fees: d(0) };
    expect(estimatedCost(btc, expected, resting).toFixed()).toBe('59');
    const fees = { total: d('59.354'), fees: d('0.354') };
    expect(estimatedCost(btc, expected, fees).toFixed()).toBe('59.35');
    expect(estimatedCost({ ...btc, side: 'sell' }, expected, fees).toFixed()).toBe('58.65');
    // A marketable limit is estimated at its limit too: what the broker sets aside for it.
    const through = { side: 'buy' as const, quantity: d(2), limitPrice: d(250) };
    expect(
      estimatedCost(through, { units: d(2), price: d('200.5'), multiplier: 1 }, undefined).toFixed(),
    ).toBe('500');
    // An option limit: per share of its contract.
    const option = { side: 'buy' as const, quantity: d(1), limitPrice: d('8.45') };
    expect(
      estimatedCost(option, { units: d(1), price: d('8.45'), multiplier: 100 }, undefined).toFixed(),
    ).toBe('845');
  });

  it("estimates other orders at the preview's total, else at the expected price", () => {
    const expected = { units: d('0.001'), price: d(64_010), multiplier: 1 };
    const market = { side: 'buy' as const, quantity: d('0.001') };
    expect(estimatedCost(market, expected, { total: d('64.394'), fees: d('0.384') }).toFixed()).toBe('64.39');
    expect(estimatedCost(market, expected, undefined).toFixed()).toBe('64.01');
    // A dollar amount with a limit has no quantity: the expected price.
    const notional = { side: 'buy' as const, limitPrice: d(100) };
    expect(estimatedCost(notional, { units: d(5), price: d(100), multiplier: 1 }, undefined).toFixed()).toBe(
      '500',
    );
  });

  it("takes the broker's own quote, and the market data's when the broker has none", async () => {
    const request: QuoteRequest = { assetClass: 'equity', symbol: 'AAPL' };
    const quote = (source: string) => ({ ...book, last: d(200), symbol: 'AAPL', source }) as unknown as Quote;
    const market = { quote: async () => quote('market') };
    expect((await quoteAt({ quote: async () => quote('broker') }, market, request)).source).toBe('broker');
    expect((await quoteAt({ quote: async () => undefined }, market, request)).source).toBe('market');
    expect((await quoteAt({}, market, request)).source).toBe('market');
  });
});
