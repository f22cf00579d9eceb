/**
 * Automation commands on the fast path: strategies, monitors, the kill switch and backtests.
 * These sentences have a fixed shape, so each is one anchored pattern over the normalized text;
 * anything else is left to the other parsers (and the LLM).
 */
import type { AutomationCommand, AutomationTarget, StrategyKindName } from '../commands.js';
import type { ParseContext } from './orders.js';

/** Words a message must start with to be tried here (cheap pre-check on the hot path). */
export const AUTOMATION_STARTERS: ReadonlySet<string> = new Set([
  'run',
  'start',
  'stop',
  'pause',
  'resume',
  'list',
  'show',
  'my',
  'strategies',
  'alerts',
  'alert',
  'notify',
  'tell',
  'set',
  'trailing',
  'stop-loss',
  'take-profit',
  'take',
  'confirm',
  'backtest',
  'cancel',
  'simulate',
  'kill',
  'halt',
  'sell',
]);

const KIND = `(wheel|collar|ai(?:[- ]driven)?(?: strategy)?)`;
const SYMBOL = String.raw`\$?([a-z][a-z0-9.-]{0,9})`;
const AMOUNT = String.raw`\$?(\d[\d,]*(?:\.\d+)?k?)`;

const CREATE = new RegExp(
  String.raw`^(?:run|start)\s+(?:the\s+|a\s+|an\s+)?${KIND}\s+(?:strategy\s+)?(?:on|for)\s+${SYMBOL}(.*)$`,
);
const LIST = /^(?:(?:list|show)\s+)?(?:me\s+)?(?:my\s+)?(?:strategies|automations|alerts|monitors)$/;
const STOP_EVERYTHING =
  /^(?:stop everything|stop all|stop all (?:strategies|automation|trading)|kill switch|kill everything|halt everything|stop all my strategies)$/;
const CONTROL =
  /^(pause|resume|stop|cancel)\s+(?:the\s+|my\s+)?(?:(wheel|collar|ai|strategy|alert|monitor)\s*)?(?:on\s+|for\s+)?([a-z0-9.$-]+)?$/;
const CONFIRM_AUTO = /^confirm\s+auto(?:\s+(?:the\s+)?(wheel|collar|ai))?(?:\s+(?:on\s+)?([a-z0-9.$-]+))?$/;
const PRICE_ALERT = new RegExp(
  `^(?:alert|notify|tell) me (?:if|when) ${SYMBOL} (?:goes |gets |rises |trades |moves |is |falls |drops |dips )?(above|over|below|under) ${AMOUNT}$`,
);
const LEVEL = new RegExp(
  `^(?:set (?:a |an )?)?(stop[- ]?loss|take[- ]?profit) (?:on|for) (?:my )?${SYMBOL} at ${AMOUNT}$`,
);
const TRAILING = new RegExp(
  String.raw`^(?:set (?:a )?)?trailing[- ]stop (?:of )?(\d+(?:\.\d+)?)% (?:on|for) (?:my )?${SYMBOL}$`,
);
const CONDITIONAL_SELL = new RegExp(
  String.raw`^sell (all|half|a third|a quarter|\d+(?:\.\d+)?%)(?: of)? (?:my )?${SYMBOL} (?:if|when|once) (?:it |the price )?(?:drops|falls|goes|dips|trades|gets|rises|climbs)? ?(below|under|above|over) ${AMOUNT}$`,
);
const BACKTEST = new RegExp(
  String.raw`^(?:backtest|simulate)\s+(?:the\s+|a\s+)?${KIND}\s+(?:strategy\s+)?on\s+${SYMBOL}(?:\s+(?:for|over)\s+(?:the\s+)?(?:last\s+|past\s+)?(\d+|a|one|six|three|twelve)\s*(months?|mo|weeks?|days?|years?|yr))?$`,
);

const WORD_NUMBERS: Readonly<Record<string, number>> = { a: 1, one: 1, three: 3, six: 6, twelve: 12 };
const FRACTIONS: Readonly<Record<string, string>> = {
  all: '1',
  half: '0.5',
  'a third': '0.333333',
  'a quarter': '0.25',
};

function kindOf(word: string): StrategyKindName {
  if (word.startsWith('wheel')) return 'wheel';
  if (word.startsWith('collar')) return 'collar';
  return 'ai_driven';
}

/** "3k" -> "3000", "$5,000.50" -> "5000.50"; undefined for nonsense. */
export function amountOf(text: string): string | undefined {
  const thousands = text.endsWith('k');
  const digits = text.replace(/[$,k]/g, '');
  if (!/^\d+(\.\d+)?$/.test(digits)) return undefined;
  if (!thousands) return digits.replace(/^0+(?=\d)/, '');
  const [whole = '0', fraction = ''] = digits.split('.');
  const scaled = `${whole}${fraction.padEnd(3, '0').slice(0, 3)}.${fraction.slice(3)}`;
  return scaled.replace(/\.$/, '').replace(/^0+(?=\d)/, '');
}

