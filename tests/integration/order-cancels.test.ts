/**
 * Cancelling working orders from chat. "cancel all" shows a card listing every open order (a
 * protective stop says so) and cancels nothing until its requester confirms it: once, before it
 * expires, only the orders it listed, whichever process handles the press. A typed "cancel <id>"
 * names one order and cancels it at once. Each cancelled order is cancelled where it rests, its
 * order row and its intent end cancelled through their tables, and the answer says what the
 * broker said.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/core/messages.js';
import { createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

describe('cancelling working orders from chat', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('server');
    h.market.override('AMD', { bid: '149.99', ask: '150.01', last: '150.00' });
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const prisma = () => h.test.database.prisma;
  const last = () => h.channel.texts().at(-1) ?? '';

  /** Says an order and confirms its card; returns the intent id. */
  async function place(user: string, text: string): Promise<string> {
    await h.say(user, text);
    const sent = h.channel.lastCard();
    const confirm =
      sent?.message?.kind === 'card'
        ? sent.message.card.actions.find((action) => action.id.startsWith('confirm:'))
        : undefined;
    if (sent === undefined || confirm === undefined) throw new Error(`no card for "${text}": ${last()}`);
    await h.press(user, confirm.id, sent.messageId);
    return confirm.id.slice('confirm:'.length);
  }

  /** Says "cancel all" and returns the card it showed. */
  async function cancelAll(user: string) {
    const before = h.channel.log.length;
    await h.say(user, 'cancel all');
    const sent = h.channel.log
      .slice(before)
      .find((entry) => entry.kind === 'send' && entry.message?.kind === 'card');
    if (sent?.message?.kind !== 'card') throw new Error(`no cancel card: ${last()}`);
    const card: Card = sent.message.card;
    const [confirm, keep] = card.actions;
    if (confirm === undefined || keep === undefined) throw new Error('the card has no buttons');
    return { messageId: sent.messageId, card, confirm: confirm.id, keep: keep.id };
  }

  const statusOf = async (intentId: string) =>
    (await prisma().order.findFirstOrThrow({ where: { intentId } })).status;
  const requestOf = (actionId: string) =>
    prisma().cancelRequest.findUniqueOrThrow({ where: { id: actionId.split(':')[1] ?? '' } });
  /** What only the presser was told since `from`. */
  const notices = (from: number) =>
    h.channel.log.slice(from).flatMap((entry) => (entry.kind === 'notify' ? [entry.text ?? ''] : []));

  it('"cancel all" lists every open order, marks the protective stop, and cancels only on Confirm', async () => {
    await place('ann', 'buy 5 AMD');
    const limit = await place('ann', 'buy 3 AMD limit 120');
    const stop = await place('ann', 'sell 5 AMD stop 140');
    expect(await statusOf(limit)).toBe('accepted');
    expect(await statusOf(stop)).toBe('accepted');

    const shown = await cancelAll('ann');
    const { cardNumber } = await requestOf(shown.confirm);
    expect(shown.card.title).toBe(`Card #${cardNumber} · Cancel 2 open orders?`);
    expect(shown.card.badge).toBe('PAPER');
    expect(shown.card.fields).toEqual([
      { label: limit.slice(0, 8), value: 'BUY 3 AMD, limit $120.00' },
      { label: stop.slice(0, 8), value: 'SELL 5 AMD, stop $140.00 (protective stop)' },
    ]);
    expect(shown.card.notice).toContain('Protective stops are included');
    expect(shown.card.actions.map((action) => [action.label, action.id.split(':')[0]])).toEqual([
      [`Confirm #${cardNumber}`, 'cancelorders'],
      [`Cancel #${cardNumber}`, 'keeporders'],
    ]);
    // Telegram's callback_data holds at most 64 bytes.
    for (const action of shown.card.actions) expect(Buffer.byteLength(action.id)).toBeLessThanOrEqual(64);
    // Shown, not done.
    expect(await statusOf(limit)).toBe('accepted');
    expect(await statusOf(stop)).toBe('accepted');

    await h.press('ann', shown.confirm, shown.messageId);
    expect(await statusOf(limit)).toBe('cancelled');
    expect(await statusOf(stop)).toBe('cancelled');
    expect(last()).toBe(`${limit.slice(0, 8)} cancelled\n${stop.slice(0, 8)} cancelled`);
    const edited = h.channel.log
      .filter((entry) => entry.kind === 'edit' && entry.messageId === shown.messageId)
      .at(-1);
    expect(edited?.message?.kind === 'card' && edited.message.card.actions).toEqual([]);
    expect(await requestOf(shown.confirm)).toMatchObject({ status: 'confirmed', doneAt: expect.any(Date) });
    // The placed order's card says where it was cancelled: it had been sent, so never "Nothing was sent".
    const limitIntent = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: limit } });
    const limitCard = h.channel.log
      .filter((entry) => entry.kind === 'edit' && entry.messageId === limitIntent.cardMessageId)
      .at(-1)?.message;
    expect(limitCard?.kind === 'card' ? limitCard.card.notice : undefined).toBe('Cancelled at the broker.');

    // A second press (a double click) cancels nothing more and says so to the presser only.
    const texts = h.channel.texts().length;
    const from = h.channel.log.length;
    await h.press('ann', shown.confirm, shown.messageId);
    expect(notices(from)).toEqual([
      'That card was already confirmed: its orders were cancelled once. Nothing more was done.',
    ]);
    expect(h.channel.texts()).toHaveLength(texts + 1);
    expect(await prisma().auditEvent.count({ where: { type: 'orders.cancel_confirmed' } })).toBe(1);

    await h.say('ann', 'cancel all');
    expect(last()).toBe('You have no open orders to cancel.');
  });

  it('two presses at once: exactly one cancels', async () => {
    const resting = await place('bea', 'buy 2 AMD limit 110');
    const shown = await cancelAll('bea');
    const from = h.channel.log.length;
    await Promise.all([
      h.press('bea', shown.confirm, shown.messageId),
      h.press('bea', shown.confirm, shown.messageId),
    ]);
    const results = h.channel.log
      .slice(from)
      .filter((entry) => entry.kind === 'send' && entry.message?.kind === 'text');
    expect(results).toHaveLength(1);
    expect(notices(from)).toHaveLength(1);
    expect(await statusOf(resting)).toBe('cancelled');
  });

  it("another person's press, or a stranger's, changes nothing", async () => {
    const resting = await place('cal', 'buy 2 AMD limit 111');
    await h.say('dan', 'hello');
    const shown = await cancelAll('cal');
    const from = h.channel.log.length;
    await h.press('dan', shown.confirm, shown.messageId);
    await h.press('stranger-never-seen', shown.confirm, shown.messageId);
    expect(notices(from)).toEqual([
      'Only the person who asked for this can answer it. Nothing was changed.',
      'Only the person who asked for this can answer it. Nothing was changed.',
    ]);
    expect(await statusOf(resting)).toBe('accepted');
    expect((await requestOf(shown.confirm)).status).toBe('open');
    // Its requester still can.
    await h.press('cal', shown.confirm, shown.messageId);
    expect(await statusOf(resting)).toBe('cancelled');
  });

  it('a press after the card expired cancels nothing and says so; the card loses its buttons', async () => {
    const resting = await place('eve', 'buy 2 AMD limit 112');
    const shown = await cancelAll('eve');
    const request = await requestOf(shown.confirm);
    h.clock.now = new Date(request.expiresAt.getTime() + 1000);
    try {
      const from = h.channel.log.length;
      await h.press('eve', shown.confirm, shown.messageId);
      expect(notices(from)).toEqual([
        'That card expired: nothing was cancelled. Say "cancel all" to see your open orders again.',
      ]);
      const edited = h.channel.log.slice(from).find((entry) => entry.kind === 'edit');
      expect(edited?.message?.kind === 'card' && edited.message.card).toMatchObject({
        actions: [],
        // Shown at 10:00 in New York (the users' default zone), 120 s to answer.
        notice: 'Expired at 10:02 EST; nothing was cancelled.',
      });
      expect(await statusOf(resting)).toBe('accepted');
      expect((await requestOf(shown.confirm)).status).toBe('expired');
    } finally {
      h.clock.now = MARKET_OPEN;
    }
  });

  it('Cancel on the card keeps the orders; a later Confirm on it does nothing', async () => {
    const resting = await place('fay', 'buy 2 AMD limit 113');
    const shown = await cancelAll('fay');
    await h.press('fay', shown.keep, shown.messageId);
    expect((await requestOf(shown.confirm)).status).toBe('kept');
    const from = h.channel.log.length;
    await h.press('fay', shown.confirm, shown.messageId);
    expect(notices(from)).toEqual([
      'That card was already answered: the orders were kept. Nothing was cancelled.',
    ]);
    expect(await statusOf(resting)).toBe('accepted');
  });

  it('the request survives a restart: the new process honours the Confirm', async () => {
    const resting = await place('gus', 'buy 2 AMD limit 114');
    const shown = await cancelAll('gus');
    await h.restart();
    await h.press('gus', shown.confirm, shown.messageId);
    expect(await statusOf(resting)).toBe('cancelled');
  });

  it('a replayed press whose first attempt confirmed and crashed finishes the cancels', async () => {
    const resting = await place('hal', 'buy 2 AMD limit 115');
    const shown = await cancelAll('hal');
    // The first attempt won the claim, then its process died before any cancel was sent.
    await prisma().cancelRequest.update({
      where: { id: (await requestOf(shown.confirm)).id },
      data: { status: 'confirmed', decidedAt: MARKET_OPEN },
    });
    await h.arbion.conversation.handle(
      {
        kind: 'action',
        deliveryId: 'replayed-press-hal',
        address: { platform: 'console', workspaceId: '', chatId: 'chat-1' },
        sender: { platformUserId: 'hal', displayName: 'hal' },
        receivedAt: MARKET_OPEN,
        chatType: 'direct',
        messageId: shown.messageId,
        actionId: shown.confirm,
      },
      { id: '0', finished: false, replayed: true },
    );
    expect(await statusOf(resting)).toBe('cancelled');
    expect((await requestOf(shown.confirm)).doneAt).not.toBeNull();
  });

  it('a typed "cancel <id>" names one order and cancels it at once', async () => {
    const first = await place('ivy', 'buy 2 AMD limit 116');
    const second = await place('ivy', 'buy 2 AMD limit 117');
    await h.say('ivy', `cancel ${first.slice(0, 8)}`);
    expect(last()).toBe(`${first.slice(0, 8)} cancelled`);
    expect(await statusOf(first)).toBe('cancelled');
    expect(await statusOf(second)).toBe('accepted');
  });
});
