/**
 * The fast-path parser against a small fixed directory and a fixed clock: a table of messages and
 * the exact Command each must produce, plus the "never an order" cases.
 */
import { describe, expect, it } from 'vitest';
import { type Command, commandSchema, orderCommandSchema } from '../../src/core/conversation/commands.js';
import { parseMessage, StaticSymbolResolver } from '../../src/core/conversation/parser/index.js';
import type { Instrument } from '../../src/core/market-data/instruments.js';

function instrument(
  symbol: string,
  name: string,
  aliases: string[],
  assetClass: 'equity' | 'crypto' = 'equity',
): Instrument {
  return {
    symbol,
    name,
    assetClass,
    kind: assetClass === 'crypto' ? 'crypto' : 'stock',
    aliases,
    indexes: [],
  };
}

/** English words that are tickers (ALL, NOW, A, IT, ON, KEY, LOW) are here on purpose. */
const symbols = new StaticSymbolResolver([
  instrument('AAPL', 'Apple Inc.', ['apple']),
  instrument('TSLA', 'Tesla, Inc.', ['tesla']),
  instrument('AMD', 'Advanced Micro Devices', ['amd']),
  instrument('ALL', 'The Allstate Corporation', ['allstate']),
  instrument('NOW', 'ServiceNow, Inc.', ['servicenow']),
  instrument('A', 'Agilent Technologies', ['agilent']),
  instrument('IT', 'Gartner, Inc.', ['gartner']),
  instrument('ON', 'ON Semiconductor', ['onsemi']),
  instrument('KEY', 'KeyCorp', ['keycorp']),
  instrument('LOW', "Lowe's Companies", ['lowes', "lowe's"]),
  instrument('BRK.B', 'Berkshire Hathaway Inc.', ['berkshire hathaway', 'berkshire']),
  instrument('NVDA', 'NVIDIA Corporation', ['nvidia']),
  instrument('GOOGL', 'Alphabet Inc.', ['google', 'alphabet']),
  instrument('MSFT', 'Microsoft Corporation', ['microsoft']),
  instrument('AMZN', 'Amazon.com, Inc.', ['amazon']),
  instrument('SOFI', 'SoFi Technologies', ['sofi']),
  instrument('SPY', 'SPDR S&P 500 ETF Trust', ['s&p 500', 'spdr']),
  instrument('QQQ', 'Invesco QQQ Trust', ['qqq']),
  instrument('BAC', 'Bank of America', ['bank of america']),
  instrument('T', 'AT&T Inc.', ['at&t']),
  instrument('F', 'Ford Motor Company', ['ford']),
  instrument('BTC', 'Bitcoin', ['bitcoin', 'btc'], 'crypto'),
  instrument('ETH', 'Ethereum', ['ethereum', 'ether', 'eth'], 'crypto'),
  instrument('SOL', 'Solana', ['solana'], 'crypto'),
  instrument('DOGE', 'Dogecoin', ['dogecoin', 'doge'], 'crypto'),
]);

/** Mid-June 2025: "May 17" rolls to 2026, "Jun 20" stays in 2025. */
const now = new Date('2025-06-15T15:00:00Z');
const parse = (text: string): Command => parseMessage(text, { symbols, now });

type Extra = Record<string, unknown>;
const equity = (side: 'buy' | 'sell', symbol: string, extra: Extra): Command =>
  ({
    kind: 'order',
    side,
    symbol,
    assetClass: 'equity',
    orderType: 'market',
    timeInForce: 'day',
    ...extra,
  }) as Command;
const crypto = (side: 'buy' | 'sell', symbol: string, extra: Extra): Command =>
  ({
    kind: 'order',
    side,
    symbol,
    assetClass: 'crypto',
    orderType: 'market',
    timeInForce: 'gtc',
    ...extra,
  }) as Command;
