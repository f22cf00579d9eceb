import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import type { OptionContract } from '../../../src/core/market-data/market-data.js';
import { occSymbol } from '../../../src/core/market-data/providers/options.js';
import { SimulatedMarket } from '../../../src/core/market-data/providers/simulated-market.js';
import { getSymbolDirectory } from '../../../src/core/market-data/symbols/directory.js';
import {
  type CollarParams,
  type CollarState,
  collar,
  collarParamsSchema,
} from '../../../src/strategies/collar/collar.js';
import type {
  HeldPosition,
  PendingOrder,
  ProposedOrder,
  StrategyAction,
  StrategySnapshot,
} from '../../../src/strategies/strategy.js';

const symbols = getSymbolDirectory();
/** Tuesday 11:00 New York; the chain lists 2026-03-13 (3 days) ... 2026-04-02 (23 days), 2026-04-17 (38). */
const TUESDAY = new Date('2026-03-10T15:00:00Z');

interface SnapshotOptions {
  readonly at?: Date;
  readonly positions?: readonly HeldPosition[];
  readonly pendingOrders?: readonly PendingOrder[];
}

async function snapshot(options: SnapshotOptions = {}): Promise<StrategySnapshot> {
  const at = options.at ?? TUESDAY;
  const market = new SimulatedMarket({ seed: 7, symbols, clock: () => at });
  market.override('SOFI', { bid: '19.99', ask: '20.01', last: '20' });
  const money = new Decimal(50_000);
  return {
    at,
    quote: await market.quote({ assetClass: 'equity', symbol: 'SOFI' }),
    session: market.session('equity', at),
    account: {
      cash: money,
      buyingPower: money,
      netsWorkingOrders: true,
      equity: money,
      realizedPnlToday: new Decimal(0),
    },
    positions: options.positions ?? [],
    pendingOrders: options.pendingOrders ?? [],
    optionChain: await market.optionChain('SOFI', at),
  };
}

function params(input: Record<string, unknown> = {}): CollarParams {
  return collarParamsSchema.parse({ symbol: 'SOFI', ...input });
}

const fresh: CollarState = collar.initialState(params());

function shares(quantity: number): HeldPosition {
  return {
    symbol: 'SOFI',
    assetClass: 'equity',
    quantity: new Decimal(quantity),
    averageCost: new Decimal(15),
  };
}

function contract(expiry: string, right: 'put' | 'call', strike: number): OptionContract {
  return { underlying: 'SOFI', expiry, right, strike: new Decimal(strike) };
}

function leg(option: OptionContract, quantity: number): HeldPosition {
  return {
    symbol: occSymbol(option),
    assetClass: 'option',
    quantity: new Decimal(quantity),
    averageCost: new Decimal('0.40'),
    option,
  };
}

function orders(actions: readonly StrategyAction[]): ProposedOrder[] {
  return actions.flatMap((action) => (action.kind === 'order' ? [action.order] : []));
}

function notices(actions: readonly StrategyAction[]): string[] {
  return actions.flatMap((action) => (action.kind === 'notify' ? [action.text] : []));
}

/** [side, right, expiry, strike, quantity, effect] per order. */
function summary(list: readonly ProposedOrder[]): (string | number | undefined)[][] {
  return list.map((order) => [
    order.side,
    order.option?.right,
    order.option?.expiry,
    order.option?.strike.toNumber(),
    order.quantity.toNumber(),
    order.positionEffect,
  ]);
}

describe('collar parameters', () => {
  it('fill defaults and refuse a roll window that would roll new legs at once', () => {
    expect(params()).toMatchObject({
      put: { percent: 0.9 },
      call: { percent: 1.1 },
      minDaysToExpiry: 21,
      maxDaysToExpiry: 60,
      rollDaysBeforeExpiry: 5,
      pricing: 'mid',
    });
    expect(collarParamsSchema.safeParse({ symbol: 'SOFI', call: { percent: 0.95 } }).success).toBe(false);
    expect(
      collarParamsSchema.safeParse({ symbol: 'SOFI', minDaysToExpiry: 5, rollDaysBeforeExpiry: 5 }).success,
    ).toBe(false);
    expect(collar.describe(params())).toBe(
      'SOFI collar on every lot: puts 10% below, calls 10% above, 21-60 days, rolled 5 days before expiry',
    );
  });
});

