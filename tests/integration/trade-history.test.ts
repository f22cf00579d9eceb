/**
 * "history" and "fills" on the paper account: newest first, ten to a page with the way to the
 * next, filtered by symbol and by period on the user's clock, and only the asker's own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/arbion-harness.js';

/** Says an order and presses Confirm on its card. */
async function trade(h: Harness, user: string, text: string): Promise<void> {
  await h.say(user, text);
  const card = h.channel.lastCard();
  const confirm = card?.message?.kind === 'card' ? card.message.card.actions[0]?.id : undefined;
  if (confirm === undefined || !confirm.startsWith('confirm:')) throw new Error(`no card for "${text}"`);
  await h.press(user, confirm, card?.messageId);
}

async function answer(h: Harness, user: string, text: string): Promise<string> {
  await h.say(user, text);
  return h.channel.texts().at(-1) ?? '';
}

const minutes = (h: Harness, count: number) => {
  h.clock.now = new Date(h.clock.now.getTime() + count * 60_000);
};

describe('trade history', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.destroy();
  });

  it('lists fills and orders newest first, a page at a time, filtered by symbol and period', async () => {
    h = await createHarness('server');
    expect(await answer(h, 'alice', 'fills')).toBe('No fills yet.');
    // Tuesday 24 November 10:00 in New York: one AAPL buy, then eleven BTC buys ten minutes apart.
    await trade(h, 'alice', 'buy 2 AAPL');
    for (let i = 1; i <= 11; i++) {
      minutes(h, 10);
      await trade(h, 'alice', `buy 0.00${i < 10 ? `0${i}` : i} BTC`);
    }
    await trade(h, 'bob', 'buy 5 AAPL');

    const first = (await answer(h, 'alice', 'fills')).split('\n');
    expect(first[0]).toBe('Fills, newest first (page 1 of 2, 12 in all):');
    expect(first).toHaveLength(12);
    expect(first[1]).toMatch(/^ {2}Nov 24 11:50 {2}bought 0\.0011 BTC at \$[\d,]+\.\d\d · PAPER$/);
    expect(first[10]).toMatch(/^ {2}Nov 24 10:20 {2}bought 0\.0002 BTC/);
    expect(first[11]).toBe('Older ones: "fills page 2".');
    const second = (await answer(h, 'alice', 'fills page 2')).split('\n');
    expect(second[0]).toBe('Fills, newest first (page 2 of 2, 12 in all):');
    expect(second.slice(1)).toHaveLength(2);
    expect(second[2]).toMatch(/^ {2}Nov 24 10:00 {2}bought 2 AAPL at \$/);
    expect(await answer(h, 'alice', 'fills page 3')).toBe(
      'There is no page 3: 12 fills make 2 pages. Say "fills" for the newest.',
    );

    const apple = (await answer(h, 'alice', 'trades AAPL')).split('\n');
    expect(apple).toEqual([
      'Fills (AAPL), newest first (page 1 of 1, 1 in all):',
      expect.stringMatching(/bought 2 AAPL/),
    ]);
    // Bob sees his own only.
    expect((await answer(h, 'bob', 'fills')).split('\n')).toHaveLength(2);

    // A working limit far below the market, in the order history.
    await trade(h, 'alice', 'buy 1 AAPL limit 1 gtc');
    const history = (await answer(h, 'alice', 'history AAPL')).split('\n');
    expect(history[0]).toBe('Orders (AAPL), newest first (page 1 of 1, 2 in all):');
    expect(history[1]).toMatch(/ BUY 1 AAPL limit \$1\.00: working · PAPER$/);
    expect(history[2]).toMatch(/ BUY 2 AAPL market: filled at \$[\d,]+\.\d\d · PAPER$/);

    // The next day (Wednesday 10:00 New York), "today" holds only that day's fills.
    h.clock.now = new Date('2026-11-25T15:00:00Z');
    await trade(h, 'alice', 'buy 0.002 BTC');
    const today = (await answer(h, 'alice', 'fills today')).split('\n');
    expect(today).toEqual([
      'Fills (today), newest first (page 1 of 1, 1 in all):',
      expect.stringMatching(/^ {2}Nov 25 10:00 {2}bought 0\.002 BTC/),
    ]);
    expect(await answer(h, 'alice', 'fills this week')).toMatch(/\(page 1 of 2, 13 in all\)/);
    expect(await answer(h, 'alice', 'fills AAPL today')).toBe('No fills (AAPL, today).');
  });
});
