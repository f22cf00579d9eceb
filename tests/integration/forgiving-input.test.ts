/**
 * Forgiving input through the whole conversation: a typo gets a "did you mean" (never a card,
 * never an intent), thanks and greetings a friendly word, plain language a note about
 * OPENAI_API_KEY, anything else one short line with one example, and `help` the help.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FallbackInterpreter } from '../../src/core/conversation/conversation.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';

const NO_MODEL =
  'I only understand commands here; the operator can set OPENAI_API_KEY to let me understand plain language.';

describe('forgiving input without a model', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('server');
  });
  afterAll(async () => {
    await h?.destroy();
  });

  /** Says `text` as ann; returns what was sent back (texts and cards). */
  async function answer(text: string): Promise<{ texts: string[]; cards: number }> {
    const before = h.channel.log.length;
    await h.say('ann', text);
    const sent = h.channel.log.slice(before);
    return {
      texts: sent.flatMap((entry) => (entry.message?.kind === 'text' ? [entry.message.text] : [])),
      cards: sent.filter((entry) => entry.message?.kind === 'card').length,
    };
  }

  it('suggests the corrected command for a misspelt command word, and does nothing else', async () => {
    const intents = await h.test.database.prisma.tradeIntent.count();
    expect(await answer('by 10 aapl')).toEqual({ texts: ['Did you mean "buy 10 AAPL"?'], cards: 0 });
    expect(await answer('sel 5 TSLA')).toEqual({ texts: ['Did you mean "sell 5 TSLA"?'], cards: 0 });
    expect(await answer('qoute NVDA')).toEqual({ texts: ['Did you mean "quote NVDA"?'], cards: 0 });
    expect(await answer('balanse')).toEqual({ texts: ['Did you mean "balance"?'], cards: 0 });
    expect(await answer('postions')).toEqual({ texts: ['Did you mean "positions"?'], cards: 0 });
    expect(await h.test.database.prisma.tradeIntent.count()).toBe(intents);
  });

  it('names the nearest symbols for a misspelt ticker or company, and proposes nothing', async () => {
    const intents = await h.test.database.prisma.tradeIntent.count();
    expect(await answer('buy 10 appl')).toEqual({
      texts: ["I don't know APPL. Did you mean AAPL (Apple Inc.)?"],
      cards: 0,
    });
    expect(await answer('buy 10 APPL')).toEqual({
      texts: ["I don't know APPL. Did you mean AAPL (Apple Inc.)?"],
      cards: 0,
    });
    expect(await answer('quote nvidai')).toEqual({
      texts: ["I don't know NVIDAI. Did you mean NVDA (NVIDIA Corporation)?"],
      cards: 0,
    });
    expect(await answer('buy 5 teslaa')).toEqual({
      texts: ["I don't know TESLAA. Did you mean TSLA (Tesla, Inc.)?"],
      cards: 0,
    });
    expect(await h.test.database.prisma.tradeIntent.count()).toBe(intents);
  });

  it('answers thanks and greetings in a word', async () => {
    for (const text of ['thanks!', 'thank you', 'thx', 'ty', 'cheers'])
      expect((await answer(text)).texts).toEqual(["You're welcome."]);
    for (const text of ['hello', 'hi', 'hey', 'good morning'])
      expect((await answer(text)).texts).toEqual(['Hi! Try `buy 10 AAPL` or `balance`. Say help for more.']);
  });

  it('says once that plain language needs OPENAI_API_KEY', async () => {
    expect((await answer('should I buy AAPL?')).texts).toEqual([
      `${NO_MODEL} For example: buy 10 AAPL. Say help for more.`,
    ]);
    expect((await answer('I would like to put some money into tech stocks')).texts).toEqual([
      `${NO_MODEL} For example: buy 10 AAPL. Say help for more.`,
    ]);
  });

  it('gives the reason and one example in one short line, and the help only for help', async () => {
    expect((await answer('buy 10 AAPL and sell 5 TSLA')).texts).toEqual([
      "I didn't understand that (several orders in one message: send one at a time). For example: buy 10 AAPL. Say help for more.",
    ]);
    const blorp = (await answer('blorp')).texts;
    expect(blorp).toHaveLength(1);
    expect(blorp[0]).toMatch(
      /^I didn't understand that \(.+\)\. For example: buy 10 AAPL\. Say help for more\.$/,
    );
    expect(blorp[0]).not.toContain('I place orders after you confirm them');
    const help = (await answer('help')).texts.join('\n');
    expect(help).toContain('I place orders after you confirm them');
    expect(help.split('\n').length).toBeGreaterThan(10);
  });

  it('still takes the corrected message as typed', async () => {
    expect((await answer('buy 10 AAPL')).cards).toBe(1);
  });
});

describe('forgiving input with a model', () => {
  let h: Harness;
  const asked: string[] = [];
  const model: FallbackInterpreter = {
    async interpret({ text }) {
      asked.push(text);
      return { text: 'The model answered.', commands: [] };
    },
  };

  beforeAll(async () => {
    h = await createHarness('server', { fallback: model });
  });
  afterAll(async () => {
    await h?.destroy();
  });

  it('gives the model what the fast path did not understand, without the OPENAI_API_KEY note', async () => {
    await h.say('ann', 'should I buy AAPL?');
    await h.say('ann', 'by 10 aapl');
    expect(asked).toEqual(['should I buy AAPL?', 'by 10 aapl']);
    expect(h.channel.texts()).toEqual(['The model answered.', 'The model answered.']);
  });
});
