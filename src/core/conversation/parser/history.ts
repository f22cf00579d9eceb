/**
 * "history", "fills", "trades AAPL this week", "history page 2": what was ordered and what was
 * executed, newest first. The words after the first may come in any order; anything else makes
 * the message unknown (with a reason), never a guess.
 */
import type { Command, HistoryPeriod, UnknownCommand } from '../commands.js';
import { Fail, type ParseContext } from './orders.js';
import { resolveSymbolAt } from './symbols.js';
import type { Token } from './tokens.js';

/** First words that ask for the order history or the fills. */
export const HISTORY_STARTERS: ReadonlyMap<string, 'history' | 'fills'> = new Map([
  ['history', 'history'],
  ['fills', 'fills'],
  ['trades', 'fills'],
  ['executions', 'fills'],
]);

/** Words before the list's name that change nothing: "show my fills", "my trade history". */
const LEADING: ReadonlySet<string> = new Set(['show', 'list', 'my', 'me', 'the', 'order', 'orders', 'trade']);
const FILLER: ReadonlySet<string> = new Set(['for', 'in', 'on', 'of', 'from', 'since', 'please', 'pls']);
const PERIODS: ReadonlyMap<string, HistoryPeriod> = new Map([
  ['today', 'today'],
  ['week', 'week'],
  ['month', 'month'],
]);
/** Pages beyond this are a typo: nobody pages through 10,000 fills in a chat. */
const MAX_PAGE = 1000;

const unknown = (reason: string): UnknownCommand => ({ kind: 'unknown', reason });

/** Where the list's name is (after "show my", "order", ...), or undefined when this is not a history request. */
export function findHistoryStart(tokens: readonly Token[], start: number, end: number): number | undefined {
  let at = start;
  while (at < end && LEADING.has(tokens[at]?.low ?? '') && !HISTORY_STARTERS.has(tokens[at]?.low ?? '')) at++;
  const word = tokens[at];
  if (word === undefined || word.kind !== 'word' || !HISTORY_STARTERS.has(word.low)) return undefined;
  // "order history" and "trade history" are history; a bare leading "orders" is the open orders.
  return at;
}

/** Parses from the list's name (see findHistoryStart) to the end. */
export function parseHistory(
  tokens: readonly Token[],
  at: number,
  end: number,
  context: ParseContext,
): Command {
  const query = HISTORY_STARTERS.get(tokens[at]?.low ?? '') ?? 'history';
  let symbol: string | undefined;
  let period: HistoryPeriod | undefined;
  let page: number | undefined;
  let i = at + 1;
  while (i < end) {
    const token = tokens[i];
    if (token === undefined) break;
    const low = token.low;
    if (token.kind === 'punct' || FILLER.has(low) || low === 'this') {
      i++;
      continue;
    }
    const named = PERIODS.get(low);
    if (named !== undefined) {
      if (period !== undefined && period !== named)
        return unknown('one period at a time: today, week or month');
      period = named;
      i++;
      continue;
    }
    if (low === 'page' || low === 'p') {
      const number = pageAt(tokens[i + 1]);
      if (number instanceof Fail) return unknown(number.reason);
      page = number;
      i += 2;
      continue;
    }
    if (token.kind === 'number') {
      const number = pageAt(token);
      if (number instanceof Fail) return unknown(number.reason);
      page = number;
      i++;
      continue;
    }
    const resolved = resolveSymbolAt(tokens, i, end, context.symbols, true);
    if (resolved === undefined)
      return unknown(`"${token.raw}" is not a symbol, a period (today, week, month) or a page`);
    if (symbol !== undefined) return unknown('one symbol at a time');
    symbol = resolved.value.symbol;
    i = resolved.next;
  }
  return {
    kind: 'query',
    query,
    ...(symbol === undefined ? {} : { symbol }),
    ...(period === undefined ? {} : { period }),
    ...(page === undefined ? {} : { page }),
  };
}

function pageAt(token: Token | undefined): number | Fail {
  if (token === undefined || token.kind !== 'number' || token.value === undefined || token.suffix)
    return new Fail('which page? For example: fills page 2');
  const page = Number(token.value);
  if (!Number.isInteger(page) || page < 1 || page > MAX_PAGE)
    return new Fail(`pages are numbered 1 to ${MAX_PAGE}`);
  return page;
}
