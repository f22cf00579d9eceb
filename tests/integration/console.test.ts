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

  it('"buy 10 AAPL" -> card -> confirm -> filled -> positions shows 10 AAPL at the fill price', async () => {
    const card = await type('buy 10 AAPL');
    expect(card).toContain('PAPER ─ Buy AAPL?');
    expect(card).toContain('Order      BUY 10 AAPL');
    expect(card).toContain('type [confirm] or [cancel]');

    const filled = await type('confirm');
    expect(filled).toContain('(card #1 updated)');
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

  it('cancel by typing, and a second "confirm" on a finished card is just text', async () => {
    const card = await type('sell 5 AAPL');
    expect(card).toContain('Sell AAPL?');
    const cancelled = await type('no');
    expect(cancelled).toContain('Cancelled. Nothing was sent to the broker.');
    const stray = await type('confirm');
    expect(stray).toContain("I didn't understand that");
    const positions = await type('positions');
    expect(positions).toContain('10 AAPL');
  });

  it('"cancel all" shows the orders it would cancel; typing "confirm" answers that card', async () => {
    await type('buy 2 AAPL limit 100');
    await type('confirm');
    const card = await type('cancel all');
    expect(card).toContain('Cancel 1 open order?');
    expect(card).toContain('BUY 2 AAPL, limit $100.00');
    expect(card).toContain('type [confirm] or [cancel]');
    const cancelled = await type('confirm');
    expect(cancelled).toMatch(/[0-9a-f]{8} cancelled/);
    expect(await type('orders')).toContain('No open orders.');
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
