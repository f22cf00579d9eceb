/**
 * The paper ledger's option rules as plain values: signed positions, what short options tie up,
 * and how a contract settles at expiry, including the edges the database tests do not reach.
 */
import { describe, expect, it } from 'vitest';
import { planSettlement, type SettlementInput } from '../../../src/brokers/paper/expiry.js';
import { applyTrade, type LockedAccount, planFill } from '../../../src/brokers/paper/ledger.js';
import {
  lockedShares,
  optionSaleRefusal,
  reservedCash,
  type ShortOption,
  shareSaleRefusal,
  shortOptionsOf,
} from '../../../src/brokers/paper/option-cover.js';
import { Decimal, type OptionRight } from '../../../src/core/domain/values.js';
import type { OptionContract, Quote } from '../../../src/core/market-data/market-data.js';

const d = (value: Decimal.Value) => new Decimal(value);
const contract = (underlying: string, right: OptionRight, strike: number): OptionContract => ({
  underlying,
  expiry: '2026-12-04',
  right,
  strike: d(strike),
});
const short = (which: OptionContract, contracts: number): ShortOption => ({
  symbol: `${which.underlying}-${which.right}-${which.strike.toFixed()}`,
  contract: which,
  contracts: d(contracts),
});

describe('applyTrade', () => {
  const trade = (held: number, cost: string, quantity: number, price: string, multiplier = 1) => {
    const result = applyTrade(d(held), d(cost), d(quantity), d(price), multiplier);
    return [result.quantity.toFixed(), result.averageCost.toFixed(), result.realized.toFixed()];
  };

  it('blends the cost when adding, long or short', () => {
    expect(trade(0, '0', 10, '60')).toEqual(['10', '60', '0']);
    expect(trade(10, '60', 10, '70')).toEqual(['20', '65', '0']);
    expect(trade(-2, '0.5', -2, '0.7', 100)).toEqual(['-4', '0.6', '0']);
  });

  it('realizes against the average cost when reducing: price - cost long, cost - price short', () => {
    expect(trade(20, '65', -5, '80')).toEqual(['15', '65', '75']);
    expect(trade(-2, '0.5', 1, '0.2', 100)).toEqual(['-1', '0.5', '30']);
    expect(trade(-2, '0.5', 2, '0.9', 100)).toEqual(['0', '0.5', '-80']);
  });

  it('a trade through zero closes the old side and opens the rest at its own price', () => {
    expect(trade(1, '2', -3, '1.5', 100)).toEqual(['-2', '1.5', '-50']);
    expect(trade(-1, '1', 3, '0.4', 100)).toEqual(['2', '0.4', '60']);
  });
});

describe('what short options tie up', () => {
  const shorts = [
    short(contract('SOFI', 'put', 20), 2),
    short(contract('SOFI', 'call', 22), 1),
    short(contract('BRKB', 'call', 500), 3),
  ];

  it('reserves strike x 100 per short put and locks 100 shares per short call', () => {
    expect(reservedCash(shorts).toFixed()).toBe('4000');
    expect(lockedShares(shorts, 'SOFI').toFixed()).toBe('100');
    // OCC roots drop punctuation: BRK.B's calls are on root BRKB.
    expect(lockedShares(shorts, 'BRK.B').toFixed()).toBe('300');
    expect(lockedShares(shorts, 'AAPL').toFixed()).toBe('0');
  });

  it('reads short options back from OCC symbols, and refuses to guess at anything else', () => {
    const parsed = shortOptionsOf([
      { symbol: 'SOFI  261204P00020000', assetClass: 'option', quantity: d(-2) },
      { symbol: 'SOFI  261204C00022000', assetClass: 'option', quantity: d(1) },
      { symbol: 'SOFI', assetClass: 'equity', quantity: d(100) },
    ]);
    expect(
      parsed.map((item) => [item.contract.right, item.contract.strike.toFixed(), item.contracts.toFixed()]),
    ).toEqual([['put', '20', '2']]);
    expect(() => shortOptionsOf([{ symbol: 'MYSTERY', assetClass: 'option', quantity: d(-1) }])).toThrow(
      /not an OCC symbol/,
    );
  });

  it('sells held contracts first: only the rest has to be covered', () => {
    const cover = { held: d(1), buyingPower: d(1000), underlyingShares: d(0), shorts: [] };
    const put = contract('SOFI', 'put', 20);
    expect(optionSaleRefusal('P', put, d(1), cover)).toBeUndefined();
    // Selling 2 opens 1 short: 2,000 of collateral against 1,000 of buying power.
    expect(optionSaleRefusal('P', put, d(2), cover)).toBe(
      'a cash-secured put needs $2,000.00 of buying power, you have $1,000.00',
    );
    expect(optionSaleRefusal('P', undefined, d(2), cover)).toContain('cannot open a short');
  });

  it('never lets a stock go short, nor sells shares a call holds', () => {
    expect(shareSaleRefusal('SOFI', d(101), d(100), d(0))).toContain('cannot sell short');
    expect(shareSaleRefusal('SOFI', d(50), d(150), d(100))).toBeUndefined();
    expect(shareSaleRefusal('SOFI', d(51), d(150), d(100))).toContain('you can sell 50');
  });
});

