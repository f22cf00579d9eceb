/**
 * A backtest's trades and the answer's list of them are in the order things happened: an option
 * expiring on a holiday settles at its expiry, before the next session's decisions, and the
 * answer merges orders and expiry outcomes by date.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Decimal } from '../../../src/core/domain/values.js';
import type { OptionContract } from '../../../src/core/market-data/market-data.js';
import { occSymbol } from '../../../src/core/market-data/providers/options.js';
import { newYorkInstant, usTradingDay } from '../../../src/core/market-data/providers/us-market-calendar.js';
import { backtestTimeline } from '../../../src/strategies/runtime/desk-backtest.js';
import { backtest } from '../../../src/strategies/simulation/backtest.js';
import { priceSeriesMarket } from '../../../src/strategies/simulation/backtest-market.js';
import type { LedgerTrade } from '../../../src/strategies/simulation/simulated-account.js';
import type { StrategyAction, StrategyDefinition } from '../../../src/strategies/strategy.js';

interface SeenState {
  readonly step: number;
  /** Per evaluation: the positions the decision saw, "symbol quantity". */
  readonly seen: readonly string[];
}

/** Sells a put on the first day and, on the fifth, sells whatever SOFI shares it was delivered. */
function putThenSellShares(put: OptionContract): StrategyDefinition<Record<string, never>, SeenState> {
  return {
    kind: 'ai_driven',
    title: 'a script',
    paramsSchema: z.object({}) as z.ZodType<Record<string, never>>,
    stateSchema: z.object({ step: z.number().int(), seen: z.array(z.string()) }),
    needsOptionChain: false,
    actsOnlyInSession: false,
    needsHistory: 0,
    initialState: () => ({ step: 0, seen: [] }),
    decide: (_params, state, snapshot) => {
      const actions: StrategyAction[] = [];
      const shares = snapshot.positions.find((position) => position.symbol === 'SOFI');
      if (state.step === 0)
        actions.push({
          kind: 'order',
          reason: 'sell the put',
          order: {
            side: 'sell',
            assetClass: 'option',
            symbol: occSymbol(put),
            option: put,
            quantity: new Decimal(1),
            orderType: 'market',
            timeInForce: 'day',
            positionEffect: 'open',
            tag: 'script:put',
          },
        });
      if (state.step === 4 && shares !== undefined)
        actions.push({
          kind: 'order',
          reason: 'sell the delivered shares',
          order: {
            side: 'sell',
            assetClass: 'equity',
            symbol: 'SOFI',
            quantity: shares.quantity,
            orderType: 'market',
            timeInForce: 'day',
            tag: 'script:shares',
          },
        });
      const seen = snapshot.positions.map((position) => `${position.symbol} ${position.quantity.toFixed()}`);
      return { actions, state: { step: state.step + 1, seen: [...state.seen, seen.join(', ')] } };
    },
    describe: () => 'a script',
  };
}

function times(trades: readonly { at: Date }[]): number[] {
  return trades.map((trade) => trade.at.getTime());
}

describe('backtest order', () => {
  it('settles an option expiring on a holiday at its expiry, before the next session decides', async () => {
    // Good Friday 2026: no session, yet this put expires that day.
    expect(usTradingDay('2026-04-03').trading).toBe(false);
    const put: OptionContract = {
      underlying: 'SOFI',
      expiry: '2026-04-03',
      right: 'put',
      strike: new Decimal(10),
    };
    const result = await backtest({
      definition: putThenSellShares(put),
      params: {},
      symbol: 'SOFI',
      market: priceSeriesMarket({
        symbol: 'SOFI',
        closes: [
          { date: '2026-03-30', close: '10.5' },
          { date: '2026-03-31', close: '10.2' },
          { date: '2026-04-01', close: '10' },
          { date: '2026-04-02', close: '9.5' },
          { date: '2026-04-06', close: '9.4' },
          { date: '2026-04-07', close: '9.4' },
        ],
        volatility: 0.6,
      }),
      from: '2026-03-30',
      to: '2026-04-07',
      startingCash: 2000,
    });
    const expiry = newYorkInstant('2026-04-03', 16, 0);
    expect(result.events.map((event) => [event.kind, event.at.toISOString()])).toEqual([
      ['assigned', expiry.toISOString()],
    ]);
    // Monday's decision saw the shares the assignment delivered, not the expired put.
    expect((result.finalState as SeenState).seen[4]).toBe('SOFI 100');
    expect(result.trades.map((trade) => [trade.kind, trade.assetClass, trade.at.toISOString()])).toEqual([
      ['order', 'option', newYorkInstant('2026-03-30', 10, 0).toISOString()],
      ['assignment', 'option', expiry.toISOString()],
      ['assignment', 'equity', expiry.toISOString()],
      ['order', 'equity', newYorkInstant('2026-04-06', 10, 0).toISOString()],
    ]);
    const at = times(result.trades);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it("the answer's list merges orders and expiry outcomes by date, without the deliveries' own trades", () => {
    const trade = (at: string, kind: LedgerTrade['kind'], reason: string): LedgerTrade => ({
      at: new Date(at),
      kind,
      side: 'sell',
      assetClass: 'option',
      symbol: 'SOFI  261218P00018000',
      quantity: new Decimal(1),
      price: new Decimal('0.45'),
      reason,
      realized: new Decimal(0),
    });
    const lines = backtestTimeline({
      trades: [
        trade('2026-10-01T14:00:00Z', 'order', 'first put'),
        trade('2026-10-16T20:00:00Z', 'assignment', 'delivery'),
        trade('2026-10-20T14:00:00Z', 'order', 'covered call'),
      ],
      events: [
        { at: new Date('2026-10-05T14:00:00Z'), kind: 'notice', text: 'a note' },
        { at: new Date('2026-10-16T20:00:00Z'), kind: 'assigned', text: '1 SOFI put: assigned.' },
      ],
    });
    expect(lines).toEqual([
      '2026-10-01 sell 1 SOFI 261218P00018000 at $0.45 (first put)',
      '2026-10-16 1 SOFI put: assigned.',
      '2026-10-20 sell 1 SOFI 261218P00018000 at $0.45 (covered call)',
    ]);
  });
});
