/**
 * The only writer of an order row's status and filled quantity. Each change is one conditional
 * UPDATE built from the transition table (order-state-machine.ts): the row moves only from a
 * status the event may move from, and only if its filled quantity does not shrink, so of racing
 * writers (the conversation's cancel, the order tracker, the background pass) a stale or illegal
 * report is never written, whatever the order in which they reach the database.
 *
 * Times come from the caller's clock (`now`), never the wall clock nor SQL now().
 */
import type { BrokerOrder } from '../brokers/broker.js';
import { Prisma, type PrismaClient } from '../db/database.js';
import type { OrderStatus } from '../db/generated/enums.js';
import { Decimal } from '../domain/values.js';
import type { Logger } from '../logging/logger.js';
import {
  decideOrderUpdate,
  fromStatusesFor,
  nextOrderStatus,
  type OrderDecision,
  type OrderIgnoreReason,
  type OrderUpdate,
} from './order-state-machine.js';

export type OrderRow = Prisma.OrderGetPayload<object>;

export interface OrderRowsDependencies {
  /** The client, or a transaction's. */
  readonly prisma: PrismaClient | Prisma.TransactionClient;
  readonly logger: Logger;
}

/** Which row: by our id or by the client order id sent to the broker. */
export type OrderRowKey = { readonly id: string } | { readonly clientOrderId: string };

/** What a broker says about an order, as far as its row is concerned. */
export type OrderReport = Pick<
  BrokerOrder,
  'status' | 'filledQuantity' | 'averageFillPrice' | 'brokerOrderId' | 'rejectReason'
>;

export type OrderRowResult =
  /**
   * Written; `from` is the status the row had just before (the same as `row.status` when only the
   * filled quantity grew, or when an unchanged report brought the broker's id to a row without one).
   */
  | { readonly kind: 'applied'; readonly row: OrderRow; readonly from: OrderStatus }
  /** Nothing written: `row` is the row as it stands, `reason` why the table refused the event. */
  | { readonly kind: 'ignored'; readonly row: OrderRow; readonly reason: OrderIgnoreReason }
  | { readonly kind: 'missing' };

interface Change {
  readonly update: OrderUpdate;
  readonly brokerOrderId?: string;
  readonly averageFillPrice?: Decimal;
  readonly rejectReason?: string;
}

const ATTEMPTS = 3;

/** Applies what a broker reports (placement answer, poll, cancel answer, reconciliation). */
export function applyOrderReport(
  deps: OrderRowsDependencies,
  key: OrderRowKey,
  report: OrderReport,
  now: Date,
): Promise<OrderRowResult> {
  return applyChange(deps, key, now, {
    update: { event: report.status, filledQuantity: report.filledQuantity },
    brokerOrderId: report.brokerOrderId,
    averageFillPrice: report.averageFillPrice,
    rejectReason: report.rejectReason,
  });
}

/** The broker refused the placement outright (BrokerRejectedError): nothing filled, no broker id. */
export function rejectPlacement(
  deps: OrderRowsDependencies,
  key: OrderRowKey,
  reason: string,
  now: Date,
): Promise<OrderRowResult> {
  return applyChange(deps, key, now, {
    update: { event: 'rejected', filledQuantity: new Decimal(0) },
    rejectReason: reason,
  });
}

/**
 * A placement with an unclear answer that the broker does not show: closed as rejected. Only a
 * pending or unknown row the broker never identified (no broker order id) is abandoned.
 */
export function abandonPlacement(
  deps: OrderRowsDependencies,
  key: OrderRowKey,
  reason: string,
  now: Date,
): Promise<OrderRowResult> {
  return applyChange(deps, key, now, { update: { event: 'abandon' }, rejectReason: reason });
}

