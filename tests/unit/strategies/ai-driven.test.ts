import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Decimal } from '../../../src/core/domain/values.js';
import {
  ADVISE_TOOL_NAME,
  type AiParams,
  type AiState,
  adviceRequest,
  aiDriven,
  aiParamsSchema,
  modelAdviceSchema,
  parseModelAdvice,
} from '../../../src/strategies/ai-driven/ai-driven.js';
import type {
  HeldPosition,
  ModelAdvice,
  PendingOrder,
  PendingStage,
  StrategySnapshot,
} from '../../../src/strategies/strategy.js';
import { findStrictSchemaProblems } from '../../fakes/openai/strict-schema.js';

const d = (value: Decimal.Value) => new Decimal(value);
const AT = new Date('2026-03-10T15:00:00Z');
const TODAY = '2026-03-10';

function params(overrides: Record<string, unknown> = {}): AiParams {
  return aiParamsSchema.parse({
    symbol: 'AAPL',
    sizing: { method: 'equity_fraction', fraction: '0.1' },
    maxPosition: '60',
    ...overrides,
  });
}

const fresh: AiState = aiDriven.initialState(params());

function shares(quantity: Decimal.Value, symbol = 'AAPL'): HeldPosition {
  return { symbol, assetClass: 'equity', quantity: d(quantity), averageCost: d(90) };
}

function snapshot(overrides: Partial<StrategySnapshot> & { advice?: ModelAdvice } = {}): StrategySnapshot {
  return {
    at: AT,
    quote: {
      symbol: 'AAPL',
      assetClass: 'equity',
      bid: d('99.95'),
      ask: d(100),
      last: d('99.98'),
      at: AT,
      source: 'simulated',
    },
    session: { open: true, description: 'US equities are open' },
    account: {
      cash: d(50_000),
      buyingPower: d(50_000),
      netsWorkingOrders: true,
      equity: d(100_000),
      realizedPnlToday: d(0),
    },
    positions: [],
    pendingOrders: [],
    ...overrides,
  };
}

const buy: ModelAdvice = { action: 'buy', confidence: 0.8, reason: 'Earnings beat and the trend is up.' };
const sell: ModelAdvice = { action: 'sell', confidence: 0.9, reason: 'The uptrend broke.' };

function onlyOrder(decision: ReturnType<typeof aiDriven.decide>) {
  expect(decision.actions).toHaveLength(1);
  const action = decision.actions[0];
  if (action?.kind !== 'order') throw new Error(`expected an order, got ${JSON.stringify(action)}`);
  return action;
}

describe('AI-driven strategy: when it does nothing', () => {
  it.each([
    ['no advice', undefined],
    ['hold', { action: 'hold', confidence: 1, reason: 'Nothing to do.' } as const],
    ['low confidence', { ...buy, confidence: 0.59 }],
    ['a non-number confidence', { ...buy, confidence: Number.NaN }],
  ])('%s: no action, state unchanged', (_name, advice) => {
    const decision = aiDriven.decide(
      params(),
      fresh,
      snapshot(advice === undefined ? {} : { advice: advice as ModelAdvice }),
    );
    expect(decision.actions).toEqual([]);
    expect(decision.state).toBe(fresh);
  });

  it('the market is closed: nothing', () => {
    const decision = aiDriven.decide(
      params(),
      fresh,
      snapshot({ advice: buy, session: { open: false, description: 'US equities are closed' } }),
    );
    expect(decision.actions).toEqual([]);
  });

  it('advice exactly at the minimum confidence counts', () => {
    onlyOrder(aiDriven.decide(params(), fresh, snapshot({ advice: { ...buy, confidence: 0.6 } })));
  });

  it('a quote for another symbol halts the strategy rather than trade on it', () => {
    const base = snapshot();
    const decision = aiDriven.decide(
      params(),
      fresh,
      snapshot({ advice: buy, quote: { ...base.quote, symbol: 'MSFT' } }),
    );
    expect(decision.actions).toEqual([
      {
        kind: 'halt',
        reason:
          'The price received was for MSFT, but this strategy trades AAPL; it stopped rather than trade on the wrong price.',
      },
    ]);
  });
});