describe('collar', () => {
  it('buys a protective put and sells a covered call per lot, in the first expiry of the window', async () => {
    const snap = await snapshot({ positions: [shares(250)] });
    const decision = collar.decide(params(), fresh, snap);
    const list = orders(decision.actions);
    // $20 x 0.90 = $18 (highest strike at or below); $20 x 1.10 = $22 (lowest at or above).
    expect(summary(list)).toEqual([
      ['buy', 'put', '2026-04-02', 18, 2, 'open'],
      ['sell', 'call', '2026-04-02', 22, 2, 'open'],
    ]);
    expect(list.map((order) => order.tag)).toEqual([
      'collar:put:open:2026-04-02:18',
      'collar:call:open:2026-04-02:22',
    ]);
    const rows = snap.optionChain?.expirations.find((e) => e.expiry === '2026-04-02')?.strikes ?? [];
    const put = rows.find((row) => row.strike.eq(18))?.put;
    const call = rows.find((row) => row.strike.eq(22))?.call;
    const mid = (entry: { bid: Decimal; ask: Decimal } | undefined) =>
      entry?.bid.plus(entry.ask).dividedBy(2).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed();
    expect(list[0]?.limitPrice?.toFixed()).toBe(mid(put));
    expect(list[1]?.limitPrice?.toFixed()).toBe(mid(call));
  });

  it('picks the put by delta when asked, and collars at most maxLots', async () => {
    const snap = await snapshot({ positions: [shares(300)] });
    const list = orders(
      collar.decide(params({ put: { targetDelta: 0.2 }, maxLots: 1 }), fresh, snap).actions,
    );
    expect(list.map((order) => order.quantity.toNumber())).toEqual([1, 1]);
    const puts =
      snap.optionChain?.expirations.find((e) => e.expiry === '2026-04-02')?.strikes.map((r) => r.put) ?? [];
    const distance = (delta: Decimal) => delta.abs().minus('0.2').abs().toNumber();
    const chosen = puts.find((entry) => entry.symbol === list[0]?.symbol);
    expect(chosen).toBeDefined();
    expect(distance(chosen?.delta ?? new Decimal(9))).toBe(
      Math.min(...puts.map((entry) => distance(entry.delta))),
    );
  });

  it('rolls both legs before expiry: closes them and opens a new pair, never more calls than lots', async () => {
    const positions = [
      shares(200),
      leg(contract('2026-03-13', 'put', 18), 2),
      leg(contract('2026-03-13', 'call', 22), -2),
    ];
    const decision = collar.decide(params(), fresh, await snapshot({ positions }));
    const list = orders(decision.actions);
    expect(summary(list)).toEqual([
      ['sell', 'put', '2026-03-13', 18, 2, 'close'],
      ['buy', 'call', '2026-03-13', 22, 2, 'close'],
      ['buy', 'put', '2026-04-02', 18, 2, 'open'],
      ['sell', 'call', '2026-04-02', 22, 2, 'open'],
    ]);
    expect(list.slice(0, 2).map((order) => order.tag)).toEqual([
      'collar:put:roll-close:2026-03-13:18',
      'collar:call:roll-close:2026-03-13:22',
    ]);
    const calls = list.filter((order) => order.option?.right === 'call' && order.side === 'sell');
    expect(calls.reduce((sum, order) => sum + order.quantity.toNumber(), 0)).toBeLessThanOrEqual(2);
  });

  it('leaves legs alone until they are within rollDaysBeforeExpiry', async () => {
    const positions = [
      shares(200),
      leg(contract('2026-03-20', 'put', 18), 2),
      leg(contract('2026-03-20', 'call', 22), -2),
    ];
    expect(collar.decide(params(), fresh, await snapshot({ positions })).actions).toEqual([]);
    // Ten days left and a 10-day rule: roll.
    expect(
      orders(
        collar.decide(params({ rollDaysBeforeExpiry: 10 }), fresh, await snapshot({ positions })).actions,
      ),
    ).toHaveLength(4);
  });

  it('rolls one leg into the expiry of the leg that stays', async () => {
    const positions = [
      shares(100),
      leg(contract('2026-04-17', 'put', 18), 1),
      leg(contract('2026-03-13', 'call', 22), -1),
    ];
    const list = orders(collar.decide(params(), fresh, await snapshot({ positions })).actions);
    expect(summary(list)).toEqual([
      ['buy', 'call', '2026-03-13', 22, 1, 'close'],
      ['sell', 'call', '2026-04-17', 22, 1, 'open'],
    ]);
  });

  it('keeps expiring legs when no replacement can be opened, and says so once', async () => {
    const positions = [
      shares(100),
      leg(contract('2026-03-13', 'put', 18), 1),
      leg(contract('2026-03-13', 'call', 22), -1),
    ];
    const far = params({ minDaysToExpiry: 50, maxDaysToExpiry: 60 });
    const first = collar.decide(far, fresh, await snapshot({ positions }));
    expect(orders(first.actions)).toEqual([]);
    expect(notices(first.actions)).toEqual([
      'No SOFI expiration between 50 and 60 days is listed; the collar waits.',
    ]);
    expect(collar.decide(far, first.state, await snapshot({ positions })).actions).toEqual([]);
  });

  it('sells no call beyond the lots held, and says so once when already over', async () => {
    const covered = [
      shares(150),
      leg(contract('2026-04-02', 'put', 18), 1),
      leg(contract('2026-04-02', 'call', 22), -1),
    ];
    expect(collar.decide(params(), fresh, await snapshot({ positions: covered })).actions).toEqual([]);
    const over = [
      shares(100),
      leg(contract('2026-04-02', 'put', 18), 1),
      leg(contract('2026-04-02', 'call', 22), -2),
    ];
    const first = collar.decide(params(), fresh, await snapshot({ positions: over }));
    expect(orders(first.actions)).toEqual([]);
    expect(notices(first.actions)[0]).toMatch(/2 SOFI calls are short but only 1 lot is collared/);
    expect(collar.decide(params(), first.state, await snapshot({ positions: over })).actions).toEqual([]);
  });

  it('does not repeat pending legs', async () => {
    const snap = await snapshot({ positions: [shares(100)] });
    const first = orders(collar.decide(params(), fresh, snap).actions);
    const [put] = first;
    if (put === undefined) throw new Error('no put');
    const pendingPut: PendingOrder = {
      tag: put.tag,
      side: put.side,
      symbol: put.symbol,
      quantity: put.quantity,
      stage: 'not_placed',
    };
    const onlyCall = orders(
      collar.decide(
        params(),
        fresh,
        await snapshot({ positions: [shares(100)], pendingOrders: [pendingPut] }),
      ).actions,
    );
    expect(summary(onlyCall)).toEqual([['sell', 'call', '2026-04-02', 22, 1, 'open']]);
    const all = first.map((order) => ({
      tag: order.tag,
      side: order.side,
      symbol: order.symbol,
      quantity: order.quantity,
      stage: 'not_placed' as const,
    }));
    expect(
      collar.decide(params(), fresh, await snapshot({ positions: [shares(100)], pendingOrders: all }))
        .actions,
    ).toEqual([]);
  });

  it('with no lot of shares, says so once and does nothing', async () => {
    const none = await snapshot({ positions: [shares(60)] });
    const first = collar.decide(params(), fresh, none);
    expect(orders(first.actions)).toEqual([]);
    expect(notices(first.actions)).toEqual([
      'No SOFI lot to collar: a collar needs at least 100 shares. It starts once you hold them.',
    ]);
    const second = collar.decide(params(), first.state, none);
    expect(second.actions).toEqual([]);
    expect(second.state).toEqual(first.state);
    // Shares arrive: legs go out and the notice is forgotten, so losing them later is news again.
    const bought = collar.decide(params(), second.state, await snapshot({ positions: [shares(100)] }));
    expect(orders(bought.actions)).toHaveLength(2);
    expect(bought.state.notice).toBeUndefined();
  });

  it('does nothing while the market is closed', async () => {
    const saturday = await snapshot({ at: new Date('2026-03-14T15:00:00Z'), positions: [shares(100)] });
    expect(saturday.session.open).toBe(false);
    const decision = collar.decide(params(), fresh, saturday);
    expect(decision.actions).toEqual([]);
    expect(decision.state).toBe(fresh);
  });
});