async function applyChange(
  deps: OrderRowsDependencies,
  key: OrderRowKey,
  now: Date,
  change: Change,
): Promise<OrderRowResult> {
  const { event } = change.update;
  for (let attempt = 1; ; attempt++) {
    const [written] = await deps.prisma.$queryRaw<(OrderRow & { previousStatus: OrderStatus })[]>(
      statement(key, now, change),
    );
    if (written !== undefined) {
      const { previousStatus, ...row } = written;
      return { kind: 'applied', row, from: previousStatus };
    }
    const row = await deps.prisma.order.findUnique({ where: key });
    if (row === null) {
      deps.logger.warn({ ...key, event }, 'order update for an order we do not have');
      return { kind: 'missing' };
    }
    const filledQuantity = new Decimal(row.filledQuantity.toString());
    const decision = decideOrderUpdate({ status: row.status, filledQuantity }, change.update);
    const reason = reasonToIgnore(decision, row, change);
    if (reason !== undefined) {
      const logged = {
        orderId: row.id,
        intentId: row.intentId,
        from: row.status,
        event,
        reason,
        filledQuantity: filledQuantity.toFixed(),
        reportedFilledQuantity:
          'filledQuantity' in change.update ? change.update.filledQuantity.toFixed() : undefined,
      };
      if (reason === 'illegal') deps.logger.warn(logged, 'order update refused by the transition table');
      else deps.logger.info(logged, 'order update ignored');
      return { kind: 'ignored', row, reason };
    }
    // Writable now: another writer moved the row between the statement and the read. Try again.
    if (attempt >= ATTEMPTS) throw new Error(`order ${row.id} kept changing while applying ${event}`);
  }
}

/** Why the statement wrote nothing, as the row now stands; undefined when it would write now. */
function reasonToIgnore(
  decision: OrderDecision,
  row: OrderRow,
  change: Change,
): OrderIgnoreReason | undefined {
  // The broker has shown us this order (we hold its id): it is not abandoned.
  if (decision.kind === 'move')
    return change.update.event === 'abandon' && row.brokerOrderId !== null ? 'illegal' : undefined;
  // An unchanged report that brings the broker's id to a row without one is written (the id only).
  if (decision.reason === 'unchanged' && row.brokerOrderId === null && change.brokerOrderId !== undefined)
    return undefined;
  return decision.reason;
}

/**
 * One UPDATE: the table's target for the row's current status, guarded by the statuses the event
 * may move from and by the filled quantity (never less; the same only with a new status or id).
 */
function statement(key: OrderRowKey, now: Date, change: Change): Prisma.Sql {
  const { update } = change;
  const status = (value: OrderStatus) => Prisma.sql`${value}::"OrderStatus"`;
  const froms = fromStatusesFor(update.event);
  const targets = froms.map(
    (from) => Prisma.sql`WHEN ${status(from)} THEN ${status(nextOrderStatus(from, update.event) ?? from)}`,
  );
  const unchanged = froms.filter((from) => nextOrderStatus(from, update.event) === from);
  const brokerOrderId = change.brokerOrderId ?? null;
  let filled = Prisma.sql`o."filledQuantity"`;
  let guard = Prisma.sql`o."brokerOrderId" IS NULL`;
  if ('filledQuantity' in update) {
    filled = Prisma.sql`${update.filledQuantity.toFixed()}::numeric`;
    guard = Prisma.sql`o."filledQuantity" <= ${filled}`;
    if (unchanged.length > 0)
      guard = Prisma.sql`${guard} AND NOT (o.status IN (${Prisma.join(unchanged.map(status))})
        AND o."filledQuantity" = ${filled} AND (o."brokerOrderId" IS NOT NULL OR ${brokerOrderId}::text IS NULL))`;
  }
  const where =
    'id' in key ? Prisma.sql`id = ${key.id}::uuid` : Prisma.sql`"clientOrderId" = ${key.clientOrderId}`;
  return Prisma.sql`
    UPDATE orders AS o SET
      status = CASE o.status ${Prisma.join(targets, ' ')} END,
      "filledQuantity" = ${filled},
      "brokerOrderId" = COALESCE(${brokerOrderId}::text, o."brokerOrderId"),
      "averageFillPrice" = COALESCE(${change.averageFillPrice?.toFixed() ?? null}::numeric, o."averageFillPrice"),
      "rejectReason" = COALESCE(${change.rejectReason ?? null}::text, o."rejectReason"),
      "lastCheckedAt" = ${now}, "updatedAt" = ${now}
    FROM (SELECT id, status FROM orders WHERE ${where} FOR UPDATE) AS before
    WHERE o.id = before.id AND o.status IN (${Prisma.join(froms.map(status))}) AND ${guard}
    RETURNING o.*, before.status AS "previousStatus"`;
}
