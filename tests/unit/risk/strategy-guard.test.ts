import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import {
  guardStrategyOrder,
  reducesPosition,
  type StrategyGuardInput,
} from '../../../src/core/risk/strategy-guard.js';

const d = (value: Decimal.Value) => new Decimal(value);

/** Auto mode, a $2,000 buy taking the position from 0 to 10, comfortably inside every limit. */
const base: StrategyGuardInput = {
  executionMode: 'auto',
  orderNotional: d(2_000),
  positionBefore: d(0),
  positionAfter: d(10),
  limits: {
    maxNotionalPerOrder: d(5_000),
    maxNotionalPerDay: d(10_000),
    maxPosition: d(50),
    maxDrawdown: d('0.1'),
  },
  notionalUsedToday: d(3_000),
  equity: d(19_000),
  peakEquity: d(20_000),
  realizedPnlToday: d(-100),
  dailyLossLimit: d(1_000),
  exposure: { strategy: d(4_000), strategyCap: d(15_000), user: d(30_000), userCap: d(60_000) },
};

const sellAll: Partial<StrategyGuardInput> = {
  positionBefore: d(10),
  positionAfter: d(0),
};

function guard(change: Partial<StrategyGuardInput>) {
  return guardStrategyOrder({ ...base, ...change });
}

describe('strategy guard: modes and confirmed limits', () => {
  it('auto mode within every limit places the order automatically, and says why', () => {
    const result = guard({});
    expect(result.verdict).toBe('auto');
    expect(result.reasons).toEqual([
      'Within your limits for automatic orders: $2,000.00 of $5,000.00 per order, $5,000.00 of $10,000.00 today, position 10 of 50.',
    ]);
  });

  it('ask mode always asks', () => {
    const result = guard({ executionMode: 'ask' });
    expect(result.verdict).toBe('ask');
    expect(result.reasons[0]).toBe('Ask mode: every order is shown to you to confirm.');
  });

  it('auto mode beyond the per-order limit falls back to a card', () => {
    const result = guard({ orderNotional: d('5000.01') });
    expect(result.verdict).toBe('ask');
    expect(result.reasons[0]).toBe(
      '$5,000.01 is above the $5,000.00 per-order limit for automatic orders, so it needs your confirmation.',
    );
  });

  it('auto mode beyond the daily limit falls back to a card; exactly at it is still automatic', () => {
    expect(guard({ notionalUsedToday: d(8_000) }).verdict).toBe('auto');
    const result = guard({ notionalUsedToday: d('8000.01') });
    expect(result.verdict).toBe('ask');
    expect(result.reasons[0]).toContain('above the $10,000.00 daily limit for automatic orders');
  });

  it('auto mode beyond the position limit (in units, shorts counted by size) falls back to a card', () => {
    expect(guard({ positionAfter: d(51) }).verdict).toBe('ask');
    expect(guard({ positionBefore: d(-40), positionAfter: d(-51) }).verdict).toBe('ask');
    expect(guard({ positionAfter: d(50) }).verdict).toBe('auto');
  });

  it('auto mode with a limit not confirmed asks, naming the missing limit', () => {
    for (const [key, name] of [
      ['maxNotionalPerOrder', 'per-order limit'],
      ['maxNotionalPerDay', 'daily limit'],
      ['maxPosition', 'position limit'],
      ['maxDrawdown', 'maximum drawdown'],
    ] as const) {
      const result = guard({ limits: { ...base.limits, [key]: null } });
      expect(result.verdict, key).toBe('ask');
      expect(result.reasons, key).toContain(
        `No ${name} is confirmed for automatic orders, so this one needs your confirmation.`,
      );
    }
  });

  it('lists every limit exceeded', () => {
    const result = guard({ orderNotional: d(9_000), positionAfter: d(60) });
    expect(result.verdict).toBe('ask');
    expect(result.reasons).toHaveLength(3);
  });
});

