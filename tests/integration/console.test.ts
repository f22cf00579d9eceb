/**
 * The console chat end to end: typed lines in, rendered cards and answers out, through the same
 * conversation core, intents and paper broker as every channel.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleChannel } from '../../src/channels/console/console-channel.js';
import { Decimal } from '../../src/core/domain/values.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';

describe('console chat on the paper account', () => {
  let h: Harness;
  const input = new PassThrough();
  const output = new PassThrough();
  let transcript = '';
  let done: Promise<void>;

  beforeAll(async () => {
    h = await createHarness('embedded');
    const channel = new ConsoleChannel({
      input,
      output,
      user: { platformUserId: 'trader', displayName: 'trader' },
      onMessage: (message) => h.arbion.conversation.handle(message),
    });
    h.arbion.channels.register('console', channel);
    output.on('data', (chunk: Buffer) => {
      transcript += chunk.toString();
    });
    done = channel.run();
  });
  afterAll(async () => {
    input.end();
    await done;
    await h?.destroy();
  });

  /** Types lines, waits for an answer, then for 150 ms of quiet (at most 20 s). */
  async function type(...lines: string[]): Promise<string> {
    const before = transcript.length;
    for (const line of lines) input.write(`${line}\n`);
    const deadline = Date.now() + 20_000;
    let seen = before;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (transcript.length !== seen) {
        seen = transcript.length;
        quietSince = Date.now();
      } else if (seen > before && Date.now() - quietSince >= 150) {
        break;
      }
    }
    return transcript.slice(before);
  }

  it('"buy 10 AAPL" -> card #1 -> confirm -> filled -> positions shows 10 AAPL at the fill price', async () => {
    const card = await type('buy 10 AAPL');
    expect(card).toContain('PAPER ─ Card #1 · Buy AAPL?');
    expect(card).toContain('Order      BUY 10 AAPL');
    expect(card).toContain('└─ card #1: type [confirm #1] or [cancel #1]');

    const filled = await type('confirm');
    expect(filled).toContain('(card #1 updated)');
    expect(filled).toMatch(/└─ card #1\n/);
    const price = /Filled \(PAPER\): bought 10 AAPL at (\$[\d,]+\.\d\d)\./.exec(filled)?.[1];
    expect(price).toBeDefined();

    const positions = await type('positions');
    expect(positions).toContain(`10 AAPL at ${price} avg`);

    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { symbol: 'AAPL' },
      include: { orders: true },
    });
    expect(intent.status).toBe('filled');
    const fill = new Decimal(intent.orders[0]?.averageFillPrice?.toString() ?? '0');
    expect(
      `$${fill
        .toDecimalPlaces(2)
        .toFixed(2)
        .replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`,
    ).toBe(price);
  });

  it('cancel by typing, and a second "confirm" on a finished card says what became of it', async () => {
    const card = await type('sell 5 AAPL');
    expect(card).toContain('Card #2 · Sell AAPL?');
    const cancelled = await type('no');
    expect(cancelled).toContain('(card #2 updated)');
    expect(cancelled).toContain('Cancelled. Nothing was sent to the broker.');
    const stray = await type('confirm');
    expect(stray).toContain('Card #2 (SELL 5 AAPL) was cancelled; nothing was sent.');
    const positions = await type('positions');
    expect(positions).toContain('10 AAPL');
  });

  it('"cancel all" shows the orders it would cancel; typing "confirm" answers that card', async () => {
    await type('buy 2 AAPL limit 100');
    await type('confirm');
    const card = await type('cancel all');
    expect(card).toContain('Cancel 1 open order?');
    expect(card).toContain('BUY 2 AAPL, limit $100.00');
    expect(card).toMatch(/card #\d+: type \[confirm #\d+\] or \[cancel #\d+\]/);
    const cancelled = await type('confirm');
    expect(cancelled).toMatch(/[0-9a-f]{8} cancelled/);
    expect(await type('orders')).toContain('No open orders.');
  });

  it('answers cards by their number, whichever was shown last, and never a second card on a repeated "confirm"', async () => {
    // Numbers go on from the cards of the tests before (each user has one counter).
    const apple = Number(/Card #(\d+) · Buy AAPL\?/.exec(await type('buy 1 AAPL'))?.[1]);
    const tesla = apple + 1;
    expect(await type('buy 2 TSLA')).toContain(`Card #${tesla} · Buy TSLA?`);
    const which = `Which card? #${apple} BUY 1 AAPL, #${tesla} BUY 2 TSLA. Say "confirm ${tesla}". Nothing was done.`;
    expect(await type('confirm')).toContain(which);
    expect(await type('yes')).toContain(which);
    const placed = await type(`confirm #${apple}`);
    expect(placed).toContain(`(card #${apple} updated)`);
    expect(placed).toContain('Filled (PAPER): bought 1 AAPL');
    expect(placed).not.toContain('TSLA');
    expect(await type(`cancel ${tesla}`)).toContain('Cancelled. Nothing was sent to the broker.');
    const statuses = await h.test.database.prisma.tradeIntent.findMany({
      where: { cardNumber: { in: [apple, tesla] } },
      orderBy: { cardNumber: 'asc' },
      select: { status: true },
    });
    expect(statuses.map((intent) => intent.status)).toEqual(['filled', 'cancelled']);
  });

  it('answers balance, quotes, open orders and help', async () => {
    expect(await type('balance')).toMatch(
      /Cash\s+\$9\d,\d{3}\.\d\d\n\s+Reserved\s+\$0\.00 \(working orders, cash-secured puts\)\n\s+Buying power\s+\$9\d,\d{3}\.\d\d\n/,
    );
    expect(await type('quote MSFT')).toMatch(/MSFT \(Microsoft Corporation\): bid \$[\d,.]+, ask/);
    expect(await type('orders')).toContain('No open orders.');
    expect(await type('help')).toContain('buy $500 of BTC');
  });

  it('refuses what it cannot do, clearly, and changes nothing', async () => {
    const before = await h.test.database.prisma.tradeIntent.count();
    expect(await type('buy 10 ZZZZQ')).toContain("I didn't understand that");
    expect(await type("don't buy AAPL")).toContain("I didn't understand that");
    expect(await type('buy 1000000 AAPL')).toContain('per-order limit');
    expect(await h.test.database.prisma.tradeIntent.count()).toBe(before);
  });
});
