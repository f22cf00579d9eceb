/**
 * What a crash may leave behind, and how it is finished: intents whose last move the user was not
 * told (`tellPending`, the intent's outbox flag) are told from their rows; placements claimed but
 * never answered (an intent in `submitting`, its order row without a broker id) are looked up and,
 * at brokers that look up by client order id, sent again under the same client order id (the
 * broker's idempotency key, so a placement that did arrive is found, never doubled).
 */
import type { TradingAccount } from '../accounts/accounts.js';
import { type BrokerOrder, brokerName } from '../brokers/broker.js';
import type { Prisma } from '../db/database.js';
import { Decimal } from '../domain/values.js';
import type { OrderRow } from '../orders/order-rows.js';
import {
  abandonPlacement,
  applyBrokerOrder,
  eventFor,
  placeAndApply,
  recordFills,
} from './broker-order-sync.js';
import { instrumentLabel } from './instrument-label.js';
import type { IntentContext } from './intent-context.js';
import { contractOf, type IntentRow, placeRequest } from './intent-row.js';
import { cardUpdate, describeOrder, type IntentCardUpdate, refusedSentence } from './intent-updates.js';

/**
 * What recovery may take: work held by a process not among `live` (it died or stopped: nobody
 * will finish it), and work held by a live one that has waited since before `before` (an attempt
 * that failed without dying; the holder's own pass retries it).
 */
export interface RecoveryWindow {
  readonly live: readonly string[];
  readonly before: Date;
}

/** Held by no live process: Prisma's form of the first half of RecoveryWindow. */
function orphaned(window: RecoveryWindow): Prisma.TradeIntentWhereInput[] {
  return [{ heldBy: null }, { heldBy: { notIn: [...window.live] } }];
}

/** Intents whose last move is still to be told, due now, left over (see RecoveryWindow). */
export function untoldIntents(
  context: IntentContext,
  window: RecoveryWindow,
  limit = 100,
): Promise<IntentRow[]> {
  const now = context.clock();
  return context.prisma.tradeIntent.findMany({
    where: {
      tellPending: true,
      AND: [
        { OR: [...orphaned(window), { updatedAt: { lt: window.before } }] },
        { OR: [{ nextTellAt: null }, { nextTellAt: { lte: now } }] },
      ],
    },
    orderBy: { updatedAt: 'asc' },
    take: limit,
  });
}

/**
 * The update that tells the user where an intent stands, from its rows alone (the process that
 * moved it may be gone): the card as it is now, and the sentence for its status. Undefined when
 * the user never saw a card of it (nothing to edit, nothing they wait for): it is marked told.
 */
export async function retell(
  context: IntentContext,
  intent: IntentRow,
): Promise<IntentCardUpdate | undefined> {
  if (intent.cardMessageId === null && intent.approvalMessageId === null) {
    await context.store.markTold(intent.id, intent.status);
    return undefined;
  }
  const order = await context.prisma.order.findFirst({
    where: { intentId: intent.id },
    include: { fills: true },
    orderBy: { createdAt: 'desc' },
  });
  const filled = order === null ? undefined : new Decimal(order.filledQuantity.toString());
  return cardUpdate(intent, context.clock(), sentenceFor(intent, order), filled);
}

function sentenceFor(
  intent: IntentRow,
  order:
    | (OrderRow & {
        fills: { quantity: unknown; price: unknown; brokerFillId: string; fee: unknown; filledAt: Date }[];
      })
    | null,
): string | undefined {
  const reason = intent.statusReason ?? undefined;
  if (order === null || order.brokerOrderId === null) {
    switch (intent.status) {
      case 'rejected':
        return refusedSentence(reason ?? 'the order was refused');
      case 'failed':
        return `Not placed: ${reason ?? 'it could not be sent'}.`;
      case 'expired':
        // As the expiry pass says it: the card alone.
        return undefined;
      case 'cancelled':
        return 'Cancelled. Nothing was sent.';
      default:
        // proposed (a new price), awaiting approval, submitting: the card says it.
        return undefined;
    }
  }
  return describeOrder(intent.status, brokerOrderOf(order), intent);
}

