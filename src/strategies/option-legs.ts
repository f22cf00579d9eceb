/**
 * What the option strategies (the wheel, the collar) share: reading their legs out of a snapshot,
 * picking contracts from a chain, pricing limits, and telling the user something only once.
 * Everything here is pure, like the decisions that use it.
 */
import { z } from 'zod';
import { OPTION_CONTRACT_MULTIPLIER } from '../core/domain/contract-multiplier.js';
import { Decimal, type OptionRight, type OrderSide } from '../core/domain/values.js';
import { contractLabel as coreContractLabel } from '../core/intents/instrument-label.js';
import type { OptionContract, Quote } from '../core/market-data/market-data.js';
import { occSymbol, parseOccSymbol } from '../core/market-data/providers/options.js';
import type {
  OptionChain,
  OptionChainEntry,
  OptionChainExpiration,
} from '../core/market-data/providers/simulated-market.js';
import { newYorkInstant, newYorkTime } from '../core/market-data/providers/us-market-calendar.js';
import type {
  HeldPosition,
  PendingStage,
  ProposedOrder,
  StrategyAction,
  StrategySnapshot,
} from './strategy.js';

/** Shares per equity option contract: `OPTION_CONTRACT_MULTIPLIER` under the name the strategies use. */
export const SHARES_PER_CONTRACT = OPTION_CONTRACT_MULTIPLIER;

export const tickerSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z][A-Z0-9.]{0,9}$/, 'must be a stock ticker like SOFI');

/**
 * How limits are priced: `mid` asks for the midpoint (better prices, may not fill), `natural`
 * crosses the spread (sells at the bid, buys at the ask: fills, at the spread's cost).
 */
/** A share strictly between 0 and 1: a delta, a percent out of the money, a decayed premium. */
export const fractionSchema = z.number().gt(0).lt(1);

export const pricingSchema = z.enum(['mid', 'natural']);
export type Pricing = z.infer<typeof pricingSchema>;

/** A signed decimal kept as a string so the state survives JSON ("12.5", "-3"). */
export const decimalText = z.string().regex(/^-?\d+(?:\.\d+)?$/, 'must be a decimal number like 12.5');

/** An option holding of the strategy's underlying, with its contract read from the position. */
export interface OptionLeg {
  readonly position: HeldPosition;
  readonly contract: OptionContract;
  /** OCC symbol, as the chain spells it. */
  readonly symbol: string;
  /** Signed: negative for contracts sold to open. */
  readonly contracts: Decimal;
  /** Calendar days from the evaluation's New York date to expiry. */
  readonly daysLeft: number;
}

