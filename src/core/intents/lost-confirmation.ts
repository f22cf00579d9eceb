/**
 * Why a press changed nothing: another press won, the card expired, or the strategy that proposed
 * it stopped. An expired or orphaned card is closed on the way, so the user sees its final state.
 */
import type { IntentContext } from './intent-context.js';
import { alreadyDecided, cardUpdate, type IntentUpdate } from './intent-updates.js';

/** How the reason of a card closed because its strategy no longer runs begins. */
export const STRATEGY_NOT_RUNNING = 'its strategy is ';

/**
 * The reason on a strategy's card closed unanswered because its strategy no longer runs (paused,
 * halted or stopped). Strategies read it back: such a card is not the user saying no.
 */
export function strategyNotRunningReason(status: string): string {
  return `${STRATEGY_NOT_RUNNING}${status}`;
}

export async function explainLostConfirmation(
  context: IntentContext,
  intentId: string,
  now: Date,
): Promise<IntentUpdate> {
  const { store } = context;
  const current = await store.readOrThrow(intentId);
  if (current.status === 'proposed' && current.strategyId !== null) {
    const strategy = await context.prisma.strategy.findUnique({
      where: { id: current.strategyId },
      select: { status: true },
    });
    if (strategy !== null && strategy.status !== 'active') {
      const cancelled = await store.move(
        current,
        'cancel',
        { statusReason: strategyNotRunningReason(strategy.status) },
        { kind: 'system' },
      );
      return cardUpdate(
        cancelled ?? current,
        context.clock(),
        `Not placed: the strategy that proposed it is ${strategy.status}.`,
      );
    }
  }
  if ((current.status === 'proposed' || current.status === 'awaiting_approval') && current.expiresAt <= now) {
    const expired = await store.move(
      current,
      'expire',
      { statusReason: 'not confirmed in time' },
      { kind: 'system' },
    );
    return cardUpdate(
      expired ?? current,
      context.clock(),
      'This confirmation expired, so the order was not placed. Ask again for a fresh quote.',
    );
  }
  return alreadyDecided(current.status);
}
