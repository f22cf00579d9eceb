import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/domain/values.js';
import type { OptionContract } from '../../../src/core/market-data/market-data.js';
import { occSymbol } from '../../../src/core/market-data/providers/options.js';
import {
  type OptionChainEntry,
  SimulatedMarket,
} from '../../../src/core/market-data/providers/simulated-market.js';
import { getSymbolDirectory } from '../../../src/core/market-data/symbols/directory.js';
import type {
  HeldPosition,
  PendingOrder,
  PendingStage,
  ProposedOrder,
  StrategyAction,
  StrategySnapshot,
} from '../../../src/strategies/strategy.js';
import {
  type WheelParams,
  type WheelState,
  wheel,
  wheelParamsSchema,
  wheelStateSchema,
} from '../../../src/strategies/wheel/wheel.js';

const symbols = getSymbolDirectory();
/** Tuesday 11:00 New York; the chain lists 2026-03-13 (3 days) ... 2026-04-02 (23 days), 2026-04-17. */
const TUESDAY = new Date('2026-03-10T15:00:00Z');
/** Saturday: the market is closed. */
const SATURDAY = new Date('2026-03-14T15:00:00Z');

function market(at: Date, price: string): SimulatedMarket {
  const simulated = new SimulatedMarket({ seed: 7, symbols, clock: () => at });
  const last = new Decimal(price);
  simulated.override('SOFI', { bid: last.minus('0.01'), ask: last.plus('0.01'), last });
  return simulated;
}

interface SnapshotOptions {
  readonly at?: Date;
  readonly price?: string;
  readonly positions?: readonly HeldPosition[];
  readonly pendingOrders?: readonly PendingOrder[];
  readonly buyingPower?: string;
  /** Whether the broker's buying power has working orders out of it already (default: yes, as on paper). */
  readonly netsWorkingOrders?: boolean;
}

async function snapshot(options: SnapshotOptions = {}): Promise<StrategySnapshot> {
  const at = options.at ?? TUESDAY;
  const simulated = market(at, options.price ?? '20');
  const buyingPower = new Decimal(options.buyingPower ?? '100000');
  return {
    at,
    quote: await simulated.quote({ assetClass: 'equity', symbol: 'SOFI' }),
    session: simulated.session('equity', at),
    account: {
      cash: buyingPower,
      buyingPower,
      netsWorkingOrders: options.netsWorkingOrders ?? true,
      equity: buyingPower,
      realizedPnlToday: new Decimal(0),
    },
    positions: options.positions ?? [],
    pendingOrders: options.pendingOrders ?? [],
    optionChain: await simulated.optionChain('SOFI', at),
  };
}

function params(input: Record<string, unknown> = {}): WheelParams {
  return wheelParamsSchema.parse({ symbol: 'SOFI', ...input });
}

function shares(quantity: number, averageCost: string): HeldPosition {
  return {
    symbol: 'SOFI',
    assetClass: 'equity',
    quantity: new Decimal(quantity),
    averageCost: new Decimal(averageCost),
  };
}

function contract(expiry: string, right: 'put' | 'call', strike: number): OptionContract {
  return { underlying: 'SOFI', expiry, right, strike: new Decimal(strike) };
}

function optionPosition(option: OptionContract, quantity: number, premium: string): HeldPosition {
  return {
    symbol: occSymbol(option),
    assetClass: 'option',
    quantity: new Decimal(quantity),
    averageCost: new Decimal(premium),
    option,
  };
}

function orders(actions: readonly StrategyAction[]): ProposedOrder[] {
  return actions.flatMap((action) => (action.kind === 'order' ? [action.order] : []));
}

function notices(actions: readonly StrategyAction[]): string[] {
  return actions.flatMap((action) => (action.kind === 'notify' ? [action.text] : []));
}

function pending(order: ProposedOrder, stage: PendingStage = 'not_placed'): PendingOrder {
  return { tag: order.tag, side: order.side, symbol: order.symbol, quantity: order.quantity, stage };
}

function entryFor(snap: StrategySnapshot, order: ProposedOrder): OptionChainEntry {
  for (const expiration of snap.optionChain?.expirations ?? []) {
    for (const row of expiration.strikes) {
      if (row.put.symbol === order.symbol) return row.put;
      if (row.call.symbol === order.symbol) return row.call;
    }
  }
  throw new Error(`${order.symbol} is not in the chain`);
}

const fresh: WheelState = wheel.initialState(params());

