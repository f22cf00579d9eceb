/**
 * The paper ledger's arithmetic and its one write.
 *
 * `planFill` decides, from a locked account row, an order and a quote, what happens: rest, reject or
 * fill, and what cash, position and P&L become. It is pure, so every rule is testable with values.
 * Positions are signed: options may be sold to open, when covered (option-cover.ts), and are then
 * held as negative contracts; stocks and coins are never sold short. Cash that short puts and the
 * other working orders set aside (reservations.ts) is not spent, and a new order rests only if the
 * account covers it.
 * `writePlan` applies a plan in one SQL statement (order, fill, position and account together), so
 * a placement costs a lock, one write and the commit.
 */
import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../../core/db/database.js';
import type {
  AssetClass,
  OrderSide,
  OrderStatus,
  OrderType,
  TimeInForce,
} from '../../core/db/generated/enums.js';
import { contractMultiplier } from '../../core/domain/contract-multiplier.js';
import { Decimal } from '../../core/domain/values.js';
import type { OptionContract, Quote } from '../../core/market-data/market-data.js';
import { decideFill, quantityPrecision } from './fill-model.js';
import {
  lockedShares,
  optionSaleRefusal,
  reservedCash,
  type ShortOption,
  shareSaleRefusal,
} from './option-cover.js';
import { buyReservation, type WorkingOrder } from './reservations.js';

/** Orders still working: they may fill, be cancelled or expire. */
export const OPEN_STATUSES: readonly OrderStatus[] = ['pending', 'accepted', 'partially_filled'];

/** The account row as read for a decision (under its lock, or with its version for an optimistic write). */
export interface LockedAccount {
  readonly id: string;
  /** The row's version when read; an optimistic write succeeds only if it is unchanged. */
  readonly version: number;
  readonly cash: Decimal;
  readonly dayRealizedPnl: Decimal;
  readonly dayRealizedPnlDate: string | null;
  /** The position in the order's symbol (negative contracts when short an option). */
  readonly position: HeldPosition | undefined;
  /** For an option order, the position in its underlying's shares. */
  readonly underlyingPosition: HeldPosition | undefined;
  /** Every short option in the account: the cash and shares they tie up. */
  readonly shortOptions: readonly ShortOption[];
  /** Every working order in the account: the cash they hold (reservations.ts). */
  readonly workingOrders: readonly WorkingOrder[];
}

export interface HeldPosition {
  readonly quantity: Decimal;
  readonly averageCost: Decimal;
}

/** What the ledger knows about an order when deciding on it. */
export interface LedgerOrder {
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  readonly symbol: string;
  /** The contract of an option order. */
  readonly option: OptionContract | undefined;
  readonly orderType: OrderType;
  readonly quantity: Decimal | undefined;
  readonly notional: Decimal | undefined;
  readonly limitPrice: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  readonly filledQuantity: Decimal;
  readonly averageFillPrice: Decimal | undefined;
  readonly triggeredAt: Date | null;
}

/** A position after a fill: written as given (inserted when new), or removed when flat. */
export type PositionChange =
  | {
      readonly kind: 'set';
      readonly quantity: Decimal;
      readonly averageCost: Decimal;
      /** Added to the position's realized P&L. */
      readonly realized: Decimal;
    }
  | { readonly kind: 'close'; readonly realized: Decimal };

export interface FillPlan {
  readonly status: OrderStatus;
  readonly triggeredAt: Date | null;
  readonly rejectReason: string | undefined;
  readonly fill:
    | {
        readonly id: string;
        readonly quantity: Decimal;
        readonly price: Decimal;
        readonly realized: Decimal;
        readonly filledQuantity: Decimal;
        readonly averageFillPrice: Decimal;
      }
    | undefined;
  readonly position: PositionChange | undefined;
  readonly cash: Decimal;
  readonly dayRealizedPnl: Decimal;
  readonly dayRealizedPnlDate: string | null;
}

/** A position after a trade, and the P&L the trade realized. */
export interface TradeResult {
  /** Signed: negative is short. */
  readonly quantity: Decimal;
  readonly averageCost: Decimal;
  readonly realized: Decimal;
}

/**
 * Applies a signed trade (buys positive, sells negative) to a signed position. Adding to a position
 * blends the average cost; reducing it realizes (price - cost) per unit for a long and (cost - price)
 * for a short; a trade through zero closes the old side and opens the rest at the trade's price.
 */
