/**
 * The deterministic fast path: plain commands become `Command`s without the LLM, in microseconds.
 * It never guesses: anything not fully understood is `unknown` with a short reason, and the LLM
 * (when configured) takes over.
 */
import type { Command, UnknownCommand } from '../commands.js';
import { AUTOMATION_STARTERS, parseAutomation } from './automation.js';
import { parseCardAnswer } from './cards.js';
import { findHistoryStart, parseHistory } from './history.js';
import { parseOptionQuery } from './option-queries.js';
import { Fail, ORDER_VERBS, type ParseContext, parseOrder } from './orders.js';
import { FIXED_PHRASES, QUOTE_TEMPLATES } from './phrases.js';
import { parseSwap, SWAP_VERBS } from './swaps.js';
import { ENGLISH_TICKER_WORDS, resolveSymbolAt } from './symbols.js';
import { type Token, tokenize } from './tokens.js';

export type { ParseContext } from './orders.js';

/** Longer messages are never plain commands; skip the work. */
export const MAX_MESSAGE_LENGTH = 500;

const LEADING_POLITE: ReadonlySet<string> = new Set(['please', 'pls', 'plz']);
/** Stripped from the end of queries and actions ("balance please", "positions?"). */
const QUERY_TRAILER: ReadonlySet<string> = new Set(['please', 'pls', 'plz', 'thanks', 'thx', '?', '!', '.']);

/** Words that make a message about trading, for explaining why it is not an order. */
const TRADE_WORDS: ReadonlySet<string> = new Set([
  'buy',
  'sell',
  'purchase',
  'buying',
  'selling',
  'bought',
  'sold',
  'short',
]);
/** Words that turn a request around; a "did you mean" never rewrites them. */
export const NEGATIONS: ReadonlySet<string> = new Set([
  "don't",
  'dont',
  'not',
  'never',
  'no',
  "won't",
  'wont',
  'cannot',
  "can't",
  'cant',
  "shouldn't",
  "mustn't",
  "didn't",
]);
export const CONDITIONS: ReadonlySet<string> = new Set([
  'if',
  'when',
  'whenever',
  'once',
  'unless',
  'until',
  'after',
  'before',
  'drops',
  'dips',
  'falls',
  'rises',
  'hits',
  'reaches',
  'crosses',
]);
/** A message starting with one of these asks something (a question, not a command). */
export const QUESTION_STARTERS: ReadonlySet<string> = new Set([
  'should',
  'can',
  'could',
  'would',
  'will',
  'shall',
  'may',
  'might',
  'is',
  'are',
  'am',
  'do',
  'does',
  'did',
  'what',
  "what's",
  'whats',
  'why',
  'how',
  'which',
  'who',
]);

function unknown(reason: string): UnknownCommand {
  return { kind: 'unknown', reason };
}

/**
 * What a chat message means. Pure and synchronous; never throws (a failing resolver makes the
 * message `unknown`).
 */
export function parseMessage(text: string, context: ParseContext): Command {
  try {
    return parse(text, context);
  } catch {
    return unknown('could not read that message');
  }
}

function parse(text: string, context: ParseContext): Command {
  if (typeof text !== 'string') return unknown('not a text message');
  if (text.length > MAX_MESSAGE_LENGTH) return unknown('too long for a quick command');
  const tokens = tokenize(text);
  let start = 0;
  const end = tokens.length;
  // Slash commands: "/buy 10 aapl", "/start".
  if (tokens[0]?.raw === '/' && tokens[1]?.kind === 'word' && tokens[1].start === 1) start = 1;
  while (start < end && LEADING_POLITE.has(tokens[start]?.low ?? '')) start++;
  if (start >= end) return unknown('empty message');
  const first = tokens[start];
  if (first !== undefined && first.kind === 'word' && ORDER_VERBS.has(first.low)) {
    const order = parseOrder(tokens, start, end, context);
    if (!(order instanceof Fail)) return order;
    // "sell half my ETH if it drops under 3k" is a stop monitor, not an order.
    const monitor = first.low === 'sell' ? parseAutomation(text, context) : undefined;
    if (monitor !== undefined) return monitor;
    return unknown(explain(tokens, start, end) ?? order.reason);
  }
  if (first !== undefined && first.kind === 'word' && SWAP_VERBS.has(first.low)) {
    const swap = parseSwap(tokens, start, end);
    if (!(swap instanceof Fail)) return swap;
    return unknown(swap.reason);
  }
  if (first !== undefined && AUTOMATION_STARTERS.has(first.low)) {
    const automation = parseAutomation(text, context);
    if (automation !== undefined) return automation;
  }
  const option = parseOptionQuery(tokens, start, end, context);
  if (option !== undefined) return option;
  const history = findHistoryStart(tokens, start, end);
  if (history !== undefined) return parseHistory(tokens, history, end, context);
  const understood = parseQueryOrAction(text, tokens, start, end, context);
  if (understood !== undefined && understood.kind !== 'unknown') return understood;
  return unknown(explain(tokens, start, end) ?? understood?.reason ?? 'not a command I know');
}

