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
import {
  compactUsd,
  contractsLabel,
  coveringShares,
  instrumentLabel,
  premiumLabel,
  securedCash,
  strikeLabel,
} from './instrument-label.js';
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
  const label = instrumentLabel(intent);
  if (label !== intent.symbol) {
    const contracts = intent.quantity ? formatDecimal(intent.quantity.toString()) : '?';
    const effect = intent.positionEffect ? ` TO ${intent.positionEffect.toUpperCase()}` : '';
    return `${intent.side.toUpperCase()}${effect} ${contracts} ${label}`;
  }
  if (intent.notional !== null)
    return `${intent.side.toUpperCase()} ${formatUsd(intent.notional.toString())} of ${intent.symbol}`;
  return `${intent.side.toUpperCase()} ${formatDecimal(intent.quantity?.toString() ?? '0')} ${intent.symbol}`;
}

/** An option's price per share and per contract; anything else's price as it is. */
function priceLabel(intent: IntentRow, price: { toString(): string }): string {
  return intent.assetClass === 'option' ? premiumLabel(price.toString()) : formatUsd(price.toString());
}

/**
 * What stands behind an option sold to open: the cash a put secures (strike x 100 x contracts)
 * or the shares that cover a call. Nothing for other orders.
 */
function coverFields(intent: IntentRow): CardField[] {
  if (intent.assetClass !== 'option' || intent.side !== 'sell' || intent.positionEffect !== 'open') return [];
  if (intent.optionStrike === null || intent.quantity === null) return [];
  const contracts = intent.quantity.toString();
  if (intent.optionRight === 'put') {
    const cash = securedCash(intent.optionStrike.toString(), contracts);
    return [
      {
        label: 'Cash secured',
        value: `${compactUsd(cash)} (${strikeLabel(intent.optionStrike)} strike x 100 x ${contractsLabel(contracts)})`,
      },
    ];
  }
  const underlying = intent.optionUnderlying ?? intent.symbol;
  return [
    {
      label: 'Covered by',
      value: `${formatDecimal(coveringShares(contracts))} ${underlying} shares you hold (100 a contract)`,
    },
  ];
}