export function applyTrade(
  held: Decimal,
  averageCost: Decimal,
  trade: Decimal,
  price: Decimal,
  multiplier: number,
): TradeResult {
  const quantity = held.add(trade);
  if (held.isZero() || held.isNegative() === trade.isNegative()) {
    return {
      quantity,
      averageCost: held.abs().mul(averageCost).add(trade.abs().mul(price)).div(quantity.abs()),
      realized: new Decimal(0),
    };
  }
  const closed = Decimal.min(held.abs(), trade.abs());
  const perUnit = held.isNegative() ? averageCost.sub(price) : price.sub(averageCost);
  const flipped = !quantity.isZero() && quantity.isNegative() !== held.isNegative();
  return {
    quantity,
    averageCost: flipped ? price : averageCost,
    realized: perUnit.mul(closed).mul(multiplier),
  };
}

/** The position change a trade result means: flat positions are removed. */
export function positionChangeOf(result: TradeResult): PositionChange {
  return result.quantity.isZero()
    ? { kind: 'close', realized: result.realized }
    : { kind: 'set', quantity: result.quantity, averageCost: result.averageCost, realized: result.realized };
}

/** What a plan needs besides the order, the quote and the account. */
export interface PlanOptions {
  readonly marketOpen: boolean;
  readonly slippageBps: number;
  readonly now: Date;
  readonly today: string;
  /** Cash the account's other working orders hold (reservations.ts): not there to spend. */
  readonly reservedForOrders: Decimal;
  /**
   * True for a new order: one that rests is accepted only if the account covers it now (its
   * reservation for a buy, the sale's cover for a sale), so working orders never promise more
   * than the account has. False for a resting order the background pass looks at again.
   */
  readonly placing: boolean;
}

/** Decides what an order does on this quote, against this locked account. */
export function planFill(
  order: LedgerOrder,
  quote: Quote,
  account: LockedAccount,
  options: PlanOptions,
): FillPlan {
  const unchanged = {
    cash: account.cash,
    dayRealizedPnl: account.dayRealizedPnl,
    dayRealizedPnlDate: account.dayRealizedPnlDate,
    fill: undefined,
    position: undefined,
    rejectReason: undefined,
  };
  const reject = (reason: string, triggeredAt: Date | null): FillPlan => ({
    ...unchanged,
    status: 'rejected',
    triggeredAt,
    rejectReason: reason,
  });
  const rest = (triggeredAt: Date | null): FillPlan => {
    const refusal = options.placing ? restingRefusal(order, quote, account, options) : undefined;
    return refusal === undefined
      ? { ...unchanged, status: 'accepted', triggeredAt }
      : reject(refusal, triggeredAt);
  };
  if (!options.marketOpen) return rest(order.triggeredAt);
  const decision = decideFill(
    {
      side: order.side,
      orderType: order.orderType,
      limitPrice: order.limitPrice,
      stopPrice: order.stopPrice,
      triggered: order.triggeredAt !== null,
    },
    quote,
    options.slippageBps,
  );
  const triggeredAt = decision.triggered && order.triggeredAt === null ? options.now : order.triggeredAt;
  if (decision.action === 'rest') return rest(triggeredAt);

  const multiplier = contractMultiplier(order.assetClass);
  const price = decision.price;
  const quantity =
    order.quantity !== undefined
      ? order.quantity.sub(order.filledQuantity)
      : (order.notional ?? new Decimal(0))
          .div(price.mul(multiplier))
          .toDecimalPlaces(quantityPrecision(order.assetClass), Decimal.ROUND_DOWN);
  if (quantity.lessThanOrEqualTo(0))
    return reject('the amount is too small to buy one unit at this price', triggeredAt);

  const gross = quantity.mul(price).mul(multiplier);
  const refusal = coverRefusal(order, quantity, gross, account, options.reservedForOrders);
  if (refusal !== undefined) return reject(refusal, triggeredAt);

  const held = account.position?.quantity ?? new Decimal(0);
  const trade = applyTrade(
    held,
    account.position?.averageCost ?? new Decimal(0),
    order.side === 'buy' ? quantity : quantity.negated(),
    price,
    multiplier,
  );
  const dayBase = account.dayRealizedPnlDate === options.today ? account.dayRealizedPnl : new Decimal(0);
  const filledQuantity = order.filledQuantity.add(quantity);
  const averageFillPrice = (order.averageFillPrice ?? new Decimal(0))
    .mul(order.filledQuantity)
    .add(price.mul(quantity))
    .div(filledQuantity);
  return {
    status: 'filled',
    triggeredAt,
    rejectReason: undefined,
    fill: { id: randomUUID(), quantity, price, realized: trade.realized, filledQuantity, averageFillPrice },
    position: positionChangeOf(trade),
    // Sales, premiums received for options sold to open included, add to cash.
    cash: order.side === 'buy' ? account.cash.sub(gross) : account.cash.add(gross),
    dayRealizedPnl: dayBase.add(trade.realized),
    dayRealizedPnlDate: options.today,
  };
}

