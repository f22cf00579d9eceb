/**
 * What to say about a card a typed answer cannot act on: "Card #12 (BUY 1 AAPL) expired at 10:02
 * EST; nothing was sent.", "Card #12 (BUY 1 AAPL) was already confirmed: filled, bought 1 AAPL at
 * $214.57.", and the list shown when a bare "confirm" could mean several cards. Pure wording.
 */
import { clockTime } from '../domain/time-zones.js';
import { formatDecimal, formatUsd } from '../domain/values.js';
import { cardSummary } from '../intents/confirmation-card.js';
import type { IntentRow } from '../intents/intent-row.js';

/** What the card's order did, when it got that far (its order row). */
export interface CardFill {
  readonly filledQuantity: { toString(): string };
  readonly averageFillPrice: { toString(): string } | null;
}

/** "Card #12 (BUY 1 AAPL)", or "Your last card (BUY 1 AAPL)" for an unnumbered one. */
export function cardName(intent: IntentRow): string {
  const what = cardSummary(intent);
  return intent.cardNumber === null ? `Your last card (${what})` : `Card #${intent.cardNumber} (${what})`;
}

/** "#12 BUY 1 AAPL, #13 BUY 2 TSLA". */
export function cardList(intents: readonly IntentRow[]): string {
  return intents.map((intent) => `#${intent.cardNumber ?? '?'} ${cardSummary(intent)}`).join(', ');
}

/**
 * Where a card stands, for an answer that changed nothing: expired, cancelled, already confirmed
 * (and how far its order got), refused. `timeZone` is the user's, for the expiry time; `fill` is
 * the card's order row, when it was confirmed.
 */
export function describeCardState(
  intent: IntentRow,
  options: { readonly now: Date; readonly timeZone: string; readonly fill?: CardFill | null },
): string {
  const name = cardName(intent);
  const fill = options.fill ?? null;
  const open = intent.status === 'proposed' || intent.status === 'awaiting_approval';
  const reason = intent.statusReason === null ? '' : ` (${intent.statusReason})`;
  if (fill !== null && (intent.status === 'cancelled' || intent.status === 'expired'))
    // Confirmed and placed, then ended at the broker: something may have filled.
    return `${name} was placed, then ${intent.status}${wrap(filledPart(intent, fill), ' (', ' before that)')}.`;
  if (intent.status === 'expired' || (open && intent.expiresAt <= options.now))
    return `${name} expired at ${clockTime(intent.expiresAt, options.now, options.timeZone)}; nothing was sent.`;
  switch (intent.status) {
    case 'proposed':
      return `${name} is still open: it waits for your answer.`;
    case 'awaiting_approval':
      return `${name} is already confirmed and waits for an admin to approve it.`;
    case 'cancelled':
      // "cancelled on the card" adds nothing; "its strategy is stopped" does.
      return `${name} was cancelled${intent.statusReason?.startsWith('cancelled') ? '' : reason}; nothing was sent.`;
    case 'rejected':
      return `${name} was refused${reason}.`;
    case 'failed':
      return `${name} failed${reason}.`;
    case 'filled':
      return `${name} was already confirmed: filled${wrap(filledPart(intent, fill), ', ')}.`;
    case 'partially_filled':
      return `${name} was already confirmed: partly filled${wrap(filledPart(intent, fill), ', ', ' so far')}.`;
    case 'submitted':
      return `${name} was already confirmed: placed, working at the broker.`;
    default:
      return `${name} was already confirmed: the order is being placed.`;
  }
}

/** "bought 1 AAPL at $214.57", or nothing when nothing filled (or the order row is unknown). */
function filledPart(intent: IntentRow, fill: CardFill | null): string {
  if (fill === null) return '';
  const filled = formatDecimal(fill.filledQuantity.toString());
  if (filled === '0') return '';
  const price = fill.averageFillPrice === null ? '' : ` at ${formatUsd(fill.averageFillPrice.toString())}`;
  return `${intent.side === 'buy' ? 'bought' : 'sold'} ${filled} ${intent.symbol}${price}`;
}

function wrap(part: string, before: string, after = ''): string {
  return part === '' ? '' : `${before}${part}${after}`;
}
