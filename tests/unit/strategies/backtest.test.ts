import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Decimal } from '../../../src/core/domain/values.js';
import type { OptionContract } from '../../../src/core/market-data/market-data.js';
import { occSymbol } from '../../../src/core/market-data/providers/options.js';
import {
  addDays,
  newYorkInstant,
  usTradingDay,
} from '../../../src/core/market-data/providers/us-market-calendar.js';
import { getSymbolDirectory } from '../../../src/core/market-data/symbols/directory.js';
import { type BacktestResult, backtest } from '../../../src/strategies/simulation/backtest.js';
import {
  type BacktestMarket,
  type DailyClose,
  priceSeriesMarket,
  simulatedBacktestMarket,
} from '../../../src/strategies/simulation/backtest-market.js';
import { SimulatedAccount } from '../../../src/strategies/simulation/simulated-account.js';
import type {
  ProposedOrder,
  StrategyAction,
  StrategyDefinition,
  StrategySnapshot,
} from '../../../src/strategies/strategy.js';
import { type WheelState, wheel } from '../../../src/strategies/wheel/wheel.js';

const symbols = getSymbolDirectory();

function tradingDays(from: string, to: string): string[] {
  const days: string[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) if (usTradingDay(date).trading) days.push(date);
  return days;
}

function series(closes: Record<string, Decimal.Value>): DailyClose[] {
  return Object.entries(closes).map(([date, close]) => ({ date, close }));
}

interface ScriptState {
  readonly step: number;
  /** Buying power seen at each evaluation. */
  readonly seen: readonly string[];
}

/** A strategy that plays a fixed script: `act(step, snapshot)` per evaluation. */
function script(
  act: (step: number, snapshot: StrategySnapshot) => StrategyAction[],
): StrategyDefinition<Record<string, never>, ScriptState> {
  return {
    kind: 'ai_driven',
    title: 'a script',
    paramsSchema: z.object({}) as z.ZodType<Record<string, never>>,
    stateSchema: z.object({ step: z.number().int(), seen: z.array(z.string()) }),
    needsOptionChain: false,
    actsOnlyInSession: false,
    needsHistory: 0,
    initialState: () => ({ step: 0, seen: [] }),
    decide: (_params, state, snapshot) => ({
      actions: act(state.step, snapshot),
      state: { step: state.step + 1, seen: [...state.seen, snapshot.account.buyingPower.toFixed()] },
    }),
    describe: () => 'a script',
  };
}

function order(
  input: Partial<ProposedOrder> & Pick<ProposedOrder, 'side' | 'symbol' | 'quantity'>,
): StrategyAction {
  return {
    kind: 'order',
    reason: 'scripted',
    order: {
      assetClass: 'equity',
      orderType: 'market',
      timeInForce: 'day',
      tag: `script:${input.side}`,
      ...input,
    },
  };
}

/** Stable text for comparing whole results (Decimals and Dates as strings). */
function fingerprint(result: BacktestResult<unknown>): string {
  return JSON.stringify(result);
}