describe('AI-driven strategy: buys are sized by rules, not by the model', () => {
  it('sizes with the rule, caps at the maximum position, and tags the day', () => {
    // 10% of $100,000 at the $100 ask is 100 shares; the maximum position is 60.
    const decision = aiDriven.decide(params(), fresh, snapshot({ advice: buy }));
    const action = onlyOrder(decision);
    expect(action.order).toEqual({
      side: 'buy',
      assetClass: 'equity',
      symbol: 'AAPL',
      quantity: d(60),
      orderType: 'market',
      timeInForce: 'day',
      tag: `ai:buy:${TODAY}`,
    });
    expect(action.reason).toBe(
      'Earnings beat and the trend is up (model confidence 80%). Size: 10% of $100,000.00 equity is ' +
        '$10,000.00; at $100.00 each that is 100; capped at your maximum position of 60; buying 60.',
    );
    expect(decision.state).toEqual({ lastBuyDay: TODAY, lastSellDay: null });
  });

  it('buys only what is missing: held shares and pending buys count', () => {
    const decision = aiDriven.decide(
      params(),
      fresh,
      snapshot({
        advice: buy,
        positions: [shares(20), shares(500, 'MSFT')],
        pendingOrders: [
          { tag: 'ai:buy:2026-03-09', side: 'buy', symbol: 'AAPL', quantity: d(15), stage: 'not_placed' },
        ],
      }),
    );
    expect(onlyOrder(decision).order.quantity.toFixed()).toBe('25');
    expect(onlyOrder(decision).reason).toContain('35 already held or on order');
  });

  it('nothing when the position is already at the maximum', () => {
    const decision = aiDriven.decide(params(), fresh, snapshot({ advice: buy, positions: [shares(60)] }));
    expect(decision.actions).toEqual([]);
    expect(decision.state).toBe(fresh);
  });

  it('is limited by buying power', () => {
    const base = snapshot();
    const decision = aiDriven.decide(
      params(),
      fresh,
      snapshot({ advice: buy, account: { ...base.account, buyingPower: d(2_550) } }),
    );
    const action = onlyOrder(decision);
    expect(action.order.quantity.toFixed()).toBe('25');
    expect(action.reason).toContain('limited to 25 by buying power');
  });

  it('buys on their way spend buying power once: a working one is out of it already where the broker nets it', () => {
    const base = snapshot();
    // 15 AAPL on their way, under another tag; 2,550 of buying power left at an ask of 100.
    const decide = (stage: PendingStage, netsWorkingOrders: boolean) =>
      onlyOrder(
        aiDriven.decide(
          params(),
          fresh,
          snapshot({
            advice: buy,
            account: { ...base.account, buyingPower: d(2_550), netsWorkingOrders },
            pendingOrders: [
              { tag: 'ai:buy:2026-03-09', side: 'buy', symbol: 'AAPL', quantity: d(15), stage },
            ],
          }),
        ),
      ).order.quantity.toFixed();
    expect(decide('working', true)).toBe('25');
    // Not known to be netted, or not placed yet: its 1,500 comes off the 2,550 first.
    expect(decide('working', false)).toBe('10');
    expect(decide('not_placed', true)).toBe('10');
    // Declined lately: it holds no cash.
    expect(decide('declined', false)).toBe('25');
  });

  it('one buy a day: a pending order with the tag, or one already proposed today, stops a second', () => {
    const pending: PendingOrder = {
      tag: `ai:buy:${TODAY}`,
      side: 'buy',
      symbol: 'AAPL',
      quantity: d(1),
      stage: 'not_placed',
    };
    expect(
      aiDriven.decide(params(), fresh, snapshot({ advice: buy, pendingOrders: [pending] })).actions,
    ).toEqual([]);
    const afterFirst = aiDriven.decide(params(), fresh, snapshot({ advice: buy })).state;
    expect(aiDriven.decide(params(), afterFirst, snapshot({ advice: buy })).actions).toEqual([]);
    const tomorrow = new Date('2026-03-11T15:00:00Z');
    const next = aiDriven.decide(params(), afterFirst, snapshot({ advice: buy, at: tomorrow }));
    expect(onlyOrder(next).order.tag).toBe('ai:buy:2026-03-11');
  });

  it('volatility sizing reads the history; without enough of it, nothing', () => {
    const volatile = params({ sizing: { method: 'volatility', riskFraction: '0.5' }, maxPosition: '10000' });
    const history = Array.from({ length: 20 }, (_, index) => d(index % 2 === 0 ? 100 : 104));
    const sized = onlyOrder(aiDriven.decide(volatile, fresh, snapshot({ advice: buy, history })));
    // Far more volatile than the 20% target, so far less than the 50% cap (250 shares at $100 would be 50%).
    expect(sized.order.quantity.greaterThan(0)).toBe(true);
    expect(sized.order.quantity.lessThan(250)).toBe(true);
    expect(sized.reason).toContain('realized volatility');
    expect(
      aiDriven.decide(volatile, fresh, snapshot({ advice: buy, history: history.slice(0, 5) })).actions,
    ).toEqual([]);
  });

  it('crypto: lot-step quantities, good-till-cancelled', () => {
    const coin = params({
      symbol: 'BTC',
      assetClass: 'crypto',
      lotStep: '0.0001',
      maxPosition: '5',
      sizing: { method: 'equity_fraction', fraction: '0.05' },
    });
    const base = snapshot();
    const quote = { ...base.quote, symbol: 'BTC', assetClass: 'crypto' as const, ask: d(60_000) };
    const action = onlyOrder(aiDriven.decide(coin, fresh, snapshot({ advice: buy, quote })));
    // $5,000 / $60,000 = 0.08333...
    expect(action.order.quantity.toFixed()).toBe('0.0833');
    expect(action.order.timeInForce).toBe('gtc');
    expect(action.order.assetClass).toBe('crypto');
  });
});

