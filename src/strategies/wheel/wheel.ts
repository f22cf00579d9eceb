/**
 * The wheel: sell cash-secured puts until assigned, then sell covered calls on the shares until
 * they are called away, and start over. The phase is read from the account every time (no shares:
 * puts; a 100-share lot: calls; a short option open: manage it), so a restart, a manual trade or a
 * missed evaluation never leaves the strategy believing something the account contradicts.
 *
 * The state keeps only what the account cannot say: premium collected, completed cycles and
 * assignments, and the short options seen last time, to tell an expiry from an assignment.
 */
import { z } from 'zod';
import { Decimal, formatDecimal, formatUsd, optionRightSchema } from '../../core/domain/values.js';
import { expiryLabel } from '../../core/intents/instrument-label.js';
import type { OptionContract } from '../../core/market-data/market-data.js';
import type { OptionChain, OptionChainEntry } from '../../core/market-data/providers/simulated-market.js';
import {
  buyLimit,
  contractLabel,
  decimalText,
  entryOf,
  expirationsBetween,
  findEntry,
  fractionSchema,
  hasExpired,
  isPending,
  lotsOf,
  midOf,
  noticeOnce,
  type OptionLeg,
  optionLegs,
  optionOrder,
  optionTag,
  pendingOptionOrders,
  pricingSchema,
  SHARES_PER_CONTRACT,
  sellLimit,
  sharesHeld,
  tickerSchema,
  total,
} from '../option-legs.js';
import { stillNeedsCash } from '../pending-cash.js';
import type { Decision, StrategyAction, StrategyDefinition, StrategySnapshot } from '../strategy.js';

export const wheelParamsSchema = z
  .object({
    symbol: tickerSchema,
    /** Most short contracts (puts and calls together) open or pending at once. */
    maxContracts: z.number().int().min(1).max(50).default(1),
    /** Which put to sell: the strike nearest a delta (0.30), or the first strike this far below the price (0.05 = 5%). */
    put: z
      .union([
        z.strictObject({ targetDelta: fractionSchema }),
        z.strictObject({ otmPercent: fractionSchema }),
      ])
      .default({ targetDelta: 0.3 }),
    /** Which covered call to sell: the strike nearest this delta, never below the shares' cost. */
    call: z.strictObject({ targetDelta: fractionSchema.default(0.3) }).default({ targetDelta: 0.3 }),
    minDaysToExpiry: z.number().int().min(0).max(365).default(21),
    maxDaysToExpiry: z.number().int().min(1).max(365).default(45),
    /** Buy a short option back once this fraction of its premium has decayed (0.5 = half). */
    takeProfit: fractionSchema.optional(),
    /**
     * Roll a short option that is in the money with this many days left or fewer: buy it back and
     * sell a later one at the same or a safer strike, for a net credit. Absent: accept assignment.
     */
    rollWhenDaysLeft: z.number().int().min(0).max(60).optional(),
    pricing: pricingSchema.default('mid'),
  })
  .refine((params) => params.minDaysToExpiry <= params.maxDaysToExpiry, {
    message: 'minDaysToExpiry must not be above maxDaysToExpiry',
    path: ['maxDaysToExpiry'],
  });

export type WheelParams = z.output<typeof wheelParamsSchema>;

const trackedShortSchema = z.object({
  /** OCC symbol. */
  symbol: z.string().min(1),
  underlying: z.string().min(1),
  right: optionRightSchema,
  strike: decimalText,
  expiry: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  contracts: z.number().int().positive(),
});

export const wheelStateSchema = z.object({
  /** Net premium, USD: received for options sold, less what buying them back cost. */
  premiumCollected: decimalText.default('0'),
  /** The same since the current cycle began (reset when shares are called away). */
  cyclePremium: decimalText.default('0'),
  /** Completed cycles: shares called away. */
  cycles: z.number().int().min(0).default(0),
  assignments: z.number().int().min(0).default(0),
  /** Shares held at the last evaluation, to tell an assignment from a worthless expiry. */
  shares: decimalText.default('0'),
  /** Short options held at the last evaluation. */
  shorts: z.array(trackedShortSchema).default([]),
  /** Buy-to-close limits proposed, per OCC symbol: the debit when a short disappears before expiry. */
  closing: z.record(z.string(), decimalText).default({}),
  /** Key of the last "nothing to do" notice, so it is said once. */
  notice: z.string().optional(),
});