describe('backtest over the simulated market', () => {
  const sixMonths = (seed: number, params: Record<string, unknown> = {}) =>
    backtest({
      definition: wheel,
      params: {
        symbol: 'SOFI',
        maxContracts: 2,
        pricing: 'natural',
        takeProfit: 0.5,
        rollWhenDaysLeft: 5,
        ...params,
      },
      symbol: 'SOFI',
      market: simulatedBacktestMarket({ seed, symbols }),
      from: '2026-01-05',
      to: '2026-06-30',
      startingCash: 10_000,
    });

  it('runs the wheel on SOFI for six months, deterministically', async () => {
    const first = await sixMonths(7);
    const days = tradingDays('2026-01-05', '2026-06-30');
    expect(first.equityCurve.map((point) => point.date)).toEqual(days);
    expect(first.summary.evaluations).toBe(days.length);
    expect(first.summary.tradeCount).toBeGreaterThan(0);
    expect(first.trades[0]).toMatchObject({ kind: 'order', side: 'sell', assetClass: 'option' });
    expect(first.trades[0]?.option?.right).toBe('put');

    const last = first.equityCurve.at(-1);
    expect(first.summary.endingEquity.toFixed()).toBe(last?.equity.toFixed());
    expect(first.summary.totalPnl.toFixed()).toBe(first.summary.endingEquity.minus(10_000).toFixed());
    // The wheel's own bookkeeping agrees with the engine's (natural prices fill at the limit).
    expect((first.finalState as WheelState).premiumCollected).toBe(first.summary.premiumCollected.toFixed());
    // No order sells more than maxContracts.
    for (const trade of first.trades.filter((t) => t.kind === 'order' && t.side === 'sell')) {
      expect(trade.quantity.toNumber()).toBeLessThanOrEqual(2);
    }

    const again = await sixMonths(7);
    expect(fingerprint(again)).toBe(fingerprint(first));
    const otherSeed = await sixMonths(8);
    expect(fingerprint(otherSeed)).not.toBe(fingerprint(first));
  });

  it('drops mid-priced orders that are not marketable at the touch, and fills them with midpoint fills', async () => {
    const strict = await sixMonths(7, { pricing: 'mid' });
    expect(strict.summary.tradeCount).toBe(0);
    expect(strict.dropped.length).toBeGreaterThan(0);
    expect(strict.dropped[0]?.reason).toMatch(/^not marketable: limit \$\d+\.\d\d against bid/);

    const lenient = await backtest({
      definition: wheel,
      params: { symbol: 'SOFI' },
      symbol: 'SOFI',
      market: simulatedBacktestMarket({ seed: 7, symbols }),
      from: '2026-01-05',
      to: '2026-02-27',
      startingCash: 10_000,
      fills: 'midpoint',
    });
    expect(lenient.summary.tradeCount).toBeGreaterThan(0);
  });
});

