/**
 * The order grammar: verb, size, instrument (or option contract), then modifiers in any order.
 *
 *   order     := verb ["to" (open|close)] size [modifier...] [polite...]
 *   size      := quantity [unit] ["of"] instrument [option] [unit]
 *              | "$" amount ["worth"] ["of"|"in"] instrument
 *              | amount ("dollars"|"usd"|"bucks") ["worth"] ["of"|"in"] instrument
 *              | fraction ["of"] ["my"|"the"] ["shares" "of"] instrument         (sell only)
 *   option    := any order of: strike, call|put, expiry
 *   modifier  := "at" price | "@" price | "limit" price | "stop" price | "market"
 *              | "for" price "or" (less|more|better) | day | gtc | ioc | fok
 *
 * Every step either consumes tokens or fails with a reason for people; nothing is guessed.
 */

import type { OptionRight, TimeInForce } from '../../domain/values.js';
import type { Instrument, SymbolResolver } from '../../market-data/instruments.js';
import type { OrderCommand } from '../commands.js';
import { isMonthWord, parseExpiry } from './dates.js';
import { compareDecimal, divide, hasFraction, parseNumberWords, parseSpokenFraction } from './numbers.js';
import { resolveSymbolAt } from './symbols.js';
import { shiftDecimal, type Token } from './tokens.js';

export interface ParseContext {
  readonly symbols: SymbolResolver;
  readonly now: Date;
}

/** Why a message is not a command, in a few words for people and for the LLM hand-off. */
export class Fail {
  constructor(readonly reason: string) {}
}

/** More shares than this is a typo, not an order. */
export const MAX_QUANTITY = '1000000000';
/** More dollars than this is a typo, not an order. */
export const MAX_NOTIONAL = '1000000000000';

export const ORDER_VERBS: ReadonlyMap<string, 'buy' | 'sell'> = new Map([
  ['buy', 'buy'],
  ['sell', 'sell'],
  ['purchase', 'buy'],
]);

/** Words allowed after a complete order; anything else makes the message unknown. */
export const POLITE_WORDS: ReadonlySet<string> = new Set([
  'please',
  'pls',
  'plz',
  'now',
  'thanks',
  'thx',
  'ty',
]);
const POLITE_PAIRS: ReadonlySet<string> = new Set(['thank you', 'right now']);
const TRAILING_PUNCT: ReadonlySet<string> = new Set(['.', '!', ',']);

const UNITS: ReadonlySet<string> = new Set(['share', 'shares', 'contract', 'contracts', 'coin', 'coins']);
const DOLLAR_WORDS: ReadonlySet<string> = new Set(['dollar', 'dollars', 'usd', 'bucks']);
const RIGHTS: ReadonlyMap<string, OptionRight> = new Map([
  ['call', 'call'],
  ['calls', 'call'],
  ['put', 'put'],
  ['puts', 'put'],
]);
const EXPIRY_WORDS: ReadonlySet<string> = new Set(['exp', 'expiry', 'expiring', 'expires', 'expiration']);
const GTC_WORDS: ReadonlySet<string> = new Set([
  'gtc',
  'good-till-cancelled',
  'good-till-canceled',
  'good-til-cancelled',
  'good-til-canceled',
  'good-until-cancelled',
  'good-until-canceled',
]);
const TILL_WORDS: ReadonlySet<string> = new Set(['till', 'til', 'until', "'til"]);
const CANCELLED_WORDS: ReadonlySet<string> = new Set(['cancelled', 'canceled', 'cancel']);
const POSITION_NOUNS: ReadonlySet<string> = new Set(['shares', 'position', 'stake', 'holdings', 'holding']);
const BELOW_WORDS: ReadonlySet<string> = new Set(['less', 'lower', 'below', 'under']);
const ABOVE_WORDS: ReadonlySet<string> = new Set(['more', 'higher', 'above', 'over']);

interface Draft {
  side: 'buy' | 'sell';
  positionEffect?: 'open' | 'close';
  quantity?: string;
  notional?: string;
  fraction?: string;
  instrument?: Instrument;
  right?: OptionRight;
  strike?: string;
  expiry?: string;
  isOption: boolean;
  market: boolean;
  limit?: string;
  stop?: string;
  tif?: TimeInForce;
}