export type WheelState = z.output<typeof wheelStateSchema>;

type TrackedShort = WheelState['shorts'][number];
type OrderAction = Extract<StrategyAction, { kind: 'order' }>;

export const wheel: StrategyDefinition<WheelParams, WheelState> = {
  kind: 'wheel',
  title: 'the wheel',
  paramsSchema: wheelParamsSchema,
  stateSchema: wheelStateSchema,
  needsOptionChain: true,
  actsOnlyInSession: true,
  needsHistory: 0,
  initialState: () => wheelStateSchema.parse({}),
  decide: decideWheel,
  describe(params) {
    const put =
      'targetDelta' in params.put
        ? `puts at ${params.put.targetDelta.toFixed(2)} delta`
        : `puts ${formatDecimal(params.put.otmPercent * 100, 2)}% out of the money`;
    const contracts = `${params.maxContracts} contract${params.maxContracts === 1 ? '' : 's'} max`;
    return `${params.symbol}, ${contracts}, ${put}, calls at ${params.call.targetDelta.toFixed(2)} delta, ${params.minDaysToExpiry}-${params.maxDaysToExpiry} days`;
  },
};

function decideWheel(
  params: WheelParams,
  state: WheelState,
  snapshot: StrategySnapshot,
): Decision<WheelState> {
  const booked = reconcile(params, state, snapshot);
  if (!snapshot.session.open) return booked;
  const chain = snapshot.optionChain;
  if (chain === undefined) {
    const quiet = noticeOnce(
      booked.state,
      'no-chain',
      `No option chain for ${params.symbol}; the wheel waits.`,
    );
    return { actions: [...booked.actions, ...quiet.actions], state: quiet.state };
  }

  const plan = new Plan(booked.state);
  const legs = optionLegs(snapshot, params.symbol);
  const shorts = legs.filter((leg) => leg.contracts.isNegative());
  for (const leg of shorts) manageShort(params, snapshot, chain, leg, plan);

  const shares = sharesHeld(snapshot, params.symbol);
  const lots = lotsOf(shares.quantity);
  const idle = shorts.length === 0 && snapshot.pendingOrders.length === 0;
  if (lots > 0) sellCalls(params, snapshot, chain, shares.averageCost, lots, shorts, plan, idle);
  else sellPuts(params, snapshot, chain, shorts, plan, idle);

  return { actions: [...booked.actions, ...plan.actions()], state: plan.result() };
}

/** Orders and at most one notice gathered during one decision. */
class Plan {
  private readonly orders: OrderAction[] = [];
  private readonly closing: Record<string, string>;
  private notice: { key: string; text: string } | undefined;

  constructor(private readonly state: WheelState) {
    this.closing = { ...state.closing };
  }

  order(action: OrderAction): void {
    this.orders.push(action);
    if (action.order.side === 'buy' && action.order.limitPrice !== undefined)
      this.closing[action.order.symbol] = action.order.limitPrice.toFixed();
  }

  tell(key: string, text: string): void {
    this.notice ??= { key, text };
  }

  /**
   * Sells `count` of `entry` to open at the pricing rule's limit, unless that order is pending;
   * `reason` words it with the limit price.
   */
  sellToOpen(
    entry: OptionChainEntry,
    count: Decimal,
    params: WheelParams,
    snapshot: StrategySnapshot,
    reason: (price: Decimal) => string,
  ): void {
    const tag = optionTag('wheel', 'open', entry.contract);
    if (isPending(snapshot, tag)) return;
    const price = sellLimit(entry, params.pricing);
    this.order({
      kind: 'order',
      order: optionOrder({
        side: 'sell',
        contract: entry.contract,
        contracts: count,
        limitPrice: price,
        positionEffect: 'open',
        tag,
      }),
      reason: reason(price),
    });
  }

  actions(): StrategyAction[] {
    if (this.orders.length > 0 || this.notice === undefined) return this.orders;
    return noticeOnce(this.state, this.notice.key, this.notice.text).actions;
  }

  result(): WheelState {
    if (this.orders.length > 0) return { ...this.state, closing: this.closing, notice: undefined };
    if (this.notice === undefined) return this.state;
    return noticeOnce(this.state, this.notice.key, this.notice.text).state;
  }
}

