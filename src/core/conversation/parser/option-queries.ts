/**
 * Option quotes and chains in plain words:
 *   quote AAPL 190 put May 2027        one contract (a month means its standard monthly expiry)
 *   quote AAPL 190p 2027-05-21         a day
 *   chain AAPL May 2027                the expiries listed in that month, strikes around the money
 *   option chain AAPL                  the next monthly
 * "quote AAPL" alone is the ordinary quote (not handled here).
 */
import type { Command, QueryCommand, UnknownCommand } from '../commands.js';
import { monthNumber, parseExpiry } from './dates.js';
import type { ParseContext } from './orders.js';
import { resolveSymbolAt } from './symbols.js';
import type { Token } from './tokens.js';

const RIGHTS: ReadonlyMap<string, 'call' | 'put'> = new Map([
  ['call', 'call'],
  ['calls', 'call'],
  ['put', 'put'],
  ['puts', 'put'],
]);
const QUOTE_WORDS: ReadonlySet<string> = new Set(['quote', 'price']);
const CHAIN_WORDS: ReadonlySet<string> = new Set(['chain', 'chains']);
const OPTION_WORDS: ReadonlySet<string> = new Set(['option', 'options']);
const LINKS: ReadonlySet<string> = new Set(['for', 'of', 'on']);
const FILLERS: ReadonlySet<string> = new Set(['exp', 'expiry', 'expiring', 'expires', 'expiration', 'the']);

const QUOTE_EXAMPLE = 'quote AAPL 190 put May 2027';

function unknown(reason: string): UnknownCommand {
  return { kind: 'unknown', reason };
}

/** A month and optional 4-digit year at `from` ("May 2027", "may"): YYYY-MM, the next such month. */
function parseMonth(
  tokens: readonly Token[],
  from: number,
  end: number,
  now: Date,
): { value: string; next: number } | { error: string } | undefined {
  const month = monthNumber(tokens[from]?.low ?? '');
  if (month === undefined) return undefined;
  const yearToken = from + 1 < end ? tokens[from + 1] : undefined;
  const thisYear = now.getUTCFullYear();
  const thisMonth = now.getUTCMonth() + 1;
  let year = month >= thisMonth ? thisYear : thisYear + 1;
  let next = from + 1;
  if (yearToken?.kind === 'number' && yearToken.suffix === '' && /^20\d\d$/.test(yearToken.raw)) {
    year = Number(yearToken.raw);
    next = from + 2;
    if (year * 100 + month < thisYear * 100 + thisMonth) return { error: 'that month has passed' };
  }
  return { value: `${year}-${String(month).padStart(2, '0')}`, next };
}

/** An expiry at `from`: a day (any form `parseExpiry` reads) or a month. */
function parseExpiryOrMonth(
  tokens: readonly Token[],
  from: number,
  end: number,
  now: Date,
): { value: string; next: number } | { error: string } | undefined {
  const day = parseExpiry(tokens, from, now);
  if (day !== undefined && ('error' in day || day.next <= end)) return day;
  return parseMonth(tokens, from, end, now);
}

interface Spec {
  right?: 'call' | 'put';
  strike?: string;
  expiry?: string;
}

