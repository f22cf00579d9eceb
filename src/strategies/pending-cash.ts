/**
 * Which of a strategy's pending orders still need cash that the account's buying power does not
 * already have out, so that no strategy counts a reservation twice or forgets one:
 * - not placed yet (a card, a confirmed order not yet sent): always, no broker has it;
 * - working at the broker: only where the broker is not known to net working orders
 *   (`StrategySnapshot.account.netsWorkingOrders`); where it is, its buying power has them out;
 * - declined lately: never, it is on its way nowhere.
 */
import type { PendingOrder, StrategySnapshot } from './strategy.js';

/** Whether `order`'s cash is still to come off `account.buyingPower`. */
export function stillNeedsCash(
  order: Pick<PendingOrder, 'stage'>,
  account: Pick<StrategySnapshot['account'], 'netsWorkingOrders'>,
): boolean {
  switch (order.stage) {
    case 'not_placed':
      return true;
    case 'working':
      return !account.netsWorkingOrders;
    case 'declined':
      return false;
  }
}
