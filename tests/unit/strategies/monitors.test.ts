import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import {
  evaluateMonitor,
  type Monitor,
  type MonitorMarket,
  monitorParamsSchema,
} from '../../../src/strategies/monitors/monitors.js';

const d = (value: Decimal.Value) => new Decimal(value);
const AT = new Date('2026-03-10T14:30:00Z');

function monitor(overrides: Partial<Monitor> = {}): Monitor {
  return {
    id: 'a1',
    kind: 'stop_loss',
    action: 'notify',
    symbol: 'AAPL',
    assetClass: 'equity',
    threshold: d(180),
    trailFraction: null,
    highWaterMark: null,
    quantity: null,
    ...overrides,
  };
}

function market(price: Decimal.Value, overrides: Partial<MonitorMarket> = {}): MonitorMarket {
  const last = d(price);
  return {
    price: last,
    bid: last.sub('0.05'),
    ask: last.add('0.05'),
    positionQuantity: d(40),
    at: AT,
    ...overrides,
  };
}

describe('price alerts, stop-loss and take-profit: the thresholds', () => {
  it.each([
    ['price_above', '190', '189.99', false],
    ['price_above', '190', '190', true],
    ['price_above', '190', '191.2', true],
    ['price_below', '180', '180.01', false],
    ['price_below', '180', '180', true],
    ['stop_loss', '180', '180.01', false],
    ['stop_loss', '180', '180', true],
    ['stop_loss', '180', '150', true],
    ['take_profit', '200', '199.99', false],
    ['take_profit', '200', '200', true],
  ] as const)('%s at %s, last %s: triggered %s', (kind, threshold, last, triggered) => {
    const result = evaluateMonitor(monitor({ kind, threshold: d(threshold) }), market(last));
    expect(result.triggered).toBe(triggered);
  });

  it('words each notice the same way every time', () => {
    const cases: [Monitor['kind'], string, string][] = [
      ['price_above', '191.2', 'AAPL is at $191.20, at or above your $180.00 alert (2026-03-10 14:30 UTC).'],
      ['price_below', '179.5', 'AAPL is at $179.50, at or below your $180.00 alert (2026-03-10 14:30 UTC).'],
      [
        'stop_loss',
        '179.5',
        'Stop-loss on AAPL triggered: $179.50 is at or below your $180.00 stop (2026-03-10 14:30 UTC).',
      ],
      [
        'take_profit',
        '181',
        'Take-profit on AAPL triggered: $181.00 is at or above your $180.00 target (2026-03-10 14:30 UTC).',
      ],
    ];
    for (const [kind, last, notice] of cases) {
      const result = evaluateMonitor(monitor({ kind }), market(last));
      expect(result).toEqual({ triggered: true, highWaterMark: null, triggerPrice: d(last), notice });
    }
  });

  it('not triggered: a status line, the high-water mark untouched', () => {
    const result = evaluateMonitor(monitor({ highWaterMark: d(5) }), market(185));
    expect(result).toEqual({
      triggered: false,
      highWaterMark: d(5),
      notice: 'AAPL at $185.00; stop-loss at $180.00.',
    });
  });

  it('small coin prices keep their precision', () => {
    const result = evaluateMonitor(
      monitor({ kind: 'price_above', symbol: 'SHIB', assetClass: 'crypto', threshold: d('0.00002') }),
      market('0.0000215'),
    );
    expect(result.notice).toBe(
      'SHIB is at $0.0000215, at or above your $0.00002 alert (2026-03-10 14:30 UTC).',
    );
  });
});

