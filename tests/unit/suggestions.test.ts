/**
 * Forgiving input: typo distance, the bounded typo index, the nearest symbols to an unknown
 * ticker or name, the one-word correction of an unknown message, and the one-line replies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/core/conversation/parser/index.js';
import { describeSuggestion, suggestCorrection } from '../../src/core/conversation/suggestions.js';
import {
  GREETING_REPLY,
  NO_MODEL_TEXT,
  replyToUnknown,
  THANKS_REPLY,
} from '../../src/core/conversation/unknown-replies.js';
import type { SymbolResolver } from '../../src/core/market-data/instruments.js';
import { suggestSymbols, symbolTypoIndex } from '../../src/core/market-data/symbol-suggestions.js';
import type { InstrumentSpec } from '../../src/core/market-data/symbols/catalog.js';
import { getSymbolDirectory, SymbolDirectory } from '../../src/core/market-data/symbols/directory.js';
import { TypoIndex, typoBound, typoDistance } from '../../src/core/market-data/symbols/typo-index.js';

const symbols = getSymbolDirectory();
const NOW = new Date('2026-11-24T15:00:00Z');
const context = { symbols, parse: (text: string) => parseMessage(text, { symbols, now: NOW }) };
const suggested = (text: string) => suggestSymbols(symbols, text).map((s) => s.instrument.symbol);
const reply = (text: string) => {
  const command = context.parse(text);
  if (command.kind !== 'unknown') throw new Error(`"${text}" parsed as ${command.kind}`);
  return replyToUnknown(text, command, context);
};

describe('typo distance', () => {
  it('counts insertions, deletions, substitutions and swaps of neighbours as one edit each', () => {
    expect(typoDistance('quote', 'quote', 2)).toBe(0);
    expect(typoDistance('qoute', 'quote', 2)).toBe(1);
    expect(typoDistance('by', 'buy', 1)).toBe(1);
    expect(typoDistance('postions', 'positions', 2)).toBe(1);
    expect(typoDistance('balanse', 'balance', 2)).toBe(1);
    expect(typoDistance('appl', 'aapl', 1)).toBe(1);
    expect(typoDistance('teslaa', 'tsla', 2)).toBe(2);
  });

  it('reports anything beyond the bound as bound + 1', () => {
    expect(typoDistance('apple', 'microsoft', 2)).toBe(3);
    expect(typoDistance('abcd', 'wxyz', 1)).toBe(2);
    expect(typoDistance('ab', 'abcdef', 2)).toBe(3);
  });

  it('allows one edit in short words and two in longer ones', () => {
    expect([2, 3, 4, 5, 8].map(typoBound)).toEqual([1, 1, 1, 2, 2]);
  });
});

describe('the typo index', () => {
  it('finds keys within the bound, nearest first', () => {
    const index = new TypoIndex<string>();
    for (const word of ['buy', 'sell', 'quote', 'balance', 'positions', 'orders']) index.add(word, word);
    expect(index.lookup('qoute').map((match) => match.value)).toEqual(['quote']);
    expect(index.lookup('by').map((match) => match.value)).toEqual(['buy']);
    expect(index.lookup('sel')[0]).toEqual({ key: 'sell', value: 'sell', distance: 1 });
    expect(index.lookup('zzzzzz')).toEqual([]);
  });

  it('finds a typo at either end of a word', () => {
    const index = new TypoIndex<string>();
    index.add('positions', 'positions');
    expect(index.lookup('xositions').map((match) => match.value)).toEqual(['positions']);
    expect(index.lookup('positionz').map((match) => match.value)).toEqual(['positions']);
  });
});

/** A directory of 10,000 made-up companies ("Kalomi Doratu Corporation"), deterministic and distinct. */
function bigDirectory(): SymbolResolver {
  const syllables = ['ka', 'lo', 'mi', 'ra', 'vel', 'dor', 'zen', 'tu', 'pra', 'nox', 'ish', 'bel', 'qua'];
  let seed = 42;
  // xorshift32: a fixed, well-spread sequence.
  const next = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const word = () => Array.from({ length: 2 + next(3) }, () => syllables[next(syllables.length)]).join('');
  const names = new Set<string>();
  while (names.size < 10_000) names.add(`${word()} ${word()}`);
  return new SymbolDirectory(
    [...names].map((name, i): InstrumentSpec => {
      let ticker = '';
      for (let n = i + 26 * 26 * 26; n > 0; n = Math.floor(n / 26))
        ticker = String.fromCharCode(65 + (n % 26)) + ticker;
      return {
        symbol: ticker,
        name: `${name.charAt(0).toUpperCase()}${name.slice(1)} Corporation`,
        kind: 'stock',
      };
    }),
  );
}

