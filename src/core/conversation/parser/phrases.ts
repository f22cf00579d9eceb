/**
 * Fixed phrases for queries and account actions, expanded once at load time into a map from the
 * normalized message ("what's my buying power") to its command. Lookup is one Map.get per message.
 */
import type { ActionCommand, QueryCommand } from '../commands.js';

export type FixedCommand = QueryCommand | ActionCommand;

type Provider = 'schwab' | 'etrade' | 'alpaca' | 'coinbase' | 'cdp_wallet';

/** How people name each broker. */
const PROVIDER_NAMES: readonly (readonly [string, Provider])[] = [
  ['schwab', 'schwab'],
  ['charles schwab', 'schwab'],
  ['etrade', 'etrade'],
  ['e*trade', 'etrade'],
  ['e-trade', 'etrade'],
  ['e trade', 'etrade'],
  ['alpaca', 'alpaca'],
  ['coinbase', 'coinbase'],
  ['cdp', 'cdp_wallet'],
  ['cdp wallet', 'cdp_wallet'],
  ['wallet', 'cdp_wallet'],
  ['smart wallet', 'cdp_wallet'],
  ['coinbase wallet', 'cdp_wallet'],
];

/** Ways to ask to see something: "show my ...", "what's my ...". */
const SHOW_PREFIXES = [
  '',
  'my',
  'the',
  'show',
  'show my',
  'show the',
  'show me',
  'show me my',
  'show me the',
  'check',
  'check my',
  'get',
  'get my',
  'see',
  'see my',
  'view',
  'view my',
  'list',
  'list my',
  "what's my",
  'whats my',
  'what is my',
  "what're my",
  'what are my',
  "what's the",
  'what is the',
] as const;

const BALANCE_NOUNS = [
  'balance',
  'balances',
  'account balance',
  'cash',
  'cash balance',
  'available cash',
  'buying power',
  'funds',
  'available funds',
  'account value',
];
const POSITIONS_NOUNS = [
  'positions',
  'portfolio',
  'holdings',
  'stocks',
  'open positions',
  'current positions',
];
const ORDERS_NOUNS = [
  'orders',
  'open orders',
  'pending orders',
  'working orders',
  'active orders',
  'order status',
];

const WALLET = [
  'wallet',
  'my wallet',
  'show my wallet',
  'wallet balance',
  'wallet balances',
  'smart wallet',
  'my smart wallet',
  "what's in my wallet",
  'whats in my wallet',
];

const BALANCE_EXTRA = [
  'how much cash do i have',
  'how much money do i have',
  'how much buying power do i have',
  'how much can i spend',
  'how much can i invest',
];
const POSITIONS_EXTRA = ['what do i own', 'what do i hold', 'what am i holding'];
const ORDERS_EXTRA = ['any open orders', 'do i have open orders', 'do i have any open orders'];
const HELP = [
  'help',
  'help me',
  'start',
  'menu',
  'commands',
  'what can you do',
  'what can i do',
  'what can i say',
  'what do you do',
  'how does this work',
  'how do i use this',
  'how do i use you',
  '?',
];

const CANCEL_ALL = [
  'cancel all',
  'cancel all orders',
  'cancel all my orders',
  'cancel all open orders',
  'cancel all my open orders',
  'cancel all pending orders',
  'cancel all my pending orders',
  'cancel every order',
  'cancel everything',
];

const LINK_BARE = [
  'link',
  'link broker',
  'link a broker',
  'link my broker',
  'link account',
  'link an account',
  'link my account',
  'link brokerage',
  'link my brokerage',
  'connect broker',
  'connect a broker',
  'connect my broker',
  'connect account',
  'connect my account',
  'connect my brokerage',
  'add a broker',
  'add broker',
];
const LINK_WITH_PROVIDER = [
  'link {p}',
  'link my {p}',
  'link {p} account',
  'link my {p} account',
  'connect {p}',
  'connect to {p}',
  'connect my {p}',
  'connect my {p} account',
  'add {p}',
];

const PAPER = [
  'paper',
  'paper mode',
  'paper trading',
  'paper trade',
  'switch to paper',
  'switch to paper mode',
  'switch to paper trading',
  'switch back to paper',
  'go paper',
  'go back to paper',
  'back to paper',
  'use paper',
  'use paper mode',
  'use paper trading',
  'enable paper mode',
  'enable paper trading',
];
/** Bare "live" is left out on purpose: the risky direction needs a clear request. */
const LIVE = [
  'live mode',
  'live trading',
  'go live',
  'trade live',
  'switch to live',
  'switch to live mode',
  'switch to live trading',
  'use live trading',
  'use live mode',
  'enable live trading',
  'enable live mode',
];
const LIVE_PROVIDER_JOINERS = ['on', 'with', 'using', 'via', 'at'];