describe('backtest over a supplied price series', () => {
  it('adds up a hand-computed share trade', async () => {
    const buyThenSell = script((step) => {
      if (step === 0) return [order({ side: 'buy', symbol: 'SOFI', quantity: new Decimal(10) })];
      if (step === 3) return [order({ side: 'sell', symbol: 'SOFI', quantity: new Decimal(10) })];
      return [];
    });
    const result = await backtest({
      definition: buyThenSell,
      params: {},
      symbol: 'SOFI',
      market: priceSeriesMarket({
        symbol: 'SOFI',
        closes: series({ '2026-03-02': 10, '2026-03-03': 12, '2026-03-04': 9, '2026-03-05': 11 }),
        volatility: 0.5,
      }),
      from: '2026-03-02',
      to: '2026-03-05',
      startingCash: 1000,
    });
    // Bought 10 at $10 (equity 1000), marked at 12 (1020) and 9 (990), sold at 11 (1010).
    expect(
      result.equityCurve.map((point) => [point.date, point.equity.toFixed(), point.cash.toFixed()]),
    ).toEqual([
      ['2026-03-02', '1000', '900'],
      ['2026-03-03', '1020', '900'],
      ['2026-03-04', '990', '900'],
      ['2026-03-05', '1010', '1010'],
    ]);
    expect(
      result.trades.map((t) => [t.side, t.quantity.toFixed(), t.price.toFixed(), t.realized.toFixed()]),
    ).toEqual([
      ['buy', '10', '10', '0'],
      ['sell', '10', '11', '10'],
    ]);
    const s = result.summary;
    expect(
      [s.totalPnl, s.returnPercent, s.maxDrawdown, s.maxDrawdownPercent, s.realizedPnl].map(String),
    ).toEqual([
      '10',
      '1',
      '30',
      // 30 / 1020
      '2.94',
      '10',
    ]);
    expect(s.tradeCount).toBe(2);
    expect(s.premiumCollected.toFixed()).toBe('0');
    expect((result.finalState as ScriptState).seen).toEqual(['1000', '900', '900', '900']);
  });

  it('assigns an in-the-money short put at 16:00 on expiry, and the P&L adds up', async () => {
    const put: OptionContract = {
      underlying: 'SOFI',
      expiry: '2026-03-06',
      right: 'put',
      strike: new Decimal(10),
    };
    const sellPut = script((step) =>
      step === 0
        ? [
            order({
              side: 'sell',
              assetClass: 'option',
              symbol: occSymbol(put),
              option: put,
              quantity: new Decimal(1),
              positionEffect: 'open',
            }),
          ]
        : [],
    );
    const result = await backtest({
      definition: sellPut,
      params: {},
      symbol: 'SOFI',
      market: priceSeriesMarket({
        symbol: 'SOFI',
        closes: series({
          '2026-03-02': '10.5',
          '2026-03-03': '10.2',
          '2026-03-04': '10',
          '2026-03-05': '9.5',
          '2026-03-06': '9',
          '2026-03-09': '9.2',
        }),
        volatility: 0.6,
      }),
      from: '2026-03-02',
      to: '2026-03-09',
      startingCash: 2000,
    });
    const [sale] = result.trades;
    const premium = sale?.price ?? new Decimal(0);
    expect(premium.gt(0)).toBe(true);
    const expiry = newYorkInstant('2026-03-06', 16, 0);
    expect(result.events.map((event) => [event.kind, event.at.toISOString()])).toEqual([
      ['assigned', expiry.toISOString()],
    ]);
    const delivery = result.trades.find(
      (trade) => trade.kind === 'assignment' && trade.assetClass === 'equity',
    );
    expect(delivery).toMatchObject({ side: 'buy', symbol: 'SOFI', at: expiry });
    expect(delivery?.quantity.toFixed()).toBe('100');
    expect(delivery?.price.toFixed()).toBe('10');

    // Cash: 2000 + 100 x premium - 1000 for the shares. Equity: that + 100 x $9.20.
    const cash = premium.times(100).plus(1000);
    const last = result.equityCurve.at(-1);
    expect(last?.cash.toFixed()).toBe(cash.toFixed());
    expect(last?.equity.toFixed()).toBe(cash.plus(920).toFixed());
    expect(result.summary.totalPnl.toFixed()).toBe(premium.times(100).minus(80).toFixed());
    // The whole premium is realized when the put leaves the books; the shares carry the $10 strike.
    expect(result.summary.realizedPnl.toFixed()).toBe(premium.times(100).toFixed());
    expect(result.summary.premiumCollected.toFixed()).toBe(premium.times(100).toFixed());
    // Buying power on day two: cash less the $1,000 securing the put; after assignment, all cash.
    const seen = (result.finalState as ScriptState).seen;
    expect(seen[1]).toBe(premium.times(100).plus(1000).toFixed());
    expect(seen.at(-1)).toBe(cash.toFixed());
  });

  it('a falling price gets the wheel assigned, then it sells covered calls at or above the strike', async () => {
    const closes: DailyClose[] = tradingDays('2026-03-02', '2026-06-30').map((date, i) => ({
      date,
      close: (i < 30 ? 20 - i * 0.2 : 14 + (i - 30) * 0.05).toFixed(2),
    }));
    const run = () =>
      backtest({
        definition: wheel,
        params: { symbol: 'SOFI', pricing: 'natural' },
        symbol: 'SOFI',
        market: priceSeriesMarket({ symbol: 'SOFI', closes, volatility: 0.6 }),
        from: '2026-03-02',
        to: '2026-06-30',
        startingCash: 3000,
      });
    const result = await run();
    const assignment = result.events.find((event) => event.kind === 'assigned');
    expect(assignment).toBeDefined();
    const put = result.trades.find((trade) => trade.kind === 'order' && trade.option?.right === 'put');
    const strike = put?.option?.strike ?? new Decimal(Infinity);
    const calls = result.trades.filter(
      (trade) =>
        trade.kind === 'order' &&
        trade.side === 'sell' &&
        trade.option?.right === 'call' &&
        trade.at > (assignment?.at ?? new Date(0)),
    );
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.option?.strike.gte(strike)).toBe(true);
    expect(
      result.events.some((event) => event.kind === 'notice' && /^Assigned on 1 SOFI/.test(event.text)),
    ).toBe(true);

    // The ledger's cash is every trade's cash flow, nothing else.
    const flows = result.trades.reduce((sum, trade) => {
      const amount = trade.price.times(trade.quantity).times(trade.assetClass === 'option' ? 100 : 1);
      return trade.side === 'sell' ? sum.plus(amount) : sum.minus(amount);
    }, new Decimal(3000));
    expect(result.equityCurve.at(-1)?.cash.toFixed()).toBe(flows.toFixed());
    expect(fingerprint(await run())).toBe(fingerprint(result));
  });

  it('with midpoint fills, a sell limit at the mid rounded to the cent fills on an odd-cent spread', async () => {
    const closes = priceSeriesMarket({
      symbol: 'SOFI',
      closes: series({ '2026-03-02': '10.425', '2026-03-03': '10.425' }),
      volatility: 0.5,
    });
    // Bid 10.41, ask 10.44: the mid, 10.425, is no price; strategies quote 10.43.
    const market: BacktestMarket = {
      name: 'odd-cent spread',
      quote: async (request, at) => ({
        ...(await closes.quote(request, at)),
        bid: new Decimal('10.41'),
        ask: new Decimal('10.44'),
      }),
      optionChain: (underlying, at) => closes.optionChain(underlying, at),
      session: (assetClass, at) => closes.session(assetClass, at),
    };
    const roundTrip = script((step) =>
      step === 0
        ? [order({ side: 'buy', symbol: 'SOFI', quantity: new Decimal(10) })]
        : step === 1
          ? [
              order({
                side: 'sell',
                symbol: 'SOFI',
                quantity: new Decimal(10),
                orderType: 'limit',
                limitPrice: new Decimal('10.43'),
              }),
            ]
          : [],
    );
    const result = await backtest({
      definition: roundTrip,
      params: {},
      symbol: 'SOFI',
      market,
      from: '2026-03-02',
      to: '2026-03-03',
      startingCash: 1000,
      fills: 'midpoint',
    });
    expect(result.dropped).toEqual([]);
    expect(result.trades.map((trade) => `${trade.side} ${trade.price.toFixed()}`)).toEqual([
      'buy 10.44',
      'sell 10.43',
    ]);
  });

  it('drops orders that are not marketable or fail the risk checks', async () => {
    const call: OptionContract = {
      underlying: 'SOFI',
      expiry: '2026-03-20',
      right: 'call',
      strike: new Decimal(11),
    };
    const careless = script((step) =>
      step === 0
        ? [
            order({
              side: 'buy',
              symbol: 'SOFI',
              quantity: new Decimal(10),
              orderType: 'limit',
              limitPrice: new Decimal('9.99'),
            }),
            order({
              side: 'sell',
              assetClass: 'option',
              symbol: occSymbol(call),
              option: call,
              quantity: new Decimal(1),
            }),
            order({ side: 'buy', symbol: 'SOFI', quantity: new Decimal(1000) }),
          ]
        : [],
    );
    const result = await backtest({
      definition: careless,
      params: {},
      symbol: 'SOFI',
      market: priceSeriesMarket({ symbol: 'SOFI', closes: series({ '2026-03-02': 10 }), volatility: 0.5 }),
      from: '2026-03-02',
      to: '2026-03-03',
      startingCash: 1000,
    });
    expect(result.trades).toEqual([]);
    expect(result.dropped.map((dropped) => dropped.reason)).toEqual([
      'not marketable: limit $9.99 against bid $10.00 / ask $10.00',
      expect.stringMatching(/^risk check position_available: a covered call needs 100 shares, you hold 0/),
      expect.stringMatching(/^risk check buying_power: needs \$10,000\.00, buying power is \$1,000\.00/),
    ]);
    // A price held from the last close fills the second day's equity too.
    expect(result.equityCurve.map((point) => point.equity.toFixed())).toEqual(['1000', '1000']);
  });

  it('stops evaluating after a halt', async () => {
    const halting = script((step) => (step === 1 ? [{ kind: 'halt', reason: 'enough' }] : []));
    const result = await backtest({
      definition: halting,
      params: {},
      symbol: 'SOFI',
      market: priceSeriesMarket({ symbol: 'SOFI', closes: series({ '2026-03-02': 10 }), volatility: 0.5 }),
      from: '2026-03-02',
      to: '2026-03-06',
      startingCash: 1000,
    });
    expect(result.summary.evaluations).toBe(2);
    expect(result.events.map((event) => [event.kind, event.text])).toEqual([['halt', 'enough']]);
    expect(result.equityCurve).toHaveLength(5);
  });

  it('refuses malformed ranges and times', async () => {
    const base = {
      definition: script(() => []),
      params: {},
      symbol: 'SOFI',
      market: priceSeriesMarket({ symbol: 'SOFI', closes: series({ '2026-03-02': 10 }), volatility: 0.5 }),
      startingCash: 1000,
    };
    await expect(backtest({ ...base, from: '2026-03-06', to: '2026-03-02' })).rejects.toThrow(RangeError);
    await expect(
      backtest({ ...base, from: '2026-03-02', to: '2026-03-06', times: ['16:30'] }),
    ).rejects.toThrow(/before 16:00/);
    await expect(backtest({ ...base, from: '2026-02-27', to: '2026-03-06' })).rejects.toThrow(
      /No market data/,
    );
  });
});