/**
 * Books what happened since the last evaluation: premium for new short options, the cost of
 * buying one back, and, past expiry, whether it expired worthless or was assigned (the shares
 * moved by 100 a contract). Runs even when the market is closed: expiries are news on weekends.
 */
function reconcile(params: WheelParams, state: WheelState, snapshot: StrategySnapshot): Decision<WheelState> {
  const legs = optionLegs(snapshot, params.symbol).filter((leg) => leg.contracts.isNegative());
  const shares = sharesHeld(snapshot, params.symbol).quantity;
  let premium = new Decimal(state.premiumCollected);
  let cyclePremium = new Decimal(state.cyclePremium);
  let { cycles, assignments } = state;
  // Share changes not yet explained by an assignment or a call-away.
  let unexplained = shares.minus(state.shares);
  const actions: StrategyAction[] = [];

  for (const tracked of state.shorts) {
    const held =
      legs
        .find((leg) => leg.symbol === tracked.symbol)
        ?.contracts.abs()
        .toNumber() ?? 0;
    const gone = tracked.contracts - held;
    if (gone <= 0) continue;
    const label = contractLabel(trackedContract(tracked));
    const expired = hasExpired(tracked.expiry, snapshot.at);
    const lotsMoved = unexplained.abs().dividedToIntegerBy(SHARES_PER_CONTRACT).toNumber();
    const movedOurWay = tracked.right === 'put' ? unexplained.isPositive() : unexplained.isNegative();
    const exercised = expired && movedOurWay ? Math.min(gone, lotsMoved) : 0;
    const sharesMoved = exercised * SHARES_PER_CONTRACT;
    if (exercised > 0 && tracked.right === 'put') {
      unexplained = unexplained.minus(sharesMoved);
      assignments += 1;
      const net = new Decimal(tracked.strike).minus(cyclePremium.dividedBy(shares.isZero() ? 1 : shares));
      actions.push({
        kind: 'notify',
        text: `Assigned on ${exercised} ${label}: bought ${sharesMoved} shares at ${formatUsd(tracked.strike)}. After ${formatUsd(cyclePremium)} of premium this cycle they cost about ${formatUsd(net)} a share; covered calls next.`,
      });
    } else if (exercised > 0) {
      unexplained = unexplained.plus(sharesMoved);
      cycles += 1;
      actions.push({
        kind: 'notify',
        text: `${sharesMoved} ${params.symbol} shares were called away at ${formatUsd(tracked.strike)} (${exercised} ${label}). Cycle ${cycles} complete with ${formatUsd(cyclePremium)} of premium; back to selling puts.`,
      });
      cyclePremium = new Decimal(0);
    }
    const rest = gone - exercised;
    if (rest <= 0) continue;
    const closePrice = state.closing[tracked.symbol];
    if (closePrice !== undefined) {
      // Our buy-to-close filled: the debit is its limit (the fill may have been better).
      const debit = new Decimal(closePrice).times(SHARES_PER_CONTRACT).times(rest);
      premium = premium.minus(debit);
      cyclePremium = cyclePremium.minus(debit);
    } else if (expired) {
      actions.push({
        kind: 'notify',
        text: `${rest} ${label} expired worthless; the premium is yours to keep.`,
      });
    }
    // Otherwise it was closed outside the strategy: nothing to book.
  }

  for (const leg of legs) {
    const before = state.shorts.find((tracked) => tracked.symbol === leg.symbol)?.contracts ?? 0;
    const added = leg.contracts.abs().minus(before);
    if (added.lte(0)) continue;
    const credit = leg.position.averageCost.times(SHARES_PER_CONTRACT).times(added);
    premium = premium.plus(credit);
    cyclePremium = cyclePremium.plus(credit);
  }

  // A buy-to-close stays on record while it can still fill: the contract is held and the order pending.
  const closingStill = (symbol: string) =>
    legs.some((leg) => leg.symbol === symbol) &&
    snapshot.pendingOrders.some((order) => order.symbol === symbol && order.side === 'buy');
  const next: WheelState = {
    ...state,
    premiumCollected: premium.toFixed(),
    cyclePremium: cyclePremium.toFixed(),
    cycles,
    assignments,
    shares: shares.toFixed(),
    shorts: legs.map((leg) => ({
      symbol: leg.symbol,
      underlying: leg.contract.underlying,
      right: leg.contract.right,
      strike: leg.contract.strike.toFixed(),
      expiry: leg.contract.expiry,
      contracts: leg.contracts.abs().toNumber(),
    })),
    closing: Object.fromEntries(Object.entries(state.closing).filter(([symbol]) => closingStill(symbol))),
  };
  return { actions, state: unchanged(state, next) ? state : next };
}

