/**
 * Cancelling the same way at every broker: send the cancel, then read the order, which says
 * whether it took. A cancel whose answer was lost is settled the same way instead of failing.
 */
import {
  type BrokerOrder,
  type BrokerProvider,
  BrokerRejectedError,
  BrokerUnreachableError,
} from '../core/brokers/broker.js';

export async function cancelAndRead(
  provider: BrokerProvider,
  sendCancel: () => Promise<unknown>,
  readOrder: () => Promise<BrokerOrder | undefined>,
): Promise<BrokerOrder> {
  try {
    await sendCancel();
  } catch (error) {
    if (!(error instanceof BrokerUnreachableError)) throw error;
    const order = await readOrder().catch(() => undefined);
    if (order?.status === 'cancelled' || order?.status === 'cancel_requested') return order;
    throw error;
  }
  const order = await readOrder();
  if (order === undefined) throw new BrokerRejectedError(provider, 'no such order');
  return order;
}