/** Strike, call/put and expiry in any order up to `end`; a reason when something else is there. */
function parseSpec(tokens: readonly Token[], from: number, end: number, now: Date): Spec | UnknownCommand {
  const spec: Spec = {};
  let i = from;
  while (i < end) {
    const token = tokens[i];
    if (token === undefined) break;
    const right = token.kind === 'word' ? RIGHTS.get(token.low) : undefined;
    if (right !== undefined) {
      if (spec.right !== undefined) return unknown('say call or put once');
      spec.right = right;
      i++;
      continue;
    }
    if (token.kind === 'word' && FILLERS.has(token.low)) {
      i++;
      continue;
    }
    const expiry = parseExpiryOrMonth(tokens, i, end, now);
    if (expiry !== undefined) {
      if ('error' in expiry) return unknown(expiry.error);
      if (spec.expiry !== undefined) return unknown('say the expiry once');
      spec.expiry = expiry.value;
      i = expiry.next;
      continue;
    }
    const strikeAt = token.raw === '$' ? i + 1 : i;
    const strike = strikeAt < end ? tokens[strikeAt] : undefined;
    if (
      strike?.kind === 'number' &&
      ['', 'c', 'p'].includes(strike.suffix ?? '') &&
      strike.value !== undefined
    ) {
      if (spec.strike !== undefined) return unknown('an option has one strike');
      if (strike.value === '0') return unknown('the strike must be more than zero');
      spec.strike = strike.value;
      if (strike.suffix === 'c' || strike.suffix === 'p') {
        if (spec.right !== undefined) return unknown('say call or put once');
        spec.right = strike.suffix === 'c' ? 'call' : 'put';
      }
      i = strikeAt + 1;
      continue;
    }
    return unknown(`"${token.raw}" is not part of an option: say it like "${QUOTE_EXAMPLE}"`);
  }
  return spec;
}

/** Where the underlying is named: after the leading words and an optional "for"/"of"/"on". */
function underlyingAt(
  tokens: readonly Token[],
  from: number,
  end: number,
  context: ParseContext,
): { symbol: string; next: number } | UnknownCommand {
  const at = LINKS.has(tokens[from]?.low ?? '') ? from + 1 : from;
  const resolved = resolveSymbolAt(tokens, at, end, context.symbols, true);
  if (resolved === undefined) {
    const named = tokens[at];
    return unknown(
      named === undefined ? 'which underlying? e.g. chain AAPL' : `unknown symbol "${named.raw}"`,
    );
  }
  if (resolved.value.assetClass !== 'equity') return unknown('options on crypto are not supported');
  return { symbol: resolved.value.symbol, next: resolved.next };
}

/**
 * An option quote or chain, or undefined when the message is neither (an ordinary "quote AAPL"
 * included). Never throws.
 */
export function parseOptionQuery(
  tokens: readonly Token[],
  start: number,
  end: number,
  context: ParseContext,
): Command | undefined {
  const first = tokens[start]?.low ?? '';
  const second = tokens[start + 1]?.low ?? '';
  if (QUOTE_WORDS.has(first)) return parseOptionQuote(tokens, start + 1, end, context);
  let from: number | undefined;
  if (CHAIN_WORDS.has(first)) from = start + 1;
  else if (OPTION_WORDS.has(first) && CHAIN_WORDS.has(second)) from = start + 2;
  if (from === undefined) return undefined;
  const underlying = underlyingAt(tokens, from, end, context);
  if ('kind' in underlying) return underlying;
  const chain: QueryCommand = { kind: 'query', query: 'chain', symbol: underlying.symbol };
  if (underlying.next >= end) return chain;
  const expiry = parseExpiryOrMonth(tokens, underlying.next, end, context.now);
  if (expiry === undefined || ('value' in expiry && expiry.next !== end)) {
    return unknown('a chain takes a month or a day: e.g. chain AAPL May 2027');
  }
  if ('error' in expiry) return unknown(expiry.error);
  return { ...chain, expiry: expiry.value };
}

function parseOptionQuote(
  tokens: readonly Token[],
  from: number,
  end: number,
  context: ParseContext,
): Command | undefined {
  const underlying = underlyingAt(tokens, from, end, context);
  // Not an option quote: the ordinary quote grammar decides (and explains) it.
  if ('kind' in underlying || underlying.next >= end) return undefined;
  const spec = parseSpec(tokens, underlying.next, end, context.now);
  if ('kind' in spec) return spec;
  if (spec.right === undefined || spec.strike === undefined || spec.expiry === undefined) {
    return unknown(`an option quote needs a strike, call or put and an expiry: e.g. ${QUOTE_EXAMPLE}`);
  }
  return {
    kind: 'query',
    query: 'quote',
    symbol: underlying.symbol,
    option: { right: spec.right, strike: spec.strike, expiry: spec.expiry },
  };
}