function trackedContract(tracked: TrackedShort): OptionContract {
  return {
    underlying: tracked.underlying,
    expiry: tracked.expiry,
    right: tracked.right,
    strike: new Decimal(tracked.strike),
  };
}

function unchanged(before: WheelState, after: WheelState): boolean {
  return JSON.stringify(before) === JSON.stringify(after);
}

/** Roll an in-the-money short near expiry, take profit on a decayed one, or let it be. */
function manageShort(
  params: WheelParams,
  snapshot: StrategySnapshot,
  chain: OptionChain,
  leg: OptionLeg,
  plan: Plan,
): void {
  // A buy for this contract is already waiting: it is being closed.
  if (snapshot.pendingOrders.some((order) => order.symbol === leg.symbol && order.side === 'buy')) return;
  const contracts = leg.contracts.abs();
  const label = contractLabel(leg.contract);
  const found = findEntry(chain, leg.symbol);
  if (found === undefined) return;
  const closePrice = buyLimit(found.entry, params.pricing);
  const spot = midOf(snapshot.quote);
  const strike = leg.contract.strike;
  const inTheMoney = leg.contract.right === 'put' ? spot.lt(strike) : spot.gt(strike);

  if (params.rollWhenDaysLeft !== undefined && inTheMoney && leg.daysLeft <= params.rollWhenDaysLeft) {
    const target = findRoll(params, chain, leg, closePrice);
    if (target === undefined) {
      plan.tell(
        `roll:${leg.symbol}`,
        `${label} is in the money with ${leg.daysLeft} days left, but no later ${leg.contract.right} at the same or a safer strike pays a credit to roll; leaving it to ${leg.contract.right === 'put' ? 'assignment' : 'be called away'}.`,
      );
      return;
    }
    const closeTag = optionTag('wheel', 'roll-close', leg.contract);
    const openTag = optionTag('wheel', 'roll-open', target.entry.contract);
    if (isPending(snapshot, closeTag) || isPending(snapshot, openTag)) return;
    const credit = target.price.minus(closePrice);
    plan.order({
      kind: 'order',
      order: optionOrder({
        side: 'buy',
        contract: leg.contract,
        contracts,
        limitPrice: closePrice,
        positionEffect: 'close',
        tag: closeTag,
      }),
      reason: `Roll: buy back ${contracts.toFixed()} ${label} at ${formatUsd(closePrice)}: in the money (${params.symbol} at ${formatUsd(spot)}) with ${leg.daysLeft} days left.`,
    });
    plan.order({
      kind: 'order',
      order: optionOrder({
        side: 'sell',
        contract: target.entry.contract,
        contracts,
        limitPrice: target.price,
        positionEffect: 'open',
        tag: openTag,
      }),
      reason: `Roll: sell ${contracts.toFixed()} ${contractLabel(target.entry.contract)} at ${formatUsd(target.price)}, a net credit of ${formatUsd(credit)} a share.`,
    });
    return;
  }

  if (params.takeProfit !== undefined) {
    const premium = leg.position.averageCost;
    const decayed = premium.isZero() ? new Decimal(0) : premium.minus(closePrice).dividedBy(premium);
    if (premium.gt(0) && decayed.gte(params.takeProfit)) {
      const tag = optionTag('wheel', 'close', leg.contract);
      if (isPending(snapshot, tag)) return;
      plan.order({
        kind: 'order',
        order: optionOrder({
          side: 'buy',
          contract: leg.contract,
          contracts,
          limitPrice: closePrice,
          positionEffect: 'close',
          tag,
        }),
        reason: `Take profit: buy back ${contracts.toFixed()} ${label} at ${formatUsd(closePrice)}; ${percent(decayed)} of the ${formatUsd(premium)} premium has decayed (target ${percent(params.takeProfit)}).`,
      });
    }
  }
  // Otherwise let it run: out of the money it expires worthless, in the money it is assigned.
}