const option = (
  side: 'buy' | 'sell',
  symbol: string,
  quantity: string,
  limitPrice: string,
  contract: { expiry: string; right: 'call' | 'put'; strike: string; positionEffect?: 'open' | 'close' },
  extra: Extra = {},
): Command =>
  ({
    kind: 'order',
    side,
    symbol,
    assetClass: 'option',
    quantity,
    orderType: 'limit',
    limitPrice,
    timeInForce: 'day',
    option: { underlying: symbol, ...contract },
    ...extra,
  }) as Command;
const quote = (symbol: string): Command => ({ kind: 'query', query: 'quote', symbol });
const query = (name: 'balance' | 'positions' | 'orders' | 'help'): Command => ({
  kind: 'query',
  query: name,
});

const cases: readonly (readonly [string, Command])[] = [
  // Plain quantities, any case, leading slash.
  ['buy 10 AAPL', equity('buy', 'AAPL', { quantity: '10' })],
  ['BUY 10 aapl', equity('buy', 'AAPL', { quantity: '10' })],
  ['/buy 10 aapl', equity('buy', 'AAPL', { quantity: '10' })],
  ['Sell 5 shares of tsla', equity('sell', 'TSLA', { quantity: '5' })],
  ['sell 5 shares tsla', equity('sell', 'TSLA', { quantity: '5' })],
  ['buy 10 shares of Apple', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 apple shares', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 of AAPL', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 $AAPL', equity('buy', 'AAPL', { quantity: '10' })],
  ['purchase 3 MSFT', equity('buy', 'MSFT', { quantity: '3' })],
  ['please buy 10 AAPL', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 AAPL please', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 AAPL now', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 AAPL thanks!', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 AAPL, thank you.', equity('buy', 'AAPL', { quantity: '10' })],
  ['  buy   10\tAAPL  ', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 shares of Berkshire Hathaway', equity('buy', 'BRK.B', { quantity: '10' })],
  ['buy 2 BRK.B', equity('buy', 'BRK.B', { quantity: '2' })],
  ['buy 2 brk-b', equity('buy', 'BRK.B', { quantity: '2' })],
  ['buy 4 shares of bank of america', equity('buy', 'BAC', { quantity: '4' })],
  ['buy 7 AT&T', equity('buy', 'T', { quantity: '7' })],
  ['buy 10 google', equity('buy', 'GOOGL', { quantity: '10' })],
  ['buy 1,000 F', equity('buy', 'F', { quantity: '1000' })],
  ['buy 2k F', equity('buy', 'F', { quantity: '2000' })],
  ['buy 0.5 AAPL', equity('buy', 'AAPL', { quantity: '0.5' })],
  ['buy .25 NVDA', equity('buy', 'NVDA', { quantity: '0.25' })],
  ['buy 10.50 AAPL', equity('buy', 'AAPL', { quantity: '10.5' })],
  ['buy 007 AAPL', equity('buy', 'AAPL', { quantity: '7' })],
  ['buy 1000000000 F', equity('buy', 'F', { quantity: '1000000000' })],
  // Crypto: fractions, gtc by default.
  ['buy 0.5 btc', crypto('buy', 'BTC', { quantity: '0.5' })],
  ['buy 0.000000000000000001 ETH', crypto('buy', 'ETH', { quantity: '0.000000000000000001' })],
  ['sell 2 bitcoin', crypto('sell', 'BTC', { quantity: '2' })],
  ['buy 100 doge', crypto('buy', 'DOGE', { quantity: '100' })],
  ['buy 1 ETH limit 3000', crypto('buy', 'ETH', { quantity: '1', orderType: 'limit', limitPrice: '3000' })],
  [
    'buy 1 ETH limit 3000 day',
    crypto('buy', 'ETH', { quantity: '1', orderType: 'limit', limitPrice: '3000', timeInForce: 'day' }),
  ],
  // Number words.
  ['buy ten apple', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy one AAPL', equity('buy', 'AAPL', { quantity: '1' })],
  ['buy a share of AAPL', equity('buy', 'AAPL', { quantity: '1' })],
  ['buy twenty-five TSLA', equity('buy', 'TSLA', { quantity: '25' })],
  ['buy twenty five TSLA', equity('buy', 'TSLA', { quantity: '25' })],
  ['buy ninety-nine AMD', equity('buy', 'AMD', { quantity: '99' })],
  ['buy ninety nine shares of AMD', equity('buy', 'AMD', { quantity: '99' })],
  ['buy thirteen NVDA', equity('buy', 'NVDA', { quantity: '13' })],
  ['buy a dozen AAPL', equity('buy', 'AAPL', { quantity: '12' })],
  ['buy two dozen AAPL', equity('buy', 'AAPL', { quantity: '24' })],
  ['buy a hundred AAPL', equity('buy', 'AAPL', { quantity: '100' })],
  ['buy one hundred and fifty shares of AAPL', equity('buy', 'AAPL', { quantity: '150' })],
  ['buy two hundred fifty F', equity('buy', 'F', { quantity: '250' })],
  ['buy a thousand F', equity('buy', 'F', { quantity: '1000' })],
  ['buy three thousand five hundred F', equity('buy', 'F', { quantity: '3500' })],
  ['buy a dozen A', equity('buy', 'A', { quantity: '12' })],
  // Order types and time in force.
  ['buy 10 AAPL at market', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 AAPL market order', equity('buy', 'AAPL', { quantity: '10' })],
  ['buy 10 AAPL limit 190', equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' })],
  ['buy 10 AAPL at 190', equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' })],
  ['buy 10 AAPL @ 190', equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' })],
  [
    'buy 10 AAPL @190.25',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190.25' }),
  ],
  ['buy 10 AAPL at $190', equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' })],
  [
    'buy 10 AAPL limit at 190',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' }),
  ],
  [
    'buy 10 AAPL limit order at 190',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' }),
  ],
  [
    'buy 10 AAPL for $190 or less',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' }),
  ],
  [
    'sell 10 AAPL for 200 or more',
    equity('sell', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '200' }),
  ],
  ['sell 10 AAPL stop 180', equity('sell', 'AAPL', { quantity: '10', orderType: 'stop', stopPrice: '180' })],
  [
    'sell 10 AAPL stop loss at 180',
    equity('sell', 'AAPL', { quantity: '10', orderType: 'stop', stopPrice: '180' }),
  ],
  [
    'sell 10 AAPL stop 180 limit 179.5',
    equity('sell', 'AAPL', {
      quantity: '10',
      orderType: 'stop_limit',
      stopPrice: '180',
      limitPrice: '179.5',
    }),
  ],
  [
    'sell 10 AAPL limit 179.50 stop 180 gtc',
    equity('sell', 'AAPL', {
      quantity: '10',
      orderType: 'stop_limit',
      stopPrice: '180',
      limitPrice: '179.5',
      timeInForce: 'gtc',
    }),
  ],
  [
    'buy 10 AAPL limit 190 gtc',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190', timeInForce: 'gtc' }),
  ],
  [
    'buy 10 AAPL gtc limit 190',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190', timeInForce: 'gtc' }),
  ],
  [
    'buy 10 AAPL limit 190 good till cancelled',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190', timeInForce: 'gtc' }),
  ],
  [
    'buy 10 AAPL limit 190 good til canceled',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190', timeInForce: 'gtc' }),
  ],
  [
    'buy 10 AAPL limit 190 good-till-cancelled',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190', timeInForce: 'gtc' }),
  ],
  [
    'buy 10 AAPL limit 190 day',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' }),
  ],
  [
    'buy 10 AAPL limit 190 for the day',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190' }),
  ],
  [
    'buy 10 AAPL limit 190 ioc',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190', timeInForce: 'ioc' }),
  ],
  [
    'buy 10 AAPL limit 190 fill or kill',
    equity('buy', 'AAPL', { quantity: '10', orderType: 'limit', limitPrice: '190', timeInForce: 'fok' }),
  ],
  ['buy 10 AAPL at market gtc', equity('buy', 'AAPL', { quantity: '10', timeInForce: 'gtc' })],
  // Dollar amounts.
  ['buy $500 of BTC', crypto('buy', 'BTC', { notional: '500' })],
  ['buy $500 worth of BTC', crypto('buy', 'BTC', { notional: '500' })],
  ['buy 500 dollars of ETH', crypto('buy', 'ETH', { notional: '500' })],
  ['buy 500 usd of ETH', crypto('buy', 'ETH', { notional: '500' })],
  ['buy five hundred dollars of ETH', crypto('buy', 'ETH', { notional: '500' })],
  ['buy $1,000 of AAPL', equity('buy', 'AAPL', { notional: '1000' })],
  ['buy $2.5k of SPY', equity('buy', 'SPY', { notional: '2500' })],
  ['buy $1.25m of SPY', equity('buy', 'SPY', { notional: '1250000' })],
  ['buy $99.99 in SOL', crypto('buy', 'SOL', { notional: '99.99' })],
  ['sell $200 of bitcoin', crypto('sell', 'BTC', { notional: '200' })],
  [
    'buy $500 of AAPL limit 190',
    equity('buy', 'AAPL', { notional: '500', orderType: 'limit', limitPrice: '190' }),
  ],
  // Fractions of a position.
  ['sell half my TSLA', equity('sell', 'TSLA', { fractionOfPosition: '0.5' })],
  ['sell half of my TSLA', equity('sell', 'TSLA', { fractionOfPosition: '0.5' })],
  ['sell all my AMD', equity('sell', 'AMD', { fractionOfPosition: '1' })],
  ['sell all of my AMD', equity('sell', 'AMD', { fractionOfPosition: '1' })],
  ['sell ALL my AMD', equity('sell', 'AMD', { fractionOfPosition: '1' })],
  ['sell all my shares of AMD', equity('sell', 'AMD', { fractionOfPosition: '1' })],
  ['sell all my AMD shares', equity('sell', 'AMD', { fractionOfPosition: '1' })],
  ['sell 25% of my AAPL', equity('sell', 'AAPL', { fractionOfPosition: '0.25' })],
  ['sell 25 percent of AAPL', equity('sell', 'AAPL', { fractionOfPosition: '0.25' })],
  ['sell 100% of my AAPL', equity('sell', 'AAPL', { fractionOfPosition: '1' })],
  ['sell 12.5% of my AAPL', equity('sell', 'AAPL', { fractionOfPosition: '0.125' })],
  ['sell a third of my NVDA', equity('sell', 'NVDA', { fractionOfPosition: '0.3333333333' })],
  ['sell two thirds of my NVDA', equity('sell', 'NVDA', { fractionOfPosition: '0.6666666666' })],
  ['sell a quarter of my ETH', crypto('sell', 'ETH', { fractionOfPosition: '0.25' })],
  ['sell three quarters of my position in ETH', crypto('sell', 'ETH', { fractionOfPosition: '0.75' })],
  [
    'sell half my TSLA at 250',
    equity('sell', 'TSLA', { fractionOfPosition: '0.5', orderType: 'limit', limitPrice: '250' }),
  ],
  // English words that are tickers: context decides.
  ['sell all ALL', equity('sell', 'ALL', { fractionOfPosition: '1' })],
  ['sell all my ALL', equity('sell', 'ALL', { fractionOfPosition: '1' })],
  ['buy 10 ALL', equity('buy', 'ALL', { quantity: '10' })],
  ['buy 10 NOW', equity('buy', 'NOW', { quantity: '10' })],
  ['buy 10 now', equity('buy', 'NOW', { quantity: '10' })],
  ['buy 10 NOW now', equity('buy', 'NOW', { quantity: '10' })],
  ['buy 1 A', equity('buy', 'A', { quantity: '1' })],
  ['buy a share of A', equity('buy', 'A', { quantity: '1' })],
  ['buy 10 IT', equity('buy', 'IT', { quantity: '10' })],
  [
    'buy 10 shares of IT limit 300',
    equity('buy', 'IT', { quantity: '10', orderType: 'limit', limitPrice: '300' }),
  ],
  ['buy 10 ON', equity('buy', 'ON', { quantity: '10' })],
  ['sell 5 KEY', equity('sell', 'KEY', { quantity: '5' })],
  ['buy 3 LOW at 250', equity('buy', 'LOW', { quantity: '3', orderType: 'limit', limitPrice: '250' })],
  ['quote A', quote('A')],
  ['price of IT', quote('IT')],
  ['how much is NOW?', quote('NOW')],
  ['quote $all', quote('ALL')],
  // Options.
  [
    'sell 1 AAPL put 190 May 17 at 1.00',
    option('sell', 'AAPL', '1', '1', { expiry: '2026-05-17', right: 'put', strike: '190' }),
  ],
  [
    'buy 2 SOFI 8 calls 2026-01-16 limit 0.45',
    option('buy', 'SOFI', '2', '0.45', { expiry: '2026-01-16', right: 'call', strike: '8' }),
  ],
  [
    'buy to close 1 AAPL 190 put May 17 at 0.50',
    option('buy', 'AAPL', '1', '0.5', {
      expiry: '2026-05-17',
      right: 'put',
      strike: '190',
      positionEffect: 'close',
    }),
  ],
  [
    'sell to open 3 TSLA 300 calls Jun 20 at 4.1 gtc',
    option(
      'sell',
      'TSLA',
      '3',
      '4.1',
      { expiry: '2025-06-20', right: 'call', strike: '300', positionEffect: 'open' },
      { timeInForce: 'gtc' },
    ),
  ],
  [
    'buy 1 AAPL 200 call jun 15 at 2',
    option('buy', 'AAPL', '1', '2', { expiry: '2025-06-15', right: 'call', strike: '200' }),
  ],
  [
    'buy 1 AAPL 200 call jun 14 at 2',
    option('buy', 'AAPL', '1', '2', { expiry: '2026-06-14', right: 'call', strike: '200' }),
  ],
  [
    'buy 1 AAPL 200 call Feb 29 at 2',
    option('buy', 'AAPL', '1', '2', { expiry: '2028-02-29', right: 'call', strike: '200' }),
  ],
  [
    'buy 1 AAPL May 17th, 2027 200 call at 2',
    option('buy', 'AAPL', '1', '2', { expiry: '2027-05-17', right: 'call', strike: '200' }),
  ],
  [
    'buy 1 AAPL 200c 1/16 at 2',
    option('buy', 'AAPL', '1', '2', { expiry: '2026-01-16', right: 'call', strike: '200' }),
  ],
  [
    'buy 1 AAPL 200p 7/18/25 at 2',
    option('buy', 'AAPL', '1', '2', { expiry: '2025-07-18', right: 'put', strike: '200' }),
  ],
  [
    'buy 2 contracts of SOFI 8 calls exp 2026-01-16 limit 0.45',
    option('buy', 'SOFI', '2', '0.45', { expiry: '2026-01-16', right: 'call', strike: '8' }),
  ],
  [
    'buy 1 AAPL $192.5 put December 19 stop 1.5 limit 1.6',
    option(
      'buy',
      'AAPL',
      '1',
      '1.6',
      { expiry: '2025-12-19', right: 'put', strike: '192.5' },
      { orderType: 'stop_limit', stopPrice: '1.5' },
    ),
  ],
  // Queries.
  ['quote AAPL', quote('AAPL')],
  ['/quote aapl', quote('AAPL')],
  ['price of bitcoin', quote('BTC')],
  ['AAPL price', quote('AAPL')],
  ['aapl quote', quote('AAPL')],
  ['how much is TSLA?', quote('TSLA')],
  ["what's the price of apple?", quote('AAPL')],
  ["what's TSLA at", quote('TSLA')],
  ['price of berkshire hathaway', quote('BRK.B')],
  ['quote $NVDA', quote('NVDA')],
  ['balance', query('balance')],
  ["what's my buying power?", query('balance')],
  ['cash', query('balance')],
  ['Show my balance please', query('balance')],
  ['how much cash do i have?', query('balance')],
  ['positions', query('positions')],
  ['portfolio', query('positions')],
  ['my holdings', query('positions')],
  ['/positions', query('positions')],
  ['orders', query('orders')],
  ['open orders', query('orders')],
  ['show my open orders', query('orders')],
  ['help', query('help')],
  ['/start', query('help')],
  ['what can you do?', query('help')],
  // Actions.
  [
    'cancel 3f2a9c1e-7b4d-4e8a-9c1e-1234567890ab',
    { kind: 'action', action: 'cancel', target: '3f2a9c1e-7b4d-4e8a-9c1e-1234567890ab' },
  ],
  ['cancel order A1B2C3', { kind: 'action', action: 'cancel', target: 'A1B2C3' }],
  // Card answers: a number (with or without "#") is a card's number; after a bare "cancel", 8 digits
  // or more are an order id's all-digit prefix (no one has ten million cards).
  ['cancel #42', { kind: 'card', verb: 'cancel', number: 42 }],
  ['cancel 42', { kind: 'card', verb: 'cancel', number: 42 }],
  ['cancel order #42', { kind: 'card', verb: 'cancel', number: 42 }],
  ['cancel 1234567', { kind: 'card', verb: 'cancel', number: 1234567 }],
  ['cancel 12345678', { kind: 'action', action: 'cancel', target: '12345678' }],
  ['cancel order 30591847', { kind: 'action', action: 'cancel', target: '30591847' }],
  ['cancel #12345678', { kind: 'card', verb: 'cancel', number: 12345678 }],
  ['cancel card 12345678', { kind: 'card', verb: 'cancel', number: 12345678 }],
  ['no 12345678', { kind: 'card', verb: 'cancel', number: 12345678 }],
  ['no 12', { kind: 'card', verb: 'cancel', number: 12 }],
  ['No #12.', { kind: 'card', verb: 'cancel', number: 12 }],
  ['cancel', { kind: 'card', verb: 'cancel' }],
  ['no', { kind: 'card', verb: 'cancel' }],
  ['n', { kind: 'card', verb: 'cancel' }],
  ['confirm', { kind: 'card', verb: 'confirm' }],
  ['Confirm!', { kind: 'card', verb: 'confirm' }],
  ['yes', { kind: 'card', verb: 'confirm' }],
  ['yes please', { kind: 'card', verb: 'confirm' }],
  ['ok', { kind: 'card', verb: 'confirm' }],
  ['y', { kind: 'card', verb: 'confirm' }],
  ['/confirm 7', { kind: 'card', verb: 'confirm', number: 7 }],
  ['confirm 12', { kind: 'card', verb: 'confirm', number: 12 }],
  ['confirm #12', { kind: 'card', verb: 'confirm', number: 12 }],
  ['confirm # 12', { kind: 'card', verb: 'confirm', number: 12 }],
  ['confirm card 12', { kind: 'card', verb: 'confirm', number: 12 }],
  ['yes 12', { kind: 'card', verb: 'confirm', number: 12 }],
  ['YES #12', { kind: 'card', verb: 'confirm', number: 12 }],
  ['confirm 0', { kind: 'card', verb: 'confirm', number: 0 }],
  ['confirm #-1', { kind: 'card', verb: 'confirm', number: -1 }],
  ['confirm 99999999999', { kind: 'card', verb: 'confirm', number: 99999999999 }],
  ['cancel 3f2a9c1e', { kind: 'action', action: 'cancel', target: '3f2a9c1e' }],
  ['cancel 3F2A9C1E', { kind: 'action', action: 'cancel', target: '3F2A9C1E' }],
  ['cancel order 9c1e', { kind: 'action', action: 'cancel', target: '9c1e' }],
  ['cancel all orders', { kind: 'action', action: 'cancel', target: 'all' }],
  ['cancel all', { kind: 'action', action: 'cancel', target: 'all' }],
  ['cancel all my open orders', { kind: 'action', action: 'cancel', target: 'all' }],
  ['link', { kind: 'action', action: 'link' }],
  ['link schwab', { kind: 'action', action: 'link', provider: 'schwab' }],
  ['link my E*TRADE account', { kind: 'action', action: 'link', provider: 'etrade' }],
  ['connect my broker', { kind: 'action', action: 'link' }],
  ['connect coinbase', { kind: 'action', action: 'link', provider: 'coinbase' }],
  ['paper mode', { kind: 'action', action: 'mode', mode: 'paper' }],
  ['switch to paper', { kind: 'action', action: 'mode', mode: 'paper' }],
  ['go live on schwab', { kind: 'action', action: 'mode', mode: 'live', provider: 'schwab' }],
  ['confirm live schwab', { kind: 'action', action: 'confirm_live', provider: 'schwab' }],
  ['Confirm live on E*TRADE', { kind: 'action', action: 'confirm_live', provider: 'etrade' }],
  ['switch to live', { kind: 'action', action: 'mode', mode: 'live' }],
  [
    'switch to live trading with alpaca',
    { kind: 'action', action: 'mode', mode: 'live', provider: 'alpaca' },
  ],
  ['link wallet', { kind: 'action', action: 'link', provider: 'cdp_wallet' }],
  ["what's in my wallet?", { kind: 'query', query: 'wallet' }],
  [
    'swap 0.1 ETH to USDC on base',
    { kind: 'swap', fromToken: 'ETH', toToken: 'USDC', amount: '0.1', network: 'base' },
  ],
  ['swap 0.1 eth for usdc', { kind: 'swap', fromToken: 'ETH', toToken: 'USDC', amount: '0.1' }],
  [
    'convert 50 USDC into ETH on arbitrum with 0.5% slippage',
    { kind: 'swap', fromToken: 'USDC', toToken: 'ETH', amount: '50', network: 'arbitrum', slippageBps: 50 },
  ],
  [
    'please swap 1,000 USDC to WETH on ethereum slippage 2%',
    {
      kind: 'swap',
      fromToken: 'USDC',
      toToken: 'WETH',
      amount: '1000',
      network: 'ethereum',
      slippageBps: 200,
    },
  ],
  [
    'swap 0.01 ETH to USDC on base-sepolia',
    { kind: 'swap', fromToken: 'ETH', toToken: 'USDC', amount: '0.01', network: 'base-sepolia' },
  ],
];

/** Messages that must not become orders (or anything else), with a word the reason must contain. */
const notCommands: readonly (readonly [string, string])[] = [
  ["don't buy AAPL", 'negation'],
  ["don't buy 10 AAPL", 'negation'],
  ['don’t buy 10 AAPL', 'negation'],
  ['do not sell 10 TSLA', 'negation'],
  ['never sell TSLA', 'negation'],
  ['should I buy AAPL?', 'question'],
  ['can I buy 10 AAPL?', 'question'],
  ['buy 10 AAPL?', 'question'],
  ['would you sell 5 TSLA', 'question'],
  ['buy AAPL if it drops', 'conditional'],
  ['buy 10 AAPL if it drops', 'conditional'],
  ['sell half my ETH if it drops', 'conditional'],
  ['when AAPL hits 150 buy 10', 'conditional'],
  ['buy 10 AAPL when it dips', 'conditional'],
  ['buy 10 AAPL and sell 5 TSLA', 'several'],
  ['buy 10 AAPL, sell 5 TSLA', 'several'],
  ['buy 10 ZZZQ', 'unknown symbol'],
  ['buy 10 shares of Zorblax Industries', 'unknown symbol'],
  ['quote ZZZQ', 'unknown symbol'],
  ['buy 10 AAPL please and also check TSLA', 'unexpected'],
  ['buy 10 AAPL on margin', 'unexpected'],
  ['buy 10 AAPL and 5 TSLA', 'unexpected'],
  ['buy AAPL', 'how much'],
  ['buy NOW', 'how much'],
  ['sell ALL', 'symbol'],
  ['buy', 'buy what'],
  ['buy 0 AAPL', 'more than zero'],
  ['buy zero AAPL', 'more than zero'],
  ['buy -5 AAPL', 'positive'],
  ['buy 1000000001 AAPL', 'too large'],
  ['buy 5e9 AAPL', 'how much'],
  ['buy 1.0000000000000000001 BTC', 'too many digits'],
  ['buy 1234567890123456789 F', 'too many digits'],
  ['buy $0 of BTC', 'more than zero'],
  ['sell 150% of my AAPL', 'at most 100%'],
  ['buy half my TSLA', 'only a sale'],
  ['buy all my AMD', 'only a sale'],
  ['buy 10 AAPL limit 0', 'more than zero'],
  ['buy 10 AAPL at market limit 190', 'market and limit'],
  ['buy 10 AAPL limit 190 limit 191', 'two limit'],
  ['buy 10 AAPL stop limit 190', 'both prices'],
  ['buy 10 AAPL for $190', 'unclear'],
  ['sell 10 AAPL for $190 or less', 'unclear'],
  ['buy to open 10 AAPL', 'for options'],
  ['sell 1 AAPL put 190 May 17', 'limit price'],
  ['sell 1 AAPL put May 17 at 1', 'strike'],
  ['sell 1 AAPL 190 May 17 at 1', 'call or put'],
  ['sell 1.5 AAPL put 190 May 17 at 1', 'whole numbers'],
  ['buy 1 BTC 100000 call May 17 at 1', 'crypto'],
  ['buy 1 AAPL 200 call 2024-01-19 at 2', 'past'],
  ['buy 1 AAPL 200 call Feb 30 at 2', 'not a date'],
  ['buy $500 of AAPL 200 call May 17 at 2', 'unexpected'],
  ['how much is it?', 'plain word'],
  ['quote it', 'plain word'],
  ['hello there', 'not a command'],
  ['live', 'not a command'],
  ['cancel that', 'order id'],
  ['cancel #3f2a9c1e', 'card'],
  ['confirm 12.5', 'whole numbers'],
  ['confirm 1234567890123456', 'that long'],
  ['confirm 12 and 13', 'not a command'],
  ['confirm twelve', 'not a command'],
  ['', 'empty'],
  ['   ', 'empty'],
  ['🚀🚀🚀', 'not a command'],
  ['buy 10 AAPL 🚀', 'unexpected'],
  ['swap ETH to USDC', 'how much'],
  ['swap 0 ETH to USDC', 'more than zero'],
  ['swap 0.1 ETH to ETH', 'two different'],
  ['swap 0.1 ETH', 'into which'],
  ['swap 0.1 ETH to USDC on solana', 'unknown network'],
  ['swap 0.1 ETH to USDC with 9% slippage', 'between'],
  ['swap 0.1 ETH to USDC now', 'did not understand'],
];

describe('parseMessage', () => {
  it.each(cases)('%s', (text, expected) => {
    const result = parse(text);
    expect(result).toStrictEqual(expected);
    expect(commandSchema.safeParse(result).success).toBe(true);
    if (result.kind === 'order') expect(orderCommandSchema.safeParse(result).success).toBe(true);
  });

  it.each(notCommands)('%s is not a command', (text, because) => {
    const result = parse(text);
    expect(result.kind).toBe('unknown');
    if (result.kind !== 'unknown') return;
    expect(result.reason?.toLowerCase()).toContain(because);
    expect(commandSchema.safeParse(result).success).toBe(true);
  });

  it('uses the clock it is given for expiries without a year', () => {
    const december = new Date('2025-12-20T12:00:00Z');
    const result = parseMessage('buy 1 AAPL 200 call Jan 16 at 2', { symbols, now: december });
    expect(result.kind === 'order' && result.option?.expiry).toBe('2026-01-16');
  });

  it('turns a throwing resolver into unknown instead of throwing', () => {
    const broken = {
      resolve: () => {
        throw new Error('boom');
      },
      get: () => undefined,
      search: () => [],
      all: () => [],
    };
    expect(parseMessage('buy 10 AAPL', { symbols: broken, now })).toStrictEqual({
      kind: 'unknown',
      reason: 'could not read that message',
    });
  });

  it('gives up quickly on very long messages', () => {
    expect(parse(`buy 10 AAPL ${'please '.repeat(200)}`).kind).toBe('unknown');
  });

  it('keeps the table large enough to mean something', () => {
    expect(cases.length + notCommands.length).toBeGreaterThanOrEqual(120);
  });
});