describe('wheel parameters and state', () => {
  it('fill defaults and refuse what makes no sense', () => {
    const parsed = params();
    expect(parsed).toMatchObject({
      maxContracts: 1,
      put: { targetDelta: 0.3 },
      call: { targetDelta: 0.3 },
      minDaysToExpiry: 21,
      maxDaysToExpiry: 45,
      pricing: 'mid',
    });
    expect(parsed.takeProfit).toBeUndefined();
    expect(parsed.rollWhenDaysLeft).toBeUndefined();
    expect(wheelParamsSchema.safeParse({ symbol: 'SOFI', maxContracts: 51 }).success).toBe(false);
    expect(wheelParamsSchema.safeParse({ symbol: 'SOFI', maxContracts: 0 }).success).toBe(false);
    expect(
      wheelParamsSchema.safeParse({ symbol: 'SOFI', put: { targetDelta: 0.3, otmPercent: 0.05 } }).success,
    ).toBe(false);
    expect(
      wheelParamsSchema.safeParse({ symbol: 'SOFI', minDaysToExpiry: 50, maxDaysToExpiry: 30 }).success,
    ).toBe(false);
    expect(wheel.describe(params({ maxContracts: 2 }))).toBe(
      'SOFI, 2 contracts max, puts at 0.30 delta, calls at 0.30 delta, 21-45 days',
    );
  });

  it('keeps a state that survives JSON', () => {
    expect(wheelStateSchema.parse(JSON.parse(JSON.stringify(fresh)))).toEqual(fresh);
  });
});