describe('planFill for options', () => {
  const quote: Quote = {
    symbol: 'SOFI  261204P00020000',
    assetClass: 'option',
    bid: d('0.5'),
    ask: d('0.55'),
    last: d('0.52'),
    at: new Date(0),
    source: 'test',
  };
  const account = (overrides: Partial<LockedAccount>): LockedAccount => ({
    id: 'a',
    version: 0,
    cash: d(10_000),
    dayRealizedPnl: d(0),
    dayRealizedPnlDate: null,
    position: undefined,
    underlyingPosition: undefined,
    shortOptions: [],
    workingOrders: [],
    ...overrides,
  });
  const put = contract('SOFI', 'put', 20);
  const order = (side: 'buy' | 'sell', quantity: number) => ({
    side,
    assetClass: 'option' as const,
    symbol: quote.symbol,
    option: put,
    orderType: 'limit' as const,
    quantity: d(quantity),
    notional: undefined,
    limitPrice: d('0.5'),
    stopPrice: undefined,
    filledQuantity: d(0),
    averageFillPrice: undefined,
    triggeredAt: null,
  });
  const options = {
    marketOpen: true,
    slippageBps: 0,
    now: new Date(0),
    today: '2026-11-24',
    reservedForOrders: d(0),
    placing: true,
  };

  it('sells through a long position into a short one, adding the premium to cash', () => {
    const plan = planFill(
      order('sell', 3),
      quote,
      account({ position: { quantity: d(1), averageCost: d(1) } }),
      options,
    );
    expect(plan.status).toBe('filled');
    expect(plan.position).toMatchObject({ kind: 'set' });
    expect(plan.position?.kind === 'set' && plan.position.quantity.toFixed()).toBe('-2');
    expect(plan.cash.toFixed()).toBe('10150');
    expect(plan.fill?.realized.toFixed()).toBe('-50');
  });

  it('a buy to close may use the cash its own put set aside', () => {
    // All 10,000 is reserved by 5 short puts; buying back 5 at 0.55 frees it.
    const shorts = [short(put, 5)];
    const held = { quantity: d(-5), averageCost: d(1) };
    const buyBack = { ...order('buy', 5), limitPrice: d('0.55') };
    const plan = planFill(buyBack, quote, account({ position: held, shortOptions: shorts }), options);
    expect(plan.status).toBe('filled');
    expect(plan.position).toMatchObject({ kind: 'close' });
    expect(plan.fill?.realized.toFixed()).toBe('225');
    // A stock-sized buy of the same cost would not fit: the reserve is not spendable otherwise.
    const other = { ...buyBack, option: contract('SOFI', 'put', 15) };
    expect(
      planFill(other, quote, account({ position: undefined, shortOptions: shorts }), options).status,
    ).toBe('rejected');
  });
});

describe('planSettlement', () => {
  const base = (overrides: Partial<SettlementInput>): SettlementInput => ({
    contract: contract('SOFI', 'put', 20),
    option: { quantity: d(-1), averageCost: d('0.5') },
    underlyingPrice: d(18),
    shares: undefined,
    buyingPower: d(100_000),
    sharesLockedByOthers: d(0),
    ...overrides,
  });
  const summary = (input: SettlementInput) => {
    const plan = planSettlement(input);
    return {
      outcome: plan.outcome,
      shares: plan.shares
        ? `${plan.shares.side} ${plan.shares.quantity.toFixed()} at ${plan.shares.price.toFixed()}`
        : null,
      cash: plan.cashChange.toFixed(),
      realized: plan.realized.toFixed(),
    };
  };

  it('counts as in the money from one cent', () => {
    expect(summary(base({ underlyingPrice: d('19.99') })).outcome).toBe('assigned');
    expect(summary(base({ underlyingPrice: d('19.995') }))).toEqual({
      outcome: 'expired',
      shares: null,
      cash: '0',
      realized: '50',
    });
  });

  it('exercises a long put by selling free shares, or settles it in cash without them', () => {
    const longPut = { contract: contract('SOFI', 'put', 20), option: { quantity: d(1), averageCost: d(1) } };
    expect(summary(base({ ...longPut, shares: { quantity: d(100), averageCost: d(15) } }))).toEqual({
      outcome: 'exercised',
      shares: 'sell 100 at 20',
      cash: '2000',
      realized: '400', // premium -100, shares (20 - 15) x 100
    });
    // The 100 shares are held for a call: selling them would leave that call naked.
    expect(
      summary(
        base({ ...longPut, shares: { quantity: d(100), averageCost: d(15) }, sharesLockedByOthers: d(100) }),
      ),
    ).toEqual({ outcome: 'cash_settled', shares: null, cash: '200', realized: '100' });
  });

  it('settles a long call in cash when the account cannot pay the strike', () => {
    const longCall = {
      contract: contract('SOFI', 'call', 18),
      option: { quantity: d(2), averageCost: d(1) },
    };
    expect(summary(base({ ...longCall, underlyingPrice: d(25), buyingPower: d(3599) }))).toEqual({
      outcome: 'cash_settled',
      shares: null,
      cash: '1400',
      realized: '1200',
    });
    expect(summary(base({ ...longCall, underlyingPrice: d(25), buyingPower: d(3600) })).outcome).toBe(
      'exercised',
    );
  });

  it('a short call delivers shares held, and is never settled by going short', () => {
    const shortCall = {
      contract: contract('SOFI', 'call', 22),
      option: { quantity: d(-1), averageCost: d('0.4') },
    };
    expect(
      summary(
        base({ ...shortCall, underlyingPrice: d(25), shares: { quantity: d(100), averageCost: d(20) } }),
      ),
    ).toEqual({
      outcome: 'called_away',
      shares: 'sell 100 at 22',
      cash: '2200',
      realized: '240',
    });
    expect(summary(base({ ...shortCall, underlyingPrice: d(25) }))).toEqual({
      outcome: 'cash_settled',
      shares: null,
      cash: '-300',
      realized: '-260',
    });
  });
});
