/**
 * What the user is shown as an intent moves: the card as it looks now, and the sentence that goes
 * with it (fills, rejections, why a press changed nothing). Wording lives here, decisions elsewhere.
 */
import type { BrokerOrder } from '../brokers/broker.js';
import type { IntentStatus, OrderStatus } from '../db/generated/enums.js';
import { OPTION_CONTRACT_MULTIPLIER } from '../domain/contract-multiplier.js';
import { Decimal, formatDecimal, formatUsd } from '../domain/values.js';
import type { Card } from '../messages.js';
import { renderApprovalCard, renderIntentCard } from './confirmation-card.js';
import {
  compactUsd,
  coveringShares,
  instrumentLabel,
  premiumLabel,
  securedCash,
} from './instrument-label.js';
import type { IntentRow } from './intent-row.js';
import { describeSwap, swapOf } from './swaps.js';

/** What to show after a button press or an order update. */
export type IntentUpdate = IntentNotice | IntentCardUpdate;

/** Only the presser sees this; nothing changed. */
export interface IntentNotice {
  readonly kind: 'notice';
  readonly text: string;
}

/**
 * The card changed (edit it) and, optionally, a message for the chat. Four-eyes intents also
 * carry the approval card as it looks now (posted to the chat the first time).
 */
export interface IntentCardUpdate {
  readonly kind: 'updated';
  readonly intentId: string;
  /** The status the card shows (what the user has been told once it is delivered). */
  readonly status: IntentStatus;
  readonly card: Card;
  readonly approvalCard?: Card;
  readonly text?: string;
  /**
   * The card the intent's row names. A press may come from another copy of it (a card shown twice
   * after a crash between the platform's answer and our write): both are edited.
   */
  readonly cardMessageId?: string;
}

/** Hooks into an execution. */
export interface ExecutionObserver {
  /**
   * Called once the decision is made (the intent is submitting and its order row exists), before
   * the broker is called: channels show "placing the order" and remove the buttons at once.
   */
  readonly onDecided?: (update: IntentCardUpdate) => void;
}

/**
 * The intent's card as it looks at `now`, with an optional sentence for the chat; `filledQuantity`
 * (what its order had filled, when known) lets a cancelled card say how much had filled.
 */
export function cardUpdate(
  intent: IntentRow,
  now: Date,
  text?: string,
  filledQuantity?: Decimal,
): IntentCardUpdate {
  return {
    kind: 'updated',
    intentId: intent.id,
    status: intent.status,
    card: renderIntentCard(intent, filledQuantity === undefined ? { now } : { now, filledQuantity }),
    ...(intent.cardMessageId === null ? {} : { cardMessageId: intent.cardMessageId }),
    // Four-eyes: the approval card exists from the requester's Confirm on.
    ...(intent.requiresApproval && intent.confirmedAt !== null
      ? { approvalCard: renderApprovalCard(intent, { now }) }
      : {}),
    text,
  };
}

export function notice(text: string): IntentNotice {
  return { kind: 'notice', text };
}

/** What a broker's answer means for the user: "Filled (PAPER): bought 10 AAPL at $214.57." */
export function describeOrder(status: IntentStatus, order: BrokerOrder, intent: IntentRow): string {
  const swap = swapOf(intent);
  if (swap !== undefined) {
    return describeSwap(status, intent, swap, {
      // A wallet reports what a completed swap received as its fill's quantity x price.
      received: order.fills[0] === undefined ? undefined : order.fills[0].quantity.mul(order.fills[0].price),
      reason: order.rejectReason,
    });
  }
  const label = instrumentLabel(intent);
  const what = `${intent.side === 'buy' ? 'bought' : 'sold'} ${formatDecimal(order.filledQuantity)} ${label}`;
  const asked = `${intent.side}${optionEffect(intent)}`;
  const mode = intent.mode === 'live' ? 'LIVE' : 'PAPER';
  const at = fillPrice(intent, order);
  switch (status) {
    case 'filled':
      return `Filled (${mode}): ${what} at ${at}.`;
    case 'partially_filled':
      return `Partially filled (${mode}): ${what} so far at ${at}.`;
    case 'submitted':
      return `Order placed (${mode}) and working at the broker: ${asked} ${formatDecimal(order.quantity ?? order.notional ?? 0)} ${label}.`;
    case 'rejected':
      return `The broker rejected the order: ${order.rejectReason ?? 'no reason given'}.`;
    case 'cancelled':
      return `Order cancelled (${mode}): ${asked} ${label}.`;
    case 'expired':
      return `Order expired unfilled (${mode}): ${asked} ${label}.`;
    default:
      return `Order ${status.replace('_', ' ')}.`;
  }
}