describe('strategy guard: halts', () => {
  it('halts at the maximum drawdown with a sentence for the user', () => {
    const result = guard({ equity: d(18_000) });
    expect(result.verdict).toBe('halt');
    expect(result.reasons).toEqual([
      'The strategy is 10% below its $20,000.00 peak (equity $18,000.00), reaching your 10% maximum drawdown. ' +
        'The strategy is halted until you resume it.',
    ]);
    expect(guard({ equity: d('18000.01') }).verdict).toBe('auto');
  });

  it("halts when today's realized loss reaches the daily loss limit", () => {
    const result = guard({ realizedPnlToday: d(-1_000) });
    expect(result.verdict).toBe('halt');
    expect(result.reasons).toEqual([
      "Today's realized loss of $1,000.00 reached your $1,000.00 daily loss limit. The strategy is halted until you resume it.",
    ]);
    expect(guard({ realizedPnlToday: d('-999.99') }).verdict).toBe('auto');
  });

  it('gives both reasons when both limits are reached, and halts in ask mode too', () => {
    const result = guard({ executionMode: 'ask', equity: d(10_000), realizedPnlToday: d(-5_000) });
    expect(result.verdict).toBe('halt');
    expect(result.reasons).toHaveLength(2);
  });

  it('a halt outranks an exposure refusal', () => {
    expect(guard({ equity: d(1_000), exposure: { ...base.exposure, strategyCap: d(1) } }).verdict).toBe(
      'halt',
    );
  });

  it('no maximum drawdown set: no drawdown halt (the daily loss limit still applies)', () => {
    const limits = { ...base.limits, maxDrawdown: null };
    expect(guard({ executionMode: 'ask', limits, equity: d(1) }).verdict).toBe('ask');
    expect(guard({ executionMode: 'ask', limits, realizedPnlToday: d(-2_000) }).verdict).toBe('halt');
  });
});

describe('strategy guard: exposure caps', () => {
  it("refuses an order that takes the strategy's positions over its cap", () => {
    const result = guard({ exposure: { ...base.exposure, strategy: d(14_000) } });
    expect(result.verdict).toBe('refuse');
    expect(result.reasons).toEqual([
      "This order would bring the strategy's positions to $16,000.00, above its $15,000.00 exposure cap; it was not placed.",
    ]);
  });

  it("refuses an order that takes all the user's strategies over the total cap, in ask mode too", () => {
    const result = guard({ executionMode: 'ask', exposure: { ...base.exposure, user: d(59_000) } });
    expect(result.verdict).toBe('refuse');
    expect(result.reasons[0]).toContain('above your $60,000.00 total exposure cap');
  });

  it('no cap set: no refusal', () => {
    const exposure = { strategy: d(1e9), strategyCap: null, user: d(1e9), userCap: null };
    expect(guard({ exposure }).verdict).toBe('auto');
  });
});

describe('strategy guard: closing risk is always possible', () => {
  it('a sell that reduces the position is neither halted nor refused, and says what was reached', () => {
    const result = guard({
      ...sellAll,
      equity: d(10_000),
      realizedPnlToday: d(-5_000),
      exposure: { ...base.exposure, strategy: d(100_000), user: d(100_000) },
    });
    expect(result.verdict).toBe('auto');
    expect(result.reasons).toHaveLength(3);
    expect(result.reasons[1]).toBe(
      'The strategy is 50% below its $20,000.00 peak (equity $10,000.00), reaching your 10% maximum drawdown. ' +
        'This order reduces the position, so it is not held back.',
    );
  });

  it('a reducing sell beyond an automatic limit still needs a card: never silently placed', () => {
    expect(guard({ ...sellAll, orderNotional: d(6_000), equity: d(1) }).verdict).toBe('ask');
  });

  it('buying back a short option is reducing too; selling through zero into a short is not', () => {
    expect(guard({ positionBefore: d(-2), positionAfter: d(-1), equity: d(1) }).verdict).toBe('auto');
    expect(guard({ positionBefore: d(5), positionAfter: d(-5), equity: d(1) }).verdict).toBe('halt');
  });

  it('reducesPosition: towards zero without crossing it', () => {
    expect(reducesPosition(d(10), d(4))).toBe(true);
    expect(reducesPosition(d(10), d(0))).toBe(true);
    expect(reducesPosition(d(-3), d(-1))).toBe(true);
    expect(reducesPosition(d(-3), d(0))).toBe(true);
    expect(reducesPosition(d(0), d(5))).toBe(false);
    expect(reducesPosition(d(4), d(10))).toBe(false);
    expect(reducesPosition(d(4), d(4))).toBe(false);
    expect(reducesPosition(d(4), d(-2))).toBe(false);
    expect(reducesPosition(d(-1), d(-3))).toBe(false);
  });
});