describe('nearest symbols', () => {
  it('suggests the ticker or company nearest to an unknown one', () => {
    expect(suggested('appl')).toEqual(['AAPL']);
    expect(suggested('APPL')).toEqual(['AAPL']);
    expect(suggested('$appl')).toEqual(['AAPL']);
    expect(suggested('nvidai')).toEqual(['NVDA']);
    expect(suggested('teslaa')).toEqual(['TSLA']);
    expect(suggested('microsft')).toEqual(['MSFT']);
    expect(suggested('berkshire hathway')).toEqual(['BRK.B']);
  });

  it('suggests nothing for what it knows, and nothing far away', () => {
    expect(suggested('AAPL')).toEqual([]);
    expect(suggested('apple')).toEqual([]);
    expect(suggested('zzzzqqq')).toEqual([]);
    expect(suggested('x')).toEqual([]);
  });

  it('answers a typo in a 10,000-name directory by comparing a small slice of it', () => {
    const big = bigDirectory();
    const target = big.all()[5_000];
    if (target === undefined) throw new Error('no instrument 5000');
    const name = target.name.toLowerCase().replace(/ corporation$/, '');
    // Two neighbouring letters swapped in the middle of the name.
    const middle = Math.floor(name.length / 2);
    const typo = `${name.slice(0, middle)}${name.charAt(middle + 1)}${name.charAt(middle)}${name.slice(middle + 2)}`;
    expect(big.resolve(typo)).toBeUndefined();
    const index = symbolTypoIndex(big);
    const before = index.compared;
    const found = suggestSymbols(big, typo).map((s) => s.instrument.symbol);
    expect(found).toContain(target.symbol);
    expect(index.keys).toBeGreaterThan(20_000);
    expect(index.compared - before).toBeLessThan(index.keys / 20);
  });
});

describe('did you mean', () => {
  const correction = (text: string) => {
    const suggestion = suggestCorrection(text, context);
    return suggestion === undefined ? undefined : describeSuggestion(suggestion);
  };

  it('corrects a misspelt command word into a message ready to send', () => {
    expect(correction('by 10 aapl')).toBe('Did you mean "buy 10 AAPL"?');
    expect(correction('sel 5 TSLA')).toBe('Did you mean "sell 5 TSLA"?');
    expect(correction('qoute NVDA')).toBe('Did you mean "quote NVDA"?');
    expect(correction('balanse')).toBe('Did you mean "balance"?');
    expect(correction('postions')).toBe('Did you mean "positions"?');
    expect(correction('buy 10 AAPL limt 190')).toBe('Did you mean "buy 10 AAPL limit 190"?');
  });

  it('names the nearest symbols for a misspelt ticker or company', () => {
    expect(correction('buy 10 appl')).toBe("I don't know APPL. Did you mean AAPL (Apple Inc.)?");
    expect(correction('buy 10 APPL')).toBe("I don't know APPL. Did you mean AAPL (Apple Inc.)?");
    expect(correction('quote nvidai')).toBe("I don't know NVIDAI. Did you mean NVDA (NVIDIA Corporation)?");
    expect(correction('buy 5 teslaa')).toBe("I don't know TESLAA. Did you mean TSLA (Tesla, Inc.)?");
  });

  it('lists several equally near symbols', () => {
    expect(
      describeSuggestion({
        kind: 'symbol',
        typed: 'XY',
        instruments: ['AAPL', 'MSFT', 'NVDA'].map((s) => symbols.get(s)).filter((i) => i !== undefined),
      }),
    ).toBe(
      "I don't know XY. Did you mean AAPL (Apple Inc.), MSFT (Microsoft Corporation) or NVDA (NVIDIA Corporation)?",
    );
  });

  it('suggests nothing when no single correction makes a command, and never rewrites a negation', () => {
    expect(correction('buy 10 ZZZQQ')).toBeUndefined();
    expect(correction("don't buy AAPL")).toBeUndefined();
    expect(correction('not buy 10 AAPL')).toBeUndefined();
    expect(correction('buy 10 AAPL and sell 5 TSLA')).toBeUndefined();
    expect(correction('what is the meaning of life')).toBeUndefined();
  });
});

