/**
 * The paper ledger's arithmetic and its one write.
 *
 * `planFill` decides, from a locked account row, an order and a quote, what happens: rest, reject or
 * fill, and what cash, position and P&L become. It is pure, so every rule is testable with values.
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
import { Decimal } from '../../core/domain/values.js';
import type { OptionContract, Quote } from '../../core/market-data/market-data.js';
import { decideFill, multiplierFor, quantityPrecision } from './fill-model.js';

/** The account row as read under its lock, with the position in the order's symbol. */
export interface LockedAccount {
  readonly id: string;
  /** The row's version when read; an optimistic write succeeds only if it is unchanged. */
  readonly version: number;
  readonly cash: Decimal;
  readonly dayRealizedPnl: Decimal;
  readonly dayRealizedPnlDate: string | null;
  readonly position: { readonly quantity: Decimal; readonly averageCost: Decimal } | undefined;
}

/** What the ledger knows about an order when deciding on it. */
export interface LedgerOrder {
  readonly side: OrderSide;
  readonly assetClass: AssetClass;
  readonly symbol: string;
  readonly orderType: OrderType;
  readonly quantity: Decimal | undefined;
  readonly notional: Decimal | undefined;
  readonly limitPrice: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  readonly filledQuantity: Decimal;
  readonly averageFillPrice: Decimal | undefined;
  readonly triggeredAt: Date | null;
}

export type PositionChange =
  | { readonly kind: 'set'; readonly quantity: Decimal; readonly averageCost: Decimal }
  | { readonly kind: 'reduce'; readonly quantity: Decimal; readonly realized: Decimal }
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

/** Decides what an order does on this quote, against this locked account. */
export function planFill(
  order: LedgerOrder,
  quote: Quote,
  account: LockedAccount,
  options: {
    readonly marketOpen: boolean;
    readonly slippageBps: number;
    readonly now: Date;
    readonly today: string;
  },
): FillPlan {
  const unchanged = {
    cash: account.cash,
    dayRealizedPnl: account.dayRealizedPnl,
    dayRealizedPnlDate: account.dayRealizedPnlDate,
    fill: undefined,
    position: undefined,
    rejectReason: undefined,
  };
  if (!options.marketOpen) return { ...unchanged, status: 'accepted', triggeredAt: order.triggeredAt };
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
  if (decision.action === 'rest') return { ...unchanged, status: 'accepted', triggeredAt };

  const reject = (reason: string): FillPlan => ({
    ...unchanged,
    status: 'rejected',
    triggeredAt,
    rejectReason: reason,
  });
  const multiplier = multiplierFor(order.assetClass);
  const price = decision.price;
  const quantity =
    order.quantity !== undefined
      ? order.quantity.sub(order.filledQuantity)
      : (order.notional ?? new Decimal(0))
          .div(price.mul(multiplier))
          .toDecimalPlaces(quantityPrecision(order.assetClass), Decimal.ROUND_DOWN);
  if (quantity.lessThanOrEqualTo(0)) return reject('the amount is too small to buy one unit at this price');

  const held = account.position?.quantity ?? new Decimal(0);
  const averageCost = account.position?.averageCost ?? new Decimal(0);
  const gross = quantity.mul(price).mul(multiplier);
  const dayBase = account.dayRealizedPnlDate === options.today ? account.dayRealizedPnl : new Decimal(0);
  const filledQuantity = order.filledQuantity.add(quantity);
  const averageFillPrice = (order.averageFillPrice ?? new Decimal(0))
    .mul(order.filledQuantity)
    .add(price.mul(quantity))
    .div(filledQuantity);

  if (order.side === 'buy') {
    if (gross.greaterThan(account.cash)) {
      return reject(
        `insufficient buying power: needs ${gross.toDecimalPlaces(2).toFixed()} USD, has ${account.cash.toDecimalPlaces(2).toFixed()}`,
      );
    }
    const newQuantity = held.add(quantity);
    return {
      status: 'filled',
      triggeredAt,
      rejectReason: undefined,
      fill: { id: randomUUID(), quantity, price, realized: new Decimal(0), filledQuantity, averageFillPrice },
      position: {
        kind: 'set',
        quantity: newQuantity,
        averageCost: held.mul(averageCost).add(quantity.mul(price)).div(newQuantity),
      },
      cash: account.cash.sub(gross),
      dayRealizedPnl: dayBase,
      dayRealizedPnlDate: options.today,
    };
  }
  if (quantity.greaterThan(held)) {
    return reject(
      `not enough ${order.symbol} to sell: holding ${held.toFixed()}, selling ${quantity.toFixed()} (paper accounts cannot sell short)`,
    );
  }
  const realized = price.sub(averageCost).mul(quantity).mul(multiplier);
  const remaining = held.sub(quantity);
  return {
    status: 'filled',
    triggeredAt,
    rejectReason: undefined,
    fill: { id: randomUUID(), quantity, price, realized, filledQuantity, averageFillPrice },
    position: remaining.isZero()
      ? { kind: 'close', realized }
      : { kind: 'reduce', quantity: remaining, realized },
    cash: account.cash.add(gross),
    dayRealizedPnl: dayBase.add(realized),
    dayRealizedPnlDate: options.today,
  };
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
        ${position.averageCost.toFixed()}::numeric, 0, ${now} FROM a
      ON CONFLICT ("paperAccountId", symbol) DO UPDATE SET quantity = EXCLUDED.quantity, "averageCost" = EXCLUDED."averageCost",
        "updatedAt" = EXCLUDED."updatedAt")`);
  } else if (position?.kind === 'reduce') {
    parts.push(Prisma.sql`, p AS (UPDATE paper_positions SET quantity = ${position.quantity.toFixed()}::numeric,
      "realizedPnl" = "realizedPnl" + ${position.realized.toFixed()}::numeric, "updatedAt" = ${now}
      WHERE "paperAccountId" = ${accountId}::uuid AND symbol = ${symbol} AND EXISTS (SELECT 1 FROM a))`);
  } else if (position?.kind === 'close') {
    parts.push(Prisma.sql`, p AS (DELETE FROM paper_positions
      WHERE "paperAccountId" = ${accountId}::uuid AND symbol = ${symbol} AND EXISTS (SELECT 1 FROM a))`);
  }
  parts.push(Prisma.sql` SELECT id::text FROM a`);
  const rows = await db.$queryRaw<{ id: string }[]>(Prisma.join(parts, ''));
  return rows.length === 1;
}