/**
 * Queries ("balance", "quote AAPL"), actions ("cancel all", "link schwab", "paper mode") and card
 * answers ("confirm 12", "no").
 */
function parseQueryOrAction(
  text: string,
  tokens: readonly Token[],
  start: number,
  fullEnd: number,
  context: ParseContext,
): Command | undefined {
  let end = fullEnd;
  while (end > start + 1 && QUERY_TRAILER.has(tokens[end - 1]?.low ?? '')) end--;
  if (end - start >= 2 && tokens[end - 2]?.low === 'thank' && tokens[end - 1]?.low === 'you') end -= 2;
  let key = tokens[start]?.low ?? '';
  for (let i = start + 1; i < end; i++) key += ` ${tokens[i]?.low ?? ''}`;
  const fixed = FIXED_PHRASES.get(key);
  if (fixed !== undefined) return { ...fixed };
  const card = parseCardAnswer(tokens, start, end);
  if (card !== undefined) return card;
  if (tokens[start]?.low === 'cancel') return parseCancel(text, tokens, start, end);
  return parseQuote(tokens, start, end, context);
}

/** Order ids as brokers and Arbion print them: letters, digits, dashes, at least one digit. */
const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const HAS_DIGIT = /\d/;

function parseCancel(text: string, tokens: readonly Token[], start: number, end: number): Command {
  let from = start + 1;
  if (tokens[from]?.low === 'order' && from + 1 < end) from++;
  const first = tokens[from];
  const last = tokens[end - 1];
  if (first === undefined || last === undefined || from >= end)
    return unknown('cancel what? Say "cancel all"');
  const target = text.slice(first.start, last.end);
  // "#12" names a card (parseCardAnswer); an order id never starts with "#".
  if (target.startsWith('#')) return unknown('a card is named by its number, like "cancel #12"');
  if (ORDER_ID.test(target) && HAS_DIGIT.test(target)) return { kind: 'action', action: 'cancel', target };
  return unknown('cancel needs a card number ("cancel #12"), an order id or "all"');
}

function parseQuote(
  tokens: readonly Token[],
  start: number,
  end: number,
  context: ParseContext,
): Command | undefined {
  const length = end - start;
  let failure: UnknownCommand | undefined;
  for (const template of QUOTE_TEMPLATES) {
    const before = template.before;
    const after = template.after;
    if (length < before.length + after.length + 1) continue;
    let matches = true;
    for (let k = 0; k < before.length && matches; k++) matches = tokens[start + k]?.low === before[k];
    const symbolEnd = end - after.length;
    for (let k = 0; k < after.length && matches; k++) matches = tokens[symbolEnd + k]?.low === after[k];
    if (!matches) continue;
    const symbolStart = start + before.length;
    const resolved = resolveSymbolAt(tokens, symbolStart, symbolEnd, context.symbols, true);
    if (resolved !== undefined && resolved.next === symbolEnd) {
      return { kind: 'query', query: 'quote', symbol: resolved.value.symbol };
    }
    const named = tokens[symbolStart];
    if (
      failure === undefined &&
      named !== undefined &&
      named.kind === 'word' &&
      symbolEnd - symbolStart === 1
    ) {
      failure = ENGLISH_TICKER_WORDS.has(named.low)
        ? unknown(
            `"${named.raw}" is a plain word here: type a ticker in capitals, e.g. ${named.raw.toUpperCase()}`,
          )
        : unknown(`unknown symbol "${named.raw}"`);
    }
  }
  return failure;
}

/**
 * Why a message that talks about trading is not an order: several orders, a negation, a condition
 * or a question. Undefined when none applies (the grammar's own reason is used then).
 */
function explain(tokens: readonly Token[], start: number, end: number): string | undefined {
  let verbs = 0;
  let negation = false;
  let condition = false;
  let question = QUESTION_STARTERS.has(tokens[start]?.low ?? '');
  for (let i = start; i < end; i++) {
    const token = tokens[i];
    if (token === undefined) continue;
    if (token.kind === 'punct') {
      if (token.raw === '?') question = true;
      continue;
    }
    if (token.kind !== 'word') continue;
    const low = token.low;
    if (TRADE_WORDS.has(low)) verbs++;
    else if (NEGATIONS.has(low)) negation = true;
    else if (CONDITIONS.has(low)) condition = true;
    else if (low === 'do' && tokens[i + 1]?.low === 'not') negation = true;
  }
  if (verbs === 0) return undefined;
  if (verbs >= 2) return 'several orders in one message: send one at a time';
  if (negation) return 'a negation, not an order';
  if (condition) return 'a conditional order: the quick parser only takes plain orders';
  if (question) return 'a question, not an order';
  return undefined;
}
