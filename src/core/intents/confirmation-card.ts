/**
 * Renders an intent as a confirmation card: the exact order, the estimate, the account, PAPER or
 * LIVE, and buttons while (and only while) it can still be confirmed.
 */
import type { Prisma } from '../db/database.js';
import { Decimal, formatDecimal, formatUsd } from '../domain/values.js';
import {
  ACTION_APPROVE,
  ACTION_CANCEL,
  ACTION_CONFIRM,
  ACTION_DECLINE,
  actionId,
  type Card,
  type CardField,
} from '../messages.js';
import { swapCardFields, swapOf } from './swaps.js';

type IntentRow = Prisma.TradeIntentGetPayload<object>;

const ORDER_TYPE_LABEL = {
  market: 'Market',
  limit: 'Limit',
  stop: 'Stop',
  stop_limit: 'Stop limit',
} as const;
const TIF_LABEL = {
  day: 'day',
  gtc: 'good till cancelled',
  ioc: 'immediate or cancel',
  fok: 'fill or kill',
} as const;

const STATUS_NOTICE: Record<IntentRow['status'], string> = {
  proposed: '',
  awaiting_approval: 'Confirmed by the requester; waiting for an admin to approve.',
  confirmed: 'Confirmed. Placing the order...',
  submitting: 'Placing the order...',
  submitted: 'Placed: working at the broker.',
  partially_filled: 'Partially filled.',
  filled: 'Filled.',
  rejected: 'Refused.',
  cancelled: 'Cancelled. Nothing was sent.',
  expired: 'Expired: not confirmed in time. Nothing was sent.',
  failed: 'Failed. Nothing was sent.',
};

function describeSize(intent: IntentRow): string {
  if (
    intent.assetClass === 'option' &&
    intent.optionUnderlying &&
    intent.optionExpiry &&
    intent.optionRight &&
    intent.optionStrike
  ) {
    const contracts = intent.quantity ? formatDecimal(intent.quantity.toString()) : '?';
    const effect = intent.positionEffect ? ` to ${intent.positionEffect}` : '';
    return `${intent.side.toUpperCase()}${effect} ${contracts} ${intent.optionUnderlying} ${intent.optionExpiry.toISOString().slice(0, 10)} ${formatDecimal(intent.optionStrike.toString())} ${intent.optionRight.toUpperCase()}`;
  }
  if (intent.notional !== null)
    return `${intent.side.toUpperCase()} ${formatUsd(intent.notional.toString())} of ${intent.symbol}`;
  return `${intent.side.toUpperCase()} ${formatDecimal(intent.quantity?.toString() ?? '0')} ${intent.symbol}`;
}

function orderFields(intent: IntentRow, quoteSource?: string): CardField[] {
  const swap = swapOf(intent);
  if (swap !== undefined) return swapCardFields(intent, swap);
  const type = ORDER_TYPE_LABEL[intent.orderType];
  const prices = [
    intent.stopPrice !== null ? `stop ${formatUsd(intent.stopPrice.toString())}` : '',
    intent.limitPrice !== null ? `limit ${formatUsd(intent.limitPrice.toString())}` : '',
  ].filter(Boolean);
  const fields: CardField[] = [
    { label: 'Order', value: describeSize(intent) },
    {
      label: 'Type',
      value: `${type}${prices.length ? ` (${prices.join(', ')})` : ''}, ${TIF_LABEL[intent.timeInForce]}`,
    },
  ];
  if (intent.quotedPrice !== null) {
    fields.push({
      label: 'Price now',
      value: `${formatUsd(intent.quotedPrice.toString())}${quoteSource ? ` (${quoteSource})` : ''}`,
    });
  }
  if (intent.estimatedCost !== null) {
    fields.push({
      label: intent.side === 'buy' ? 'Est. cost' : 'Est. proceeds',
      value: formatUsd(new Decimal(intent.estimatedCost.toString())),
    });
  }
  fields.push({ label: 'Account', value: intent.mode === 'live' ? 'Live account' : 'Paper account' });
  return fields;
}

function secondsLeft(intent: IntentRow, now: Date): number {
  return Math.max(0, Math.round((intent.expiresAt.getTime() - now.getTime()) / 1000));
}

/** Where a swap's words differ from an order's. */
const SWAP_NOTICE: Partial<Record<IntentRow['status'], string>> = {
  confirmed: 'Confirmed. Sending the swap...',
  submitting: 'Sending the swap...',
  submitted: 'Sent: waiting for the network to complete it.',
  filled: 'Swap complete.',
  rejected: 'The swap did not happen.',
};