/** OCC roots drop punctuation ("BRK.B" -> "BRKB"), so underlyings are compared that way. */
function root(symbol: string): string {
  return symbol.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** Option holdings on `underlying` (any sign), in the order the account listed them. */
export function optionLegs(snapshot: StrategySnapshot, underlying: string): OptionLeg[] {
  const legs: OptionLeg[] = [];
  for (const position of snapshot.positions) {
    if (position.assetClass !== 'option' || position.quantity.isZero()) continue;
    const contract = position.option ?? parseOccSymbol(position.symbol);
    if (contract === undefined || root(contract.underlying) !== root(underlying)) continue;
    legs.push({
      position,
      contract,
      symbol: occSymbol(contract),
      contracts: position.quantity,
      daysLeft: daysUntil(contract.expiry, snapshot.at),
    });
  }
  return legs;
}

/** Shares of `symbol` held (zero when none), with their average cost. */
export function sharesHeld(
  snapshot: StrategySnapshot,
  symbol: string,
): { readonly quantity: Decimal; readonly averageCost: Decimal } {
  let quantity = new Decimal(0);
  let cost = new Decimal(0);
  for (const position of snapshot.positions) {
    if (position.assetClass !== 'equity' || position.symbol.toUpperCase() !== symbol.toUpperCase()) continue;
    quantity = quantity.plus(position.quantity);
    cost = cost.plus(position.quantity.times(position.averageCost));
  }
  return { quantity, averageCost: quantity.isZero() ? new Decimal(0) : cost.dividedBy(quantity) };
}

/** Whole 100-share lots in a share count (never negative). */
export function lotsOf(shares: Decimal): number {
  return Math.max(0, shares.dividedToIntegerBy(SHARES_PER_CONTRACT).toNumber());
}

/** Calendar days from the New York date of `at` to a YYYY-MM-DD expiry (negative once past). */
export function daysUntil(expiry: string, at: Date): number {
  const today = newYorkTime(at).date;
  return Math.round((Date.parse(`${expiry}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
}

/** True from 16:00 New York on the expiry date: the contract has expired (or been assigned). */
export function hasExpired(expiry: string, at: Date): boolean {
  return at.getTime() >= newYorkInstant(expiry, 16, 0).getTime();
}

/** Midpoint of a quote or chain entry (not rounded). */
export function midOf(prices: Pick<Quote, 'bid' | 'ask'>): Decimal {
  return prices.bid.plus(prices.ask).dividedBy(2);
}

/** Limit to sell at: the mid to the cent (never below the bid), or the bid. */
export function sellLimit(entry: Pick<Quote, 'bid' | 'ask'>, pricing: Pricing): Decimal {
  if (pricing === 'natural') return entry.bid;
  return Decimal.max(entry.bid, midOf(entry).toDecimalPlaces(2, Decimal.ROUND_HALF_UP));
}

/** Limit to buy at: the mid to the cent (never above the ask), or the ask. */
export function buyLimit(entry: Pick<Quote, 'bid' | 'ask'>, pricing: Pricing): Decimal {
  if (pricing === 'natural') return entry.ask;
  return Decimal.min(entry.ask, midOf(entry).toDecimalPlaces(2, Decimal.ROUND_HALF_UP));
}

/** One side of a chain row. */
export function entryOf(row: OptionChainExpiration['strikes'][number], right: OptionRight): OptionChainEntry {
  return right === 'put' ? row.put : row.call;
}

/** The chain's entry for an OCC symbol, if the chain lists it. */
export function findEntry(
  chain: OptionChain,
  symbol: string,
): { readonly expiration: OptionChainExpiration; readonly entry: OptionChainEntry } | undefined {
  for (const expiration of chain.expirations) {
    for (const row of expiration.strikes) {
      if (row.put.symbol === symbol) return { expiration, entry: row.put };
      if (row.call.symbol === symbol) return { expiration, entry: row.call };
    }
  }
  return undefined;
}

/** Expirations with `min <= daysToExpiry <= max`, nearest first. */
export function expirationsBetween(chain: OptionChain, min: number, max: number): OptionChainExpiration[] {
  return chain.expirations
    .filter((expiration) => expiration.daysToExpiry >= min && expiration.daysToExpiry <= max)
    .sort((a, b) => a.expiry.localeCompare(b.expiry));
}

/** Whether an order with this tag is waiting (a card, or working at the broker). */
export function isPending(snapshot: StrategySnapshot, tag: string): boolean {
  return snapshot.pendingOrders.some((order) => order.tag === tag);
}

/** A pending option order with its contract read from the OCC symbol. */
export interface PendingOptionOrder {
  readonly contract: OptionContract;
  readonly symbol: string;
  /** Contracts still to fill. */
  readonly quantity: Decimal;
  readonly stage: PendingStage;
}

/** Pending option orders on `underlying` with this side and right, with their contracts. */
export function pendingOptionOrders(
  snapshot: StrategySnapshot,
  underlying: string,
  side: OrderSide,
  right: OptionRight,
): PendingOptionOrder[] {
  const found: PendingOptionOrder[] = [];
  for (const order of snapshot.pendingOrders) {
    if (order.side !== side) continue;
    const contract = parseOccSymbol(order.symbol);
    if (contract === undefined || contract.right !== right || root(contract.underlying) !== root(underlying))
      continue;
    found.push({ contract, symbol: occSymbol(contract), quantity: order.quantity, stage: order.stage });
  }
  return found;
}

/** Sum of quantities. */
export function total(items: readonly { readonly quantity: Decimal }[]): Decimal {
  return items.reduce((sum, item) => sum.plus(item.quantity), new Decimal(0));
}

export type LegStep = 'open' | 'close' | 'roll-close' | 'roll-open';

/** A tag that names the situation, stable across evaluations: "wheel:put:open:2026-04-17:20". */
export function optionTag(strategy: string, step: LegStep, contract: OptionContract): string {
  return `${strategy}:${contract.right}:${step}:${contract.expiry}:${contract.strike.toFixed()}`;
}

/** "SOFI 17 Apr 2026 $20 put": the core's words for a contract (instrument-label.ts). */
export function contractLabel(contract: OptionContract): string {
  return coreContractLabel(contract);
}

/** A day limit order on one option contract. */
export function optionOrder(input: {
  readonly side: OrderSide;
  readonly contract: OptionContract;
  readonly contracts: Decimal.Value;
  readonly limitPrice: Decimal;
  readonly positionEffect: 'open' | 'close';
  readonly tag: string;
}): ProposedOrder {
  return {
    side: input.side,
    assetClass: 'option',
    symbol: occSymbol(input.contract),
    option: input.contract,
    quantity: new Decimal(input.contracts),
    orderType: 'limit',
    limitPrice: input.limitPrice,
    timeInForce: 'day',
    positionEffect: input.positionEffect,
    tag: input.tag,
  };
}

/**
 * Tells the user something once per situation: the key of the last notice sits in the state, so
 * the same "nothing fits" is not repeated on every evaluation; a different key is news again.
 */
export function noticeOnce<State extends { readonly notice?: string | undefined }>(
  state: State,
  key: string,
  text: string,
): { readonly actions: StrategyAction[]; readonly state: State } {
  if (state.notice === key) return { actions: [], state };
  return { actions: [{ kind: 'notify', text }], state: { ...state, notice: key } };
}