/** Reads tokens[start..end) as an order; tokens[start] is a verb from ORDER_VERBS. */
export function parseOrder(
  tokens: readonly Token[],
  start: number,
  end: number,
  context: ParseContext,
): OrderCommand | Fail {
  const side = ORDER_VERBS.get(tokens[start]?.low ?? '');
  if (side === undefined) return new Fail('not an order');
  const draft: Draft = { side, isOption: false, market: false };
  let i = start + 1;
  if (lowAt(tokens, i, end) === 'to') {
    const effect = lowAt(tokens, i + 1, end);
    if (effect !== 'open' && effect !== 'close') return new Fail(`"${side} to" what?`);
    draft.positionEffect = effect;
    i += 2;
  }
  const afterSize = parseSize(tokens, i, end, draft, context);
  if (afterSize instanceof Fail) return afterSize;
  const afterModifiers = parseModifiers(tokens, afterSize, end, draft);
  if (afterModifiers instanceof Fail) return afterModifiers;
  return assemble(draft);
}

function lowAt(tokens: readonly Token[], i: number, end: number): string {
  return i < end ? (tokens[i]?.low ?? '') : '';
}

function rawAt(tokens: readonly Token[], i: number, end: number): string {
  return i < end ? (tokens[i]?.raw ?? '') : '';
}

/** A positive amount: digits (with k/m) or number words. */
function parseAmount(
  tokens: readonly Token[],
  i: number,
  end: number,
  allowScale: boolean,
): { value: string; next: number } | Fail | undefined {
  const token = i < end ? tokens[i] : undefined;
  if (token === undefined) return undefined;
  if (token.kind === 'number') {
    const suffix = token.suffix ?? '';
    if (token.value === undefined) return new Fail('that number has too many digits');
    let value: string | undefined = token.value;
    if (suffix === 'k' && allowScale) value = shiftDecimal(value, 3);
    else if (suffix === 'm' && allowScale) value = shiftDecimal(value, 6);
    else if (suffix !== '') return undefined;
    if (value === undefined) return new Fail('that number has too many digits');
    if (value === '0') return new Fail('the amount must be more than zero');
    return { value, next: i + 1 };
  }
  if (token.kind === 'word') {
    const words = parseNumberWords(tokens, i);
    if (words === undefined || words.next > end) return undefined;
    if (words.value === '0') return new Fail('the amount must be more than zero');
    return words;
  }
  if (token.raw === '-' && tokens[i + 1]?.kind === 'number') return new Fail('the amount must be positive');
  return undefined;
}

/** A price: optional "$", then a plain positive number. */
function parsePrice(
  tokens: readonly Token[],
  i: number,
  end: number,
  what: string,
): { value: string; next: number } | Fail {
  let at = i;
  if (rawAt(tokens, at, end) === '$') at++;
  const token = at < end ? tokens[at] : undefined;
  if (token === undefined || token.kind !== 'number' || token.suffix !== '') {
    if (token?.raw === '-') return new Fail(`the ${what} must be positive`);
    return new Fail(`the ${what} needs a number`);
  }
  if (token.value === undefined) return new Fail('that number has too many digits');
  if (token.value === '0') return new Fail(`the ${what} must be more than zero`);
  return { value: token.value, next: at + 1 };
}

