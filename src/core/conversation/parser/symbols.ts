/**
 * Naming an instrument inside a message: a ticker, a cashtag or a company name of up to four words
 * ("Berkshire Hathaway"), always through the SymbolResolver, which never guesses.
 */
import type { Instrument, SymbolResolver } from '../../market-data/instruments.js';
import type { Parsed } from './numbers.js';
import type { Token } from './tokens.js';

/** What the command schema accepts as a ticker. */
const TICKER = /^[A-Z][A-Z0-9.]{0,9}$/;

const MAX_NAME_WORDS = 4;

/**
 * Words that never continue a multi-word name: order keywords. Keeps "apple limit 190" from being
 * offered to the resolver as a name and keeps spans short.
 */
const NAME_BREAKERS: ReadonlySet<string> = new Set([
  'limit',
  'lmt',
  'stop',
  'at',
  'gtc',
  'day',
  'market',
  'mkt',
  'call',
  'calls',
  'put',
  'puts',
  'share',
  'shares',
  'contract',
  'contracts',
  'please',
  'pls',
  'for',
  'if',
  'when',
  'and',
  'then',
  'or',
  'with',
  'exp',
  'expiring',
  'position',
  'stake',
  'price',
  'quote',
]);

/**
 * Common English words that are also tickers (ALL, NOW, A, IT, ON, KEY, LOW...). Where a message's
 * structure does not force a ticker (quotes, "how much is it"), they count as tickers only when typed
 * in upper case or as a cashtag.
 */
export const ENGLISH_TICKER_WORDS: ReadonlySet<string> = new Set([
  'a',
  'all',
  'now',
  'it',
  'on',
  'key',
  'low',
  'one',
  'are',
  'be',
  'go',
  'for',
  'so',
  'see',
  'has',
  'any',
  'can',
  'do',
  'by',
  'me',
  'my',
  'at',
  'or',
  'an',
  'am',
  'is',
  'big',
  'new',
  'hi',
  'ok',
  'you',
  'that',
  'this',
  'well',
  'else',
  'more',
  'real',
  'fast',
  'cash',
  'next',
  'life',
  'true',
  'play',
]);

/** Is this instrument usable in a command (ticker shape the schema accepts)? */
export function isUsableInstrument(instrument: Instrument): boolean {
  return TICKER.test(instrument.symbol);
}

/**
 * The longest run of words from tokens[from] (up to `end`) that the resolver knows. Undefined when
 * none. With `strictCase`, a lone English word that is also a ticker must be typed in upper case.
 */
export function resolveSymbolAt(
  tokens: readonly Token[],
  from: number,
  end: number,
  resolver: SymbolResolver,
  strictCase: boolean,
): Parsed<Instrument> | undefined {
  const first = tokens[from];
  if (first === undefined || first.kind !== 'word' || from >= end) return undefined;
  if (first.cashtag === true) {
    const instrument = resolver.get(first.low) ?? resolver.resolve(first.low);
    return instrument !== undefined && isUsableInstrument(instrument)
      ? { value: instrument, next: from + 1 }
      : undefined;
  }
  let span = 1;
  while (span < MAX_NAME_WORDS && from + span < end) {
    const token = tokens[from + span];
    if (
      token === undefined ||
      token.kind !== 'word' ||
      token.cashtag === true ||
      NAME_BREAKERS.has(token.low)
    ) {
      break;
    }
    span++;
  }
  for (let length = span; length >= 1; length--) {
    let text = first.low;
    for (let k = 1; k < length; k++) text += ` ${tokens[from + k]?.low ?? ''}`;
    if (
      length === 1 &&
      strictCase &&
      ENGLISH_TICKER_WORDS.has(text) &&
      first.raw !== first.raw.toUpperCase()
    ) {
      continue;
    }
    const instrument = resolver.resolve(text);
    if (instrument !== undefined && isUsableInstrument(instrument)) {
      return { value: instrument, next: from + length };
    }
  }
  return undefined;
}