/**
 * Why a new order may not rest, or undefined when the account covers it: a buy needs buying power
 * for what it will hold while it works (its reservation), a sale the cover it would need to fill.
 */
function restingRefusal(
  order: LedgerOrder,
  quote: Quote,
  account: LockedAccount,
  options: PlanOptions,
): string | undefined {
  if (order.side === 'buy') {
    const held = buyReservation(order, quote.ask, options.slippageBps);
    return coverRefusal(order, order.quantity ?? new Decimal(0), held, account, options.reservedForOrders);
  }
  // A dollar-amount sale's size is known only at its price; it is checked when it fills.
  if (order.quantity === undefined) return undefined;
  const quantity = order.quantity.sub(order.filledQuantity);
  return coverRefusal(order, quantity, new Decimal(0), account, options.reservedForOrders);
}

/**
 * Why the account cannot cover `order` trading `quantity` for `gross`, or undefined when it can.
 * Buying power is cash less what short puts and the other working orders set aside; a sale may
 * not go short in a stock or coin, nor open an uncovered option.
 */
function coverRefusal(
  order: LedgerOrder,
  quantity: Decimal,
  gross: Decimal,
  account: LockedAccount,
  reservedForOrders: Decimal,
): string | undefined {
  const held = account.position?.quantity ?? new Decimal(0);
  // Cash short puts and working orders set aside is not there to spend.
  const buyingPower = account.cash.sub(reservedCash(account.shortOptions)).sub(reservedForOrders);
  if (order.side === 'buy') {
    // Buying back short puts frees what they had set aside, in time to pay for themselves.
    const released =
      order.option?.right === 'put' && held.isNegative()
        ? order.option.strike.mul(contractMultiplier(order.assetClass)).mul(Decimal.min(quantity, held.abs()))
        : new Decimal(0);
    const available = buyingPower.add(released);
    if (!gross.greaterThan(available)) return undefined;
    const working = reservedForOrders.isZero()
      ? ''
      : ` (${reservedForOrders.toDecimalPlaces(2).toFixed()} USD is held by working orders)`;
    return `insufficient buying power: needs ${gross.toDecimalPlaces(2).toFixed()} USD, has ${Decimal.max(available, 0).toDecimalPlaces(2).toFixed()}${working}`;
  }
  if (order.assetClass === 'option') {
    return optionSaleRefusal(order.symbol, order.option, quantity, {
      held,
      buyingPower,
      underlyingShares: account.underlyingPosition?.quantity ?? new Decimal(0),
      shorts: account.shortOptions,
    });
  }
  return shareSaleRefusal(
    order.symbol,
    quantity,
    held,
    order.assetClass === 'equity' ? lockedShares(account.shortOptions, order.symbol) : new Decimal(0),
  );
}

/** A new order's fields, for the insert. */
export interface NewPaperOrder {
  readonly id: string;
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  readonly symbol: string;
  readonly quantity?: Decimal;
  readonly notional?: Decimal;
  readonly orderType: OrderType;
  readonly limitPrice?: Decimal;
  readonly stopPrice?: Decimal;
  readonly timeInForce: TimeInForce;
  readonly option?: OptionContract;
}

const num = (value: Decimal | undefined) => (value === undefined ? null : value.toFixed());

/**
 * Writes a plan in one statement: the account (version bumped, and cash and P&L on a fill), the
 * order (inserted when new, else updated), the fill and the position. Every part hangs off the
 * account update, so with `expectedVersion` the whole write happens only if nobody wrote the
 * account since it was read (returns false otherwise, and nothing is written). Without it, the
 * caller must hold the account lock.
 */
