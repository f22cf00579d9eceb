/**
 * `Did you mean "buy 10 AAPL"?`: for a message the fast path found unknown, the one-word
 * correction that makes it a command (a misspelt command word, or a misspelt ticker or company
 * name). A suggestion is only ever text for the user to send again: nothing here executes it.
 *
 * A correction is offered only when the corrected message parses, so a typo in a sentence that
 * would not be a command anyway suggests nothing. The work runs only on unknown messages and is
 * bounded: at most a dozen tokens, a few candidates each, each tried with one parse (microseconds).
 */
import type { Instrument, SymbolResolver } from '../market-data/instruments.js';
import { suggestSymbols } from '../market-data/symbol-suggestions.js';
import { TypoIndex } from '../market-data/symbols/typo-index.js';
import type { Command } from './commands.js';
import { AUTOMATION_STARTERS } from './parser/automation.js';
import { HISTORY_STARTERS } from './parser/history.js';
import { ORDER_VERBS, POLITE_WORDS } from './parser/orders.js';
import { CONDITIONS, MAX_MESSAGE_LENGTH, NEGATIONS, QUESTION_STARTERS } from './parser/parse.js';
import { FIXED_PHRASES, QUOTE_TEMPLATES } from './parser/phrases.js';
import { SWAP_VERBS } from './parser/swaps.js';
import { type Token, tokenize } from './parser/tokens.js';

/** What the suggestions need: the directory, and the fast path to check a correction with. */
export interface SuggestionContext {
  readonly symbols: SymbolResolver;
  /** The fast-path parser: a correction is offered only when it parses. */
  readonly parse: (text: string) => Command;
}

/** A corrected message, ready to send; or the instruments nearest to a name nobody knows. */
export type Suggestion =
  | { readonly kind: 'command'; readonly text: string }
  | { readonly kind: 'symbol'; readonly typed: string; readonly instruments: readonly Instrument[] };

/** Longer messages are sentences, not commands with a typo. */
const MAX_TOKENS = 12;
/** Candidates tried per word, nearest first. */
const MAX_TRIES = 5;
/** Order words the phrase tables do not list (the order grammar reads them). */
const ORDER_WORDS = [
  'limit',
  'stop',
  'market',
  'share',
  'shares',
  'contract',
  'contracts',
  'coins',
  'dollars',
  'call',
  'calls',
  'put',
  'puts',
  'gtc',
  'day',
  'half',
  'everything',
  'of',
  'at',
  'to',
  'into',
  'page',
  'today',
  'week',
  'month',
];
const WORD = /^[a-z][a-z'-]+$/;

/** Every word the fast path reads, for correcting command words. */
const VOCABULARY: ReadonlySet<string> = (() => {
  const words = new Set<string>(ORDER_WORDS);
  for (const phrase of FIXED_PHRASES.keys()) for (const word of phrase.split(' ')) words.add(word);
  for (const template of QUOTE_TEMPLATES)
    for (const word of [...template.before, ...template.after]) words.add(word);
  for (const group of [
    ORDER_VERBS.keys(),
    SWAP_VERBS,
    AUTOMATION_STARTERS,
    HISTORY_STARTERS.keys(),
    POLITE_WORDS,
  ])
    for (const word of group) words.add(word);
  return new Set([...words].filter((word) => WORD.test(word)));
})();

const VOCABULARY_INDEX: TypoIndex<string> = (() => {
  const index = new TypoIndex<string>();
  for (const word of VOCABULARY) index.add(word, word);
  return index;
})();

/** Words a correction never rewrites: they decide what a message means ("don't", "if"). */
function isProtected(low: string): boolean {
  return NEGATIONS.has(low) || CONDITIONS.has(low) || QUESTION_STARTERS.has(low);
}

/**
 * The correction of one word that turns `text` into a command, or the instruments nearest to an
 * unknown ticker or name in it; undefined when no single correction does.
 */
export function suggestCorrection(text: string, context: SuggestionContext): Suggestion | undefined {
  if (text.length > MAX_MESSAGE_LENGTH) return undefined;
  const tokens = tokenize(text);
  if (tokens.length > MAX_TOKENS) return undefined;
  const words = tokens.filter((token) => token.kind === 'word' && !isProtected(token.low));
  // Command words first: "by 10 aapl" is a misspelt verb, not a misspelt ticker.
  for (const token of words) {
    if (token.cashtag || VOCABULARY.has(token.low) || !WORD.test(token.low)) continue;
    for (const match of VOCABULARY_INDEX.lookup(token.low).slice(0, MAX_TRIES)) {
      const corrected = splice(text, token, token, match.value);
      const command = context.parse(corrected);
      if (command.kind !== 'unknown') return { kind: 'command', text: withTicker(corrected, command) };
    }
  }
  // Then tickers and names of one word ("appl", "nvidai"), then of two ("berkshire hathway").
  for (const span of [1, 2]) {
    for (let i = 0; i + span <= words.length; i++) {
      const first = words[i];
      const last = words[i + span - 1];
      if (first === undefined || last === undefined || last !== tokens[tokens.indexOf(first) + span - 1])
        continue;
      const typed = text.slice(first.cashtag ? first.start + 1 : first.start, last.end);
      if (span === 1 && (VOCABULARY.has(first.low) || context.symbols.resolve(typed) !== undefined)) continue;
      const near = suggestSymbols(context.symbols, typed).filter(
        (candidate) =>
          context.parse(splice(text, first, last, candidate.instrument.symbol)).kind !== 'unknown',
      );
      if (near.length > 0)
        return { kind: 'symbol', typed: typed.toUpperCase(), instruments: near.map((s) => s.instrument) };
    }
  }
  return undefined;
}

/** The reply: `Did you mean "buy 10 AAPL"?` or `I don't know APPL. Did you mean AAPL (Apple Inc.)?` */
export function describeSuggestion(suggestion: Suggestion): string {
  if (suggestion.kind === 'command') return `Did you mean "${suggestion.text}"?`;
  const names = suggestion.instruments.map((instrument) => `${instrument.symbol} (${instrument.name})`);
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');
  return `I don't know ${suggestion.typed}. Did you mean ${list}?`;
}

/** `text` with the tokens from `first` to `last` replaced. */
function splice(text: string, first: Token, last: Token, replacement: string): string {
  return `${text.slice(0, first.start)}${replacement}${text.slice(last.end)}`;
}

/** The corrected message with its ticker spelt as brokers do ("buy 10 aapl" -> "buy 10 AAPL"). */
function withTicker(text: string, command: Command): string {
  const symbol = 'symbol' in command && typeof command.symbol === 'string' ? command.symbol : undefined;
  if (symbol === undefined) return text;
  let result = text;
  // From the end, so earlier offsets stay valid.
  for (const token of tokenize(text).reverse()) {
    if (token.kind === 'word' && !token.cashtag && token.low === symbol.toLowerCase())
      result = splice(result, token, token, symbol);
  }
  return result;
}
