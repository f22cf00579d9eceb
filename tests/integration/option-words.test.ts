/**
 * Options read as options in chat (issue 20, point 4): a sold put's card says "to open" and the
 * cash it secures, its fill sentence names the contract and the premium per share and per
 * contract, positions and open orders name contracts in words, an expiry no contract has is
 * refused before any card with the nearest listed ones, and option quotes and chains are answered.
 * The harness clock is Tuesday 2026-11-24 10:00 New York.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/domain/values.js';
import { occSymbol } from '../../src/core/market-data/providers/options.js';
import type { Card } from '../../src/core/messages.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

const AAPL_PUT = occSymbol({
  underlying: 'AAPL',
  expiry: '2027-05-21',
  right: 'put',
  strike: new Decimal(190),
});
const F_PUT = occSymbol({ underlying: 'F', expiry: '2026-12-18', right: 'put', strike: new Decimal(11) });

describe.each(backends)('options in words on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;
  let users = 0;

  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(async () => {
    await h?.destroy();
  });
  beforeEach(() => {
    h.market.override('AAPL', { bid: '230.00', ask: '230.10', last: '230.05' });
    h.market.override(AAPL_PUT, { bid: '8.45', ask: '8.55', last: '8.50' });
    h.market.override('F', { bid: '11.50', ask: '11.51', last: '11.50' });
    h.market.override(F_PUT, { bid: '0.20', ask: '0.24', last: '0.22' });
  });

  const newUser = () => `options-words-${++users}`;
  const lastCard = (): Card => {
    const entry = h.channel.lastCard();
    if (entry?.message?.kind !== 'card') throw new Error('no card');
    return entry.message.card;
  };
  const field = (card: Card, label: string) => card.fields.find((entry) => entry.label === label)?.value;
  const lastText = () => h.channel.texts().at(-1);

  it('shows a sold put as sold to open, with the cash it secures, and fills it in words', async () => {
    const user = newUser();
    const before = h.channel.log.length;
    await h.say(user, 'sell 1 AAPL 190 put May 21 2027 at 8.45');
    const card = lastCard();
    expect(h.channel.log.length).toBeGreaterThan(before);
    expect(field(card, 'Order')).toBe('SELL TO OPEN 1 AAPL 21 May 2027 $190 put');
    expect(field(card, 'Type')).toBe('Limit (limit $8.45 a share, $845 a contract), day');
    expect(field(card, 'Price now')).toBe('$8.45 a share, $845 a contract (simulated)');
    expect(field(card, 'Cash secured')).toBe('$19,000 ($190 strike x 100 x 1 contract)');
    await h.press(user, card.actions[0]?.id ?? '');
    expect(h.channel.texts()).toContain(
      'Filled (PAPER): sold 1 AAPL 21 May 2027 $190 put at $8.45 a share, $845 a contract ($19,000 secured).',
    );
    await h.say(user, 'positions');
    expect(lastText()).toContain(
      '  short 1 AAPL 21 May 2027 $190 put, sold at $8.45 a share ($845 a contract) avg',
    );
    expect(lastText()).not.toMatch(/\d{6}P\d{8}/);
  });

  it('lists a resting option order with its contract and its limit per share and per contract', async () => {
    const user = newUser();
    await h.say(user, 'sell 1 F 11 put Dec 18 2026 limit 0.26');
    const card = lastCard();
    expect(field(card, 'Order')).toBe('SELL TO OPEN 1 F 18 Dec 2026 $11 put');
    await h.press(user, card.actions[0]?.id ?? '');
    await h.say(user, 'orders');
    expect(lastText()).toMatch(
      /^ {2}[0-9a-f]{8} {2}sell to open 1 F 18 Dec 2026 \$11 put limit \$0\.26 a share \(\$26 a contract\) \(accepted\)$/m,
    );
  });

  it('refuses a Monday expiry before any card, suggesting the nearest listed ones', async () => {
    const user = newUser();
    const cards = h.channel.log.filter((entry) => entry.message?.kind === 'card').length;
    await h.say(user, 'sell 1 AAPL 190 put May 17 2027 at 8.45');
    expect(lastText()).toBe(
      'AAPL options expire on Fridays (the Thursday before when that Friday is a holiday), not on 17 May 2027 (Mon). Did you mean 14 May 2027 (Fri) or 21 May 2027 (Fri, monthly)? Nothing was sent.',
    );
    expect(h.channel.log.filter((entry) => entry.message?.kind === 'card')).toHaveLength(cards);
  });

  it('answers an option quote: the contract per share and per contract, its expiry, the underlying', async () => {
    const user = newUser();
    await h.say(user, 'quote AAPL 190 put May 2027');
    expect(lastText()).toBe(
      [
        'AAPL 21 May 2027 $190 put: bid $8.45, ask $8.55, last $8.50 a share ($850 a contract) (simulated)',
        'Expires 21 May 2027 (Fri, monthly), in 178 days.',
        'AAPL is at $230.05 (bid $230.00, ask $230.10).',
      ].join('\n'),
    );
    await h.say(user, 'quote AAPL 190 put May 17 2027');
    expect(lastText()).toBe(
      'AAPL options expire on Fridays (the Thursday before when that Friday is a holiday), not on 17 May 2027 (Mon). Did you mean 14 May 2027 (Fri) or 21 May 2027 (Fri, monthly)?',
    );
  });

  it("answers a chain: the month's expiries and strikes around the money for the monthly", async () => {
    const user = newUser();
    await h.say(user, 'chain AAPL May 2027');
    const lines = lastText()?.split('\n') ?? [];
    expect(lines.slice(0, 4)).toEqual([
      'AAPL options expiring in May 2027 (AAPL at $230.05):',
      '  7 May 2027 (Fri), 14 May 2027 (Fri), 21 May 2027 (Fri, monthly), 28 May 2027 (Fri)',
      '21 May 2027 (monthly), 178 days; bid/ask a share (x100 a contract):',
      '  Strike    Call bid/ask    Put bid/ask',
    ]);
    // $5 strikes around $230.05, four on each side.
    expect(lines.slice(4).map((line) => line.trim().split(/\s+/)[0])).toEqual([
      '$210',
      '$215',
      '$220',
      '$225',
      '$230',
      '$235',
      '$240',
      '$245',
      '$250',
    ]);
    for (const row of lines.slice(4))
      expect(row).toMatch(/^ {2}\$\d+ +\d+\.\d\d\/\d+\.\d\d +\d+\.\d\d\/\d+\.\d\d$/);
    // December 2026: Christmas and New Year's Day fall on Fridays, so those weeks expire on Thursdays.
    await h.say(user, 'chain F');
    const december = lastText()?.split('\n') ?? [];
    expect(december[1]).toBe(
      '  4 Dec 2026 (Fri), 11 Dec 2026 (Fri), 18 Dec 2026 (Fri, monthly), 24 Dec 2026 (Thu), 31 Dec 2026 (Thu)',
    );
    // The pinned $11 put's prices, from the market data layer.
    expect(december).toContainEqual(expect.stringMatching(/^ {2}\$11 +\d+\.\d\d\/\d+\.\d\d +0\.20\/0\.24$/));
  });
});
