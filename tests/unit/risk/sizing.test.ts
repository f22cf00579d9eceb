import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import {
  MIN_VOLATILITY_CLOSES,
  positionSize,
  realizedVolatility,
  type SizingInput,
  sizingRuleSchema,
} from '../../../src/core/risk/sizing.js';

const d = (value: Decimal.Value) => new Decimal(value);

/** Closes that alternate up and down by `swing` (0.02 = 2%), starting at 100. */
function zigzag(count: number, swing: number): Decimal[] {
  return Array.from({ length: count }, (_, index) => d(100).mul(index % 2 === 0 ? 1 : 1 + swing));
}

/** An independent float implementation of annualized realized volatility. */
function floatVolatility(closes: readonly number[], periodsPerYear: number): number {
  const returns = closes.slice(1).map((close, index) => Math.log(close / (closes[index] as number)));
  const mean = returns.reduce((sum, value) => sum + value, 0) / returns.length;
  const variance = returns.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (returns.length - 1);
  return Math.sqrt(variance) * Math.sqrt(periodsPerYear);
}

const base: SizingInput = { price: d('189.25'), equity: d(100_000), step: d(1) };

describe('sizing rules', () => {
  it('fixed: the quantity, rounded down to the lot step', () => {
    expect(positionSize({ method: 'fixed', quantity: '10' }, base).quantity.toFixed()).toBe('10');
    const coin = positionSize({ method: 'fixed', quantity: '1.23456' }, { ...base, step: d('0.001') });
    expect(coin.quantity.toFixed()).toBe('1.234');
    expect(coin.detail).toBe('fixed size of 1.234');
    // Less than one whole share is no share.
    expect(positionSize({ method: 'fixed', quantity: '0.5' }, base).quantity.toFixed()).toBe('0');
  });

  it('equity_fraction: spends the fraction of equity, rounded down to whole shares', () => {
    const sized = positionSize({ method: 'equity_fraction', fraction: '0.05' }, base);
    // $5,000 / $189.25 = 26.42...
    expect(sized.quantity.toFixed()).toBe('26');
    expect(sized.detail).toBe('5% of $100,000.00 equity is $5,000.00; at $189.25 each that is 26');
  });

  it('equity_fraction: rounds down to the lot step for crypto', () => {
    const sized = positionSize(
      { method: 'equity_fraction', fraction: '0.1' },
      { price: d(30_000), equity: d(10_000), step: d('0.0001') },
    );
    // $1,000 / $30,000 = 0.03333...
    expect(sized.quantity.toFixed()).toBe('0.0333');
  });

  it.each([
    ['no price', { price: d(0) }, 'no usable price'],
    ['negative equity', { equity: d(-5) }, 'equity is not positive'],
    ['a zero step', { step: d(0) }, 'lot step'],
  ])('sizes nothing with %s, and says why', (_name, change, why) => {
    const sized = positionSize({ method: 'equity_fraction', fraction: '0.5' }, { ...base, ...change });
    expect(sized.quantity.isZero()).toBe(true);
    expect(sized.detail).toContain(why);
  });
});

describe('realized volatility', () => {
  it('matches an independent computation of the annualized sample deviation of log returns', () => {
    const closes = [100, 102, 99, 101, 104, 103, 107, 105, 104, 108, 110, 107];
    const got = realizedVolatility(closes.map((close) => d(close)));
    expect(got?.toNumber()).toBeCloseTo(floatVolatility(closes, 252), 10);
    const crypto = realizedVolatility(
      closes.map((close) => d(close)),
      365,
    );
    expect(crypto?.toNumber()).toBeCloseTo(floatVolatility(closes, 365), 10);
  });

  it('is zero for steady growth (every daily return the same)', () => {
    const closes = Array.from({ length: 15 }, (_, index) => d('1.01').pow(index).mul(50));
    expect(realizedVolatility(closes)?.toNumber()).toBeCloseTo(0, 12);
  });

  it('gives no estimate from too few or unusable closes', () => {
    expect(realizedVolatility(zigzag(MIN_VOLATILITY_CLOSES - 1, 0.02))).toBeUndefined();
    expect(realizedVolatility(zigzag(MIN_VOLATILITY_CLOSES, 0.02))).toBeDefined();
    const withZero = [...zigzag(12, 0.02)];
    withZero[5] = d(0);
    expect(realizedVolatility(withZero)).toBeUndefined();
  });
});