export async function writePlan(
  db: Prisma.TransactionClient | PrismaClient,
  target:
    | { readonly kind: 'new'; readonly order: NewPaperOrder }
    | { readonly kind: 'existing'; readonly id: string },
  plan: FillPlan,
  context: {
    readonly accountId: string;
    readonly symbol: string;
    readonly assetClass: AssetClass;
    readonly now: Date;
    readonly expectedVersion?: number;
  },
): Promise<boolean> {
  const { accountId, symbol, now } = context;
  const fill = plan.fill;
  const guard =
    context.expectedVersion === undefined
      ? Prisma.empty
      : Prisma.sql` AND version = ${context.expectedVersion}`;
  const money = fill
    ? Prisma.sql`, cash = ${plan.cash.toFixed()}::numeric, "realizedPnl" = "realizedPnl" + ${fill.realized.toFixed()}::numeric,
        "dayRealizedPnl" = ${plan.dayRealizedPnl.toFixed()}::numeric, "dayRealizedPnlDate" = ${plan.dayRealizedPnlDate}`
    : Prisma.empty;
  const parts: Prisma.Sql[] = [
    Prisma.sql`WITH a AS (UPDATE paper_accounts SET version = version + 1, "updatedAt" = ${now}${money}
      WHERE id = ${accountId}::uuid${guard} RETURNING id)`,
  ];
  const orderStatement =
    target.kind === 'new'
      ? Prisma.sql`INSERT INTO paper_orders (id, "paperAccountId", "clientOrderId", status, side, "assetClass", symbol, quantity,
          notional, "orderType", "limitPrice", "stopPrice", "triggeredAt", "timeInForce", "optionUnderlying", "optionExpiry",
          "optionRight", "optionStrike", "filledQuantity", "averageFillPrice", "rejectReason", "createdAt", "updatedAt")
        SELECT ${target.order.id}::uuid, a.id, ${target.order.clientOrderId}, ${plan.status}::"OrderStatus",
          ${target.order.side}::"OrderSide", ${target.order.assetClass}::"AssetClass", ${target.order.symbol},
          ${num(target.order.quantity)}::numeric, ${num(target.order.notional)}::numeric, ${target.order.orderType}::"OrderType",
          ${num(target.order.limitPrice)}::numeric, ${num(target.order.stopPrice)}::numeric, ${plan.triggeredAt}::timestamp,
          ${target.order.timeInForce}::"TimeInForce", ${target.order.option?.underlying ?? null}, ${target.order.option?.expiry ?? null},
          ${target.order.option?.right ?? null}::"OptionRight", ${num(target.order.option?.strike)}::numeric,
          ${fill ? fill.filledQuantity.toFixed() : '0'}::numeric, ${num(fill?.averageFillPrice)}::numeric, ${plan.rejectReason ?? null},
          ${now}, ${now}
        FROM a
        RETURNING id`
      : Prisma.sql`UPDATE paper_orders SET status = ${plan.status}::"OrderStatus", "triggeredAt" = ${plan.triggeredAt}::timestamp,
          "rejectReason" = ${plan.rejectReason ?? null},
          "filledQuantity" = COALESCE(${num(fill?.filledQuantity)}::numeric, "filledQuantity"),
          "averageFillPrice" = COALESCE(${num(fill?.averageFillPrice)}::numeric, "averageFillPrice"), "updatedAt" = ${now}
        WHERE id = ${target.id}::uuid AND EXISTS (SELECT 1 FROM a)
        RETURNING id`;
  parts.push(Prisma.sql`, o AS (${orderStatement})`);
  if (fill) {
    parts.push(Prisma.sql`, f AS (INSERT INTO paper_fills (id, "paperOrderId", quantity, price, fee, "realizedPnl", "filledAt")
      SELECT ${fill.id}::uuid, o.id, ${fill.quantity.toFixed()}::numeric, ${fill.price.toFixed()}::numeric, 0,
        ${fill.realized.toFixed()}::numeric, ${now} FROM o)`);
  }
  const position = plan.position;
  if (position?.kind === 'set') {
    parts.push(Prisma.sql`, p AS (INSERT INTO paper_positions ("paperAccountId", symbol, "assetClass", quantity, "averageCost", "realizedPnl", "updatedAt")
      SELECT a.id, ${symbol}, ${context.assetClass}::"AssetClass", ${position.quantity.toFixed()}::numeric,
        ${position.averageCost.toFixed()}::numeric, ${position.realized.toFixed()}::numeric, ${now} FROM a
      ON CONFLICT ("paperAccountId", symbol) DO UPDATE SET quantity = EXCLUDED.quantity, "averageCost" = EXCLUDED."averageCost",
        "realizedPnl" = paper_positions."realizedPnl" + EXCLUDED."realizedPnl", "updatedAt" = EXCLUDED."updatedAt")`);
  } else if (position?.kind === 'close') {
    parts.push(Prisma.sql`, p AS (DELETE FROM paper_positions
      WHERE "paperAccountId" = ${accountId}::uuid AND symbol = ${symbol} AND EXISTS (SELECT 1 FROM a))`);
  }
  parts.push(Prisma.sql` SELECT id::text FROM a`);
  const rows = await db.$queryRaw<{ id: string }[]>(Prisma.join(parts, ''));
  return rows.length === 1;
}
