/**
 * Option quotes and chains on the fast path: "quote AAPL 190 put May 2027", "chain AAPL May 2027".
 */
import { describe, expect, it } from 'vitest';
import { type Command, commandSchema } from '../../src/core/conversation/commands.js';
import { parseMessage, StaticSymbolResolver } from '../../src/core/conversation/parser/index.js';
import type { Instrument } from '../../src/core/market-data/instruments.js';

function instrument(symbol: string, name: string, assetClass: 'equity' | 'crypto' = 'equity'): Instrument {
  return {
    symbol,
    name,
    assetClass,
    kind: assetClass === 'crypto' ? 'crypto' : 'stock',
    aliases: [name.toLowerCase()],
    indexes: [],
  };
}

const symbols = new StaticSymbolResolver([
  instrument('AAPL', 'Apple'),
  instrument('F', 'Ford'),
  instrument('BTC', 'Bitcoin', 'crypto'),
]);
/** Tuesday 2026-11-24, like the harness. */
const now = new Date('2026-11-24T15:00:00Z');
const parse = (text: string): Command => parseMessage(text, { symbols, now });

describe('option quotes and chains on the fast path', () => {
  it('reads a contract quote with a month, a day or a slash date, in any order', () => {
    const may = { kind: 'query', query: 'quote', symbol: 'AAPL' } as const;
    expect(parse('quote AAPL 190 put May 2027')).toEqual({
      ...may,
      option: { right: 'put', strike: '190', expiry: '2027-05' },
    });
    expect(parse('quote AAPL put $192.50 May 21 2027')).toEqual({
      ...may,
      option: { right: 'put', strike: '192.5', expiry: '2027-05-21' },
    });
    expect(parse('price of AAPL 190c 2027-05-21')).toEqual({
      ...may,
      option: { right: 'call', strike: '190', expiry: '2027-05-21' },
    });
    // A month without a year is its next occurrence: December is this year's, March next year's.
    expect(parse('quote F 11 put dec')).toMatchObject({ option: { expiry: '2026-12' } });
    expect(parse('quote F 11 put march')).toMatchObject({ option: { expiry: '2027-03' } });
    for (const text of ['quote AAPL 190 put May 2027', 'chain AAPL May 2027']) {
      expect(commandSchema.safeParse(parse(text)).success, text).toBe(true);
    }
  });

  it('leaves the ordinary quote alone', () => {
    expect(parse('quote AAPL')).toEqual({ kind: 'query', query: 'quote', symbol: 'AAPL' });
  });

  it('explains what an option quote is missing or cannot be', () => {
    expect(parse('quote AAPL 190 May 2027')).toEqual({
      kind: 'unknown',
      reason: 'an option quote needs a strike, call or put and an expiry: e.g. quote AAPL 190 put May 2027',
    });
    expect(parse('quote AAPL 190 put May 2025')).toEqual({
      kind: 'unknown',
      reason: 'that month has passed',
    });
    expect(parse('quote AAPL 190 put Nov 20 2026')).toEqual({
      kind: 'unknown',
      reason: 'that expiry is in the past',
    });
    expect(parse('quote AAPL 190 put call May 2027')).toEqual({
      kind: 'unknown',
      reason: 'say call or put once',
    });
  });

  it('reads chains with a month, a day or nothing', () => {
    expect(parse('chain AAPL May 2027')).toEqual({
      kind: 'query',
      query: 'chain',
      symbol: 'AAPL',
      expiry: '2027-05',
    });
    expect(parse('option chain for AAPL')).toEqual({ kind: 'query', query: 'chain', symbol: 'AAPL' });
    expect(parse('chain F Dec 18 2026')).toEqual({
      kind: 'query',
      query: 'chain',
      symbol: 'F',
      expiry: '2026-12-18',
    });
    expect(parse('chain BTC')).toEqual({ kind: 'unknown', reason: 'options on crypto are not supported' });
    expect(parse('chain AAPL tomorrow')).toEqual({
      kind: 'unknown',
      reason: 'a chain takes a month or a day: e.g. chain AAPL May 2027',
    });
  });
});