function parseSize(
  tokens: readonly Token[],
  from: number,
  end: number,
  draft: Draft,
  context: ParseContext,
): number | Fail {
  let i = from;
  const token = i < end ? tokens[i] : undefined;
  if (token === undefined) return new Fail(`${draft.side} what? Say e.g. "${draft.side} 10 AAPL"`);
  // "$500 of BTC", "$2.5k of SPY"
  if (token.raw === '$') {
    const amount = parseAmount(tokens, i + 1, end, true);
    if (amount === undefined) return new Fail('a dollar amount needs a number');
    if (amount instanceof Fail) return amount;
    draft.notional = amount.value;
    return parseInstrumentAfterAmount(tokens, amount.next, end, draft, context);
  }
  // "half my TSLA", "all of my AMD", "a third of my NVDA", "two thirds of my ETH"
  const spoken =
    token.low === 'all' || token.low === 'everything'
      ? { value: '1', next: i + 1 }
      : parseSpokenFraction(tokens, i);
  if (spoken !== undefined && spoken.next <= end) {
    draft.fraction = spoken.value;
    return parseFractionTarget(tokens, spoken.next, end, draft, context, false);
  }
  const amount = parseAmount(tokens, i, end, true);
  if (amount instanceof Fail) return amount;
  if (amount === undefined) {
    // "a share of A", "an AAPL share" is not supported; "a share"/"a contract" is one.
    if ((token.low === 'a' || token.low === 'an') && UNITS.has(lowAt(tokens, i + 1, end))) {
      draft.quantity = '1';
      return parseInstrumentAfterQuantity(tokens, i + 1, end, draft, context);
    }
    if (token.kind === 'word' && resolveSymbolAt(tokens, i, end, context.symbols, false) !== undefined) {
      return new Fail(`how much? Say e.g. "${draft.side} 10 ${token.raw}"`);
    }
    return new Fail(`${draft.side} how much of what? Say e.g. "${draft.side} 10 AAPL"`);
  }
  i = amount.next;
  const next = lowAt(tokens, i, end);
  // "25% of my AAPL", "25 percent of AAPL"
  if (next === '%' || next === 'percent') {
    if (hasFraction(amount.value) && amount.value.length - amount.value.indexOf('.') - 1 > 8) {
      return new Fail('that percentage has too many decimals');
    }
    if (compareDecimal(amount.value, '100') > 0) return new Fail('you can sell at most 100% of a position');
    draft.fraction = divide(amount.value, '100');
    if (lowAt(tokens, i + 1, end) !== 'of') return new Fail('a percentage needs "of", e.g. "25% of my AAPL"');
    return parseFractionTarget(tokens, i + 1, end, draft, context, true);
  }
  // "500 dollars of ETH", "500$ of ETH"
  if (DOLLAR_WORDS.has(next) || next === '$') {
    draft.notional = amount.value;
    return parseInstrumentAfterAmount(tokens, i + 1, end, draft, context);
  }
  draft.quantity = amount.value;
  return parseInstrumentAfterQuantity(tokens, i, end, draft, context);
}

function parseInstrumentAfterAmount(
  tokens: readonly Token[],
  from: number,
  end: number,
  draft: Draft,
  context: ParseContext,
): number | Fail {
  let i = from;
  if (lowAt(tokens, i, end) === 'worth') i++;
  const joiner = lowAt(tokens, i, end);
  if (joiner === 'of' || joiner === 'in') i++;
  return parseInstrument(tokens, i, end, draft, context);
}

function parseFractionTarget(
  tokens: readonly Token[],
  from: number,
  end: number,
  draft: Draft,
  context: ParseContext,
  afterOf: boolean,
): number | Fail {
  let i = from;
  if (afterOf || lowAt(tokens, i, end) === 'of') i++;
  const owner = lowAt(tokens, i, end);
  if (owner === 'my' || owner === 'the') i++;
  // "all my shares of AMD", "half my position in TSLA"
  const noun = lowAt(tokens, i, end);
  const link = lowAt(tokens, i + 1, end);
  if (POSITION_NOUNS.has(noun) && (link === 'of' || link === 'in')) i += 2;
  const next = parseInstrument(tokens, i, end, draft, context);
  if (next instanceof Fail) return next;
  return POSITION_NOUNS.has(lowAt(tokens, next, end)) ? next + 1 : next;
}

function parseInstrumentAfterQuantity(
  tokens: readonly Token[],
  from: number,
  end: number,
  draft: Draft,
  context: ParseContext,
): number | Fail {
  let i = from;
  if (UNITS.has(lowAt(tokens, i, end))) i++;
  if (lowAt(tokens, i, end) === 'of') i++;
  const afterSymbol = parseInstrument(tokens, i, end, draft, context);
  if (afterSymbol instanceof Fail) return afterSymbol;
  i = afterSymbol;
  if (startsOptionSpec(tokens, i, end)) {
    draft.isOption = true;
    return parseOptionSpec(tokens, i, end, draft, context.now);
  }
  if (UNITS.has(lowAt(tokens, i, end))) i++;
  return i;
}