describe('simulated account', () => {
  const at = new Date('2026-03-02T15:00:00Z');
  const fill = (account: SimulatedAccount, side: 'buy' | 'sell', quantity: number, price: string) =>
    account.fill({
      at,
      kind: 'order',
      side,
      assetClass: 'equity',
      symbol: 'SOFI',
      quantity: new Decimal(quantity),
      price: new Decimal(price),
      reason: 'test',
    });

  it('averages the cost of adds, realizes on reductions, and flips through zero', () => {
    const account = new SimulatedAccount(1000);
    fill(account, 'buy', 10, '10');
    fill(account, 'buy', 10, '13');
    expect(account.position('SOFI')?.averageCost.toFixed()).toBe('11.5');
    expect(fill(account, 'sell', 5, '12').realized.toFixed()).toBe('2.5');
    // Sell 20 of the 15 held: 15 close at +0.5 each, 5 open short at 12.
    expect(fill(account, 'sell', 20, '12').realized.toFixed()).toBe('7.5');
    expect(account.position('SOFI')?.quantity.toFixed()).toBe('-5');
    expect(account.position('SOFI')?.averageCost.toFixed()).toBe('12');
    expect(account.realizedPnl.toFixed()).toBe('10');
    expect(account.realizedOn('2026-03-02').toFixed()).toBe('10');
    expect(account.cash.toFixed()).toBe(new Decimal(1000).minus(100).minus(130).plus(60).plus(240).toFixed());
  });

  it('settles options at expiry: called away in the money, worthless out of it, long puts exercised', () => {
    const account = new SimulatedAccount(0);
    fill(account, 'buy', 200, '20');
    const option = (right: 'put' | 'call', strike: number): OptionContract => ({
      underlying: 'SOFI',
      expiry: '2026-03-06',
      right,
      strike: new Decimal(strike),
    });
    const trade = (side: 'buy' | 'sell', contract: OptionContract, price: string) =>
      account.fill({
        at,
        kind: 'order',
        side,
        assetClass: 'option',
        symbol: occSymbol(contract),
        option: contract,
        quantity: new Decimal(1),
        price: new Decimal(price),
        reason: 'test',
      });
    trade('sell', option('call', 22), '0.50');
    trade('buy', option('put', 18), '0.30');
    trade('sell', option('call', 30), '0.05');
    const close = newYorkInstant('2026-03-06', 16, 0);
    expect(account.expiringBy('2026-03-05')).toEqual([]);
    expect(account.expiringBy('2026-03-06')).toHaveLength(3);

    const called = account.expire(occSymbol(option('call', 22)), new Decimal(25), close);
    expect(called.event.kind).toBe('called_away');
    expect(account.position('SOFI')?.quantity.toFixed()).toBe('100');
    const worthless = account.expire(occSymbol(option('call', 30)), new Decimal(25), close);
    expect(worthless.event.kind).toBe('expired_worthless');
    const exercised = account.expire(occSymbol(option('put', 18)), new Decimal(17), close);
    expect(exercised.event.kind).toBe('exercised');
    expect(account.position('SOFI')).toBeUndefined();
    expect(account.positions()).toEqual([]);
    // Shares: +200 called away at 22, -200 put to 18, over a $20 cost; premiums: +50 - 30 + 5.
    expect(account.realizedPnl.toFixed()).toBe('25');
    expect(account.cash.toFixed()).toBe(
      new Decimal(-4000).plus(50).minus(30).plus(5).plus(2200).plus(1800).toFixed(),
    );
  });
});