/** Whether `word` is in `text` and not denied just before it ("not live", "no auto", "don't go live"). */
function said(text: string, word: string): boolean {
  const found = new RegExp(String.raw`\b${word}\b`).test(text);
  const denied = new RegExp(String.raw`\b(?:not|no|never|without|don'?t|do not)\s+(?:\w+\s+)?${word}\b`).test(
    text,
  );
  return found && !denied;
}

function percentFraction(text: string): string {
  const value = Number(text) / 100;
  return String(Number(value.toFixed(6)));
}

function tickerOf(raw: string, context: ParseContext): string | undefined {
  const cleaned = raw.replace(/^\$/, '');
  return (context.symbols.get(cleaned) ?? context.symbols.resolve(cleaned))?.symbol;
}

/** "2 contracts max, paper, auto, max $5k per order, $20k per day, max drawdown 10%". */
function options(
  rest: string,
): Pick<Extract<AutomationCommand, { action: 'create' }>, 'params' | 'mode' | 'execution' | 'limits'> {
  const params: Record<string, string | number | boolean> = {};
  // A whole number: "12,020 contracts" is 12020 (then refused by the schema), never "020".
  const contracts =
    /(?:(?<![\d,.])(\d[\d,]*)\s+contracts?(?:\s+max)?|max(?:imum)?\s+(?:of\s+)?(\d[\d,]*)\s+contracts?)/.exec(
      rest,
    );
  const count = contracts?.[1] ?? contracts?.[2];
  if (count !== undefined) params.maxContracts = Number(count.replace(/,/g, ''));
  const delta = /(\d?\.\d+)\s+delta|delta\s+(\d?\.\d+)/.exec(rest);
  const deltaValue = delta?.[1] ?? delta?.[2];
  if (deltaValue !== undefined) params.targetDelta = Number(deltaValue);
  const limits: Extract<AutomationCommand, { action: 'create' }>['limits'] = {};
  const perOrder = new RegExp(String.raw`${AMOUNT}\s+(?:per|an?|each)\s+order`).exec(rest);
  const perDay = new RegExp(String.raw`${AMOUNT}\s+(?:per|a)\s+day`).exec(rest);
  const position = new RegExp(String.raw`max(?:imum)?\s+position\s+(?:of\s+)?${AMOUNT}`).exec(rest);
  const drawdown = /(?:max(?:imum)?\s+)?drawdown\s+(?:of\s+)?(\d+(?:\.\d+)?)%/.exec(rest);
  const orderAmount = perOrder?.[1] === undefined ? undefined : amountOf(perOrder[1]);
  const dayAmount = perDay?.[1] === undefined ? undefined : amountOf(perDay[1]);
  const positionAmount = position?.[1] === undefined ? undefined : amountOf(position[1]);
  if (orderAmount !== undefined) limits.maxNotionalPerOrder = orderAmount;
  if (dayAmount !== undefined) limits.maxNotionalPerDay = dayAmount;
  if (positionAmount !== undefined) limits.maxPosition = positionAmount;
  if (drawdown?.[1] !== undefined) limits.maxDrawdown = percentFraction(drawdown[1]);
  return {
    params,
    // Real money and orders without a card only when said, never when denied ("paper, not live").
    mode: said(rest, 'live') ? 'live' : 'paper',
    execution: said(rest, 'auto(?:matic(?:ally)?)?') ? 'auto' : 'ask',
    limits,
  };
}

function target(
  kind: string | undefined,
  word: string | undefined,
  context: ParseContext,
): AutomationTarget | undefined {
  const result: { id?: string; kind?: AutomationTarget['kind']; symbol?: string } = {};
  if (kind === 'alert' || kind === 'monitor') result.kind = 'alert';
  else if (kind === 'wheel' || kind === 'collar' || kind === 'ai') result.kind = kindOf(kind);
  if (word !== undefined && word !== '') {
    const ticker = /^[0-9a-f]{4,36}$/.test(word) && /\d/.test(word) ? undefined : tickerOf(word, context);
    if (ticker !== undefined) result.symbol = ticker;
    else if (/^[0-9a-f-]{4,36}$/.test(word)) result.id = word.replace(/-/g, '');
    else return undefined;
  }
  if (result.id === undefined && result.kind === undefined && result.symbol === undefined) return undefined;
  return result;
}

/**
 * The automation command a message is, or undefined when it is none (other parsers then try).
 * Pure; `text` is the raw message.
 */
