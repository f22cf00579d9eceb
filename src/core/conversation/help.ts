/** The help every channel shows: what Arbion understands, one example per line. */
export const HELP_TEXT = [
  'I place orders after you confirm them (on the card, or type "confirm 12" / "cancel 12"). Try:',
  '  buy 10 AAPL            sell half my TSLA',
  '  buy $500 of BTC        buy 5 MSFT limit 400 gtc',
  '  sell 1 AAPL put 190 May 21 2027 at 1.00',
  '  quote AAPL 190 put May 2027     chain AAPL May 2027',
  '  quote NVDA             balance',
  '  positions              orders',
  '  history                fills AAPL this week',
  '  cancel all             help',
  '  link                   (link a broker)     go live on schwab / paper mode',
  '  link chat              (use Arbion from another chat app)',
  '  run the wheel on SOFI, 2 contracts max, paper      my strategies',
  '  alert me if AAPL goes above 250     sell half my ETH if it drops under 3k',
  '  pause / resume / stop the wheel on SOFI      stop everything',
  '  backtest the wheel on SOFI for 6 months',
].join('\n');

/** One example per kind of request, for short error replies: the words that point to it first. */
const EXAMPLES: readonly (readonly [readonly string[], string])[] = [
  [['swap', 'convert', 'exchange'], 'swap 0.1 ETH to USDC'],
  [['alert', 'notify', 'stop-loss', 'trailing'], 'alert me if AAPL goes above 250'],
  [
    ['wheel', 'collar', 'strategy', 'strategies', 'backtest'],
    'run the wheel on SOFI, 2 contracts max, paper',
  ],
  [['cancel'], 'cancel all'],
  [['history', 'fills', 'trades'], 'fills AAPL this week'],
  [['link', 'connect', 'broker', 'live', 'paper'], 'link schwab'],
  [['buy', 'sell', 'purchase', 'order'], 'buy 10 AAPL'],
  [['quote', 'price', 'worth', 'trading'], 'quote AAPL'],
  [['balance', 'cash', 'positions', 'portfolio', 'holdings'], 'balance'],
];
const DEFAULT_EXAMPLE = 'buy 10 AAPL';

/** The one example most relevant to a message's (lower-case) words; an order by default. */
export function exampleFor(words: readonly string[]): string {
  for (const [triggers, example] of EXAMPLES)
    if (triggers.some((word) => words.includes(word))) return example;
  return DEFAULT_EXAMPLE;
}