function buildPhrases(): ReadonlyMap<string, FixedCommand> {
  const phrases = new Map<string, FixedCommand>();
  const add = (phrase: string, command: FixedCommand): void => {
    if (!phrases.has(phrase)) phrases.set(phrase, Object.freeze(command));
  };
  const addShown = (nouns: readonly string[], query: 'balance' | 'positions' | 'orders'): void => {
    for (const prefix of SHOW_PREFIXES) {
      for (const noun of nouns) add(prefix === '' ? noun : `${prefix} ${noun}`, { kind: 'query', query });
    }
  };
  addShown(BALANCE_NOUNS, 'balance');
  addShown(POSITIONS_NOUNS, 'positions');
  addShown(ORDERS_NOUNS, 'orders');
  for (const phrase of BALANCE_EXTRA) add(phrase, { kind: 'query', query: 'balance' });
  for (const phrase of POSITIONS_EXTRA) add(phrase, { kind: 'query', query: 'positions' });
  for (const phrase of ORDERS_EXTRA) add(phrase, { kind: 'query', query: 'orders' });
  for (const phrase of HELP) add(phrase, { kind: 'query', query: 'help' });
  for (const phrase of WALLET) add(phrase, { kind: 'query', query: 'wallet' });
  for (const phrase of CANCEL_ALL) add(phrase, { kind: 'action', action: 'cancel', target: 'all' });
  for (const phrase of LINK_BARE) add(phrase, { kind: 'action', action: 'link' });
  for (const template of LINK_WITH_PROVIDER) {
    for (const [name, provider] of PROVIDER_NAMES) {
      add(template.replace('{p}', name), { kind: 'action', action: 'link', provider });
    }
  }
  for (const phrase of PAPER) add(phrase, { kind: 'action', action: 'mode', mode: 'paper' });
  for (const phrase of LIVE) {
    add(phrase, { kind: 'action', action: 'mode', mode: 'live' });
    for (const joiner of LIVE_PROVIDER_JOINERS) {
      for (const [name, provider] of PROVIDER_NAMES) {
        add(`${phrase} ${joiner} ${name}`, { kind: 'action', action: 'mode', mode: 'live', provider });
      }
    }
  }
  for (const [name, provider] of PROVIDER_NAMES) {
    add(`go live ${name}`, { kind: 'action', action: 'mode', mode: 'live', provider });
    for (const phrase of [
      `confirm live ${name}`,
      `confirm live on ${name}`,
      `confirm going live on ${name}`,
    ]) {
      add(phrase, { kind: 'action', action: 'confirm_live', provider });
    }
  }
  return phrases;
}

/** Normalized message -> command. Values are frozen; callers get a copy. */
export const FIXED_PHRASES: ReadonlyMap<string, FixedCommand> = buildPhrases();

/** A quote question with the symbol in the middle: words before and after it. */
export interface QuoteTemplate {
  readonly before: readonly string[];
  readonly after: readonly string[];
}

const QUOTE_PATTERNS = [
  'quote {s}',
  'quote for {s}',
  'quote on {s}',
  'get a quote for {s}',
  'get a quote on {s}',
  'get quote {s}',
  'get quote for {s}',
  '{s} quote',
  'price {s}',
  'price of {s}',
  'price for {s}',
  'price on {s}',
  '{s} price',
  '{s} stock price',
  '{s} share price',
  'the price of {s}',
  'current price of {s}',
  "what's the price of {s}",
  'whats the price of {s}',
  'what is the price of {s}',
  "what's the current price of {s}",
  'what is the current price of {s}',
  "what's {s} at",
  'whats {s} at',
  'what is {s} at',
  "what's {s} trading at",
  'what is {s} trading at',
  "what's {s} price",
  'what is {s} price',
  'how much is {s}',
  'how much is {s} now',
  'how much is {s} trading at',
  'how much does {s} cost',
  "how's {s} doing",
  'how is {s} doing',
  'where is {s} trading',
  'check {s}',
  'check price of {s}',
];

export const QUOTE_TEMPLATES: readonly QuoteTemplate[] = QUOTE_PATTERNS.map((pattern) => {
  const [before = '', after = ''] = pattern.split('{s}');
  const words = (part: string): string[] => part.split(' ').filter((word) => word.length > 0);
  return Object.freeze({ before: words(before), after: words(after) });
});