/** " to open" / " to close" for an option whose effect is known; nothing otherwise. */
function optionEffect(intent: IntentRow): string {
  return intent.assetClass === 'option' && intent.positionEffect !== null
    ? ` to ${intent.positionEffect}`
    : '';
}

/**
 * The average fill price; for options per share and per contract, the total when several
 * contracts filled, and what an opening sale sets aside: "$8.45 a share, $845 a contract
 * ($19,000 secured)".
 */
function fillPrice(intent: IntentRow, order: BrokerOrder): string {
  const average = order.averageFillPrice ?? 0;
  if (intent.assetClass !== 'option') return formatUsd(average);
  const notes: string[] = [];
  if (order.filledQuantity.abs().greaterThan(1)) {
    notes.push(
      `${compactUsd(new Decimal(average).mul(order.filledQuantity).mul(OPTION_CONTRACT_MULTIPLIER))} in all`,
    );
  }
  if (intent.side === 'sell' && intent.positionEffect === 'open' && intent.optionStrike !== null) {
    notes.push(
      intent.optionRight === 'put'
        ? `${compactUsd(securedCash(intent.optionStrike.toString(), order.filledQuantity))} secured`
        : `covered by ${formatDecimal(coveringShares(order.filledQuantity))} ${intent.optionUnderlying ?? intent.symbol} shares`,
    );
  }
  return `${premiumLabel(average)}${notes.length === 0 ? '' : ` (${notes.join('; ')})`}`;
}

const ALREADY: Partial<Record<IntentStatus, string>> = {
  awaiting_approval: 'is already confirmed and waiting for an admin',
  confirmed: 'is already confirmed',
  submitting: 'is already being placed',
  submitted: 'was already placed',
  partially_filled: 'was already placed',
  filled: 'was already filled',
  cancelled: 'was cancelled',
  expired: 'expired',
  rejected: 'was refused',
  failed: 'failed',
};

/** A press that came too late: where the intent already is, and that nothing more was done. */
export function alreadyDecided(status: IntentStatus): IntentNotice {
  return notice(`This order ${ALREADY[status] ?? `is ${status}`}; nothing more was done.`);
}

/**
 * One line of the answer to "cancel all" / "cancel <id>": what the broker said about the cancel,
 * never more than it said. A cancel the broker has only accepted is followed until it ends.
 */
export function describeCancel(label: string, broker: string, status: OrderStatus): string {
  switch (status) {
    case 'cancelled':
      return `${label} cancelled`;
    case 'cancel_requested':
      return `${label}: cancel requested; ${broker} has not confirmed it yet, I will tell you when it does`;
    case 'filled':
      return `${label} not cancelled: it had already filled`;
    case 'partially_filled':
      return `${label}: partly filled; ${broker} has not confirmed the cancel of the rest yet, I will tell you when it does`;
    default:
      return `${label} not cancelled: ${broker} reports it ${status.replace('_', ' ')}`;
  }
}

/** "Refused: <reason>. Nothing was sent." from a reason that may already be a sentence. */
export function refusedSentence(reason: string): string {
  const sentence = reason.endsWith('.') ? reason : `Refused: ${reason}.`;
  return sentence.includes('Nothing was sent') ? sentence : `${sentence} Nothing was sent.`;
}
