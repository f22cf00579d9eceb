/**
 * "history", "fills" and "trades" with their optional symbol, period and page, in any order; and
 * what is not one (a stray word, two symbols, page 0).
 */
import { describe, expect, it } from 'vitest';
import { commandSchema } from '../../src/core/conversation/commands.js';
import { parseMessage, StaticSymbolResolver } from '../../src/core/conversation/parser/index.js';

const symbols = new StaticSymbolResolver([
  {
    symbol: 'AAPL',
    name: 'Apple Inc.',
    assetClass: 'equity',
    kind: 'stock',
    aliases: ['apple'],
    indexes: [],
  },
  { symbol: 'BTC', name: 'Bitcoin', assetClass: 'crypto', kind: 'crypto', aliases: ['bitcoin'], indexes: [] },
  { symbol: 'NOW', name: 'ServiceNow, Inc.', assetClass: 'equity', kind: 'stock', aliases: [], indexes: [] },
]);
const parse = (text: string) => parseMessage(text, { symbols, now: new Date('2026-12-07T15:00:00Z') });

describe('history, fills and trades', () => {
  it.each([
    ['history', { kind: 'query', query: 'history' }],
    ['order history', { kind: 'query', query: 'history' }],
    ['show my trade history', { kind: 'query', query: 'history' }],
    ['fills', { kind: 'query', query: 'fills' }],
    ['my trades', { kind: 'query', query: 'fills' }],
    ['trades AAPL', { kind: 'query', query: 'fills', symbol: 'AAPL' }],
    ['trades apple this week', { kind: 'query', query: 'fills', symbol: 'AAPL', period: 'week' }],
    ['fills today', { kind: 'query', query: 'fills', period: 'today' }],
    [
      'fills for BTC this month page 3',
      { kind: 'query', query: 'fills', symbol: 'BTC', period: 'month', page: 3 },
    ],
    ['history page 2', { kind: 'query', query: 'history', page: 2 }],
    ['history 2', { kind: 'query', query: 'history', page: 2 }],
    ['/history month AAPL', { kind: 'query', query: 'history', symbol: 'AAPL', period: 'month' }],
    ['fills NOW', { kind: 'query', query: 'fills', symbol: 'NOW' }],
  ])('%s', (text, expected) => {
    const command = parse(text);
    expect(command).toEqual(expected);
    expect(commandSchema.safeParse(command).success).toBe(true);
  });

  it.each([
    ['history please sir', /not a symbol/],
    ['fills AAPL BTC', /one symbol/],
    ['fills today month', /one period/],
    ['history page 0', /pages are numbered/],
    ['history page', /which page/],
    ['fills page 2.5', /pages are numbered/],
    ['fills now', /not a symbol/],
  ])('%s is not understood, with a reason', (text, reason) => {
    const command = parse(text);
    expect(command.kind).toBe('unknown');
    expect(command.kind === 'unknown' && command.reason).toMatch(reason);
  });

  it('leaves "orders" to the open orders', () => {
    expect(parse('orders')).toEqual({ kind: 'query', query: 'orders' });
    expect(parse('my orders')).toEqual({ kind: 'query', query: 'orders' });
  });
});