describe('wheel: selling puts', () => {
  it('sells the put nearest the target delta in the first expiry of the window, at the mid', async () => {
    const snap = await snapshot();
    const decision = wheel.decide(params(), fresh, snap);
    const [order] = orders(decision.actions);
    expect(orders(decision.actions)).toHaveLength(1);
    expect(order).toMatchObject({
      side: 'sell',
      assetClass: 'option',
      orderType: 'limit',
      positionEffect: 'open',
    });
    expect(order?.option?.right).toBe('put');
    expect(order?.quantity.toNumber()).toBe(1);

    const chain = snap.optionChain;
    const window = chain?.expirations.filter((e) => e.daysToExpiry >= 21 && e.daysToExpiry <= 45) ?? [];
    const first = window.sort((a, b) => a.expiry.localeCompare(b.expiry))[0];
    expect(first?.expiry).toBe('2026-04-02');
    expect(order?.option?.expiry).toBe(first?.expiry);
    const puts = first?.strikes.map((row) => row.put) ?? [];
    const distance = (entry: OptionChainEntry) => entry.delta.abs().minus('0.3').abs().toNumber();
    const nearest = Math.min(...puts.map(distance));
    if (order === undefined) throw new Error('no order');
    const chosen = entryFor(snap, order);
    expect(distance(chosen)).toBe(nearest);
    // Out of the money, below the $20 price.
    expect(chosen.contract.strike.lt(20)).toBe(true);
    expect(order.limitPrice?.toFixed()).toBe(
      chosen.bid.plus(chosen.ask).dividedBy(2).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(),
    );
    expect(order.tag).toBe(`wheel:put:open:2026-04-02:${chosen.contract.strike.toFixed()}`);
    expect(decision.state.notice).toBeUndefined();
  });

  it('sells at the bid with natural pricing', async () => {
    const snap = await snapshot();
    const [order] = orders(wheel.decide(params({ pricing: 'natural' }), fresh, snap).actions);
    if (order === undefined) throw new Error('no order');
    expect(order.limitPrice?.toFixed()).toBe(entryFor(snap, order).bid.toFixed());
  });

  it('picks the highest strike at least otmPercent below the price', async () => {
    const [order] = orders(
      wheel.decide(params({ put: { otmPercent: 0.12 } }), fresh, await snapshot()).actions,
    );
    // $20 x 0.88 = $17.60: strikes are whole dollars below $25.
    expect(order?.option?.strike.toFixed()).toBe('17');
  });

  it('sells up to maxContracts, and no more than buying power secures', async () => {
    const three = params({ maxContracts: 3 });
    const plenty = orders(wheel.decide(three, fresh, await snapshot()).actions);
    expect(plenty.map((order) => order.quantity.toNumber())).toEqual([3]);

    const strike = plenty[0]?.option?.strike ?? new Decimal(0);
    // Enough for two contracts and a bit, not three.
    const twoAndABit = strike.times(200).plus(50).toFixed();
    const limited = orders(wheel.decide(three, fresh, await snapshot({ buyingPower: twoAndABit })).actions);
    expect(limited.map((order) => order.quantity.toNumber())).toEqual([2]);
  });

  it('says once that buying power does not secure a put, then stays quiet', async () => {
    const poor = await snapshot({ buyingPower: '500' });
    const first = wheel.decide(params(), fresh, poor);
    expect(orders(first.actions)).toEqual([]);
    expect(notices(first.actions)).toHaveLength(1);
    expect(notices(first.actions)[0]).toMatch(/Buying power of \$500\.00 does not secure/);
    const second = wheel.decide(params(), first.state, poor);
    expect(second.actions).toEqual([]);
    // Once an order goes out, the same trouble later is news again.
    const rich = wheel.decide(params(), second.state, await snapshot());
    expect(orders(rich.actions)).toHaveLength(1);
    expect(rich.state.notice).toBeUndefined();
  });

  it('counts held and pending short contracts against maxContracts', async () => {
    const held = optionPosition(contract('2026-04-02', 'put', 18), -1, '0.50');
    expect(orders(wheel.decide(params(), fresh, await snapshot({ positions: [held] })).actions)).toEqual([]);
    const two = orders(
      wheel.decide(params({ maxContracts: 2 }), fresh, await snapshot({ positions: [held] })).actions,
    );
    expect(two.map((order) => order.quantity.toNumber())).toEqual([1]);

    // A put at another strike still waiting for its card counts too.
    const other: PendingOrder = {
      tag: 'wheel:put:open:2026-04-17:16',
      side: 'sell',
      symbol: occSymbol(contract('2026-04-17', 'put', 16)),
      quantity: new Decimal(1),
      stage: 'not_placed',
    };
    expect(orders(wheel.decide(params(), fresh, await snapshot({ pendingOrders: [other] })).actions)).toEqual(
      [],
    );
  });

  describe('puts on their way and buying power', () => {
    const three = params({ maxContracts: 3 });

    /** The put the wheel sells here, and another put of the wheel's at its strike, later. */
    async function setting() {
      const [best] = orders(wheel.decide(three, fresh, await snapshot()).actions);
      if (best?.option === undefined) throw new Error('no put');
      const { strike, expiry } = best.option;
      expect(expiry < '2026-04-17').toBe(true);
      const other = (stage: PendingStage): PendingOrder => {
        const later = contract('2026-04-17', 'put', strike.toNumber());
        return {
          tag: `wheel:put:open:2026-04-17:${strike.toFixed()}`,
          side: 'sell',
          symbol: occSymbol(later),
          quantity: new Decimal(1),
          stage,
        };
      };
      // What is left after the other put's collateral: two contracts and a bit, not three.
      const buyingPower = strike.times(200).plus(50).toFixed();
      return { other, buyingPower };
    }

    const sold = async (pendingOrder: PendingOrder, buyingPower: string, netsWorkingOrders = true) =>
      orders(
        wheel.decide(
          three,
          fresh,
          await snapshot({ buyingPower, netsWorkingOrders, pendingOrders: [pendingOrder] }),
        ).actions,
      ).map((order) => order.quantity.toNumber());

    it('a put working at a broker that nets it is not taken off twice: the rest secures two', async () => {
      const { other, buyingPower } = await setting();
      expect(await sold(other('working'), buyingPower)).toEqual([2]);
    });

    it('where the broker is not known to net working orders, a working put is still taken off', async () => {
      const { other, buyingPower } = await setting();
      expect(await sold(other('working'), buyingPower, false)).toEqual([1]);
    });

    it('a put not placed yet (a card) is taken off at every broker: no buying power has it out', async () => {
      const { other, buyingPower } = await setting();
      expect(await sold(other('not_placed'), buyingPower)).toEqual([1]);
      expect(await sold(other('not_placed'), buyingPower, false)).toEqual([1]);
    });

    it('a put declined lately holds no cash, though it still counts against maxContracts', async () => {
      const { other, buyingPower } = await setting();
      expect(await sold(other('declined'), buyingPower, false)).toEqual([2]);
      expect(await sold(other('declined'), '100000')).toEqual([2]);
    });
  });

  it('does not repeat an order whose tag is pending', async () => {
    const snap = await snapshot();
    const first = wheel.decide(params(), fresh, snap);
    const [order] = orders(first.actions);
    if (order === undefined) throw new Error('no order');
    const again = wheel.decide(params(), first.state, await snapshot({ pendingOrders: [pending(order)] }));
    expect(again.actions).toEqual([]);
  });

  it('does nothing while the market is closed', async () => {
    const closed = await snapshot({ at: SATURDAY });
    expect(closed.session.open).toBe(false);
    const decision = wheel.decide(params(), fresh, closed);
    expect(decision.actions).toEqual([]);
    expect(decision.state).toBe(fresh);
  });

  it('says once when no option chain came with the snapshot', async () => {
    const { optionChain: _omitted, ...bare } = await snapshot();
    const first = wheel.decide(params(), fresh, bare);
    expect(notices(first.actions)).toEqual(['No option chain for SOFI; the wheel waits.']);
    expect(wheel.decide(params(), first.state, bare).actions).toEqual([]);
  });
});