/** The order row as the broker last described it (what the sentence needs). */
function brokerOrderOf(
  order: OrderRow & {
    fills: { quantity: unknown; price: unknown; brokerFillId: string; fee: unknown; filledAt: Date }[];
  },
): BrokerOrder {
  const decimal = (value: unknown) =>
    value === null || value === undefined ? undefined : new Decimal(String(value));
  return {
    brokerOrderId: order.brokerOrderId ?? '',
    clientOrderId: order.clientOrderId,
    status: order.status,
    symbol: order.symbol,
    side: order.side,
    orderType: order.orderType,
    quantity: decimal(order.quantity),
    notional: decimal(order.notional),
    limitPrice: decimal(order.limitPrice),
    stopPrice: decimal(order.stopPrice),
    filledQuantity: new Decimal(String(order.filledQuantity)),
    averageFillPrice: decimal(order.averageFillPrice),
    rejectReason: order.rejectReason ?? undefined,
    fills: order.fills.map((fill) => ({
      id: fill.brokerFillId,
      quantity: new Decimal(String(fill.quantity)),
      price: new Decimal(String(fill.price)),
      fee: new Decimal(String(fill.fee)),
      at: fill.filledAt,
    })),
    createdAt: order.createdAt,
  };
}

/** What became of one unanswered placement. */
export type ResumedPlacement =
  | { readonly kind: 'updated'; readonly intent: IntentRow; readonly update: IntentCardUpdate }
  | { readonly kind: 'left'; readonly reason: string };

/**
 * Placements left over (see RecoveryWindow: claimed by a process that died, or claimed before
 * `before`) and never answered. At brokers that look orders up by
 * client order id: found -> applied; not found and claimed within `resendWithinMs` -> sent again
 * with the same client order id (the confirmation stands; the broker refuses a duplicate id);
 * older -> closed as not placed. Other brokers are left to the order tracker's reconciliation.
 */
export async function resumePlacements(
  context: IntentContext,
  options: RecoveryWindow & { readonly resendWithinMs: number; readonly limit?: number },
): Promise<ResumedPlacement[]> {
  const orphans = await context.prisma.order.findMany({
    where: {
      intent: { status: 'submitting' },
      AND: [
        {
          OR: [
            ...orphaned(options).map((intent) => ({ intent })),
            // This process's own, cut short (not running here any more: see IntentContext.placing).
            { intent: { heldBy: context.processId } },
            { submittedAt: { lt: options.before } },
          ],
        },
        // Never answered; or answered and written to the order row, the intent not yet moved.
        { OR: [{ status: 'pending', brokerOrderId: null }, { brokerOrderId: { not: null } }] },
      ],
    },
    include: { intent: true, brokerAccount: true },
    orderBy: { submittedAt: 'asc' },
    take: options.limit ?? 100,
  });
  const results: ResumedPlacement[] = [];
  for (const order of orphans) {
    if (context.placing.has(order.intentId)) continue;
    const logged = { orderId: order.id, intentId: order.intentId, provider: order.provider };
    try {
      const orphaned = order.intent.heldBy === null || !options.live.includes(order.intent.heldBy);
      results.push(await resumeOne(context, order, { ...options, orphaned }));
    } catch (error) {
      context.logger.warn({ ...logged, err: error }, 'could not resume an unanswered placement');
      results.push({ kind: 'left', reason: 'lookup failed' });
    }
  }
  return results;
}

async function resumeOne(
  context: IntentContext,
  order: OrderRow & { intent: IntentRow; brokerAccount: { externalId: string } | null },
  options: { readonly resendWithinMs: number; readonly orphaned: boolean },
): Promise<ResumedPlacement> {
  const { resendWithinMs } = options;
  if (order.brokerOrderId !== null) return followOrderRow(context, order);
  const broker = await context.brokerFor(order);
  if (broker.placementLookup !== 'client_order_id') {
    // The tracker keeps looking (order-tracker.ts); a dead process's placement is looked for now.
    return options.orphaned
      ? reconcileNow(context, order, broker)
      : { kind: 'left', reason: 'reconciled by the tracker' };
  }
  const accountId = order.brokerAccount?.externalId ?? '';
  const logged = { orderId: order.id, intentId: order.intentId, provider: order.provider };
  const found = await broker.findOrderByClientOrderId(accountId, order.clientOrderId);
  if (found !== undefined) {
    context.logger.info({ ...logged, brokerOrderId: found.brokerOrderId }, 'unanswered placement found');
    const update = await applyBrokerOrder(context, found, { intent: order.intent, orderId: order.id });
    return updated(context, order.intentId, update);
  }
  const claimedAt = order.submittedAt ?? order.createdAt;
  if (context.clock().getTime() - claimedAt.getTime() > resendWithinMs) {
    context.logger.warn(logged, 'unanswered placement too old to send; reported as not placed');
    const text = `Your order to ${order.side} ${instrumentLabel(order.intent)} was not placed: Arbion stopped before ${brokerName(order.provider)} received it, and too long ago to send it now. Nothing was sent; ask again if you still want it.`;
    const update = await abandonPlacement(context, order.id, text);
    return update === undefined
      ? { kind: 'left', reason: 'moved meanwhile' }
      : updated(context, order.intentId, update);
  }
  context.logger.info(logged, 'unanswered placement not at the broker; sending it now');
  // The request as the claim made it: the same intent, account and client order id.
  const account = claimedAccount(order);
  const request = placeRequest(order.intent, account, contractOf(order.intent));
  const update = await placeAndApply(context, {
    broker,
    request,
    intent: order.intent,
    orderId: order.id,
    account,
  });
  return updated(context, order.intentId, update);
}