/**
 * The roll target: a later expiry (the DTE window first, nearest first) and the safest strike
 * (puts: lowest at or below the current one; calls: highest at or above) whose sale pays at
 * least the buy-back.
 */
function findRoll(
  params: WheelParams,
  chain: OptionChain,
  leg: OptionLeg,
  closePrice: Decimal,
): { readonly entry: OptionChainEntry; readonly price: Decimal } | undefined {
  const later = chain.expirations
    .filter((expiration) => expiration.expiry > leg.contract.expiry)
    .filter((expiration) => expiration.daysToExpiry <= params.maxDaysToExpiry)
    .sort((a, b) => a.expiry.localeCompare(b.expiry));
  const inWindow = (days: number) => days >= params.minDaysToExpiry;
  const ordered = [
    ...later.filter((e) => inWindow(e.daysToExpiry)),
    ...later.filter((e) => !inWindow(e.daysToExpiry)),
  ];
  const right = leg.contract.right;
  const strike = leg.contract.strike;
  for (const expiration of ordered) {
    const candidates = expiration.strikes
      .map((row) => entryOf(row, right))
      .filter((entry) =>
        right === 'put' ? entry.contract.strike.lte(strike) : entry.contract.strike.gte(strike),
      )
      .sort((a, b) =>
        right === 'put'
          ? a.contract.strike.comparedTo(b.contract.strike)
          : b.contract.strike.comparedTo(a.contract.strike),
      );
    for (const entry of candidates) {
      const price = sellLimit(entry, params.pricing);
      if (price.gt(0) && price.gte(closePrice)) return { entry, price };
    }
  }
  return undefined;
}

/** Short contracts open or on their way: held shorts plus pending sells of any option. */
function shortContractsInFlight(
  params: WheelParams,
  snapshot: StrategySnapshot,
  shorts: readonly OptionLeg[],
) {
  const held = shorts.reduce((sum, leg) => sum.plus(leg.contracts.abs()), new Decimal(0));
  const pendingPuts = pendingOptionOrders(snapshot, params.symbol, 'sell', 'put');
  const pendingCalls = pendingOptionOrders(snapshot, params.symbol, 'sell', 'call');
  return { total: held.plus(total(pendingPuts)).plus(total(pendingCalls)), pendingPuts, pendingCalls };
}

/** Covered calls on uncovered lots, at or above the shares' cost, nearest the target delta. */
function sellCalls(
  params: WheelParams,
  snapshot: StrategySnapshot,
  chain: OptionChain,
  costBasis: Decimal,
  lots: number,
  shorts: readonly OptionLeg[],
  plan: Plan,
  idle: boolean,
): void {
  const inFlight = shortContractsInFlight(params, snapshot, shorts);
  const calls = shorts.filter((leg) => leg.contract.right === 'call');
  const covered = total(calls.map((leg) => ({ quantity: leg.contracts.abs() }))).plus(
    total(inFlight.pendingCalls),
  );
  const count = Decimal.min(
    new Decimal(lots).minus(covered),
    new Decimal(params.maxContracts).minus(inFlight.total),
  );
  if (count.lte(0)) return;

  const expiration = expirationsBetween(chain, params.minDaysToExpiry, params.maxDaysToExpiry)[0];
  if (expiration === undefined) {
    if (idle) plan.tell('call:expiry', noExpiry(params));
    return;
  }
  const target = new Decimal(params.call.targetDelta);
  const candidates = expiration.strikes
    .map((row) => row.call)
    .filter((entry) => entry.contract.strike.gte(costBasis) && entry.bid.gt(0));
  const best = nearestDelta(candidates, target, 'higher');
  if (best === undefined) {
    if (idle)
      plan.tell(
        'call:basis',
        `No ${params.symbol} call at or above your ${formatUsd(costBasis)} cost basis pays a premium between ${params.minDaysToExpiry} and ${params.maxDaysToExpiry} days; holding the shares until one does.`,
      );
    return;
  }
  plan.sellToOpen(
    best,
    count,
    params,
    snapshot,
    (price) =>
      `Wheel: sell ${count.toFixed()} covered ${contractLabel(best.contract)} at ${formatUsd(price)} (delta ${best.delta.toFixed(2)}, ${expiration.daysToExpiry} days), at or above your ${formatUsd(costBasis)} cost basis.`,
  );
}