describe('volatility-scaled sizing', () => {
  const rule = { method: 'volatility', riskFraction: '0.1' } as const;
  const input = (closes: Decimal[]): SizingInput => ({
    price: d(100),
    equity: d(100_000),
    step: d(1),
    closes,
  });

  it('takes the full risk fraction when the asset is calm, and no more', () => {
    const steady = Array.from({ length: 20 }, (_, index) => d('1.001').pow(index).mul(100));
    const sized = positionSize(rule, input(steady));
    // 10% of $100,000 at $100.
    expect(sized.quantity.toFixed()).toBe('100');
    expect(sized.detail).toContain('at most 10%');
  });

  it('buys fewer units the more volatile the asset, in proportion to target / realized volatility', () => {
    const calm = zigzag(20, 0.02);
    const wild = zigzag(20, 0.08);
    const calmVol = realizedVolatility(calm)?.toNumber() ?? Number.NaN;
    const wildVol = realizedVolatility(wild)?.toNumber() ?? Number.NaN;
    expect(calmVol).toBeGreaterThan(0.2);
    expect(wildVol).toBeGreaterThan(calmVol);

    const calmSize = positionSize(rule, input(calm)).quantity.toNumber();
    const wildSize = positionSize(rule, input(wild)).quantity.toNumber();
    expect(wildSize).toBeLessThan(calmSize);
    expect(calmSize).toBe(Math.floor((100_000 * 0.1 * (0.2 / calmVol)) / 100));
    expect(wildSize).toBe(Math.floor((100_000 * 0.1 * (0.2 / wildVol)) / 100));
  });

  it('a higher target volatility allows more', () => {
    const closes = zigzag(20, 0.05);
    const low = positionSize(rule, input(closes)).quantity;
    const high = positionSize({ ...rule, targetVolatility: '0.4' }, input(closes)).quantity;
    expect(high.greaterThan(low)).toBe(true);
  });

  it('sizes nothing without enough history', () => {
    const sized = positionSize(rule, input(zigzag(5, 0.02)));
    expect(sized.quantity.isZero()).toBe(true);
    expect(sized.detail).toBe(
      `no size: volatility sizing needs ${MIN_VOLATILITY_CLOSES} positive daily closes, 5 available`,
    );
    expect(positionSize(rule, { price: d(100), equity: d(1000), step: d(1) }).quantity.isZero()).toBe(true);
  });
});

describe('the sizing rule schema', () => {
  it('accepts the three methods as stored in strategy parameters', () => {
    expect(sizingRuleSchema.safeParse({ method: 'fixed', quantity: '10' }).success).toBe(true);
    expect(sizingRuleSchema.safeParse({ method: 'equity_fraction', fraction: '0.05' }).success).toBe(true);
    expect(
      sizingRuleSchema.safeParse({ method: 'volatility', riskFraction: '0.1', targetVolatility: '0.3' })
        .success,
    ).toBe(true);
  });

  it.each([
    { method: 'equity_fraction', fraction: '1.5' },
    { method: 'equity_fraction', fraction: '0' },
    { method: 'fixed', quantity: '-3' },
    { method: 'fixed', quantity: 10 },
    { method: 'volatility', riskFraction: '0.1', targetVolatility: '0' },
    { method: 'kelly', fraction: '0.5' },
    { method: 'fixed', quantity: '10', leverage: '3' },
  ])('rejects %j', (rule) => {
    expect(sizingRuleSchema.safeParse(rule).success).toBe(false);
  });
});

describe('sizing properties', () => {
  const money = fc.integer({ min: 1, max: 10_000_000_00 }).map((cents) => d(cents).div(100));
  const fraction = fc.integer({ min: 1, max: 10_000 }).map((bps) => d(bps).div(10_000));
  const step = fc.constantFrom(d(1), d('0.1'), d('0.001'), d('0.00000001'));
  const closes = fc
    .array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 0, maxLength: 30 })
    .map((values) => values.map((value) => d(value).div(100)));

  const isMultipleOf = (value: Decimal, unit: Decimal) => value.div(unit).isInteger();

  it('equity_fraction never spends more than the fraction of equity, never goes negative, keeps to the step', () => {
    fc.assert(
      fc.property(money, money, fraction, step, (price, equity, share, lot) => {
        const { quantity } = positionSize(
          { method: 'equity_fraction', fraction: share.toFixed() },
          { price, equity, step: lot },
        );
        expect(quantity.isNegative()).toBe(false);
        expect(quantity.mul(price).lessThanOrEqualTo(equity.mul(share))).toBe(true);
        expect(isMultipleOf(quantity, lot)).toBe(true);
        // Rounded down by less than one step: nothing affordable was left out.
        expect(quantity.add(lot).mul(price).greaterThan(equity.mul(share))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('volatility sizing never exceeds its risk fraction of equity, whatever the history', () => {
    fc.assert(
      fc.property(money, money, fraction, step, closes, (price, equity, share, lot, history) => {
        const { quantity } = positionSize(
          { method: 'volatility', riskFraction: share.toFixed() },
          { price, equity, step: lot, closes: history },
        );
        expect(quantity.isNegative()).toBe(false);
        expect(quantity.mul(price).lessThanOrEqualTo(equity.mul(share))).toBe(true);
        expect(isMultipleOf(quantity, lot)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fixed sizing never exceeds the fixed quantity', () => {
    fc.assert(
      fc.property(money, step, (amount, lot) => {
        const { quantity } = positionSize(
          { method: 'fixed', quantity: amount.toFixed() },
          { ...base, step: lot },
        );
        expect(quantity.lessThanOrEqualTo(amount)).toBe(true);
        expect(quantity.isNegative()).toBe(false);
        expect(isMultipleOf(quantity, lot)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
