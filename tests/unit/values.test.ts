import { describe, expect, it } from 'vitest';
import { parseToolCall } from '../../src/core/conversation/llm/tools.js';
import { formatUsd, fractionString, positiveDecimalString } from '../../src/core/domain/values.js';
import { proposeOrderArguments } from '../fakes/openai/tool-arguments.js';

describe('decimal string schemas', () => {
  it.each(['abc', '', '-1', '1e3', ' 7', '0x10', 'NaN', 'Infinity', '1.', '.5'])(
    'reject %j without throwing',
    (value) => {
      expect(() => positiveDecimalString.safeParse(value)).not.toThrow();
      expect(positiveDecimalString.safeParse(value).success).toBe(false);
      expect(fractionString.safeParse(value).success).toBe(false);
    },
  );

  it('accept plain positive decimals, and fractions up to 1', () => {
    expect(positiveDecimalString.safeParse('189.25').success).toBe(true);
    expect(positiveDecimalString.safeParse('0').success).toBe(false);
    expect(fractionString.safeParse('0.5').success).toBe(true);
    expect(fractionString.safeParse('1.5').success).toBe(false);
  });

  it('fail closed on the counterexample fast-check found: a market order with limitPrice "abc"', () => {
    const raw = proposeOrderArguments({ orderType: 'market', limitPrice: 'abc' });
    expect(parseToolCall('propose_order', raw).ok).toBe(false);
  });

  it('formats dollars with separators and cents', () => {
    expect(formatUsd('1234567.891')).toBe('$1,234,567.89');
    expect(formatUsd('-0.5')).toBe('-$0.50');
  });
});