describe('trailing stops', () => {
  const trailing = (highWaterMark: Decimal | null) =>
    monitor({ kind: 'trailing_stop', threshold: null, trailFraction: d('0.1'), highWaterMark });

  it('starts the high-water mark at the first price and raises it with the price', () => {
    const first = evaluateMonitor(trailing(null), market(100));
    expect(first.triggered).toBe(false);
    expect(first.highWaterMark?.toFixed()).toBe('100');
    const higher = evaluateMonitor(trailing(first.highWaterMark), market(120));
    expect(higher.highWaterMark?.toFixed()).toBe('120');
    expect(higher.notice).toBe('AAPL at $120.00; trailing stop 10% under the $120.00 high, at $108.00.');
    const dip = evaluateMonitor(trailing(higher.highWaterMark), market(110));
    expect(dip.triggered).toBe(false);
    expect(dip.highWaterMark?.toFixed()).toBe('120');
  });

  it('triggers at the high less the trail fraction', () => {
    expect(evaluateMonitor(trailing(d(120)), market('108.01')).triggered).toBe(false);
    const result = evaluateMonitor(trailing(d(120)), market(108));
    expect(result).toEqual({
      triggered: true,
      highWaterMark: d(120),
      triggerPrice: d(108),
      notice:
        'Trailing stop on AAPL triggered: $108.00 is at or below $108.00, 10% under the $120.00 high (2026-03-10 14:30 UTC).',
    });
  });

  it('follows a price path: never triggers while rising, triggers on the first fall past the trail', () => {
    const path = [100, 105, 103, 110, 125, 118, 113, 112.5, 111, 130];
    let highWaterMark: Decimal | null = null;
    const triggeredAt: number[] = [];
    for (const [index, price] of path.entries()) {
      const result = evaluateMonitor(trailing(highWaterMark), market(price));
      highWaterMark = result.highWaterMark;
      if (result.triggered) triggeredAt.push(index);
    }
    // High 125: stop at 112.5; 113 is above, 112.5 and 111 are at or below.
    expect(triggeredAt).toEqual([7, 8]);
    expect(highWaterMark?.toFixed()).toBe('130');
  });

  it('property: the high-water mark is the running maximum and a trigger means last <= hwm x (1 - trail)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 99 }),
        (cents, trailPercent) => {
          const trail = d(trailPercent).div(100);
          let highWaterMark: Decimal | null = null;
          let max = d(0);
          for (const value of cents) {
            const last = d(value).div(100);
            max = Decimal.max(max, last);
            const result = evaluateMonitor(
              monitor({ kind: 'trailing_stop', threshold: null, trailFraction: trail, highWaterMark }),
              market(last),
            );
            highWaterMark = result.highWaterMark;
            expect(highWaterMark?.equals(max)).toBe(true);
            expect(result.triggered).toBe(last.lessThanOrEqualTo(max.mul(d(1).sub(trail))));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('closing the position', () => {
  it('sells the whole position at market when the monitor has no quantity', () => {
    const result = evaluateMonitor(monitor({ action: 'close_position' }), market(179));
    expect(result.triggered).toBe(true);
    if (!result.triggered) return;
    expect(result.closeOrder).toEqual({
      side: 'sell',
      assetClass: 'equity',
      symbol: 'AAPL',
      quantity: d(40),
      orderType: 'market',
      timeInForce: 'day',
      tag: 'alert:a1:close',
    });
    expect(result.notice).toBe(
      'Stop-loss on AAPL triggered: $179.00 is at or below your $180.00 stop (2026-03-10 14:30 UTC). ' +
        'Closing order: sell 40 AAPL at market (bid $178.95).',
    );
  });

  it("sells the monitor's quantity, never more than is held", () => {
    const some = evaluateMonitor(monitor({ action: 'close_position', quantity: d(15) }), market(179));
    expect(some.triggered && some.closeOrder?.quantity.toFixed()).toBe('15');
    const more = evaluateMonitor(monitor({ action: 'close_position', quantity: d(100) }), market(179));
    expect(more.triggered && more.closeOrder?.quantity.toFixed()).toBe('40');
  });

  it('nothing to close without a position: triggered, told, no order', () => {
    const result = evaluateMonitor(
      monitor({ action: 'close_position' }),
      market(179, { positionQuantity: d(0) }),
    );
    expect(result.triggered).toBe(true);
    expect(result.triggered && result.closeOrder).toBeUndefined();
    expect(result.notice).toMatch(/Nothing to close: you hold no AAPL\.$/);
  });

  it('notify-only monitors never propose an order', () => {
    const result = evaluateMonitor(monitor(), market(100));
    expect(result.triggered && result.closeOrder).toBeUndefined();
  });

  it('crypto closes good-till-cancelled, options as closing orders', () => {
    const coin = evaluateMonitor(
      monitor({ action: 'close_position', symbol: 'BTC', assetClass: 'crypto', threshold: d(50_000) }),
      market(49_000, { positionQuantity: d('0.125') }),
    );
    expect(coin.triggered && coin.closeOrder).toMatchObject({ timeInForce: 'gtc', quantity: d('0.125') });
    const option = evaluateMonitor(
      monitor({
        action: 'close_position',
        symbol: 'AAPL  260417C00190000',
        assetClass: 'option',
        threshold: d(2),
      }),
      market('1.5', { positionQuantity: d(3) }),
    );
    expect(option.triggered && option.closeOrder).toMatchObject({ positionEffect: 'close', quantity: d(3) });
  });
});

describe('validation: an unusable monitor or price is never a trigger', () => {
  it.each([
    ['a stop-loss without a threshold', { threshold: null }, 'threshold'],
    ['a negative threshold', { threshold: d(-1) }, 'threshold'],
    [
      'a trailing stop without a fraction',
      { kind: 'trailing_stop' as const, threshold: null },
      'trailFraction',
    ],
    [
      'a trailing fraction of 1',
      { kind: 'trailing_stop' as const, threshold: null, trailFraction: d(1) },
      'must be less than 1',
    ],
    ['a zero quantity', { quantity: d(0) }, 'quantity'],
  ])('%s', (_name, change, problem) => {
    const result = evaluateMonitor(monitor({ action: 'close_position', ...change }), market(1));
    expect(result.triggered).toBe(false);
    expect(!result.triggered && result.invalid).toContain(problem);
    expect(result.notice).toContain('cannot be checked');
  });

  it('no usable price: not checked, the high-water mark kept', () => {
    const trailing = monitor({
      kind: 'trailing_stop',
      threshold: null,
      trailFraction: d('0.1'),
      highWaterMark: d(9),
    });
    for (const price of [d(0), d(-3), d(Number.NaN)]) {
      const result = evaluateMonitor(trailing, market(1, { price }));
      expect(result).toEqual({
        triggered: false,
        highWaterMark: d(9),
        notice: 'No usable price for AAPL; the monitor was not checked.',
      });
    }
  });

  it('monitorParamsSchema: what a user may set', () => {
    expect(monitorParamsSchema.parse({ kind: 'stop_loss', threshold: '180' })).toEqual({
      kind: 'stop_loss',
      action: 'notify',
      threshold: '180',
    });
    expect(
      monitorParamsSchema.safeParse({
        kind: 'trailing_stop',
        action: 'close_position',
        trailFraction: '0.08',
      }).success,
    ).toBe(true);
    for (const bad of [
      { kind: 'stop_loss' },
      { kind: 'stop_loss', threshold: '0' },
      { kind: 'take_profit', threshold: 'abc' },
      { kind: 'trailing_stop', trailFraction: '0' },
      { kind: 'trailing_stop', trailFraction: '1.5' },
      { kind: 'trailing_stop', trailFraction: '0.1', threshold: '100' },
      { kind: 'price_above', threshold: '10', action: 'buy_more' },
      { kind: 'limit_up', threshold: '10' },
    ]) {
      expect(monitorParamsSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
