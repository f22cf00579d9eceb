/**
 * The user's decisions on a card: Confirm, four-eyes Approve or Decline, Cancel, and the timeout
 * that counts as "no". Each checks who pressed, then leaves the decision to one conditional write
 * (the claim in the executor, or a move in the store), which exactly one press can win.
 */
import type { Trader } from '../accounts/accounts.js';
import { renderIntentCard } from './confirmation-card.js';
import { executeIntent, rejectChangedOrder } from './executor.js';
import { expiryFrom, type IntentContext } from './intent-context.js';
import { hashOf, type IntentRow } from './intent-row.js';
import {
  cardUpdate,
  type ExecutionObserver,
  type IntentCardUpdate,
  type IntentUpdate,
  notice,
} from './intent-updates.js';
import { explainLostConfirmation } from './lost-confirmation.js';

/**
 * A Confirm press. Only the requester, only while proposed, only before expiry, and only once.
 * The checks below read the intent; the decision is the claim statement in the executor that
 * moves it out of `proposed`, which exactly one caller can win.
 */
export async function confirmIntent(
  context: IntentContext,
  press: {
    readonly intentId: string;
    readonly actorUserId: string;
    readonly trader?: Trader;
    readonly prefetched?: Promise<IntentRow | null>;
    readonly observer?: ExecutionObserver;
  },
): Promise<IntentUpdate> {
  const { intentId, actorUserId, trader } = press;
  const now = context.clock();
  // Read-only and needed for the risk re-check: load it alongside the intent.
  const snapshot =
    trader?.userId === actorUserId
      ? context
          .brokerFor(trader.account)
          .then((broker) => broker.getAccountSnapshot(trader.account.externalId))
      : undefined;
  snapshot?.catch(() => undefined); // A refused confirmation never reads it.
  // A prefetched row only saves time: every decision below is re-checked by the conditional write.
  const intent = await (press.prefetched ?? context.store.read(intentId));
  if (intent === null) return notice('That confirmation is no longer valid.');
  if (intent.userId !== actorUserId) {
    await context.store.audit.record({
      type: 'intent.confirm_refused',
      actorKind: 'user',
      actorId: actorUserId,
      intentId,
      data: { reason: 'not the requester' },
    });
    return notice('Only the person who asked for this order can confirm it.');
  }
  if (intent.status !== 'proposed' || intent.expiresAt <= now)
    return explainLostConfirmation(context, intentId, now);
  if (intent.requiresApproval) return requestApproval(context, intent, now);
  return executeIntent(context, {
    intent,
    actorUserId,
    ...(trader === undefined ? {} : { loadedTrader: trader }),
    ...(snapshot === undefined ? {} : { loadedSnapshot: snapshot }),
    ...(press.observer === undefined ? {} : { observer: press.observer }),
  });
}

/**
 * Four-eyes, first half: the requester confirmed an order above the workspace threshold. It waits
 * (with a fresh deadline) for an admin other than them; nothing is placed yet.
 */
async function requestApproval(context: IntentContext, intent: IntentRow, now: Date): Promise<IntentUpdate> {
  const stillOpen = { userId: intent.userId, expiresAt: { gt: now } };
  if (hashOf(intent) !== intent.orderHash) return rejectChangedOrder(context, { intent, stillOpen });
  const waiting = await context.store.move(
    intent,
    'request_approval',
    { confirmedAt: now, expiresAt: expiryFrom(context, now) },
    { kind: 'user', id: intent.userId },
    stillOpen,
  );
  if (waiting === undefined) return explainLostConfirmation(context, intent.id, now);
  return cardUpdate(
    waiting,
    context.clock(),
    'This order needs a second person: an admin must approve it before it is sent.',
  );
}

/**
 * Four-eyes, second half: an Approve or Decline press. Only a workspace admin (`isAdmin`, decided
 * by the caller from the workspace roles), never the requester, only while it waits, only once.
 */