/** Cash-secured puts, as many as the contract limit and buying power allow. */
function sellPuts(
  params: WheelParams,
  snapshot: StrategySnapshot,
  chain: OptionChain,
  shorts: readonly OptionLeg[],
  plan: Plan,
  idle: boolean,
): void {
  const inFlight = shortContractsInFlight(params, snapshot, shorts);
  const room = new Decimal(params.maxContracts).minus(inFlight.total);
  if (room.lte(0)) return;

  const expiration = expirationsBetween(chain, params.minDaysToExpiry, params.maxDaysToExpiry)[0];
  if (expiration === undefined) {
    if (idle) plan.tell('put:expiry', noExpiry(params));
    return;
  }
  const spot = midOf(snapshot.quote);
  const puts = expiration.strikes.map((row) => row.put).filter((entry) => entry.bid.gt(0));
  let best: OptionChainEntry | undefined;
  let why: string;
  if ('targetDelta' in params.put) {
    best = nearestDelta(puts, new Decimal(params.put.targetDelta), 'lower');
    why = `delta ${best?.delta.toFixed(2) ?? '?'}`;
  } else {
    const ceiling = spot.times(new Decimal(1).minus(params.put.otmPercent));
    best = puts
      .filter((entry) => entry.contract.strike.lte(ceiling))
      .sort((a, b) => b.contract.strike.comparedTo(a.contract.strike))[0];
    why = `${formatDecimal(params.put.otmPercent * 100, 2)}% or more below ${formatUsd(spot)}`;
  }
  if (best === undefined) {
    if (idle)
      plan.tell(
        'put:strike',
        `No ${params.symbol} put in the ${expiryLabel(expiration.expiry)} expiry fits the rule with a premium; the wheel waits.`,
      );
    return;
  }

  // Puts on their way need their collateral too, unless the buying power has it out already.
  const unreserved = inFlight.pendingPuts
    .filter((pending) => stillNeedsCash(pending, snapshot.account))
    .reduce(
      (sum, pending) => sum.plus(pending.contract.strike.times(SHARES_PER_CONTRACT).times(pending.quantity)),
      new Decimal(0),
    );
  const collateral = best.contract.strike.times(SHARES_PER_CONTRACT);
  const affordable = Decimal.max(0, snapshot.account.buyingPower.minus(unreserved)).dividedToIntegerBy(
    collateral,
  );
  const count = Decimal.min(room, affordable);
  if (count.lte(0)) {
    if (idle)
      plan.tell(
        'put:buying-power',
        `Buying power of ${formatUsd(snapshot.account.buyingPower)} does not secure one ${contractLabel(best.contract)} (${formatUsd(collateral)}); the wheel waits.`,
      );
    return;
  }
  plan.sellToOpen(
    best,
    count,
    params,
    snapshot,
    (price) =>
      `Wheel: sell ${count.toFixed()} cash-secured ${contractLabel(best.contract)} at ${formatUsd(price)} (${why}, ${expiration.daysToExpiry} days), secured by ${formatUsd(collateral.times(count))}.`,
  );
}

/** The entry whose |delta| is nearest the target; ties go to the safer strike. */
function nearestDelta(
  entries: readonly OptionChainEntry[],
  target: Decimal,
  tieToward: 'lower' | 'higher',
): OptionChainEntry | undefined {
  let best: OptionChainEntry | undefined;
  let bestDistance: Decimal | undefined;
  for (const entry of entries) {
    const distance = entry.delta.abs().minus(target).abs();
    const closer = bestDistance === undefined || distance.lt(bestDistance);
    const tie =
      bestDistance !== undefined &&
      distance.eq(bestDistance) &&
      best !== undefined &&
      (tieToward === 'lower'
        ? entry.contract.strike.lt(best.contract.strike)
        : entry.contract.strike.gt(best.contract.strike));
    if (closer || tie) {
      best = entry;
      bestDistance = distance;
    }
  }
  return best;
}

function noExpiry(params: WheelParams): string {
  return `No ${params.symbol} expiration between ${params.minDaysToExpiry} and ${params.maxDaysToExpiry} days is listed; the wheel waits.`;
}

function percent(value: Decimal.Value): string {
  return `${formatDecimal(new Decimal(value).times(100), 0)}%`;
}
