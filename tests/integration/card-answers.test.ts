/**
 * Addressed cards: every card has a short number of its requester's ("Card #12"), increasing and
 * never reused, across restarts; typed answers ("confirm 12", "cancel #12", a bare "yes"/"no")
 * act on exactly that card of the sender, through the same path as its button. A bare answer acts
 * only when exactly one card is open, so a repeated bare "confirm" never reaches a second card.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../src/core/messages.js';
import { ADDRESS, createHarness, type Harness } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

describe.each(backends)('typed answers to numbered cards on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(backend);
    h.market.override('AMD', { bid: '149.99', ask: '150.01', last: '150.00' });
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const prisma = () => h.test.database.prisma;
  const lastText = () => h.channel.texts().at(-1) ?? '';
  const textsSince = (count: number) => h.channel.texts().slice(count);
  const userOf = async (name: string) =>
    (await prisma().channelIdentity.findFirstOrThrow({ where: { platformUserId: name } })).userId;
  /** The user's intents by card number, with their orders. */
  const cards = async (name: string) =>
    prisma().tradeIntent.findMany({
      where: { userId: await userOf(name) },
      orderBy: { cardNumber: 'asc' },
      include: { orders: true },
    });
  const orderCount = async (name: string) =>
    prisma().order.count({ where: { intent: { userId: await userOf(name) } } });
  const cardTitle = () => {
    const card = h.channel.lastCard()?.message;
    return card?.kind === 'card' ? card.card : undefined;
  };

  it('numbers each user’s cards 1, 2, 3... on the title and the buttons, and keeps counting after a restart', async () => {
    await h.say('ada', 'buy 1 AAPL');
    expect(cardTitle()?.title).toBe('Card #1 · Buy AAPL?');
    expect(cardTitle()?.number).toBe(1);
    expect(cardTitle()?.actions.map((action) => action.label)).toEqual(['Confirm #1', 'Cancel #1']);
    await h.say('ada', 'buy 2 TSLA');
    expect(cardTitle()?.title).toBe('Card #2 · Buy TSLA?');
    // Numbers are per user: another user starts at 1.
    await h.say('ben', 'buy 1 MSFT');
    expect(cardTitle()?.title).toBe('Card #1 · Buy MSFT?');

    await h.restart();
    await h.say('ada', 'buy 3 NVDA');
    expect(cardTitle()?.title).toBe('Card #3 · Buy NVDA?');
    expect(cardTitle()?.actions.map((action) => action.label)).toEqual(['Confirm #3', 'Cancel #3']);
    expect((await cards('ada')).map((intent) => [intent.cardNumber, intent.symbol])).toEqual([
      [1, 'AAPL'],
      [2, 'TSLA'],
      [3, 'NVDA'],
    ]);
    const ada = await prisma().user.findUniqueOrThrow({ where: { id: await userOf('ada') } });
    expect(ada.lastCardNumber).toBe(3);
  });

  it('"confirm 1" places exactly card #1, edits its card, and leaves card #2 open', async () => {
    await h.say('cy', 'buy 1 AAPL');
    await h.say('cy', 'buy 2 TSLA');
    const [first, second] = await cards('cy');
    await h.say('cy', 'confirm 1');
    const after = await cards('cy');
    expect(after.map((intent) => intent.status)).toEqual(['filled', 'proposed']);
    expect(after[0]?.orders).toHaveLength(1);
    expect(after[1]?.orders).toHaveLength(0);
    expect(lastText()).toMatch(/^Filled \(PAPER\): bought 1 AAPL at \$/);
    // The answer edited card #1, as its button would have.
    const edits = h.channel.log.filter((entry) => entry.kind === 'edit');
    expect(edits.at(-1)?.messageId).toBe(first?.cardMessageId);
    expect(edits.some((entry) => entry.messageId === second?.cardMessageId)).toBe(false);
    // And the same again is told where the card stands, placing nothing more.
    await h.say('cy', 'confirm #1');
    expect(lastText()).toMatch(
      /^Card #1 \(BUY 1 AAPL\) was already confirmed: filled, bought 1 AAPL at \$[\d,]+\.\d\d\.$/,
    );
    expect(await orderCount('cy')).toBe(1);
  });

  it('a bare "yes" confirms the one open card; then a bare "confirm" says what became of it', async () => {
    await h.say('dot', 'buy 1 AAPL');
    await h.say('dot', 'yes');
    expect((await cards('dot')).map((intent) => intent.status)).toEqual(['filled']);
    await h.say('dot', 'confirm');
    expect(lastText()).toMatch(/^Card #1 \(BUY 1 AAPL\) was already confirmed: filled, bought 1 AAPL at \$/);
    expect(await orderCount('dot')).toBe(1);
  });

  it('a bare "confirm" with no card says so; with an expired one, when it expired', async () => {
    await h.say('eve', 'confirm');
    expect(lastText()).toBe('You have no open card to confirm. Nothing was done.');
    await h.say('eve', 'buy 1 AAPL');
    const saved = h.clock.now;
    h.clock.now = new Date(saved.getTime() + 121_000);
    try {
      await h.say('eve', 'confirm');
      // Ten o'clock in New York (the user's time zone) plus the 120 s a card lasts.
      expect(lastText()).toBe('Card #1 (BUY 1 AAPL) expired at 10:02 EST; nothing was sent.');
      expect(await orderCount('eve')).toBe(0);
    } finally {
      h.clock.now = saved;
    }
  });

  it('a repeated bare "confirm" with two open cards places nothing and lists them; "confirm 2" places only card #2', async () => {
    await h.say('fay', 'buy 1 AAPL');
    await h.say('fay', 'buy 2 TSLA');
    const before = h.channel.texts().length;
    await h.say('fay', 'confirm');
    await h.say('fay', 'confirm');
    const list = 'Which card? #1 BUY 1 AAPL, #2 BUY 2 TSLA. Say "confirm 2". Nothing was done.';
    expect(textsSince(before)).toEqual([list, list]);
    expect(await orderCount('fay')).toBe(0);
    expect((await cards('fay')).map((intent) => intent.status)).toEqual(['proposed', 'proposed']);

    await h.say('fay', 'confirm 2');
    const after = await cards('fay');
    expect(after.map((intent) => [intent.symbol, intent.status])).toEqual([
      ['AAPL', 'proposed'],
      ['TSLA', 'filled'],
    ]);
    expect(await orderCount('fay')).toBe(1);
    // Now one card is open: a bare "no" cancels exactly it.
    await h.say('fay', 'no');
    expect((await cards('fay')).map((intent) => intent.status)).toEqual(['cancelled', 'filled']);
    expect(lastText()).toBe('Cancelled. Nothing was sent to the broker.');
  });

  it("refuses another user's card number and changes nothing", async () => {
    await h.say('gus', 'buy 1 AAPL');
    await h.say('gus', 'buy 1 TSLA');
    await h.say('hal', 'buy 1 MSFT');
    await h.say('hal', 'confirm 2');
    expect(lastText()).toBe('There is no card #2 of yours. Nothing was changed.');
    await h.say('hal', 'cancel #2');
    expect(lastText()).toBe('There is no card #2 of yours. Nothing was changed.');
    expect((await cards('gus')).map((intent) => intent.status)).toEqual(['proposed', 'proposed']);
    expect((await cards('hal')).map((intent) => intent.status)).toEqual(['proposed']);
    expect(await orderCount('gus')).toBe(0);
    expect(await orderCount('hal')).toBe(0);
  });

  it('says clearly that 0, negative and huge numbers are no card', async () => {
    await h.say('ivy', 'buy 1 AAPL');
    await h.say('ivy', 'confirm 0');
    expect(lastText()).toBe('Cards are numbered from 1: there is no card #0. Nothing was done.');
    await h.say('ivy', 'confirm #-1');
    expect(lastText()).toBe('Cards are numbered from 1: there is no card #-1. Nothing was done.');
    await h.say('ivy', 'confirm 99999999999');
    expect(lastText()).toBe('There is no card #99999999999 of yours. Nothing was changed.');
    expect((await cards('ivy')).map((intent) => intent.status)).toEqual(['proposed']);
  });

  it('answers a card only in the chat it was shown in', async () => {
    await h.say('jo', 'buy 1 AAPL');
    const elsewhere: InboundMessage = {
      kind: 'text',
      deliveryId: `elsewhere-${backend}`,
      address: { ...ADDRESS, chatId: 'chat-2' },
      sender: { platformUserId: 'jo', displayName: 'jo' },
      receivedAt: h.clock.now,
      chatType: 'direct',
      messageId: 'in-elsewhere',
      text: 'confirm 1',
    };
    await h.arbion.conversation.handle(elsewhere);
    expect(lastText()).toBe('Card #1 is in another chat: answer it there. Nothing was done.');
    expect((await cards('jo')).map((intent) => intent.status)).toEqual(['proposed']);
  });

  it('"cancel #N" cancels an open card, and the working order of a confirmed one; "cancel <id>" and "cancel all" still cancel orders', async () => {
    await h.say('kim', 'buy 1 AAPL');
    await h.say('kim', 'cancel #1');
    expect(lastText()).toBe('Cancelled. Nothing was sent to the broker.');

    // Card #2: a resting limit order, placed and working.
    await h.say('kim', 'buy 3 AMD limit 120');
    await h.say('kim', 'confirm 2');
    const working = (await cards('kim'))[1];
    expect(working?.status).toBe('submitted');
    await h.say('kim', 'cancel #2');
    expect(lastText()).toBe(`Card #2: ${working?.id.slice(0, 8)} cancelled`);
    expect((await cards('kim')).map((intent) => intent.status)).toEqual(['cancelled', 'cancelled']);
    await h.say('kim', 'no 2');
    expect(lastText()).toBe('Card #2 (BUY 3 AMD) was placed, then cancelled.');

    // Order ids keep their meaning (a prefix with a letter in it, as order ids are hex).
    await h.say('kim', 'buy 3 AMD limit 121');
    await h.say('kim', 'confirm 3');
    const third = (await cards('kim'))[2];
    if (third === undefined) throw new Error('no card #3');
    const prefix = /[a-f]/.test(third.id.slice(0, 8)) ? third.id.slice(0, 8) : third.id;
    await h.say('kim', `cancel ${prefix}`);
    expect(lastText()).toBe(`${third.id.slice(0, 8)} cancelled`);

    await h.say('kim', 'buy 3 AMD limit 122');
    await h.say('kim', 'confirm 4');
    const fourth = (await cards('kim'))[3];
    // "cancel all" shows card #5 listing the working order; a bare "confirm" answers it (the only
    // open card), and only then is the order cancelled.
    await h.say('kim', 'cancel all');
    const cancelCard = h.channel.lastCard();
    expect(cancelCard?.message?.kind === 'card' && cancelCard.message.card.title).toBe(
      'Card #5 · Cancel 1 open order?',
    );
    expect((await cards('kim'))[3]?.status).toBe('submitted');
    await h.say('kim', 'confirm');
    expect(lastText()).toBe(`${fourth?.id.slice(0, 8)} cancelled`);
    await h.say('kim', 'confirm 5');
    expect(lastText()).toBe(
      'Card #5 (cancel 1 open order) was already confirmed: its orders were asked to cancel once. Nothing more was done.',
    );
    expect((await cards('kim')).map((intent) => intent.status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
  });

  it('refuses a typed confirm of someone who may no longer trade, as it refuses their button', async () => {
    const team = { platform: 'console', workspaceId: `T-cards-${backend}`, chatId: 'C1' } as const;
    let sequence = 0;
    const sayIn = (user: string, text: string) =>
      h.arbion.conversation.handle({
        kind: 'text',
        deliveryId: `team-${backend}-${++sequence}`,
        messageId: `in-team-${sequence}`,
        address: team,
        sender: { platformUserId: user, displayName: user },
        chatType: 'group',
        receivedAt: h.clock.now,
        text,
      });
    await sayIn('boss', 'roles');
    await sayIn('tia', 'roles');
    await sayIn('boss', 'role <@tia> trader');
    await sayIn('tia', 'buy 1 AAPL');
    expect(cardTitle()?.title).toBe('Card #1 · Buy AAPL?');
    await sayIn('boss', 'role <@tia> viewer');
    await sayIn('tia', 'confirm 1');
    expect(lastText()).toMatch(/^You can look but not trade in this workspace \(your role: viewer\)/);
    expect((await cards('tia')).map((intent) => intent.status)).toEqual(['proposed']);
    expect(await orderCount('tia')).toBe(0);
  });
});
