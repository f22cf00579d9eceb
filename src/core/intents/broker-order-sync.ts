/**
 * What a broker says about an order, applied to our rows: the answer to a placement, a poll, a
 * resting fill, or a placement that was never found. The order row moves through its own table
 * (core/orders), the intent through the intents' table, and the user is told what happened.
 */
import type { TradingAccount } from '../accounts/accounts.js';
import {
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  type PlaceOrderRequest,
} from '../brokers/broker.js';
import type { OrderStatus } from '../db/generated/enums.js';
import {
  abandonPlacement as abandonOrderRow,
  applyOrderReport,
  rejectPlacement,
} from '../orders/order-rows.js';
import type { IntentContext } from './intent-context.js';
import type { IntentRow } from './intent-row.js';
import { cardUpdate, describeOrder, type IntentUpdate } from './intent-updates.js';
import type { IntentEvent } from './state-machine.js';

/** The broker status of an order, as the intent event it means. */
export function eventFor(status: OrderStatus): IntentEvent | undefined {
  switch (status) {
    case 'accepted':
      return 'accept';
    case 'partially_filled':
      return 'partial_fill';
    case 'filled':
      return 'fill';
    case 'rejected':
      return 'reject';
    case 'cancelled':
      return 'cancel';
    case 'expired':
      return 'expire';
    default:
      return undefined;
  }
}

/**
 * Sends the claimed order to the broker and applies its answer. A refusal rejects both rows; no
 * usable answer looks the order up by client order id (never resends blindly), and when it is not
 * found the intent waits in `submitting` for the order tracker's reconciliation.
 */
export async function placeAndApply(
  context: IntentContext,
  placement: {
    readonly broker: Broker;
    readonly request: PlaceOrderRequest;
    readonly intent: IntentRow;
    readonly orderId: string;
    readonly account: TradingAccount;
  },
): Promise<IntentUpdate> {
  const { broker, request, intent, orderId, account } = placement;
  let brokerOrder: BrokerOrder;
  try {
    if (broker.preparePlacement !== undefined) {
      // The broker's book is our database: its write and our rows' moves commit together.
      const write = await broker.preparePlacement(request);
      return await context.transaction(async (inner) =>
        applyBrokerOrder(inner, await write(inner.prisma), { intent, orderId }),
      );
    }
    brokerOrder = await broker.placeOrder(request);
  } catch (error) {
    if (error instanceof BrokerRejectedError) return rejectAtBroker(context, intent, orderId, error);
    context.logger.warn(
      { err: error, intentId: intent.id, clientOrderId: intent.clientOrderId },
      'ambiguous order placement; reconciling',
    );
    const found = await broker
      .findOrderByClientOrderId(account.externalId, intent.clientOrderId)
      .catch(() => undefined);
    if (found === undefined) {
      await context.store.noteAwaitingReconciliation(intent.id);
      const current = await context.store.readOrThrow(intent.id);
      return cardUpdate(
        current,
        context.clock(),
        'The broker did not answer clearly. I am checking whether the order went through and will not send it twice.',
      );
    }
    brokerOrder = found;
  }
  return applyBrokerOrder(context, brokerOrder, { intent, orderId });
}

/** The broker refused the order: both rows rejected, nothing placed. */
async function rejectAtBroker(
  context: IntentContext,
  intent: IntentRow,
  orderId: string,
  error: BrokerRejectedError,
): Promise<IntentUpdate> {
  await rejectPlacement(orderRows(context), { id: orderId }, error.reason, context.clock());
  const current = await context.store.readOrThrow(intent.id);
  const rejected = await context.store.move(
    current,
    'reject',
    { statusReason: error.reason },
    { kind: 'broker' },
  );
  return cardUpdate(rejected ?? current, context.clock(), `The broker rejected the order: ${error.reason}.`);
}

/**
 * Applies what a broker says about an order (placement answer, poll, resting fill) to our order
 * and intent rows. The order row moves only as its table allows (a stale poll after a cancel or a
 * fill changes nothing); the intent follows only a move that was written. Returns the card as it
 * stands and, for a written move, what to tell the user.
 */
export async function applyBrokerOrder(
  context: IntentContext,
  brokerOrder: BrokerOrder,
  known?: { readonly intent: IntentRow; readonly orderId: string },
): Promise<IntentUpdate> {
  const key = known === undefined ? { clientOrderId: brokerOrder.clientOrderId } : { id: known.orderId };
  const result = await applyOrderReport(orderRows(context), key, brokerOrder, context.clock());
  if (result.kind === 'missing')
    throw new Error(`no order with client order id ${brokerOrder.clientOrderId}`);
  const orderId = result.row.id;
  const [intent] = await Promise.all([
    known?.intent ?? context.store.readOrThrow(result.row.intentId),
    recordFills(context, orderId, brokerOrder),
  ]);
  if (result.kind === 'ignored') return cardUpdate(intent, context.clock());
  const event = eventFor(brokerOrder.status);
  const moved =
    event === undefined
      ? undefined
      : await context.store.move(
          intent,
          event,
          { statusReason: brokerOrder.rejectReason ?? null },
          { kind: 'broker', orderId },
        );
  const current = moved ?? intent;
  return cardUpdate(
    current,
    context.clock(),
    describeOrder(current.status, brokerOrder, current),
    brokerOrder.filledQuantity,
  );
}

/** The fills a broker reported, once each (a fill's broker id is unique per order). */
export async function recordFills(
  context: IntentContext,
  orderId: string,
  brokerOrder: BrokerOrder,
): Promise<void> {
  if (brokerOrder.fills.length === 0) return;
  await context.prisma.fill.createMany({
    data: brokerOrder.fills.map((fill) => ({
      orderId,
      brokerFillId: fill.id,
      quantity: fill.quantity.toFixed(),
      price: fill.price.toFixed(),
      fee: fill.fee.toFixed(),
      filledAt: fill.at,
    })),
    skipDuplicates: true,
  });
}

function orderRows(context: IntentContext) {
  return { prisma: context.prisma, logger: context.logger };
}

/**
 * A placement whose outcome stayed unknown and that the broker does not show after looking for
 * a while: the order row is closed as not placed, the intent fails, and the user is told.
 */
export async function abandonPlacement(
  context: IntentContext,
  orderId: string,
  text: string,
): Promise<IntentUpdate | undefined> {
  const result = await abandonOrderRow(
    orderRows(context),
    { id: orderId },
    'not found at the broker',
    context.clock(),
  );
  if (result.kind !== 'applied') return undefined;
  const intent = await context.store.readOrThrow(result.row.intentId);
  const failed = await context.store.move(
    intent,
    'fail',
    { statusReason: 'not found at the broker after an unclear answer' },
    { kind: 'system', orderId },
  );
  return cardUpdate(failed ?? intent, context.clock(), text);
}