/** The account a claim's order row names, as the placement used it. */
function claimedAccount(
  order: OrderRow & { intent: IntentRow; brokerAccount: { externalId: string } | null },
): TradingAccount {
  return {
    connectionId: order.connectionId ?? '',
    brokerAccountId: order.brokerAccountId ?? '',
    externalId: order.brokerAccount?.externalId ?? '',
    provider: order.provider,
    mode: order.intent.mode,
    status: 'active',
  };
}

/**
 * A dead process's placement at a broker without client order ids (Schwab, the smart wallet):
 * looked for now. Found: applied and told. Not found yet: the user is told the outcome is not known
 * and what to check; this process adopts it, and the order tracker keeps looking and tells the end.
 */
async function reconcileNow(
  context: IntentContext,
  order: OrderRow & { intent: IntentRow; brokerAccount: { externalId: string } | null },
  broker: Awaited<ReturnType<IntentContext['brokerFor']>>,
): Promise<ResumedPlacement> {
  const found = await broker.reconcilePlacement(
    placeRequest(order.intent, claimedAccount(order), contractOf(order.intent)),
    order.submittedAt ?? order.createdAt,
  );
  if (found !== undefined) {
    const update = await applyBrokerOrder(
      context,
      { ...found, clientOrderId: order.clientOrderId },
      {
        intent: order.intent,
        orderId: order.id,
      },
    );
    return updated(context, order.intentId, update);
  }
  await context.store.noteAwaitingReconciliation(order.intentId);
  const intent = await context.store.readOrThrow(order.intentId);
  const name = brokerName(order.provider);
  const text = `I do not know yet whether your order to ${order.side} ${instrumentLabel(order.intent)} reached ${name}: Arbion stopped while sending it, and ${name} does not show it so far. Nothing was sent again. Check your ${name} account before placing it again; I keep looking and will tell you what I find.`;
  return { kind: 'updated', intent, update: cardUpdate(intent, context.clock(), text) };
}

/**
 * The broker's answer reached the order row but the intent did not move (a crash between the two
 * statements): the intent follows the row now, and the user is told.
 */
async function followOrderRow(
  context: IntentContext,
  order: OrderRow & { intent: IntentRow; brokerAccount: { externalId: string } | null },
): Promise<ResumedPlacement> {
  const event = eventFor(order.status);
  if (event === undefined) return { kind: 'left', reason: `order ${order.status}` };
  const moved = await context.store.move(
    order.intent,
    event,
    { statusReason: order.rejectReason ?? null },
    { kind: 'broker', orderId: order.id },
  );
  if (moved === undefined) return { kind: 'left', reason: 'moved meanwhile' };
  let fills = await context.prisma.fill.findMany({ where: { orderId: order.id } });
  if (fills.length === 0 && Number(order.filledQuantity) > 0) {
    // The crash came before the fills were written too: the broker still has them.
    const broker = await context.brokerFor(order);
    // By the broker's own id, which the row holds: every broker can read that after a restart
    // (a client order id is searchable only at some).
    const reported =
      order.brokerOrderId === null
        ? undefined
        : await broker.getOrder(order.brokerAccount?.externalId ?? '', order.brokerOrderId);
    if (reported !== undefined) await recordFills(context, order.id, reported);
    fills = await context.prisma.fill.findMany({ where: { orderId: order.id } });
  }
  const text = describeOrder(moved.status, brokerOrderOf({ ...order, fills }), moved);
  return { kind: 'updated', intent: moved, update: cardUpdate(moved, context.clock(), text) };
}

async function updated(
  context: IntentContext,
  intentId: string,
  update: Awaited<ReturnType<typeof applyBrokerOrder>>,
): Promise<ResumedPlacement> {
  if (update.kind !== 'updated') return { kind: 'left', reason: update.text };
  const intent = await context.store.readOrThrow(intentId);
  // Someone else moved it on meanwhile (a replayed press): theirs is the telling, not this copy.
  if (intent.status !== update.status) return { kind: 'left', reason: 'moved meanwhile' };
  return { kind: 'updated', intent, update };
}