describe('wheel: assignment and covered calls', () => {
  const assignedPut = contract('2026-03-06', 'put', 21);
  const before: WheelState = {
    ...fresh,
    premiumCollected: '55',
    cyclePremium: '55',
    shorts: [
      {
        symbol: occSymbol(assignedPut),
        underlying: 'SOFI',
        right: 'put',
        strike: '21',
        expiry: '2026-03-06',
        contracts: 1,
      },
    ],
  };

  it('notices the assignment and sells a covered call at or above the cost basis', async () => {
    const snap = await snapshot({ positions: [shares(100, '21')] });
    const decision = wheel.decide(params(), before, snap);
    const [notice] = notices(decision.actions);
    expect(notice).toMatch(/^Assigned on 1 SOFI 6 Mar 2026 \$21 put: bought 100 shares at \$21\.00/);
    // $21 less $55 of premium over 100 shares.
    expect(notice).toContain('about $20.45 a share');
    expect(decision.state).toMatchObject({ assignments: 1, shares: '100', cycles: 0 });

    const [call] = orders(decision.actions);
    expect(orders(decision.actions)).toHaveLength(1);
    expect(call).toMatchObject({ side: 'sell', positionEffect: 'open' });
    expect(call?.option?.right).toBe('call');
    expect(call?.option?.expiry).toBe('2026-04-02');
    expect(call?.quantity.toNumber()).toBe(1);
    // The price is $20: the nearest-delta call overall would be below the $21 basis.
    expect(call?.option?.strike.gte(21)).toBe(true);
    const calls =
      snap.optionChain?.expirations
        .find((e) => e.expiry === '2026-04-02')
        ?.strikes.map((row) => row.call)
        .filter((entry) => entry.contract.strike.gte(21) && entry.bid.gt(0)) ?? [];
    const distance = (entry: OptionChainEntry) => entry.delta.minus('0.3').abs().toNumber();
    if (call === undefined) throw new Error('no call');
    expect(distance(entryFor(snap, call))).toBe(Math.min(...calls.map(distance)));
    expect(call.tag).toBe(`wheel:call:open:2026-04-02:${call.option?.strike.toFixed()}`);
  });

  it('sells one call per 100-share lot, within maxContracts', async () => {
    const lots = orders(
      wheel.decide(params({ maxContracts: 5 }), fresh, await snapshot({ positions: [shares(250, '19')] }))
        .actions,
    );
    expect(lots.map((order) => [order.option?.right, order.quantity.toNumber()])).toEqual([['call', 2]]);
    const capped = orders(
      wheel.decide(params({ maxContracts: 1 }), fresh, await snapshot({ positions: [shares(250, '19')] }))
        .actions,
    );
    expect(capped.map((order) => order.quantity.toNumber())).toEqual([1]);
    // Lots already covered: nothing more.
    const covered = optionPosition(contract('2026-04-02', 'call', 22), -2, '0.40');
    const none = wheel.decide(
      params({ maxContracts: 5 }),
      fresh,
      await snapshot({ positions: [shares(250, '19'), covered] }),
    );
    expect(orders(none.actions)).toEqual([]);
  });

  it('holds the shares, saying so once, when no call at or above the basis is listed', async () => {
    const high = await snapshot({ positions: [shares(100, '40')] });
    const first = wheel.decide(params(), fresh, high);
    expect(orders(first.actions)).toEqual([]);
    expect(notices(first.actions)[0]).toMatch(/No SOFI call at or above your \$40\.00 cost basis/);
    expect(wheel.decide(params(), first.state, high).actions).toEqual([]);
  });

  it('counts a cycle when the shares are called away, then sells puts again', async () => {
    const calledCall = contract('2026-03-06', 'call', 22);
    const holding: WheelState = {
      ...fresh,
      cyclePremium: '120',
      premiumCollected: '120',
      shares: '100',
      shorts: [
        {
          symbol: occSymbol(calledCall),
          underlying: 'SOFI',
          right: 'call',
          strike: '22',
          expiry: '2026-03-06',
          contracts: 1,
        },
      ],
    };
    const decision = wheel.decide(params(), holding, await snapshot());
    expect(notices(decision.actions)[0]).toMatch(
      /100 SOFI shares were called away at \$22\.00.*Cycle 1 complete/,
    );
    expect(decision.state).toMatchObject({
      cycles: 1,
      cyclePremium: '0',
      premiumCollected: '120',
      shares: '0',
    });
    expect(orders(decision.actions).map((order) => order.option?.right)).toEqual(['put']);
  });

  it('books the premium of a new short option from its average cost', async () => {
    const sold = optionPosition(contract('2026-04-02', 'put', 18), -2, '0.45');
    const decision = wheel.decide(params({ maxContracts: 2 }), fresh, await snapshot({ positions: [sold] }));
    expect(decision.state.premiumCollected).toBe('90');
    expect(decision.state.shorts).toEqual([
      {
        symbol: occSymbol(sold.option as OptionContract),
        underlying: 'SOFI',
        right: 'put',
        strike: '18',
        expiry: '2026-04-02',
        contracts: 2,
      },
    ]);
  });
});