describe('replies to what was not understood (no model)', () => {
  it('answers thanks and greetings in a friendly word', () => {
    for (const text of ['thanks!', 'Thank you', 'thx', 'ty', 'cheers', 'thanks arbion'])
      expect(reply(text)).toBe(THANKS_REPLY);
    for (const text of ['hello', 'hi', 'Hey!', 'good morning', 'hi there'])
      expect(reply(text)).toBe(GREETING_REPLY);
    expect(GREETING_REPLY).toBe('Hi! Try `buy 10 AAPL` or `balance`. Say help for more.');
  });

  it('says that plain language needs a model, with one example', () => {
    expect(reply('should I buy AAPL?')).toBe(`${NO_MODEL_TEXT} For example: buy 10 AAPL. Say help for more.`);
    expect(reply('what do you think about the market today')).toBe(
      `${NO_MODEL_TEXT} For example: buy 10 AAPL. Say help for more.`,
    );
    expect(reply('is the price of gold going up?')).toBe(
      `${NO_MODEL_TEXT} For example: quote AAPL. Say help for more.`,
    );
  });

  it('gives the reason and one relevant example in one line, never the help', () => {
    expect(reply('buy 10 AAPL and sell 5 TSLA')).toBe(
      "I didn't understand that (several orders in one message: send one at a time). For example: buy 10 AAPL. Say help for more.",
    );
    expect(reply("don't buy AAPL")).toBe(
      "I didn't understand that (a negation, not an order). For example: buy 10 AAPL. Say help for more.",
    );
    expect(reply('cancel that')).toBe(
      'I didn\'t understand that (cancel needs a card number ("cancel #12"), an order id or "all"). For example: cancel all. Say help for more.',
    );
    expect(reply('swap ETH')).toMatch(
      /^I didn't understand that \(.+\)\. For example: swap 0\.1 ETH to USDC\./,
    );
    for (const text of ['blorp', 'confirm please now', 'buy 10 ZZZQQ'])
      expect(reply(text).split('\n')).toHaveLength(1);
  });

  it('puts a typo correction before everything else', () => {
    expect(reply('by 10 aapl')).toBe('Did you mean "buy 10 AAPL"?');
    expect(reply('buy 10 appl')).toBe("I don't know APPL. Did you mean AAPL (Apple Inc.)?");
  });

  it('answers any unknown text in one line, and suggests only messages that parse', () => {
    const words = fc.constantFrom(
      'by',
      'sel',
      'buy',
      '10',
      'appl',
      'AAPL',
      'qoute',
      'thanks',
      'if',
      "don't",
      '?',
      'zzq',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.array(words, { maxLength: 8 }).map((w) => w.join(' ')),
        ),
        (text) => {
          const command = context.parse(text);
          if (command.kind !== 'unknown') return;
          const answer = replyToUnknown(text, command, context);
          expect(answer.length).toBeGreaterThan(0);
          expect(answer).not.toContain('\n');
          const suggestion = suggestCorrection(text, context);
          if (suggestion?.kind === 'command') expect(context.parse(suggestion.text).kind).not.toBe('unknown');
        },
      ),
      { numRuns: 300 },
    );
  });
});