export async function approveIntent(
  context: IntentContext,
  press: {
    readonly intentId: string;
    readonly approverUserId: string;
    readonly isAdmin: boolean;
    readonly decline: boolean;
    readonly observer?: ExecutionObserver;
  },
): Promise<IntentUpdate> {
  const { intentId, approverUserId } = press;
  const now = context.clock();
  const intent = await context.store.read(intentId);
  if (intent === null || !intent.requiresApproval) return notice('That approval is no longer valid.');
  const refusal =
    intent.userId === approverUserId
      ? 'You cannot approve your own order: another admin must.'
      : press.isAdmin
        ? undefined
        : 'Only a workspace admin can approve or decline orders.';
  if (refusal !== undefined) {
    await context.store.audit.record({
      type: 'intent.approval_refused',
      actorKind: 'user',
      actorId: approverUserId,
      intentId,
      data: { reason: refusal },
    });
    return notice(refusal);
  }
  if (intent.status !== 'awaiting_approval' || intent.expiresAt <= now)
    return explainLostConfirmation(context, intentId, now);
  if (press.decline) {
    const declined = await context.store.move(
      intent,
      'reject',
      { statusReason: 'declined by an admin', approverUserId, approvedAt: null },
      { kind: 'user', id: approverUserId },
      { expiresAt: { gt: now } },
    );
    if (declined === undefined) return explainLostConfirmation(context, intentId, now);
    return cardUpdate(declined, context.clock(), 'An admin declined the order. Nothing was sent.');
  }
  return executeIntent(context, {
    intent,
    actorUserId: approverUserId,
    ...(press.observer === undefined ? {} : { observer: press.observer }),
  });
}

/** A Cancel press on a card. */
export async function cancelIntent(
  context: IntentContext,
  intentId: string,
  actorUserId: string,
): Promise<IntentUpdate> {
  const intent = await context.store.read(intentId);
  if (intent === null) return notice('That confirmation is no longer valid.');
  if (intent.userId !== actorUserId) return notice('Only the person who asked for this order can cancel it.');
  const moved = await context.store.move(
    intent,
    'cancel',
    { statusReason: 'cancelled on the card' },
    { kind: 'user', id: actorUserId },
  );
  if (moved === undefined) return explainLostConfirmation(context, intentId, context.clock());
  return {
    kind: 'updated',
    intentId,
    status: moved.status,
    card: renderIntentCard(moved, { now: context.clock() }),
    text: 'Cancelled. Nothing was sent to the broker.',
  };
}

/**
 * The requester takes back a card that still waits for an answer (automation: its strategy was
 * paused or stopped, its alert removed): a proposed or awaiting-approval intent moves to cancelled
 * through the table, with `reason`, and its outbox flag set until the card shows it. Undefined
 * when it no longer waits (a press or an expiry won: that outcome stands and is told).
 */
export async function withdrawIntent(
  context: IntentContext,
  intentId: string,
  actorUserId: string,
  reason: string,
): Promise<IntentCardUpdate | undefined> {
  const intent = await context.store.read(intentId);
  if (intent === null || intent.userId !== actorUserId) return undefined;
  if (intent.status !== 'proposed' && intent.status !== 'awaiting_approval') return undefined;
  const moved = await context.store.move(
    intent,
    'cancel',
    { statusReason: reason },
    { kind: 'user', id: actorUserId },
  );
  return moved === undefined ? undefined : cardUpdate(moved, context.clock());
}

/** Expires every proposal past its deadline (a timeout counts as "no"). Returns the cards to edit. */
export async function expireDueIntents(
  context: IntentContext,
): Promise<{ intent: IntentRow; update: IntentUpdate }[]> {
  const now = context.clock();
  const due = await context.prisma.tradeIntent.findMany({
    where: { status: { in: ['proposed', 'awaiting_approval'] }, expiresAt: { lte: now } },
    take: 500,
  });
  const expired: { intent: IntentRow; update: IntentUpdate }[] = [];
  for (const intent of due) {
    const reason = intent.status === 'awaiting_approval' ? 'not approved in time' : 'not confirmed in time';
    const moved = await context.store.move(intent, 'expire', { statusReason: reason }, { kind: 'system' });
    if (moved)
      expired.push({ intent: moved, update: { ...cardUpdate(moved, context.clock()), text: undefined } });
  }
  return expired;
}