describe('wheel: managing a short option', () => {
  /** Expires Friday 2026-03-13, three days after TUESDAY. */
  const nearPut = (strike: number) => optionPosition(contract('2026-03-13', 'put', strike), -1, '0.60');

  it('rolls an in-the-money put near expiry: buy to close, sell a later one at the same or a lower strike for a credit', async () => {
    const snap = await snapshot({ positions: [nearPut(22)] });
    const decision = wheel.decide(params({ rollWhenDaysLeft: 5 }), fresh, snap);
    const [close, open] = orders(decision.actions);
    expect(orders(decision.actions)).toHaveLength(2);
    expect(close).toMatchObject({
      side: 'buy',
      positionEffect: 'close',
      symbol: occSymbol(contract('2026-03-13', 'put', 22)),
      tag: 'wheel:put:roll-close:2026-03-13:22',
    });
    expect(open).toMatchObject({ side: 'sell', positionEffect: 'open' });
    expect(open?.option?.right).toBe('put');
    expect((open?.option?.expiry ?? '') > '2026-03-13').toBe(true);
    expect(open?.option?.strike.lte(22)).toBe(true);
    expect(open?.quantity.toNumber()).toBe(1);
    expect(open?.limitPrice?.gte(close?.limitPrice ?? Infinity)).toBe(true);
    expect(open?.tag).toBe(`wheel:put:roll-open:${open?.option?.expiry}:${open?.option?.strike.toFixed()}`);
    // The buy-back is remembered so its cost is booked when the put is gone.
    expect(decision.state.closing[close?.symbol ?? '']).toBe(close?.limitPrice?.toFixed());

    // While the roll is pending, it is not proposed again.
    const waiting = await snapshot({
      positions: [nearPut(22)],
      pendingOrders: [close, open].flatMap((order) => (order ? [pending(order)] : [])),
    });
    expect(orders(wheel.decide(params({ rollWhenDaysLeft: 5 }), decision.state, waiting).actions)).toEqual(
      [],
    );
  });

  it('rolls down to the lowest strike that still pays a credit', async () => {
    const snap = await snapshot({ price: '20.5', positions: [nearPut(21)] });
    const [close, open] = orders(wheel.decide(params({ rollWhenDaysLeft: 5 }), fresh, snap).actions);
    if (close?.limitPrice === undefined || open?.option === undefined) throw new Error('no roll');
    const chosen = open.option;
    expect(chosen.strike.lt(21)).toBe(true);
    const expiration = snap.optionChain?.expirations.find((e) => e.expiry === chosen.expiry);
    const mid = (entry: OptionChainEntry) =>
      entry.bid.plus(entry.ask).dividedBy(2).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    const lower =
      expiration?.strikes.map((row) => row.put).filter((e) => e.contract.strike.lt(chosen.strike)) ?? [];
    expect(lower.length).toBeGreaterThan(0);
    for (const entry of lower) expect(mid(entry).lt(close.limitPrice)).toBe(true);
  });

  it('books the buy-back as a debit once the rolled put is gone', async () => {
    const snap = await snapshot({ positions: [nearPut(22)] });
    const rolled = wheel.decide(params({ rollWhenDaysLeft: 5 }), fresh, snap);
    const [close, open] = orders(rolled.actions);
    if (close?.limitPrice === undefined || open?.option === undefined || open.limitPrice === undefined)
      throw new Error('no roll');
    const after = wheel.decide(
      params({ rollWhenDaysLeft: 5 }),
      rolled.state,
      await snapshot({ positions: [optionPosition(open.option, -1, open.limitPrice.toFixed())] }),
    );
    const credit = open.limitPrice.minus(close.limitPrice).times(100);
    // premium: $60 for the first put (booked on the first decision), less the buy-back, plus the new sale.
    expect(new Decimal(after.state.premiumCollected).toFixed()).toBe(credit.plus(60).toFixed());
    expect(after.state.closing).toEqual({});
  });

  it('leaves an in-the-money put to assignment when no roll rule is set', async () => {
    const decision = wheel.decide(params(), fresh, await snapshot({ positions: [nearPut(22)] }));
    expect(orders(decision.actions)).toEqual([]);
  });

  it('lets an out-of-the-money put expire, and says so after expiry', async () => {
    const rule = params({ rollWhenDaysLeft: 5 });
    const before = wheel.decide(rule, fresh, await snapshot({ positions: [nearPut(17)] }));
    expect(before.actions).toEqual([]);
    expect(before.state.shorts).toHaveLength(1);
    // Monday after expiry: the put is gone, the shares did not move.
    const monday = await snapshot({ at: new Date('2026-03-16T14:00:00Z') });
    const after = wheel.decide(rule, before.state, monday);
    expect(notices(after.actions)).toEqual([
      '1 SOFI 13 Mar 2026 $17 put expired worthless; the premium is yours to keep.',
    ]);
    expect(after.state.shorts).toEqual([]);
    // Back to selling puts, at the money of that Monday.
    expect(orders(after.actions).map((order) => order.option?.right)).toEqual(['put']);
  });

  it('does not roll an in-the-money put with more days left than the rule', async () => {
    const later = optionPosition(contract('2026-03-20', 'put', 22), -1, '0.60');
    const decision = wheel.decide(
      params({ rollWhenDaysLeft: 5 }),
      fresh,
      await snapshot({ positions: [later] }),
    );
    expect(orders(decision.actions)).toEqual([]);
  });

  it('says once when no later contract pays a credit to roll', async () => {
    // Deep in the money and priced far above anything later could fetch at the same or a lower strike.
    const deep = optionPosition(contract('2026-03-13', 'put', 25), -1, '0.60');
    const snap = await snapshot({ price: '20', positions: [deep] });
    const simulated = market(TUESDAY, '20');
    simulated.override(occSymbol(contract('2026-03-13', 'put', 25)), {
      bid: '9.00',
      ask: '9.20',
      last: '9.10',
    });
    const pinned: StrategySnapshot = { ...snap, optionChain: await simulated.optionChain('SOFI', TUESDAY) };
    const first = wheel.decide(params({ rollWhenDaysLeft: 5 }), fresh, pinned);
    expect(orders(first.actions)).toEqual([]);
    expect(notices(first.actions)[0]).toMatch(/no later put at the same or a safer strike pays a credit/);
    expect(wheel.decide(params({ rollWhenDaysLeft: 5 }), first.state, pinned).actions).toEqual([]);
  });

  it('takes profit once enough of the premium has decayed', async () => {
    const rich = optionPosition(contract('2026-04-02', 'put', 16), -1, '2.00');
    const decision = wheel.decide(params({ takeProfit: 0.5 }), fresh, await snapshot({ positions: [rich] }));
    const [close] = orders(decision.actions);
    expect(close).toMatchObject({
      side: 'buy',
      positionEffect: 'close',
      tag: 'wheel:put:close:2026-04-02:16',
    });
    expect(close?.limitPrice?.lte('1.00')).toBe(true);
    // The same put sold for less has not decayed enough.
    const cheap = optionPosition(
      contract('2026-04-02', 'put', 16),
      -1,
      close?.limitPrice?.plus('0.01').toFixed() ?? '0',
    );
    expect(
      orders(
        wheel.decide(params({ takeProfit: 0.5 }), fresh, await snapshot({ positions: [cheap] })).actions,
      ),
    ).toEqual([]);
  });
});
