/**
 * "Did you mean AAPL?": the instruments nearest to a ticker or name the directory does not know,
 * by edit distance over tickers, names and aliases. The directory itself never guesses; this is
 * asked only after a message was found unknown, and its answer is a suggestion, never an order.
 */
import type { Instrument, SymbolResolver } from './instruments.js';
import { normalizeName } from './symbols/normalize.js';
import { type TypoIndex as Index, TypoIndex, typoBound } from './symbols/typo-index.js';

/** An instrument near what was typed, and how near. */
export interface SymbolSuggestion {
  readonly instrument: Instrument;
  /** Edits from the typed text to the nearest of its keys. */
  readonly distance: number;
  /** How many of its keys (ticker, name, aliases) lie within the bound: more is stronger evidence. */
  readonly matches: number;
}

/** One index per directory, built on first use (the directory is immutable). */
const indexes = new WeakMap<SymbolResolver, Index<Instrument>>();

/** The typo index of a directory: lower-case tickers, full names and aliases. */
export function symbolTypoIndex(symbols: SymbolResolver): Index<Instrument> {
  let index = indexes.get(symbols);
  if (index === undefined) {
    index = new TypoIndex<Instrument>();
    for (const instrument of symbols.all()) {
      const keys = new Set([
        normalizeName(instrument.symbol),
        normalizeName(instrument.name),
        ...instrument.aliases,
      ]);
      for (const key of keys) index.add(key, instrument);
    }
    indexes.set(symbols, index);
  }
  return index;
}

/**
 * The instruments nearest to `text` (a ticker or a name of up to a few words, any case), best
 * first: fewest edits, then most keys within reach ("appl" is one edit from both "aapl" and
 * "apple"), then index members (better known), then by ticker. Only the best-ranked tie is kept,
 * at most `limit` of them: a suggestion should be the likely one, not a list to read. Empty when
 * the text is known (nothing to correct) or nothing is near.
 */
export function suggestSymbols(symbols: SymbolResolver, text: string, limit = 3): SymbolSuggestion[] {
  const word = normalizeName(text.startsWith('$') ? text.slice(1) : text);
  if (word.length < 2 || symbols.resolve(text) !== undefined) return [];
  const byInstrument = new Map<Instrument, { distance: number; matches: number }>();
  for (const match of symbolTypoIndex(symbols).lookup(word, typoBound(word.length))) {
    const seen = byInstrument.get(match.value);
    if (seen === undefined) byInstrument.set(match.value, { distance: match.distance, matches: 1 });
    else byInstrument.set(match.value, { distance: seen.distance, matches: seen.matches + 1 });
  }
  const ranked = [...byInstrument]
    .map(([instrument, found]) => ({ instrument, ...found }))
    .sort(
      (a, b) =>
        a.distance - b.distance ||
        b.matches - a.matches ||
        b.instrument.indexes.length - a.instrument.indexes.length ||
        (a.instrument.symbol < b.instrument.symbol ? -1 : 1),
    );
  const best = ranked[0];
  if (best === undefined) return [];
  return ranked
    .filter((candidate) => candidate.distance === best.distance && candidate.matches === best.matches)
    .slice(0, limit);
}
