/**
 * What a crash leaves behind, finished by the first background pass after a start: a move the user
 * was not told is told from the rows (card edited, then the sentence, once); a placement claimed
 * and never answered is looked up at the paper broker and applied, or sent again under the same
 * client order id, or (too old to send) closed as not placed. Telling that fails is retried with
 * backoff, and a chat that refuses for good is recorded, not retried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelAddress, OutboundMessage, Sender } from '../../src/core/messages.js';
import { createHarness, type Harness, RecordingChannel } from '../support/arbion-harness.js';
import { backends } from '../support/databases.js';

/** Something the paper broker or a chat said instead of answering (the process "died"). */
class Lost extends Error {}

async function proposed(h: Harness, text: string) {
  await h.say('alice', text);
  const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
    where: { status: 'proposed' },
    orderBy: { createdAt: 'desc' },
  });
  const card = h.channel.lastCard();
  if (card === undefined) throw new Error('no card');
  return { intent, cardMessageId: card.messageId };
}

/** Confirms without telling anyone (the process dies before the chat hears of it). */
async function confirmSilently(h: Harness, intentId: string, userId: string) {
  return h.arbion.intents.confirm(intentId, userId);
}

function paperOrdersOf(h: Harness, clientOrderId: string) {
  return h.test.database.prisma.paperOrder.count({ where: { clientOrderId } });
}

function editsOf(h: Harness, messageId: string) {
  return h.channel.log.filter((entry) => entry.kind === 'edit' && entry.messageId === messageId);
}

function filledSentences(h: Harness) {
  return h.channel.texts().filter((text) => text.startsWith('Filled (PAPER)'));
}

describe.each(backends)('recovery after a crash (%s)', (backend) => {
  let h: Harness;
  afterEach(async () => {
    await h?.destroy();
  });

  it('tells a fill the user was not told, once: the card edited to it, then the sentence', async () => {
    h = await createHarness(backend);
    const { intent, cardMessageId } = await proposed(h, 'buy 0.01 btc');
    const update = await confirmSilently(h, intent.id, intent.userId);
    expect(update.kind).toBe('updated');
    expect(h.channel.log.filter((entry) => entry.kind === 'edit')).toHaveLength(0);
    const moved = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(moved).toMatchObject({ status: 'filled', tellPending: true, toldStatus: 'proposed' });

    await h.arbion.runBackgroundPass();
    const edits = editsOf(h, cardMessageId);
    expect(edits).toHaveLength(1);
    const shown = edits[0]?.message;
    expect(shown?.kind === 'card' && shown.card.actions).toEqual([]);
    expect(filledSentences(h)).toHaveLength(1);
    expect(filledSentences(h)[0]).toMatch(/^Filled \(PAPER\): bought 0\.01 BTC at \$[\d,]+\.\d\d\.$/);
    const told = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(told).toMatchObject({ tellPending: false, toldStatus: 'filled', tellAttempts: 0 });

    // Told is told: later passes say nothing more.
    h.clock.now = new Date(h.clock.now.getTime() + 60_000);
    await h.arbion.runBackgroundPass();
    expect(editsOf(h, cardMessageId)).toHaveLength(1);
    expect(filledSentences(h)).toHaveLength(1);
  });

  it('sends a claimed placement that never reached the paper broker, once, and tells it', async () => {
    h = await createHarness(backend);
    const { intent, cardMessageId } = await proposed(h, 'buy 0.01 btc');
    const place = h.arbion.paper.placeOrder.bind(h.arbion.paper);
    let dead = true;
    h.arbion.paper.placeOrder = async (request) => {
      if (dead) throw new Lost('the process died before the broker was called');
      return place(request);
    };
    await confirmSilently(h, intent.id, intent.userId);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({
      status: 'submitting',
    });
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(0);

    // The restart: a new process (this pass is its first), a second later.
    dead = false;
    h.clock.now = new Date(h.clock.now.getTime() + 1000);
    await h.arbion.runBackgroundPass();
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(1);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({
      status: 'filled',
      tellPending: false,
    });
    expect(filledSentences(h)).toHaveLength(1);
    expect(editsOf(h, cardMessageId).length).toBeGreaterThanOrEqual(1);
  });

  it('applies a placement the paper broker has but whose answer was lost, without sending it again', async () => {
    h = await createHarness(backend);
    const { intent } = await proposed(h, 'buy 0.01 btc');
    const place = h.arbion.paper.placeOrder.bind(h.arbion.paper);
    const find = h.arbion.paper.findOrderByClientOrderId.bind(h.arbion.paper);
    let dead = true;
    h.arbion.paper.placeOrder = async (request) => {
      await place(request);
      if (dead) throw new Lost('the answer never came back');
      return place(request);
    };
    h.arbion.paper.findOrderByClientOrderId = async (account, clientOrderId) => {
      if (dead) throw new Lost('the process died before it could look');
      return find(account, clientOrderId);
    };
    await confirmSilently(h, intent.id, intent.userId);
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(1);

    dead = false;
    let placements = 0;
    h.arbion.paper.placeOrder = async (request) => {
      placements++;
      return place(request);
    };
    h.clock.now = new Date(h.clock.now.getTime() + 1000);
    await h.arbion.runBackgroundPass();
    expect(placements).toBe(0);
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(1);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({
      status: 'filled',
      tellPending: false,
    });
    expect(filledSentences(h)).toHaveLength(1);
  });

  it('moves an intent left in submitting after its order row took the fill, and tells it', async () => {
    h = await createHarness(backend);
    const { intent } = await proposed(h, 'buy 0.01 btc');
    await confirmSilently(h, intent.id, intent.userId);
    // The kill landed between the order row's update and its fills and the intent's move.
    await h.test.database.prisma.$executeRaw`
      UPDATE trade_intents SET status = 'submitting' WHERE id = ${intent.id}::uuid`;
    await h.test.database.prisma.fill.deleteMany({ where: { order: { intentId: intent.id } } });
    let placements = 0;
    h.arbion.paper.placeOrder = async () => {
      placements++;
      throw new Lost('must not be sent again');
    };
    await h.arbion.runBackgroundPass();
    expect(placements).toBe(0);
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(1);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({
      status: 'filled',
      tellPending: false,
    });
    expect(filledSentences(h)).toHaveLength(1);
    expect(await h.test.database.prisma.fill.count({ where: { order: { intentId: intent.id } } })).toBe(1);
  });

  it('closes a claim too old to send as not placed, and says so', async () => {
    h = await createHarness(backend);
    const { intent } = await proposed(h, 'buy 0.01 btc');
    const place = h.arbion.paper.placeOrder.bind(h.arbion.paper);
    let placements = 0;
    h.arbion.paper.placeOrder = async () => {
      placements++;
      throw new Lost('the process died before the broker was called');
    };
    await confirmSilently(h, intent.id, intent.userId);
    h.arbion.paper.placeOrder = async (request) => {
      placements++;
      return place(request);
    };
    // Down for three minutes: the confirmation is too old to act on now.
    h.clock.now = new Date(h.clock.now.getTime() + 3 * 60_000);
    await h.arbion.runBackgroundPass();
    expect(placements).toBe(1);
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(0);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({
      status: 'failed',
      tellPending: false,
    });
    expect(h.channel.texts().at(-1)).toMatch(
      /was not placed: Arbion stopped before .* received it.*Nothing was sent/,
    );
  });
});

