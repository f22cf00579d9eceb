/**
 * Typed answers to confirmation cards: "confirm 12", "yes #12", "confirm card 12", "cancel #12",
 * "no 12", and the bare words ("confirm", "yes", "ok", "y"; "cancel", "no", "n"). A number here is
 * always a card's number, never an order id (order ids are hex: "cancel 3f2a9c1e").
 */
import type { CardCommand, UnknownCommand } from '../commands.js';
import type { Token } from './tokens.js';

const CONFIRM_WORDS: ReadonlySet<string> = new Set(['confirm', 'yes', 'ok', 'okay', 'y']);
const CANCEL_WORDS: ReadonlySet<string> = new Set(['cancel', 'no', 'n']);
/** Words that may stand between the verb and the number: "confirm card 12", "cancel order #12". */
const NOUNS: ReadonlySet<string> = new Set(['card', 'order']);
/** Longer numbers are no card's (a JS number holds 15 digits exactly). */
const MAX_DIGITS = 15;

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
  if (NOUNS.has(tokens[i]?.low ?? '') && i + 1 < end) i++;
  if (tokens[i]?.raw === '#') i++;
  const negative = tokens[i]?.raw === '-';
  if (negative) i++;
  const number = tokens[i];
  if (number === undefined || number.kind !== 'number' || i + 1 !== end) return undefined;
  // "cancel 3f2a9c1e" starts with digits too: letters glued on make it an order id, not a card.
  if (number.suffix !== undefined && number.suffix !== '') return undefined;
  const value = number.value;
  if (value === undefined || value.length > MAX_DIGITS)
    return { kind: 'unknown', reason: `no card has a number that long; cards are numbered 1, 2, 3...` };
  if (value.includes('.'))
    return { kind: 'unknown', reason: `card numbers are whole numbers, like "${verb} 12"` };
  return { kind: 'card', verb, number: negative ? -Number(value) : Number(value) };
}
