/**
 * What Arbion answers a message it did not understand when no language model is configured: one
 * short line, never the whole help. In order: a friendly word for thanks and greetings; a "did you
 * mean" for a typo; a note that plain language needs OPENAI_API_KEY; else the reason and one
 * example. None of these does anything: a suggestion is text to send again.
 */
import type { UnknownCommand } from './commands.js';
import { exampleFor } from './help.js';
import { QUESTION_STARTERS } from './parser/parse.js';
import { tokenize } from './parser/tokens.js';
import { describeSuggestion, type SuggestionContext, suggestCorrection } from './suggestions.js';

export const THANKS_REPLY = "You're welcome.";
export const GREETING_REPLY = 'Hi! Try `buy 10 AAPL` or `balance`. Say help for more.';
/** For the operator as much as the user: what turns plain language on. */
export const NO_MODEL_TEXT =
  'I only understand commands here; the operator can set OPENAI_API_KEY to let me understand plain language.';

const THANKS: ReadonlySet<string> = new Set([
  'thanks',
  'thank you',
  'thank u',
  'thx',
  'thnx',
  'tnx',
  'ty',
  'tysm',
  'cheers',
  'many thanks',
  'thanks a lot',
  'thanks so much',
  'thank you so much',
  'thank you very much',
  'thanks very much',
  'much appreciated',
  'appreciated',
  'great thanks',
  'ok thanks',
  'ok thank you',
  'perfect thanks',
]);
const GREETINGS: ReadonlySet<string> = new Set([
  'hello',
  'hi',
  'hey',
  'hiya',
  'howdy',
  'yo',
  'hi there',
  'hello there',
  'hey there',
  'good morning',
  'good afternoon',
  'good evening',
  'morning',
  'gm',
]);
/** A name after the greeting or the thanks ("thanks arbion", "hi bot") changes nothing. */
const ADDRESSEES: ReadonlySet<string> = new Set(['arbion', 'bot', 'mate', 'man', 'all', 'everyone']);

/**
 * Words a command starts with: a message starting with one of them is a command gone wrong (its
 * reason is the useful answer), not plain language.
 */
const COMMAND_STARTERS: ReadonlySet<string> = new Set([
  'buy',
  'sell',
  'purchase',
  'swap',
  'convert',
  'exchange',
  'cancel',
  'quote',
  'price',
  'link',
  'connect',
  'history',
  'fills',
  'trades',
  'run',
  'pause',
  'resume',
  'stop',
  'alert',
  'backtest',
  'confirm',
  'paper',
  'go',
  'switch',
]);
/** This many words, not starting like a command, read as a sentence. */
const SENTENCE_WORDS = 4;

/** The one-line answer to a message the fast path found unknown, when no model is configured. */
export function replyToUnknown(text: string, command: UnknownCommand, context: SuggestionContext): string {
  const tokens = tokenize(text);
  const words = tokens.filter((token) => token.kind === 'word').map((token) => token.low);
  const chat = smallTalk(words);
  if (chat !== undefined) return chat;
  const suggestion = suggestCorrection(text, context);
  if (suggestion !== undefined) return describeSuggestion(suggestion);
  const example = `For example: ${exampleFor(words)}. Say help for more.`;
  const question = tokens.some((token) => token.raw === '?');
  if (readsAsPlainLanguage(words, question)) return `${NO_MODEL_TEXT} ${example}`;
  return `I didn't understand that${command.reason ? ` (${command.reason})` : ''}. ${example}`;
}

/** "thanks!", "hi there", "good morning arbion": the friendly answer, or undefined. */
export function smallTalk(words: readonly string[]): string | undefined {
  let end = words.length;
  while (end > 1 && ADDRESSEES.has(words[end - 1] ?? '')) end--;
  const phrase = words.slice(0, end).join(' ');
  if (THANKS.has(phrase)) return THANKS_REPLY;
  if (GREETINGS.has(phrase)) return GREETING_REPLY;
  return undefined;
}

/** A question or a sentence of several words that does not start like a command. */
export function readsAsPlainLanguage(words: readonly string[], question: boolean): boolean {
  const first = words[0];
  if (first === undefined || COMMAND_STARTERS.has(first)) return false;
  return question || QUESTION_STARTERS.has(first) || words.length >= SENTENCE_WORDS;
}