/** A chat that fails its calls while `failing` is set, with the error given. */
class FlakyChannel extends RecordingChannel {
  failing: Error | undefined;
  constructor(private readonly refusedForGood: (error: unknown) => boolean) {
    super();
  }
  override async edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    if (this.failing) throw this.failing;
    return super.edit(address, messageId, message);
  }
  override async send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    if (this.failing) throw this.failing;
    return super.send(address, message);
  }
  override async notify(address: ChannelAddress, recipient: Sender, text: string): Promise<void> {
    if (this.failing) throw this.failing;
    return super.notify(address, recipient, text);
  }
  refusesForGood(error: unknown): boolean {
    return this.refusedForGood(error);
  }
}

class Blocked extends Error {}

describe('telling that fails', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.destroy();
  });

  it('is tried again after a backoff, and a chat that refuses for good is recorded, not retried', async () => {
    h = await createHarness('server');
    const chat = new FlakyChannel((error) => error instanceof Blocked);
    h.arbion.channels.register('console', chat);
    await h.say('alice', 'buy 0.01 btc');
    await h.say('alice', 'buy 0.02 btc');
    const [first, second] = await h.test.database.prisma.tradeIntent.findMany({
      where: { status: 'proposed' },
      orderBy: { quantity: 'asc' },
    });
    if (first === undefined || second === undefined) throw new Error('two cards expected');

    // The first fill meets a chat that is down for a while.
    await confirmSilently(h, first.id, first.userId);
    chat.failing = new Error('503 from the platform');
    await h.arbion.runBackgroundPass();
    const waiting = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: first.id } });
    expect(waiting).toMatchObject({ tellPending: true, tellAttempts: 1, tellFailure: null });
    expect(waiting.nextTellAt?.getTime()).toBe(h.clock.now.getTime() + 5_000);

    // Back before the backoff is over: not tried yet (16 s > the 15 s grace, < nothing else).
    chat.failing = undefined;
    await h.arbion.runBackgroundPass();
    expect(chat.texts().filter((text) => text.startsWith('Filled'))).toHaveLength(0);
    h.clock.now = new Date(h.clock.now.getTime() + 20_000);
    await h.arbion.runBackgroundPass();
    expect(chat.texts().filter((text) => text.startsWith('Filled'))).toHaveLength(1);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: first.id } }),
    ).toMatchObject({
      tellPending: false,
      toldStatus: 'filled',
      tellAttempts: 0,
      nextTellAt: null,
    });

    // The second meets a chat that blocked the bot: recorded, never tried again.
    await confirmSilently(h, second.id, second.userId);
    chat.failing = new Blocked('403 Forbidden: bot was blocked by the user');
    h.clock.now = new Date(h.clock.now.getTime() + 20_000);
    await h.arbion.runBackgroundPass();
    const refused = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: second.id } });
    expect(refused).toMatchObject({ tellPending: false, tellFailure: 'the chat refused the message' });
    chat.failing = undefined;
    h.clock.now = new Date(h.clock.now.getTime() + 3_600_000);
    await h.arbion.runBackgroundPass();
    expect(chat.texts().filter((text) => text.startsWith('Filled'))).toHaveLength(1);
  });
});