function closedNotice(intent: IntentRow): string {
  const notice =
    (intent.swap !== null ? SWAP_NOTICE[intent.status] : undefined) ?? STATUS_NOTICE[intent.status];
  return `${notice}${intent.statusReason && !['filled', 'submitted'].includes(intent.status) ? ` (${intent.statusReason})` : ''}`;
}

/** The requester's card. */
export function renderIntentCard(intent: IntentRow, options: { now: Date; quoteSource?: string }): Card {
  const live = intent.expiresAt > options.now;
  const open = intent.status === 'proposed' && live;
  const waiting = intent.status === 'awaiting_approval' && live;
  const farLimit = limitFarFromMarket(intent);
  const seconds = secondsLeft(intent, options.now);
  const approval = intent.requiresApproval ? 'After you confirm, an admin must approve it. ' : '';
  const notice = open
    ? `${farLimit ? `${farLimit} ` : ''}${intent.statusReason ? `${capitalize(intent.statusReason)}. ` : ''}${approval}Confirm within ${seconds} s. Only you can confirm.`
    : waiting
      ? `Waiting for an admin to approve (within ${seconds} s). You can still cancel.`
      : closedNotice(intent);
  const number = intent.cardNumber === null ? '' : ` #${intent.cardNumber}`;
  const cancel = {
    id: actionId(ACTION_CANCEL, intent.id),
    label: `Cancel${number}`,
    style: 'danger',
  } as const;
  return {
    title: intent.cardNumber === null ? titleOf(intent) : `Card #${intent.cardNumber} · ${titleOf(intent)}`,
    ...(intent.cardNumber === null ? {} : { number: intent.cardNumber }),
    badge: intent.mode === 'live' ? 'LIVE' : 'PAPER',
    fields: orderFields(intent, options.quoteSource),
    notice,
    // The buttons say the number too: typing "confirm 12" is pressing "Confirm #12".
    actions: open
      ? [{ id: actionId(ACTION_CONFIRM, intent.id), label: `Confirm${number}`, style: 'primary' }, cancel]
      : waiting
        ? [cancel]
        : [],
  };
}

/** One line naming what a card is for: "BUY 1 AAPL", "SWAP 0.1 ETH → USDC". */
export function cardSummary(intent: IntentRow): string {
  const swap = swapOf(intent);
  if (swap !== undefined)
    return `SWAP ${formatDecimal(intent.quantity?.toString() ?? '0')} ${intent.symbol} → ${swap.toToken}`;
  return describeSize(intent);
}

/** Four-eyes: the card the whole chat sees, asking an admin other than the requester to approve. */
export function renderApprovalCard(intent: IntentRow, options: { now: Date }): Card {
  const waiting = intent.status === 'awaiting_approval' && intent.expiresAt > options.now;
  const decided =
    intent.approverUserId !== null && intent.status !== 'rejected' ? 'Approved by an admin. ' : '';
  return {
    title: `Approve${intent.cardNumber === null ? '' : ` card #${intent.cardNumber}`}: ${titleOf(intent).replace(/^./, (first) => first.toLowerCase())}`,
    badge: intent.mode === 'live' ? 'LIVE' : 'PAPER',
    fields: orderFields(intent),
    notice: waiting
      ? `Above the team's approval limit. An admin other than the requester must approve within ${secondsLeft(intent, options.now)} s.`
      : `${decided}${closedNotice(intent)}`,
    actions: waiting
      ? [
          { id: actionId(ACTION_APPROVE, intent.id), label: 'Approve', style: 'primary' },
          { id: actionId(ACTION_DECLINE, intent.id), label: 'Decline', style: 'danger' },
        ]
      : [],
  };
}

function titleOf(intent: IntentRow): string {
  const swap = swapOf(intent);
  if (swap !== undefined) return `Swap ${intent.symbol} → ${swap.toToken}?`;
  return `${intent.side === 'buy' ? 'Buy' : 'Sell'} ${intent.symbol}?`;
}

/** A warning when a limit sits more than 20% away from the market: usually a typo. */
function limitFarFromMarket(intent: IntentRow): string | undefined {
  if (intent.limitPrice === null || intent.quotedPrice === null) return undefined;
  const market = new Decimal(intent.quotedPrice.toString());
  if (market.isZero()) return undefined;
  const distance = new Decimal(intent.limitPrice.toString()).sub(market).abs().div(market);
  if (distance.lessThanOrEqualTo('0.2')) return undefined;
  return `Note: the limit is ${distance.mul(100).toDecimalPlaces(0).toFixed()}% away from the market and may not fill soon.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
