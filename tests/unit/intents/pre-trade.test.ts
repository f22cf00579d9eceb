import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import {
  type AccountToAssess,
  assessOrder,
  type OrderToAssess,
  type RulesToAssess,
  riskInputFor,
} from '../../../src/core/intents/pre-trade.js';

const d = (value: string | number) => new Decimal(value);
const rules: RulesToAssess = {
  limits: {
    maxOrderNotional: d(25_000),
    maxPositionFraction: d('0.25'),
    dailyLossLimit: d(2_000),
    allowedAssetClasses: ['equity', 'option', 'crypto'],
  },
  session: { open: true, description: 'open' },
  halted: undefined,
};
const account: AccountToAssess = {
  balances: { buyingPower: d(100_000), equity: d(100_000), realizedPnlToday: d(0) },
  positions: [
    { symbol: 'AAPL', quantity: d(300), marketValue: d(60_000) },
    { symbol: 'F', quantity: d(100) },
  ],
  sellsOptionsToOpen: true,
};
const buy = (symbol: string, quantity: number, price: number): OrderToAssess => ({
  side: 'buy',
  assetClass: 'equity',
  symbol,
  brokerSymbol: symbol,
  quantity: d(quantity),
  price: d(price),
});
const failing = (order: OrderToAssess, on: AccountToAssess = account, with_: RulesToAssess = rules) =>
  assessOrder(order, on, with_)
    .filter((check) => !check.passed)
    .map((check) => check.check);

describe('pre-trade assessment', () => {
  it('reads the position of the symbol the broker knows, and its market value', () => {
    const input = riskInputFor(buy('AAPL', 1, 200), account, rules);
    expect(input.account.positionQuantity.toFixed()).toBe('300');
    expect(input.account.positionValue.toFixed()).toBe('60000');
    expect(input.multiplier).toBe(1);
  });

  it('values a position without a market value like the order, and an absent one as nothing', () => {
    expect(riskInputFor(buy('F', 1, 12), account, rules).account.positionValue.toFixed()).toBe('1200');
    const none = riskInputFor(buy('MSFT', 1, 400), account, rules).account;
    expect([none.positionQuantity.toFixed(), none.positionValue.toFixed()]).toEqual(['0', '0']);
  });

  it('carries what working orders hold to the checks, where the broker reports it', () => {
    expect(riskInputFor(buy('MSFT', 1, 400), account, rules).account.reserved).toBeUndefined();
    const held = { ...account, balances: { ...account.balances, reserved: d(2_000) } };
    expect(riskInputFor(buy('MSFT', 1, 400), held, rules).account.reserved?.toFixed()).toBe('2000');
  });

  it('passes a sound order and names what a large one breaks', () => {
    expect(failing(buy('MSFT', 10, 400))).toEqual([]);
    // 300 AAPL ($60,000 of $100,000 equity) plus more is beyond the 25% position share.
    expect(failing(buy('AAPL', 10, 200))).toContain('max_position_share');
    expect(failing(buy('MSFT', 100, 400))).toContain('max_order_notional');
  });

  it('counts an option by its contract: 100 shares, held under its OCC symbol', () => {
    const contract = { underlying: 'AAPL', expiry: '2027-05-17', right: 'put' as const, strike: d(190) };
    const put: OrderToAssess = {
      side: 'sell',
      assetClass: 'option',
      symbol: 'AAPL',
      brokerSymbol: 'AAPL  270517P00190000',
      quantity: d(1),
      price: d('8.45'),
      contract,
    };
    const input = riskInputFor(put, account, rules);
    expect(input.multiplier).toBe(100);
    // Sold to open, covered by the strike's cash, with the shares of the underlying held.
    expect(input.option).toEqual({ right: 'put', strike: d(190), underlyingQuantity: d(300) });
    // A broker that takes no short option sales sees a plain sale of contracts not held.
    expect(riskInputFor(put, { ...account, sellsOptionsToOpen: false }, rules).option).toBeUndefined();
    expect(failing(put, { ...account, sellsOptionsToOpen: false })).toContain('position_available');
    expect(failing(put)).toEqual([]);
  });

  it('refuses everything after the kill switch, and equities outside the session', () => {
    expect(
      failing(buy('MSFT', 1, 400), account, { ...rules, halted: { reason: 'stop everything' } }),
    ).toContain('kill_switch');
    expect(
      failing(buy('MSFT', 1, 400), account, { ...rules, session: { open: false, description: 'closed' } }),
    ).toContain('market_hours');
  });
});