function orderFields(intent: IntentRow, quoteSource?: string): CardField[] {
  const swap = swapOf(intent);
  if (swap !== undefined) return swapCardFields(intent, swap);
  const type = ORDER_TYPE_LABEL[intent.orderType];
  const prices = [
    intent.stopPrice !== null ? `stop ${priceLabel(intent, intent.stopPrice)}` : '',
    intent.limitPrice !== null ? `limit ${priceLabel(intent, intent.limitPrice)}` : '',
  ].filter(Boolean);
  const fields: CardField[] = [
    { label: 'Order', value: describeSize(intent) },
    {
      label: 'Type',
      // An option's prices carry commas of their own ("a share, ... a contract").
      value: `${type}${prices.length ? ` (${prices.join(intent.assetClass === 'option' ? '; ' : ', ')})` : ''}, ${TIF_LABEL[intent.timeInForce]}`,
    },
  ];
  if (intent.quotedPrice !== null) {
    fields.push({
      label: 'Price now',
      value: `${priceLabel(intent, intent.quotedPrice)}${quoteSource ? ` (${quoteSource})` : ''}`,
    });
  }
  if (intent.estimatedCost !== null) {
    fields.push({
      label: intent.side === 'buy' ? 'Est. cost' : 'Est. proceeds',
      value: formatUsd(new Decimal(intent.estimatedCost.toString())),
    });
  }
  fields.push(...coverFields(intent));
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

/**
 * Whether the order reached the broker: its placement was claimed (confirmedAt) and, on a
 * four-eyes order, an admin approved it (the requester's Confirm alone sets confirmedAt too).
 * A cancelled intent that was sent was cancelled at the broker, not before anything was sent.
 */
function wasSent(intent: IntentRow): boolean {
  return intent.confirmedAt !== null && (!intent.requiresApproval || intent.approvedAt !== null);
}

/** "Cancelled at the broker." or, when part had filled, "Cancelled; 3 of 10 had filled." */
function cancelledNotice(intent: IntentRow, filled: Decimal | undefined): string {
  if (!wasSent(intent)) return STATUS_NOTICE.cancelled;
  if (filled === undefined || !filled.greaterThan(0)) return 'Cancelled at the broker.';
  const of = intent.quantity === null ? '' : ` of ${formatDecimal(intent.quantity.toString())}`;
  return `Cancelled; ${formatDecimal(filled.toString())}${of} had filled.`;
}

function closedNotice(intent: IntentRow, filled?: Decimal): string {
  const notice =
    (intent.swap !== null ? SWAP_NOTICE[intent.status] : undefined) ??
    (intent.status === 'cancelled' ? cancelledNotice(intent, filled) : STATUS_NOTICE[intent.status]);
  return `${notice}${intent.statusReason && !['filled', 'submitted'].includes(intent.status) ? ` (${intent.statusReason})` : ''}`;
}

/**
 * The requester's card. `filledQuantity` is what its order had filled, when known: a working
 * order cancelled after part of it filled says how much.
 */
export function renderIntentCard(
  intent: IntentRow,
  options: { now: Date; quoteSource?: string; filledQuantity?: Decimal },
): Card {
  const live = intent.expiresAt > options.now;
  const open = intent.status === 'proposed' && live;
  const waiting = intent.status === 'awaiting_approval' && live;
  const note = limitNote(intent);
  const seconds = secondsLeft(intent, options.now);
  const approval = intent.requiresApproval ? 'After you confirm, an admin must approve it. ' : '';
  const notice = open
    ? `${note ? `${note} ` : ''}${intent.statusReason ? `${capitalize(intent.statusReason)}. ` : ''}${approval}Confirm within ${seconds} s. Only you can confirm.`
    : waiting
      ? `Waiting for an admin to approve (within ${seconds} s). You can still cancel.`
      : closedNotice(intent, options.filledQuantity);
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

/** How far a limit may sit from the touch before the card warns: beyond it, usually a typo. */
const FAR_LIMIT = new Decimal('0.2');

/**
 * What the card says about a limit price against the touch it was quoted at (the ask for a buy,
 * the bid for a sale). A limit through the touch (a buy at or above the ask, a sale at or below the
 * bid) is marketable: it will likely fill now at about the touch, and a far one is flagged, since a
 * typo there costs money. A limit far on the other side may not fill soon. Stop-limits are left
 * alone: their limit applies only once the stop triggers.
 */
export function limitNote(
  intent: Pick<IntentRow, 'side' | 'orderType' | 'limitPrice' | 'quotedPrice'>,
): string | undefined {
  if (intent.orderType !== 'limit' || intent.limitPrice === null || intent.quotedPrice === null)
    return undefined;
  const touch = new Decimal(intent.quotedPrice.toString());
  if (!touch.greaterThan(0)) return undefined;
  const limit = new Decimal(intent.limitPrice.toString());
  const buy = intent.side === 'buy';
  const percent = limit.sub(touch).abs().div(touch);
  const away = `${percent.mul(100).toDecimalPlaces(0).toFixed()}%`;
  const marketable = buy ? limit.greaterThanOrEqualTo(touch) : limit.lessThanOrEqualTo(touch);
  if (marketable) {
    const check = percent.greaterThan(FAR_LIMIT)
      ? ` The limit ${formatUsd(limit)} is ${away} ${buy ? 'above the ask' : 'below the bid'}: check it.`
      : '';
    return `Note: this will likely fill now at about ${formatUsd(touch)}.${check}`;
  }
  if (!percent.greaterThan(FAR_LIMIT)) return undefined;
  return `Note: the limit is ${away} ${buy ? 'below the ask' : 'above the bid'} and may not fill soon.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
