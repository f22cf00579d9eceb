/**
 * Typed answers to confirmation cards: "confirm 12", "yes #12", "confirm card 12", "cancel #12",
 * "no 12", and the bare words ("confirm", "yes", "ok", "y"; "cancel", "no", "n"). A number here is
 * a card's number, except after "cancel" (or "cancel order") without "#": 8 digits or more there
 * are an order id, whose shown 8-character prefix is all digits for about 1 id in 50 ("cancel
 * 30591847"); no user reaches card number 10,000,000.
 */
import type { CardCommand, UnknownCommand } from '../commands.js';
import type { Token } from './tokens.js';

const CONFIRM_WORDS: ReadonlySet<string> = new Set(['confirm', 'yes', 'ok', 'okay', 'y']);
const CANCEL_WORDS: ReadonlySet<string> = new Set(['cancel', 'no', 'n']);
/** Words that may stand between the verb and the number: "confirm card 12", "cancel order #12". */
const NOUNS: ReadonlySet<string> = new Set(['card', 'order']);
/** Longer numbers are no card's (a JS number holds 15 digits exactly). */
const MAX_DIGITS = 15;
/** The length of an order id's shown prefix: a cancel with this many digits names an order. */
const ORDER_ID_PREFIX_DIGITS = 8;

/**
 * The card answer in tokens[start, end), or undefined when the message is not one (it may still
 * be an order cancel or anything else). Unknown, with its reason, for a card number that is not a
 * whole number.
 */
export function parseCardAnswer(
  tokens: readonly Token[],
  start: number,
  end: number,
): CardCommand | UnknownCommand | undefined {
  const first = tokens[start];
  if (first === undefined || first.kind !== 'word') return undefined;
  const verb = CONFIRM_WORDS.has(first.low) ? 'confirm' : CANCEL_WORDS.has(first.low) ? 'cancel' : undefined;
  if (verb === undefined) return undefined;
  if (start + 1 === end) return { kind: 'card', verb };
  let i = start + 1;
  const noun = NOUNS.has(tokens[i]?.low ?? '') && i + 1 < end ? tokens[i]?.low : undefined;
  if (noun !== undefined) i++;
  const hash = tokens[i]?.raw === '#';
  if (hash) i++;
  const negative = tokens[i]?.raw === '-';
  if (negative) i++;
  const number = tokens[i];
  if (number === undefined || number.kind !== 'number' || i + 1 !== end) return undefined;
  // "cancel 3f2a9c1e" starts with digits too: letters glued on make it an order id, not a card.
  if (number.suffix !== undefined && number.suffix !== '') return undefined;
  const value = number.value;
  const orderId =
    first.low === 'cancel' && !hash && noun !== 'card' && !negative && /^\d+$/.test(value ?? '');
  if (orderId && (value?.length ?? 0) >= ORDER_ID_PREFIX_DIGITS) return undefined;
  if (value === undefined || value.length > MAX_DIGITS)
    return { kind: 'unknown', reason: `no card has a number that long; cards are numbered 1, 2, 3...` };
  if (value.includes('.'))
    return { kind: 'unknown', reason: `card numbers are whole numbers, like "${verb} 12"` };
  return { kind: 'card', verb, number: negative ? -Number(value) : Number(value) };
}