export function parseAutomation(text: string, context: ParseContext): AutomationCommand | undefined {
  const normalized = text
    .toLowerCase()
    .trim()
    .replace(/^\/+/, '')
    .replace(/^(?:please|pls|plz)\s+/, '')
    // Commas separate options, except inside numbers ("$12,000").
    .replace(/(?<!\d),|,(?!\d)|;/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/[.!?]+$/, '')
    .replace(/\s+(?:please|pls|plz|thanks)$/, '')
    .trim();

  if (STOP_EVERYTHING.test(normalized)) return { kind: 'automation', action: 'stop_everything' };
  if (LIST.test(normalized)) return { kind: 'automation', action: 'list' };

  const create = CREATE.exec(normalized);
  if (create !== null) {
    const symbol = tickerOf(create[2] ?? '', context);
    if (symbol === undefined) return undefined;
    return {
      kind: 'automation',
      action: 'create',
      strategy: kindOf(create[1] ?? ''),
      symbol,
      ...options(create[3] ?? ''),
    };
  }

  const backtest = BACKTEST.exec(normalized);
  if (backtest !== null) {
    const symbol = tickerOf(backtest[2] ?? '', context);
    if (symbol === undefined) return undefined;
    const count = backtest[3] === undefined ? 6 : (WORD_NUMBERS[backtest[3]] ?? Number(backtest[3]));
    const unit = backtest[4] ?? 'months';
    const perUnit = unit.startsWith('y') ? 365 : unit.startsWith('w') ? 7 : unit.startsWith('d') ? 1 : 30;
    const days = Math.min(Math.max(count * perUnit, 5), 730);
    return {
      kind: 'automation',
      action: 'backtest',
      strategy: kindOf(backtest[1] ?? ''),
      symbol,
      params: {},
      days,
    };
  }

  const confirm = CONFIRM_AUTO.exec(normalized);
  if (confirm !== null) {
    const which = target(confirm[1], confirm[2], context);
    if (which === undefined) return undefined;
    return { kind: 'automation', action: 'confirm_auto', target: which };
  }

  const priceAlert = PRICE_ALERT.exec(normalized);
  if (priceAlert !== null) {
    const symbol = tickerOf(priceAlert[1] ?? '', context);
    const threshold = amountOf(priceAlert[3] ?? '');
    if (symbol === undefined || threshold === undefined) return undefined;
    const above = priceAlert[2] === 'above' || priceAlert[2] === 'over';
    return {
      kind: 'automation',
      action: 'monitor',
      monitor: above ? 'price_above' : 'price_below',
      symbol,
      threshold,
      closePosition: false,
    };
  }

  const level = LEVEL.exec(normalized);
  if (level !== null) {
    const symbol = tickerOf(level[2] ?? '', context);
    const threshold = amountOf(level[3] ?? '');
    if (symbol === undefined || threshold === undefined) return undefined;
    return {
      kind: 'automation',
      action: 'monitor',
      monitor: level[1]?.startsWith('stop') ? 'stop_loss' : 'take_profit',
      symbol,
      threshold,
      closePosition: true,
    };
  }

  const trailing = TRAILING.exec(normalized);
  if (trailing !== null) {
    const symbol = tickerOf(trailing[2] ?? '', context);
    const percent = Number(trailing[1]);
    if (symbol === undefined || !(percent > 0 && percent < 100)) return undefined;
    return {
      kind: 'automation',
      action: 'monitor',
      monitor: 'trailing_stop',
      symbol,
      trailFraction: percentFraction(trailing[1] ?? ''),
      closePosition: true,
    };
  }

  const conditional = CONDITIONAL_SELL.exec(normalized);
  if (conditional !== null) {
    const symbol = tickerOf(conditional[2] ?? '', context);
    const threshold = amountOf(conditional[4] ?? '');
    const share = conditional[1] ?? '';
    const fraction = share.endsWith('%') ? percentFraction(share.slice(0, -1)) : FRACTIONS[share];
    if (symbol === undefined || threshold === undefined || fraction === undefined) return undefined;
    if (!(Number(fraction) > 0 && Number(fraction) <= 1)) return undefined;
    const below = conditional[3] === 'below' || conditional[3] === 'under';
    return {
      kind: 'automation',
      action: 'monitor',
      monitor: below ? 'stop_loss' : 'take_profit',
      symbol,
      threshold,
      ...(fraction === '1' ? {} : { fractionOfPosition: fraction }),
      closePosition: true,
    };
  }

  const control = CONTROL.exec(normalized);
  if (control !== null) {
    const which = target(control[2], control[3], context);
    if (which === undefined) return undefined;
    const verb = control[1] === 'cancel' ? 'stop' : (control[1] as 'pause' | 'resume' | 'stop');
    // "cancel <order id>" stays an order cancel: only "cancel the alert ..." is ours.
    if (control[1] === 'cancel' && which.kind === undefined) return undefined;
    return { kind: 'automation', action: verb, target: which };
  }
  return undefined;
}
