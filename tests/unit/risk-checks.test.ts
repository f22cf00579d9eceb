import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/domain/values.js';
import { allPassed, firstFailure, type RiskInput, runRiskChecks } from '../../src/core/risk/risk-checks.js';

const base: RiskInput = {
  side: 'buy',
  assetClass: 'equity',
  symbol: 'AAPL',
  quantity: new Decimal(10),
  price: new Decimal(200),
  multiplier: 1,
  account: {
    buyingPower: new Decimal(100_000),
    equity: new Decimal(100_000),
    realizedPnlToday: new Decimal(0),
    positionQuantity: new Decimal(0),
    positionValue: new Decimal(0),
  },
  limits: {
    maxOrderNotional: new Decimal(25_000),
    maxPositionFraction: new Decimal('0.25'),
    dailyLossLimit: new Decimal(2_000),
    allowedAssetClasses: ['equity', 'option', 'crypto'],
  },
  session: { open: true, description: 'open' },
  tradingHalted: undefined,
};

function failing(input: RiskInput): string[] {
  return runRiskChecks(input)
    .filter((check) => !check.passed)
    .map((check) => check.check);
}

describe('risk checks', () => {
  it('pass a reasonable order, every one of them', () => {
    const results = runRiskChecks(base);
    expect(results).toHaveLength(9);
    expect(allPassed(results)).toBe(true);
  });

  it.each([
    ['kill_switch', { tradingHalted: { reason: 'stop everything' } }],
    [
      'asset_class',
      { assetClass: 'crypto' as const, limits: { ...base.limits, allowedAssetClasses: ['equity' as const] } },
    ],
    ['quantity', { quantity: new Decimal(0) }],
    ['market_hours', { session: { open: false, description: 'US markets are closed (weekend)' } }],
    [
      'max_order_notional',
      { quantity: new Decimal(126), limits: { ...base.limits, maxPositionFraction: new Decimal(1) } },
    ],
    ['buying_power', { account: { ...base.account, buyingPower: new Decimal(1_000) } }],
    [
      'position_available',
      { side: 'sell' as const, account: { ...base.account, positionQuantity: new Decimal(5) } },
    ],
    ['max_position_share', { account: { ...base.account, positionValue: new Decimal(24_000) } }],
    ['daily_loss_limit', { account: { ...base.account, realizedPnlToday: new Decimal(-2_000) } }],
  ])('%s fails alone when its rule is broken', (check, change) => {
    expect(failing({ ...base, ...change } as RiskInput)).toEqual([check]);
  });

  it('counts the option multiplier in the order value', () => {
    const option = {
      ...base,
      assetClass: 'option' as const,
      quantity: new Decimal(2),
      price: new Decimal(150),
      multiplier: 100,
    };
    expect(failing(option)).toEqual(['max_order_notional', 'max_position_share']);
  });

  it('lets sells reduce risk after the daily loss limit', () => {
    const afterLosses = {
      ...base,
      side: 'sell' as const,
      account: { ...base.account, positionQuantity: new Decimal(10), realizedPnlToday: new Decimal(-5_000) },
    };
    expect(failing(afterLosses)).toEqual([]);
  });

  it('fails closed when a value cannot be evaluated', () => {
    const broken = { ...base, account: { ...base.account, equity: undefined as unknown as Decimal } };
    const failure = firstFailure(runRiskChecks(broken));
    expect(failure?.check).toBe('max_position_share');
    expect(failure?.detail).toContain('refused to be safe');
  });
});
