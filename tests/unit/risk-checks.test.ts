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

  it('says how much working orders hold when buying power is short, where the broker reports it', () => {
    const short = { ...base, account: { ...base.account, buyingPower: new Decimal(1_000) } };
    expect(firstFailure(runRiskChecks(short))?.detail).toBe('needs $2,000.00, buying power is $1,000.00');
    const reserved = { ...base, account: { ...short.account, reserved: new Decimal(99_000) } };
    expect(firstFailure(runRiskChecks(reserved))?.detail).toBe(
      'needs $2,000.00, buying power is $1,000.00 ($99,000.00 is reserved for working orders and cash-secured puts)',
    );
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

  describe('options sold to open', () => {
    const put: RiskInput = {
      ...base,
      side: 'sell',
      assetClass: 'option',
      symbol: 'AAPL',
      quantity: new Decimal(2),
      price: new Decimal('1.00'),
      multiplier: 100,
      option: { right: 'put', strike: new Decimal(190), underlyingQuantity: new Decimal(0) },
    };

    it('allows a cash-secured put when buying power covers the strike', () => {
      const checks = runRiskChecks(put);
      expect(allPassed(checks)).toBe(true);
      expect(checks.find((check) => check.check === 'position_available')?.detail).toContain(
        'cash-secured: $38,000.00',
      );
    });

    it('refuses a put the buying power cannot secure', () => {
      const short = { ...put, account: { ...put.account, buyingPower: new Decimal(37_999) } };
      expect(failing(short)).toEqual(['position_available']);
      expect(firstFailure(runRiskChecks(short))?.detail).toContain('needs $38,000.00');
    });

    it('allows a call covered by shares and refuses a naked one', () => {
      const call: RiskInput = {
        ...put,
        option: { right: 'call', strike: new Decimal(210), underlyingQuantity: new Decimal(200) },
      };
      expect(allPassed(runRiskChecks(call))).toBe(true);
      const naked = {
        ...call,
        option: { ...call.option, underlyingQuantity: new Decimal(199) },
      } as RiskInput;
      expect(failing(naked)).toEqual(['position_available']);
      expect(firstFailure(runRiskChecks(naked))?.detail).toContain('naked calls are not allowed');
    });

    it('closes held contracts without collateral, and secures only the contracts beyond them', () => {
      const closing = {
        ...put,
        account: { ...put.account, positionQuantity: new Decimal(2), buyingPower: new Decimal(0) },
      };
      expect(allPassed(runRiskChecks(closing))).toBe(true);
      const beyond = {
        ...put,
        quantity: new Decimal(3),
        account: { ...put.account, positionQuantity: new Decimal(2), buyingPower: new Decimal(18_999) },
      };
      expect(failing(beyond)).toEqual(['position_available']);
    });

    it('without option details (brokers that cannot sell to open) a sale needs the contracts held', () => {
      const { option: _option, ...plain } = put;
      expect(failing(plain)).toEqual(['position_available']);
    });
  });
});