describe('AI-driven strategy: sells never go short', () => {
  it('sells the whole holding by default', () => {
    const decision = aiDriven.decide(params(), fresh, snapshot({ advice: sell, positions: [shares(40)] }));
    const action = onlyOrder(decision);
    expect(action.order.side).toBe('sell');
    expect(action.order.quantity.toFixed()).toBe('40');
    expect(action.order.tag).toBe(`ai:sell:${TODAY}`);
    expect(action.reason).toBe('The uptrend broke (model confidence 90%). Size: selling all 40 held: 40.');
    expect(decision.state).toEqual({ lastBuyDay: null, lastSellDay: TODAY });
  });

  it('sells the configured fraction, rounded down to whole shares', () => {
    const half = params({ sellFraction: '0.5' });
    const action = onlyOrder(
      aiDriven.decide(half, fresh, snapshot({ advice: sell, positions: [shares(41)] })),
    );
    expect(action.order.quantity.toFixed()).toBe('20');
  });

  it('nothing to sell without a position, or when it is all being sold already', () => {
    expect(aiDriven.decide(params(), fresh, snapshot({ advice: sell })).actions).toEqual([]);
    const pending: PendingOrder = {
      tag: 'manual',
      side: 'sell',
      symbol: 'AAPL',
      quantity: d(40),
      stage: 'not_placed',
    };
    expect(
      aiDriven.decide(
        params(),
        fresh,
        snapshot({ advice: sell, positions: [shares(40)], pendingOrders: [pending] }),
      ).actions,
    ).toEqual([]);
  });

  it('options on the symbol are not the holding', () => {
    const option: HeldPosition = {
      symbol: 'AAPL  260417C00110000',
      assetClass: 'option',
      quantity: d(-1),
      averageCost: d(2),
    };
    expect(aiDriven.decide(params(), fresh, snapshot({ advice: sell, positions: [option] })).actions).toEqual(
      [],
    );
  });

  it('property: at most one order; buys never beyond the maximum position, sells never beyond what is held', () => {
    const arbitrary = fc.record({
      action: fc.constantFrom('buy' as const, 'sell' as const, 'hold' as const),
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
      held: fc.integer({ min: 0, max: 200 }),
      pendingBuy: fc.integer({ min: 0, max: 50 }),
      pendingSell: fc.integer({ min: 0, max: 50 }),
      fraction: fc.integer({ min: 1, max: 100 }),
      sellFraction: fc.constantFrom('1', '0.5', '0.25', '0.1'),
      ask: fc.integer({ min: 1, max: 100_000 }),
      equity: fc.integer({ min: 0, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(arbitrary, (value) => {
        const p = params({
          sellFraction: value.sellFraction,
          sizing: { method: 'equity_fraction', fraction: d(value.fraction).div(100).toFixed() },
        });
        const base = snapshot();
        const decision = aiDriven.decide(
          p,
          fresh,
          snapshot({
            advice: { action: value.action, confidence: value.confidence, reason: 'because' },
            quote: { ...base.quote, ask: d(value.ask) },
            account: { ...base.account, equity: d(value.equity), buyingPower: d(value.equity) },
            positions: value.held > 0 ? [shares(value.held)] : [],
            pendingOrders: [
              {
                tag: 'old-buy',
                side: 'buy',
                symbol: 'AAPL',
                quantity: d(value.pendingBuy),
                stage: 'not_placed',
              },
              {
                tag: 'old-sell',
                side: 'sell',
                symbol: 'AAPL',
                quantity: d(value.pendingSell),
                stage: 'not_placed',
              },
            ],
          }),
        );
        expect(decision.actions.length).toBeLessThanOrEqual(1);
        const action = decision.actions[0];
        if (action === undefined) return;
        if (action.kind !== 'order') throw new Error('only orders expected');
        const quantity = action.order.quantity;
        expect(quantity.greaterThan(0)).toBe(true);
        expect(quantity.isInteger()).toBe(true);
        expect(action.order.side).toBe(value.action);
        if (action.order.side === 'buy') {
          expect(quantity.add(value.held).add(value.pendingBuy).lessThanOrEqualTo(60)).toBe(true);
          // The pending buy is a card not placed yet: its cost comes out of the buying power too.
          expect(quantity.add(value.pendingBuy).mul(value.ask).lessThanOrEqualTo(value.equity)).toBe(true);
        } else {
          expect(quantity.lessThanOrEqualTo(value.held - value.pendingSell)).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("the model's answer", () => {
  it('modelAdviceSchema accepts an answer and rejects anything off', () => {
    expect(modelAdviceSchema.safeParse(buy).success).toBe(true);
    for (const bad of [
      { ...buy, confidence: 1.01 },
      { ...buy, confidence: -0.1 },
      { ...buy, confidence: '0.8' },
      { ...buy, action: 'short' },
      { ...buy, reason: '' },
      { ...buy, reason: 'x'.repeat(301) },
      { ...buy, quantity: 1000 },
    ]) {
      expect(modelAdviceSchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 60)).toBe(false);
    }
    expect(modelAdviceSchema.safeParse({ ...buy, reason: 'x'.repeat(300) }).success).toBe(true);
  });

  it('parseModelAdvice validates the tool call and fails closed', () => {
    expect(parseModelAdvice('advise', JSON.stringify(sell))).toEqual({ ok: true, advice: sell });
    expect(parseModelAdvice('propose_order', JSON.stringify(sell))).toEqual({
      ok: false,
      error: 'expected the advise tool',
    });
    expect(parseModelAdvice('advise', '{"action":')).toEqual({
      ok: false,
      error: 'arguments are not valid JSON',
    });
    const tooConfident = parseModelAdvice('advise', JSON.stringify({ ...buy, confidence: 3 }));
    expect(tooConfident.ok).toBe(false);
    if (!tooConfident.ok) expect(tooConfident.error).toMatch(/^invalid advice: confidence: /);
  });
});

describe('adviceRequest', () => {
  const base = snapshot();
  const request = adviceRequest(
    snapshot({
      positions: [shares(20)],
      history: Array.from({ length: 20 }, (_, index) => d(90 + index)),
      account: { ...base.account, cash: d('12345.67') },
    }),
    params(),
  );

  it('forces one strict call of the advise tool', () => {
    expect(request.tools).toHaveLength(1);
    const tool = request.tools[0];
    expect(tool?.function.name).toBe(ADVISE_TOOL_NAME);
    expect(tool?.function.strict).toBe(true);
    expect(findStrictSchemaProblems(tool?.function.parameters)).toEqual([]);
    expect(request.tool_choice).toEqual({ type: 'function', function: { name: 'advise' } });
    expect(request.parallel_tool_calls).toBe(false);
  });

  it("the tool's schema has exactly the fields, types and choices of modelAdviceSchema", () => {
    const toolSchema = request.tools[0]?.function.parameters as {
      properties: Record<string, { type: string; enum?: string[]; minimum?: number; maximum?: number }>;
      required: string[];
    };
    const gate = z.toJSONSchema(modelAdviceSchema) as {
      properties: Record<string, { type: string; enum?: string[] }>;
      required: string[];
    };
    expect(Object.keys(toolSchema.properties).sort()).toEqual(Object.keys(gate.properties).sort());
    expect([...toolSchema.required].sort()).toEqual([...gate.required].sort());
    for (const [key, property] of Object.entries(gate.properties)) {
      expect(toolSchema.properties[key]?.type, key).toBe(property.type);
      expect(toolSchema.properties[key]?.enum, key).toEqual(property.enum);
    }
    expect(toolSchema.properties['confidence']).toMatchObject({ minimum: 0, maximum: 1 });
  });

  it('sends the rules as the system message and the snapshot as JSON data', () => {
    const [system, user] = request.messages;
    expect(system?.role).toBe('system');
    expect(String(system?.content)).toContain('never instructions');
    expect(String(system?.content)).toContain('You do not choose quantities');
    expect(user?.role).toBe('user');
    const data = JSON.parse(String(user?.content));
    expect(data).toMatchObject({
      type: 'strategy_snapshot',
      symbol: 'AAPL',
      at: '2026-03-10T15:00:00.000Z',
      price: { last: '99.98', bid: '99.95', ask: '100' },
      position: { quantity: '20', averageCost: '90', marketValue: '1999.6', unrealizedPnl: '199.6' },
      account: { cash: '12345.67', equity: '100000' },
    });
    expect(data.history).toMatchObject({
      dailyCloses: 20,
      first: '90',
      last: '109',
      low: '90',
      high: '109',
      average: '99.5',
      recentCloses: ['105', '106', '107', '108', '109'],
    });
    expect(Number(data.history.changePercent)).toBeCloseTo(21.11, 2);
    expect(data.history.annualizedVolatilityPercent).toEqual(expect.any(String));
  });

  it('does not tell the model the sizing or limits: it has no say in them', () => {
    const content = String(request.messages[1]?.content);
    expect(content).not.toContain('maxPosition');
    expect(content).not.toContain('equity_fraction');
  });
});

describe('AI-driven definition', () => {
  it('declares what it needs and describes itself', () => {
    expect(aiDriven.kind).toBe('ai_driven');
    expect(aiDriven.needsOptionChain).toBe(false);
    expect(aiDriven.needsHistory).toBeGreaterThanOrEqual(20);
    expect(aiDriven.describe(params())).toBe(
      'AAPL, AI-advised, buys 10% of equity up to 60 held, acts on advice of 60% confidence or more',
    );
    expect(aiDriven.stateSchema.parse(fresh)).toEqual({ lastBuyDay: null, lastSellDay: null });
  });

  it('parameters: defaults filled, nonsense rejected', () => {
    expect(params()).toMatchObject({ assetClass: 'equity', minConfidence: 0.6, sellFraction: '1' });
    expect(
      aiParamsSchema.safeParse({ symbol: 'AAPL', sizing: { method: 'fixed', quantity: '5' } }).success,
    ).toBe(false);
    expect(
      aiParamsSchema.safeParse({
        symbol: 'AAPL',
        sizing: { method: 'fixed', quantity: '5' },
        maxPosition: '10',
        minConfidence: 2,
      }).success,
    ).toBe(false);
  });
});