function parseInstrument(
  tokens: readonly Token[],
  i: number,
  end: number,
  draft: Draft,
  context: ParseContext,
): number | Fail {
  const resolved = resolveSymbolAt(tokens, i, end, context.symbols, false);
  if (resolved === undefined) {
    const token = i < end ? tokens[i] : undefined;
    if (token === undefined) return new Fail(`${draft.side} what? The message names no symbol`);
    if (token.kind === 'word')
      return new Fail(`unknown symbol "${token.cashtag === true ? '$' : ''}${token.raw}"`);
    return new Fail(`expected a symbol, not "${token.raw}"`);
  }
  draft.instrument = resolved.value;
  return resolved.next;
}

function startsOptionSpec(tokens: readonly Token[], i: number, end: number): boolean {
  const token = i < end ? tokens[i] : undefined;
  if (token === undefined) return false;
  if (token.kind === 'word') {
    return (
      RIGHTS.has(token.low) ||
      EXPIRY_WORDS.has(token.low) ||
      (isMonthWord(token.low) && tokens[i + 1]?.kind === 'number' && i + 1 < end)
    );
  }
  if (token.kind === 'date') return true;
  if (token.kind === 'number') return token.suffix === '' || token.suffix === 'c' || token.suffix === 'p';
  return token.raw === '$' && tokens[i + 1]?.kind === 'number' && i + 1 < end;
}

/** Strike, call/put and expiry, in any order. */
function parseOptionSpec(
  tokens: readonly Token[],
  from: number,
  end: number,
  draft: Draft,
  now: Date,
): number | Fail {
  let i = from;
  while (i < end) {
    const token = tokens[i];
    if (token === undefined) break;
    const right = token.kind === 'word' ? RIGHTS.get(token.low) : undefined;
    if (right !== undefined) {
      if (draft.right !== undefined) return new Fail('say call or put once');
      draft.right = right;
      i++;
      continue;
    }
    if (token.kind === 'word' && EXPIRY_WORDS.has(token.low)) {
      i++;
      continue;
    }
    if (token.kind === 'date' || (token.kind === 'word' && isMonthWord(token.low))) {
      const expiry = parseExpiry(tokens, i, now);
      if (expiry === undefined) break;
      if ('error' in expiry) return new Fail(expiry.error);
      if (draft.expiry !== undefined) return new Fail('say the expiry once');
      if (expiry.next > end) break;
      draft.expiry = expiry.value;
      i = expiry.next;
      continue;
    }
    const strikeStart = token.raw === '$' ? i + 1 : i;
    const strikeToken = strikeStart < end ? tokens[strikeStart] : undefined;
    if (
      strikeToken?.kind === 'number' &&
      (strikeToken.suffix === '' || strikeToken.suffix === 'c' || strikeToken.suffix === 'p')
    ) {
      if (draft.strike !== undefined) return new Fail('an option has one strike');
      if (strikeToken.value === undefined) return new Fail('that number has too many digits');
      if (strikeToken.value === '0') return new Fail('the strike must be more than zero');
      draft.strike = strikeToken.value;
      if (strikeToken.suffix !== '') {
        if (draft.right !== undefined) return new Fail('say call or put once');
        draft.right = strikeToken.suffix === 'c' ? 'call' : 'put';
      }
      i = strikeStart + 1;
      continue;
    }
    break;
  }
  if (draft.strike === undefined || draft.expiry === undefined || draft.right === undefined) {
    return new Fail('an option needs a strike, an expiry and call or put');
  }
  return i;
}

function isPoliteTail(tokens: readonly Token[], from: number, end: number): boolean {
  for (let i = from; i < end; i++) {
    const token = tokens[i];
    if (token === undefined) return false;
    if (token.kind === 'punct' ? TRAILING_PUNCT.has(token.raw) : POLITE_WORDS.has(token.low)) continue;
    if (
      token.kind === 'word' &&
      i + 1 < end &&
      POLITE_PAIRS.has(`${token.low} ${tokens[i + 1]?.low ?? ''}`)
    ) {
      i++;
      continue;
    }
    return false;
  }
  return true;
}

function setLimit(draft: Draft, value: string): Fail | undefined {
  if (draft.limit !== undefined) return new Fail('two limit prices');
  draft.limit = value;
  return undefined;
}

