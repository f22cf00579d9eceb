/**
 * Property tests of tool-argument validation: whatever the model sends, parsing never throws, and
 * a command comes out only when the arguments fully satisfy the command schemas.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actionCommandSchema,
  orderCommandSchema,
  queryCommandSchema,
} from '../../src/core/conversation/commands.js';
import { parseToolCall, toolNames } from '../../src/core/conversation/llm/tools.js';

const RUNS = { numRuns: 1500 };

function assertSound(name: string, raw: string): void {
  const parsed = parseToolCall(name, raw);
  if (!parsed.ok) {
    expect(parsed.error.length).toBeGreaterThan(0);
    return;
  }
  const schema =
    parsed.command.kind === 'order'
      ? orderCommandSchema
      : parsed.command.kind === 'query'
        ? queryCommandSchema
        : actionCommandSchema;
  expect(schema.safeParse(parsed.command).success).toBe(true);
}

/** Plausible-looking order arguments, mostly invalid in some detail. */
const orderish = fc.record(
  {
    side: fc.constantFrom('buy', 'sell', 'BUY', 'short', null),
    symbol: fc.oneof(
      fc.constantFrom('AAPL', 'BTC', 'brk.b', '', 'TOOLONGSYMBOL1'),
      fc.string({ maxLength: 12 }),
    ),
    assetClass: fc.constantFrom('equity', 'crypto', 'option', 'bond', null),
    quantity: fc.oneof(
      fc.constantFrom('10', '0', '-5', '1e3', '0.5', ' 7', 'ten', null),
      fc.double().map(String),
    ),
    notional: fc.constantFrom(null, '500', '0', 'NaN'),
    fractionOfPosition: fc.constantFrom(null, '0.5', '1', '1.5', '0'),
    orderType: fc.constantFrom('market', 'limit', 'stop', 'stop_limit', 'twap', null),
    limitPrice: fc.constantFrom(null, '189.00', '-1', '0', 'abc'),
    stopPrice: fc.constantFrom(null, '180', '0'),
    timeInForce: fc.constantFrom('day', 'gtc', 'ioc', 'fok', 'forever', null),
    option: fc.constantFrom(
      null,
      { underlying: 'AAPL', expiry: '2026-12-18', right: 'put', strike: '190', positionEffect: null },
      'yes',
    ),
    extra: fc.constantFrom(undefined, 'smuggled'),
  },
  { requiredKeys: [] },
);

describe('tool argument validation (fast-check)', () => {
  it('never throws on arbitrary argument text, for every tool', () => {
    fc.assert(
      fc.property(fc.constantFrom(...toolNames), fc.string({ maxLength: 300 }), (name, raw) =>
        assertSound(name, raw),
      ),
      RUNS,
    );
  });

  it('never throws on arbitrary JSON values, for every tool', () => {
    fc.assert(
      fc.property(fc.constantFrom(...toolNames), fc.jsonValue({ maxDepth: 4 }), (name, value) =>
        assertSound(name, JSON.stringify(value)),
      ),
      RUNS,
    );
  });

  it('a proposal comes out only from arguments that satisfy the order schema', () => {
    fc.assert(
      fc.property(orderish, (args) => {
        const parsed = parseToolCall('propose_order', JSON.stringify(args));
        if (parsed.ok) {
          expect(parsed.command.kind).toBe('order');
          expect(orderCommandSchema.safeParse(parsed.command).success).toBe(true);
          expect(args.extra).toBeUndefined();
        }
      }),
      RUNS,
    );
  });

  it('unknown tool names never yield a command', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((name) => !(toolNames as readonly string[]).includes(name)),
        fc.string({ maxLength: 100 }),
        (name, raw) => {
          expect(parseToolCall(name, raw).ok).toBe(false);
        },
      ),
      RUNS,
    );
  });
});
