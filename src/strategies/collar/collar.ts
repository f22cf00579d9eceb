/**
 * The collar: for shares already held, buy a protective put below the price and sell a covered
 * call above it, lot by lot, so the call's premium pays for some or all of the put. Both legs are
 * rolled a few days before expiry into a fresh pair, so the shares are never left unprotected by
 * an expiry nobody watched.
 *
 * Like the wheel, the legs are read from the account on every evaluation; the state only keeps the
 * last notice so "nothing to collar" is said once.
 */

import { z } from 'zod';
import { OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import { Decimal, formatDecimal, formatUsd } from '../../core/domain/values.js';
import { expiryLabel } from '../../core/intents/instrument-label.js';
import type { OptionChain, OptionChainEntry } from '../../core/market-data/providers/simulated-market.js';
import {
  buyLimit,
  contractLabel,
  findEntry,
  fractionSchema,
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
  sellLimit,
  sharesHeld,
  tickerSchema,
  total,
} from '../option-legs.js';
import type { Decision, StrategyAction, StrategyDefinition, StrategySnapshot } from '../strategy.js';

export const collarParamsSchema = z
  .object({
    symbol: tickerSchema,
    /** The protective put: the highest strike at or below this fraction of the price (0.90), or the strike nearest a delta. */
    put: z
      .union([z.strictObject({ percent: fractionSchema }), z.strictObject({ targetDelta: fractionSchema })])
      .default({ percent: 0.9 }),
    /** The covered call: the lowest strike at or above this multiple of the price (1.10). */
    call: z.strictObject({ percent: z.number().gt(1).max(3) }).default({ percent: 1.1 }),
    minDaysToExpiry: z.number().int().min(1).max(365).default(21),
    maxDaysToExpiry: z.number().int().min(1).max(365).default(60),
    /** Close both legs and open a new pair this many days before they expire. */
    rollDaysBeforeExpiry: z.number().int().min(0).max(30).default(5),
    /** Collar at most this many 100-share lots (absent: every lot held). */
    maxLots: z.number().int().min(1).max(1000).optional(),
    pricing: pricingSchema.default('mid'),
  })
  .refine((params) => params.minDaysToExpiry <= params.maxDaysToExpiry, {
    message: 'minDaysToExpiry must not be above maxDaysToExpiry',
    path: ['maxDaysToExpiry'],
  })
  .refine((params) => params.rollDaysBeforeExpiry < params.minDaysToExpiry, {
    message: 'rollDaysBeforeExpiry must be below minDaysToExpiry, or new legs would roll at once',
    path: ['rollDaysBeforeExpiry'],
  });

export type CollarParams = z.output<typeof collarParamsSchema>;

export const collarStateSchema = z.object({
  /** Key of the last "nothing to do" notice, so it is said once. */
  notice: z.string().optional(),
});

export type CollarState = z.output<typeof collarStateSchema>;

type OrderAction = Extract<StrategyAction, { kind: 'order' }>;

export const collar: StrategyDefinition<CollarParams, CollarState> = {
  kind: 'collar',
  title: 'the collar',
  paramsSchema: collarParamsSchema,
  stateSchema: collarStateSchema,
  needsOptionChain: true,
  coversShares: true,
  actsOnlyInSession: true,
  needsHistory: 0,
  initialState: () => collarStateSchema.parse({}),
  decide: decideCollar,
  describe(params) {
    const put =
      'percent' in params.put
        ? `puts ${percentOff(params.put.percent)}% below`
        : `puts at ${params.put.targetDelta.toFixed(2)} delta`;
    const lots = params.maxLots === undefined ? 'every lot' : `up to ${params.maxLots} lots`;
    return `${params.symbol} collar on ${lots}: ${put}, calls ${percentOff(params.call.percent)}% above, ${params.minDaysToExpiry}-${params.maxDaysToExpiry} days, rolled ${params.rollDaysBeforeExpiry} days before expiry`;
  },
};

function decideCollar(
  params: CollarParams,
  state: CollarState,
  snapshot: StrategySnapshot,
): Decision<CollarState> {
  if (!snapshot.session.open) return { actions: [], state };
  const held = lotsOf(sharesHeld(snapshot, params.symbol).quantity);
  const lots = Math.min(held, params.maxLots ?? held);
  if (lots === 0)
    return noticeOnce(
      state,
      'no-shares',
      `No ${params.symbol} lot to collar: a collar needs at least 100 shares. It starts once you hold them.`,
    );
  const chain = snapshot.optionChain;
  if (chain === undefined)
    return noticeOnce(state, 'no-chain', `No option chain for ${params.symbol}; the collar waits.`);

  const legs = optionLegs(snapshot, params.symbol);
  const puts = legs.filter((leg) => leg.contract.right === 'put' && leg.contracts.isPositive());
  const calls = legs.filter((leg) => leg.contract.right === 'call' && leg.contracts.isNegative());
  const rolling = (leg: OptionLeg) => leg.daysLeft <= params.rollDaysBeforeExpiry;
  const orders: OrderAction[] = [];
  let notice: { key: string; text: string } | undefined;
  const tell = (key: string, text: string) => {
    notice ??= { key, text };
  };

  // Lots already protected or covered by legs that stay, or by orders on their way.
  const keptPuts = puts.filter((leg) => !rolling(leg));
  const keptCalls = calls.filter((leg) => !rolling(leg));
  const protectedLots = total(keptPuts.map(contractsOf)).plus(
    total(pendingOptionOrders(snapshot, params.symbol, 'buy', 'put')),
  );
  const coveredLots = total(keptCalls.map(contractsOf)).plus(
    total(pendingOptionOrders(snapshot, params.symbol, 'sell', 'call')),
  );
  const needPuts = new Decimal(lots).minus(protectedLots);
  const needCalls = new Decimal(lots).minus(coveredLots);
  if (needCalls.isNegative())
    tell(
      'over-covered',
      `${coveredLots.toFixed()} ${params.symbol} calls are short but only ${lots} lot${lots === 1 ? ' is' : 's are'} collared; buy some back so none is naked.`,
    );

  const opened =
    needPuts.gt(0) || needCalls.gt(0)
      ? openLegs(params, snapshot, chain, [...keptPuts, ...keptCalls], needPuts, needCalls)
      : { orders: [] };
  if ('notice' in opened) {
    // No replacement: an expiring put still protects more than none, so nothing is closed either.
    tell(opened.notice.key, opened.notice.text);
  } else {
    for (const leg of [...puts, ...calls].filter(rolling)) {
      const order = closeLeg(params, snapshot, chain, leg);
      if (order === 'unpriced')
        tell(
          `no-quote:${leg.symbol}`,
          `${contractLabel(leg.contract)} is due to roll but the chain has no price for it.`,
        );
      else if (order !== undefined) orders.push(order);
    }
    orders.push(...opened.orders);
  }

  if (orders.length > 0) return { actions: orders, state: { ...state, notice: undefined } };
  if (notice === undefined) return { actions: [], state };
  return noticeOnce(state, notice.key, notice.text);
}

function contractsOf(leg: OptionLeg): { readonly quantity: Decimal } {
  return { quantity: leg.contracts.abs() };
}

/** Sell the expiring put back, buy the expiring call back. */
function closeLeg(
  params: CollarParams,
  snapshot: StrategySnapshot,
  chain: OptionChain,
  leg: OptionLeg,
): OrderAction | 'unpriced' | undefined {
  // An order for this contract is already waiting: it is being closed.
  if (snapshot.pendingOrders.some((order) => order.symbol === leg.symbol)) return undefined;
  const tag = optionTag('collar', 'roll-close', leg.contract);
  if (isPending(snapshot, tag)) return undefined;
  const found = findEntry(chain, leg.symbol);
  if (found === undefined) return 'unpriced';
  const isPut = leg.contract.right === 'put';
  const price = isPut ? sellLimit(found.entry, params.pricing) : buyLimit(found.entry, params.pricing);
  const contracts = leg.contracts.abs();
  return {
    kind: 'order',
    order: optionOrder({
      side: isPut ? 'sell' : 'buy',
      contract: leg.contract,
      contracts,
      limitPrice: price,
      positionEffect: 'close',
      tag,
    }),
    reason: `Collar roll: ${isPut ? 'sell' : 'buy'} back ${contracts.toFixed()} ${contractLabel(leg.contract)} at ${formatUsd(price)}; it expires in ${leg.daysLeft} days.`,
  };
}

/**
 * New legs for unprotected and uncovered lots, in the expiry of a leg that stays (so the pair
 * rolls together) or else the nearest in the window.
 */
function openLegs(
  params: CollarParams,
  snapshot: StrategySnapshot,
  chain: OptionChain,
  kept: readonly OptionLeg[],
  needPuts: Decimal,
  needCalls: Decimal,
): { readonly orders: OrderAction[] } | { readonly notice: { key: string; text: string } } {
  const usable = chain.expirations
    .filter((expiration) => expiration.daysToExpiry > params.rollDaysBeforeExpiry)
    .sort((a, b) => a.expiry.localeCompare(b.expiry));
  const partner = usable.find((expiration) => kept.some((leg) => leg.contract.expiry === expiration.expiry));
  const expiration =
    partner ??
    usable.find(
      (candidate) =>
        candidate.daysToExpiry >= params.minDaysToExpiry && candidate.daysToExpiry <= params.maxDaysToExpiry,
    );
  if (expiration === undefined)
    return {
      notice: {
        key: 'no-expiry',
        text: `No ${params.symbol} expiration between ${params.minDaysToExpiry} and ${params.maxDaysToExpiry} days is listed; the collar waits.`,
      },
    };

  const spot = midOf(snapshot.quote);
  const orders: OrderAction[] = [];
  if (needPuts.gt(0)) {
    const putRule = params.put;
    const putEntries = expiration.strikes.map((row) => row.put);
    const put =
      'percent' in putRule
        ? putEntries
            .filter((entry) => entry.contract.strike.lte(spot.times(putRule.percent)))
            .sort((a, b) => b.contract.strike.comparedTo(a.contract.strike))[0]
        : nearestDelta(putEntries, new Decimal(putRule.targetDelta));
    if (put === undefined)
      return {
        notice: {
          key: 'no-put',
          text: `No ${params.symbol} put in the ${expiryLabel(expiration.expiry)} expiry matches the collar's rule; the collar waits.`,
        },
      };
    const tag = optionTag('collar', 'open', put.contract);
    if (!isPending(snapshot, tag)) {
      const price = buyLimit(put, params.pricing);
      orders.push({
        kind: 'order',
        order: optionOrder({
          side: 'buy',
          contract: put.contract,
          contracts: needPuts,
          limitPrice: price,
          positionEffect: 'open',
          tag,
        }),
        reason: `Collar: buy ${needPuts.toFixed()} protective ${contractLabel(put.contract)} at ${formatUsd(price)}, a floor ${percentOff(put.contract.strike.dividedBy(spot).toNumber())}% below ${formatUsd(spot)} for ${needPuts.times(OPTION_CONTRACT_MULTIPLIER).toFixed()} shares.`,
      });
    }
  }
  if (needCalls.gt(0)) {
    const floor = spot.times(params.call.percent);
    const call = expiration.strikes
      .map((row) => row.call)
      .filter((entry) => entry.contract.strike.gte(floor) && entry.bid.gt(0))
      .sort((a, b) => a.contract.strike.comparedTo(b.contract.strike))[0];
    if (call === undefined)
      return {
        notice: {
          key: 'no-call',
          text: `No ${params.symbol} call at or above ${formatUsd(floor)} pays a premium in the ${expiryLabel(expiration.expiry)} expiry; the collar waits.`,
        },
      };
    const tag = optionTag('collar', 'open', call.contract);
    if (!isPending(snapshot, tag)) {
      const price = sellLimit(call, params.pricing);
      orders.push({
        kind: 'order',
        order: optionOrder({
          side: 'sell',
          contract: call.contract,
          contracts: needCalls,
          limitPrice: price,
          positionEffect: 'open',
          tag,
        }),
        reason: `Collar: sell ${needCalls.toFixed()} covered ${contractLabel(call.contract)} at ${formatUsd(price)}, capping gains ${percentOff(call.contract.strike.dividedBy(spot).toNumber())}% above ${formatUsd(spot)}.`,
      });
    }
  }
  return { orders };
}

/** The put whose |delta| is nearest the target; ties go to the lower strike. */
function nearestDelta(entries: readonly OptionChainEntry[], target: Decimal): OptionChainEntry | undefined {
  return [...entries].sort((a, b) => {
    const distance = a.delta.abs().minus(target).abs().comparedTo(b.delta.abs().minus(target).abs());
    return distance !== 0 ? distance : a.contract.strike.comparedTo(b.contract.strike);
  })[0];
}

/** 0.9 -> "10", 1.1 -> "10". */
function percentOff(ratio: number): string {
  return formatDecimal(new Decimal(ratio).minus(1).abs().times(100), 1);
}