describe('strategy guard: fails closed', () => {
  it.each([
    ['a negative order value', { orderNotional: d(-1) }, 'order value is negative'],
    ['a non-finite order value', { orderNotional: d(Number.NaN) }, 'order value is not a number'],
    ['no positive peak equity', { peakEquity: d(0) }, 'no positive peak equity'],
    ['a negative exposure', { exposure: { ...base.exposure, user: d(-5) } }, 'total exposure is negative'],
    ['an infinite limit', { limits: { ...base.limits, maxPosition: d(Infinity) } }, 'position limit'],
  ])('refuses %s', (_name, change, why) => {
    const result = guard(change);
    expect(result.verdict).toBe('refuse');
    expect(result.reasons[0]).toContain(why);
    expect(result.reasons[0]).toContain('refused to be safe');
  });

  it('refuses bad input even for a reducing sell', () => {
    expect(guard({ ...sellAll, orderNotional: d(Number.NaN) }).verdict).toBe('refuse');
  });
});

describe('strategy guard properties', () => {
  const usd = fc.integer({ min: 0, max: 1_000_000_00 }).map((cents) => d(cents).div(100));
  const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null });
  const units = fc.integer({ min: -500, max: 500 }).map((value) => d(value));
  const input: fc.Arbitrary<StrategyGuardInput> = fc.record({
    executionMode: fc.constantFrom('ask' as const, 'auto' as const),
    orderNotional: usd,
    positionBefore: units,
    positionAfter: units,
    limits: fc.record({
      maxNotionalPerOrder: maybe(usd),
      maxNotionalPerDay: maybe(usd),
      maxPosition: maybe(fc.integer({ min: 0, max: 600 }).map((value) => d(value))),
      maxDrawdown: maybe(fc.integer({ min: 1, max: 100 }).map((value) => d(value).div(100))),
    }),
    notionalUsedToday: usd,
    equity: usd,
    peakEquity: usd.map((value) => value.add('0.01')),
    realizedPnlToday: fc.integer({ min: -50_000, max: 50_000 }).map((value) => d(value)),
    dailyLossLimit: usd,
    exposure: fc.record({ strategy: usd, strategyCap: maybe(usd), user: usd, userCap: maybe(usd) }),
  });

  it('never places automatically beyond a confirmed limit, or without one', () => {
    let automatic = 0;
    fc.assert(
      fc.property(input, (value) => {
        const { verdict } = guardStrategyOrder(value);
        if (verdict !== 'auto') return;
        automatic += 1;
        const { maxNotionalPerOrder, maxNotionalPerDay, maxPosition, maxDrawdown } = value.limits;
        expect(value.executionMode).toBe('auto');
        expect(maxNotionalPerOrder).not.toBeNull();
        expect(maxNotionalPerDay).not.toBeNull();
        expect(maxPosition).not.toBeNull();
        expect(maxDrawdown).not.toBeNull();
        expect(value.orderNotional.lessThanOrEqualTo(maxNotionalPerOrder ?? -1)).toBe(true);
        expect(
          value.notionalUsedToday.add(value.orderNotional).lessThanOrEqualTo(maxNotionalPerDay ?? -1),
        ).toBe(true);
        expect(value.positionAfter.abs().lessThanOrEqualTo(maxPosition ?? -1)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
    // The property is not vacuous: some generated orders do go through automatically.
    expect(automatic).toBeGreaterThan(0);
  });

  it('never halts or refuses an order that reduces the position', () => {
    let reducing = 0;
    fc.assert(
      fc.property(input, (value) => {
        const verdict = guardStrategyOrder(value).verdict;
        if (reducesPosition(value.positionBefore, value.positionAfter)) {
          reducing += 1;
          expect(['auto', 'ask']).toContain(verdict);
        }
      }),
      { numRuns: 2_000 },
    );
    expect(reducing).toBeGreaterThan(100);
  });

  it('halts exactly when an order adds risk past the drawdown or daily loss limit', () => {
    fc.assert(
      fc.property(input, (value) => {
        const drawdown = Decimal.max(value.peakEquity.sub(value.equity), 0).div(value.peakEquity);
        const maxDrawdown = value.limits.maxDrawdown;
        const limitReached =
          (maxDrawdown !== null && drawdown.greaterThanOrEqualTo(maxDrawdown)) ||
          value.realizedPnlToday.negated().greaterThanOrEqualTo(value.dailyLossLimit);
        const adds = !reducesPosition(value.positionBefore, value.positionAfter);
        expect(guardStrategyOrder(value).verdict === 'halt').toBe(adds && limitReached);
      }),
      { numRuns: 2_000 },
    );
  });

  it('always gives at least one reason', () => {
    fc.assert(
      fc.property(input, (value) => {
        expect(guardStrategyOrder(value).reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});