function setTif(draft: Draft, tif: TimeInForce): Fail | undefined {
  if (draft.tif !== undefined) return new Fail('two times in force');
  draft.tif = tif;
  return undefined;
}

/** Order type, prices and time in force, in any order, then only polite words. */
function parseModifiers(tokens: readonly Token[], from: number, end: number, draft: Draft): number | Fail {
  let i = from;
  while (i < end) {
    if (isPoliteTail(tokens, i, end)) return end;
    const token = tokens[i];
    if (token === undefined) break;
    const low = token.low;
    let problem: Fail | undefined;
    if (low === ',') {
      i++;
      continue;
    }
    if (low === 'at' || low === '@') {
      const next = lowAt(tokens, i + 1, end);
      if (next === 'market' || next === 'mkt') {
        draft.market = true;
        i += 2;
        continue;
      }
      if (next === 'the' && lowAt(tokens, i + 2, end) === 'market') {
        draft.market = true;
        i += 3;
        continue;
      }
      const price = parsePrice(tokens, i + 1, end, 'price');
      if (price instanceof Fail) return price;
      problem = setLimit(draft, price.value);
      i = price.next;
    } else if (low === 'limit' || low === 'lmt') {
      let at = i + 1;
      if (lowAt(tokens, at, end) === 'order') at++;
      if (lowAt(tokens, at, end) === 'price') at++;
      const joiner = lowAt(tokens, at, end);
      if (joiner === 'at' || joiner === '@' || joiner === 'of') at++;
      const price = parsePrice(tokens, at, end, 'limit price');
      if (price instanceof Fail) return price;
      problem = setLimit(draft, price.value);
      i = price.next;
    } else if (low === 'stop' || low === 'stp') {
      let at = i + 1;
      if (lowAt(tokens, at, end) === 'limit') return new Fail('say both prices: "stop 180 limit 179.5"');
      if (lowAt(tokens, at, end) === 'loss') at++;
      if (lowAt(tokens, at, end) === 'price') at++;
      const joiner = lowAt(tokens, at, end);
      if (joiner === 'at' || joiner === '@' || joiner === 'of') at++;
      const price = parsePrice(tokens, at, end, 'stop price');
      if (price instanceof Fail) return price;
      if (draft.stop !== undefined) return new Fail('two stop prices');
      draft.stop = price.value;
      i = price.next;
    } else if (low === 'market' || low === 'mkt') {
      draft.market = true;
      i += lowAt(tokens, i + 1, end) === 'order' ? 2 : 1;
    } else if (low === 'for') {
      // "for the day", "for $190 or less"
      if (lowAt(tokens, i + 1, end) === 'the' && lowAt(tokens, i + 2, end) === 'day') {
        problem = setTif(draft, 'day');
        i += 3;
      } else {
        const price = parsePrice(tokens, i + 1, end, 'price');
        if (price instanceof Fail) return new Fail('"for" needs a price and "or less"/"or more"');
        const direction = lowAt(tokens, price.next + 1, end);
        if (lowAt(tokens, price.next, end) !== 'or' || direction === '') {
          return new Fail('"for $X" is unclear: say "limit X" or "for $X or less"');
        }
        const below = BELOW_WORDS.has(direction);
        const above = ABOVE_WORDS.has(direction);
        if (direction !== 'better' && !below && !above) return new Fail(`"or ${direction}" is unclear`);
        if ((below && draft.side === 'sell') || (above && draft.side === 'buy')) {
          return new Fail(`"${draft.side} ... or ${direction}" is unclear: say "limit X"`);
        }
        problem = setLimit(draft, price.value);
        i = price.next + 2;
      }
    } else if (low === 'day') {
      problem = setTif(draft, 'day');
      i += lowAt(tokens, i + 1, end) === 'order' ? 2 : 1;
    } else if (GTC_WORDS.has(low)) {
      problem = setTif(draft, 'gtc');
      i++;
    } else if (
      low === 'good' &&
      TILL_WORDS.has(lowAt(tokens, i + 1, end)) &&
      CANCELLED_WORDS.has(lowAt(tokens, i + 2, end))
    ) {
      problem = setTif(draft, 'gtc');
      i += 3;
    } else if (low === 'ioc' || (low === 'immediate' && lowAt(tokens, i + 1, end) === 'or')) {
      if (low === 'immediate' && !CANCELLED_WORDS.has(lowAt(tokens, i + 2, end))) break;
      problem = setTif(draft, 'ioc');
      i += low === 'ioc' ? 1 : 3;
    } else if (low === 'fok' || low === 'fill-or-kill') {
      problem = setTif(draft, 'fok');
      i++;
    } else if (low === 'fill' && lowAt(tokens, i + 1, end) === 'or' && lowAt(tokens, i + 2, end) === 'kill') {
      problem = setTif(draft, 'fok');
      i += 3;
    } else {
      break;
    }
    if (problem !== undefined) return problem;
  }
  if (i < end) {
    const token = tokens[i];
    if (token?.raw === '?') return new Fail('a question, not an order');
    const last = tokens[end - 1];
    const rest = token !== undefined && last !== undefined ? restText(tokens, i, end) : '';
    return new Fail(`unexpected words: "${rest}"`);
  }
  return i;
}

