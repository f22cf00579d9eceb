/**
 * "cancel all" in chat, on working orders: each is cancelled where it rests, its order row and its
 * intent end cancelled through their tables, and the answer says what the broker said.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/arbion-harness.js';

describe('cancelling working orders from chat', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('server');
    h.market.override('AMD', { bid: '149.99', ask: '150.01', last: '150.00' });
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const last = () => h.channel.texts().at(-1) ?? '';

  it('cancels a resting limit order, says so, and leaves nothing open', async () => {
    await h.say('ann', 'buy 3 AMD limit 120');
    const proposed = await h.test.database.prisma.tradeIntent.findFirstOrThrow({ where: { symbol: 'AMD' } });
    await h.press('ann', `confirm:${proposed.id}`);
    const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({
      where: { id: proposed.id },
      include: { orders: true },
    });
    expect(intent.status).toBe('submitted');
    expect(intent.orders[0]?.status).toBe('accepted');

    await h.say('ann', 'cancel all');
    expect(last()).toBe(`${intent.id.slice(0, 8)} cancelled`);
    const after = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({
      where: { id: intent.id },
      include: { orders: true },
    });
    expect(after.status).toBe('cancelled');
    expect(after.orders[0]?.status).toBe('cancelled');
    // Its card says where it was cancelled: it had been sent, so never "Nothing was sent".
    const edits = h.channel.log.filter(
      (entry) => entry.kind === 'edit' && entry.messageId === after.cardMessageId,
    );
    const shown = edits.at(-1)?.message;
    expect(shown?.kind === 'card' ? shown.card.notice : undefined).toBe('Cancelled at the broker.');

    await h.say('ann', 'cancel all');
    expect(last()).toBe('You have no open orders to cancel.');
  });
});