/** The raw words from tokens[from] on, shortened for a reason text. */
function restText(tokens: readonly Token[], from: number, end: number): string {
  const parts: string[] = [];
  for (let i = from; i < end && parts.length < 6; i++) parts.push(tokens[i]?.raw ?? '');
  return end - from > 6 ? `${parts.join(' ')} ...` : parts.join(' ');
}

function assemble(draft: Draft): OrderCommand | Fail {
  const instrument = draft.instrument;
  if (instrument === undefined) return new Fail('no symbol');
  if (draft.fraction !== undefined && draft.side !== 'sell') {
    return new Fail('only a sale can use a fraction of a position');
  }
  if (draft.quantity !== undefined && compareDecimal(draft.quantity, MAX_QUANTITY) > 0) {
    return new Fail('that quantity is too large');
  }
  if (draft.notional !== undefined && compareDecimal(draft.notional, MAX_NOTIONAL) > 0) {
    return new Fail('that amount is too large');
  }
  if (draft.market && (draft.limit !== undefined || draft.stop !== undefined)) {
    return new Fail('market and limit/stop prices at once');
  }
  if (draft.positionEffect !== undefined && !draft.isOption) {
    return new Fail('"to open"/"to close" is for options');
  }
  const orderType =
    draft.stop !== undefined
      ? draft.limit !== undefined
        ? 'stop_limit'
        : 'stop'
      : draft.limit !== undefined
        ? 'limit'
        : 'market';
  if (draft.isOption) {
    if (instrument.assetClass !== 'equity') return new Fail('options on crypto are not supported');
    if (draft.quantity === undefined) return new Fail('say how many option contracts');
    if (hasFraction(draft.quantity)) return new Fail('option contracts come in whole numbers');
    if (draft.limit === undefined) return new Fail('option orders need a limit price, e.g. "at 1.25"');
  }
  if (draft.fraction === '0') return new Fail('that fraction is too small');
  const crypto = instrument.assetClass === 'crypto';
  // Built in a fixed key order so the JSON output reads naturally.
  return {
    kind: 'order',
    side: draft.side,
    symbol: instrument.symbol,
    assetClass: draft.isOption ? 'option' : crypto ? 'crypto' : 'equity',
    ...(draft.quantity !== undefined && { quantity: draft.quantity }),
    ...(draft.notional !== undefined && { notional: draft.notional }),
    ...(draft.fraction !== undefined && { fractionOfPosition: draft.fraction }),
    orderType,
    ...(draft.limit !== undefined && { limitPrice: draft.limit }),
    ...(draft.stop !== undefined && { stopPrice: draft.stop }),
    timeInForce: draft.tif ?? (crypto ? 'gtc' : 'day'),
    ...(draft.isOption &&
      draft.right !== undefined &&
      draft.strike !== undefined &&
      draft.expiry !== undefined && {
        option: {
          underlying: instrument.symbol,
          expiry: draft.expiry,
          right: draft.right,
          strike: draft.strike,
          ...(draft.positionEffect !== undefined && { positionEffect: draft.positionEffect }),
        },
      }),
  };
}
