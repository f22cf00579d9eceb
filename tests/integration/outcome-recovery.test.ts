/**
 * What a crash leaves behind (the work of a process that died), finished by the next process's
 * first background pass: a move the user
 * was not told is told from the rows (card edited, then the sentence, once); a placement claimed
 * and never answered is looked up at the paper broker and applied, or sent again under the same
 * client order id, or (too old to send) closed as not placed. Telling that fails is retried with
 * backoff, and a chat that refuses for good is recorded, not retried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelAddress, InboundMessage, OutboundMessage, Sender } from '../../src/core/messages.js';
import { ADDRESS, createHarness, type Harness, RecordingChannel } from '../support/arbion-harness.js';
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

/** The paper broker as a broker whose book is elsewhere: no shared transaction (Broker.preparePlacement). */
function withoutSharedBook(h: Harness): void {
  Object.defineProperty(h.arbion.paper, 'preparePlacement', { value: undefined });
}

/** Counts what is sent to the paper broker from now on (both ways of placing). */
function countPlacements(h: Harness): { count: number } {
  const counter = { count: 0 };
  const place = h.arbion.paper.placeOrder.bind(h.arbion.paper);
  const prepare = h.arbion.paper.preparePlacement.bind(h.arbion.paper);
  h.arbion.paper.placeOrder = async (request) => {
    counter.count++;
    return place(request);
  };
  h.arbion.paper.preparePlacement = async (request) => {
    counter.count++;
    return prepare(request);
  };
  return counter;
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

    // While the process that moved it lives, the telling is its own (a pass leaves it alone)...
    await h.arbion.runBackgroundPass();
    expect(editsOf(h, cardMessageId)).toHaveLength(0);
    // ...once it died, the next process tells it at once.
    await h.restart();
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
    h.arbion.paper.preparePlacement = async () => {
      throw new Lost('the process died before the broker was called');
    };
    await confirmSilently(h, intent.id, intent.userId);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({
      status: 'submitting',
    });
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(0);

    // The restart: a new process, a second later.
    h.clock.now = new Date(h.clock.now.getTime() + 1000);
    await h.restart();
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

  it('applies a placement a broker has but whose answer was lost, without sending it again', async () => {
    h = await createHarness(backend);
    const { intent } = await proposed(h, 'buy 0.01 btc');
    // As a broker whose book is not our database (every real one): placed, then answered.
    withoutSharedBook(h);
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
    h.clock.now = new Date(h.clock.now.getTime() + 1000);
    await h.restart();
    const placements = countPlacements(h);
    await h.arbion.runBackgroundPass();
    expect(placements.count).toBe(0);
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(1);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({
      status: 'filled',
      tellPending: false,
    });
    expect(filledSentences(h)).toHaveLength(1);
  });

  it('leaves neither the paper fill nor the move when the kill lands inside their transaction', async () => {
    h = await createHarness(backend);
    const { intent } = await proposed(h, 'buy 0.01 btc');
    const prepare = h.arbion.paper.preparePlacement.bind(h.arbion.paper);
    h.arbion.paper.preparePlacement = async (request) => {
      const write = await prepare(request);
      return async (tx) => {
        // The ledger took the fill; the process dies before the intent moved and it committed.
        await write(tx);
        throw new Lost('died inside the transaction');
      };
    };
    await confirmSilently(h, intent.id, intent.userId);
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(0);
    expect(await h.test.database.prisma.paperFill.count()).toBe(0);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({ status: 'submitting' });

    await h.restart();
    await h.arbion.runBackgroundPass();
    expect(await paperOrdersOf(h, intent.clientOrderId)).toBe(1);
    expect(await h.test.database.prisma.paperFill.count()).toBe(1);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({ status: 'filled', tellPending: false });
    expect(filledSentences(h)).toHaveLength(1);
  });

  it("looks for a dead process's placement at once at a broker without client order ids, and says when it is not known", async () => {
    h = await createHarness(backend);
    const { intent } = await proposed(h, 'buy 0.01 btc');
    h.arbion.paper.preparePlacement = async () => {
      throw new Lost('the process died while sending');
    };
    await confirmSilently(h, intent.id, intent.userId);
    await h.restart();
    // As Schwab: orders are found by matching the account's recent orders, and not yet here.
    Object.defineProperty(h.arbion.paper, 'placementLookup', { value: 'reconciliation' });
    const looked: string[] = [];
    h.arbion.paper.reconcilePlacement = async (request) => {
      looked.push(request.clientOrderId);
      return undefined;
    };
    const placements = countPlacements(h);
    await h.arbion.runBackgroundPass();
    expect(looked).toEqual([intent.clientOrderId]);
    expect(placements.count).toBe(0);
    expect(h.channel.texts().at(-1)).toMatch(
      /^I do not know yet whether your order to buy BTC reached .*: Arbion stopped while sending it.*Nothing was sent again\. Check your .* account before placing it again/,
    );
    const adopted = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(adopted).toMatchObject({
      status: 'submitting',
      heldBy: h.arbion.processes.id,
      tellPending: false,
    });
    // Told once: the next passes leave it to the order tracker.
    const told = h.channel.texts().length;
    await h.arbion.runBackgroundPass();
    expect(h.channel.texts()).toHaveLength(told);
    expect(looked).toHaveLength(1);
  });

  it('moves an intent left in submitting after its order row took the fill, and tells it', async () => {
    h = await createHarness(backend);
    const { intent } = await proposed(h, 'buy 0.01 btc');
    await confirmSilently(h, intent.id, intent.userId);
    // The kill landed between the order row's update and its fills and the intent's move.
    await h.test.database.prisma.$executeRaw`
      UPDATE trade_intents SET status = 'submitting' WHERE id = ${intent.id}::uuid`;
    await h.test.database.prisma.fill.deleteMany({ where: { order: { intentId: intent.id } } });
    await h.restart();
    const placements = countPlacements(h);
    await h.arbion.runBackgroundPass();
    expect(placements.count).toBe(0);
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
    h.arbion.paper.preparePlacement = async () => {
      throw new Lost('the process died before the broker was called');
    };
    await confirmSilently(h, intent.id, intent.userId);
    // Down for three minutes: the confirmation is too old to act on now.
    h.clock.now = new Date(h.clock.now.getTime() + 3 * 60_000);
    await h.restart();
    const placements = countPlacements(h);
    await h.arbion.runBackgroundPass();
    expect(placements.count).toBe(0);
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

// On a server several processes share the database (the embedded one has one process at a time:
// whoever opens it is alone, and takes everything over at once).
describe('recovery beside a live process (server)', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.destroy();
  });

  it("leaves a live process's untold move to it, and takes it over once that process is gone", async () => {
    h = await createHarness('server');
    const { intent, cardMessageId } = await proposed(h, 'buy 0.01 btc');
    const first = h.arbion;
    await first.processes.register();
    await confirmSilently(h, intent.id, intent.userId);
    // A second process on the same database: the first one is alive and on it.
    await h.restart();
    await h.arbion.processes.register();
    await h.arbion.runBackgroundPass();
    expect(editsOf(h, cardMessageId)).toHaveLength(0);
    expect(filledSentences(h)).toHaveLength(0);
    // The first one stops (or is found dead): its work is the second's at once.
    await first.processes.deregister();
    await h.arbion.runBackgroundPass();
    expect(editsOf(h, cardMessageId)).toHaveLength(1);
    expect(filledSentences(h)).toHaveLength(1);
    await h.arbion.processes.deregister();
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

    // The first fill meets a chat that is down for a while (told by the next process).
    await confirmSilently(h, first.id, first.userId);
    chat.failing = new Error('503 from the platform');
    await h.restart(chat);
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

/** A chat whose next card send dies with the process (after or before the platform got it). */
class DyingChannel extends RecordingChannel {
  dieOnCard: 'before' | 'after' | undefined;
  override async send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    const dying = message.kind === 'card' ? this.dieOnCard : undefined;
    this.dieOnCard = undefined;
    if (dying === 'before') throw new Lost('died before the card was sent');
    const sent = await super.send(address, message);
    if (dying === 'after') throw new Lost('died before the card was attached');
    return sent;
  }

  /** Card edits that go through before the process dies (undefined: it does not die). */
  editsBeforeDying: number | undefined;
  override async edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void> {
    if (this.editsBeforeDying === 0) throw new Lost('died before the card was edited');
    if (this.editsBeforeDying !== undefined) this.editsBeforeDying--;
    return super.edit(address, messageId, message);
  }
}

describe('a message replayed after its first attempt died', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.destroy();
  });

  const replayed = () => ({ id: '0', finished: false, replayed: true });
  function textMessage(text: string, messageId: string): InboundMessage {
    return {
      kind: 'text',
      deliveryId: `replay-${messageId}`,
      address: ADDRESS,
      sender: { platformUserId: 'alice', displayName: 'alice' },
      receivedAt: h.clock.now,
      chatType: 'direct',
      messageId,
      text,
    };
  }

  it('shows the card its first attempt proposed instead of proposing again', async () => {
    h = await createHarness('server');
    const chat = new DyingChannel();
    h.arbion.channels.register('console', chat);
    await h.say('alice', 'balance'); // the user exists
    // The first attempt dies before the card was sent, or after it was sent but not attached.
    for (const [dying, messageId] of [
      ['before', 'tg-77'],
      ['after', 'tg-78'],
    ] as const) {
      const message = textMessage('buy 0.01 btc', messageId);
      chat.dieOnCard = dying;
      // (The process would die; here the error is answered and dropped.)
      await h.arbion.conversation.handle(message).catch(() => undefined);
      expect(chat.dieOnCard).toBeUndefined();
      await h.arbion.conversation.handle(message, replayed());
      // One intent for the message, its card attached: the one shown last.
      const intents = await h.test.database.prisma.tradeIntent.findMany({
        where: { requestMessageId: messageId },
      });
      expect(intents).toHaveLength(1);
      expect(intents[0]?.cardMessageId).toBe(chat.lastCard()?.messageId);
      expect(intents[0]?.status).toBe('proposed');
    }
    // A message with another id is a new request, replayed or not.
    await h.arbion.conversation.handle(textMessage('buy 0.01 btc', 'tg-79'), replayed());
    expect(await h.test.database.prisma.tradeIntent.count({ where: { status: 'proposed' } })).toBe(3);
  });

  it('shows the card once more at most, and a press on a card never attached makes it the card', async () => {
    h = await createHarness('server');
    const chat = new DyingChannel();
    h.arbion.channels.register('console', chat);
    await h.say('alice', 'balance'); // the user exists
    const message = textMessage('buy 0.01 btc', 'tg-80');
    const cards = () => chat.log.filter((entry) => entry.message?.kind === 'card');
    // The first attempt and its replay both die after the platform took the card.
    for (const ticket of [undefined, replayed()]) {
      chat.dieOnCard = 'after';
      await h.arbion.conversation.handle(message, ticket).catch(() => undefined);
    }
    expect(cards()).toHaveLength(2);
    // A third attempt sends nothing: one of the two may be what the user sees.
    await h.arbion.conversation.handle(message, replayed());
    expect(cards()).toHaveLength(2);
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { requestMessageId: 'tg-80' },
    });
    expect(intent).toMatchObject({ status: 'proposed', cardMessageId: null });
    expect(intent.cardResentAt).not.toBeNull();
    // The user presses Confirm on the first copy, and the process dies after showing "Placing the
    // order..." on it: the next process edits that copy to the fill and says it once.
    const pressed = cards()[0]?.messageId ?? '';
    chat.editsBeforeDying = 1;
    await h.press('alice', `confirm:${intent.id}`, pressed).catch(() => undefined);
    chat.editsBeforeDying = undefined;
    const filled = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(filled).toMatchObject({ status: 'filled', cardMessageId: pressed, tellPending: true });
    expect(chat.texts().filter((text) => text.startsWith('Filled (PAPER)'))).toHaveLength(0);
    await h.restart(chat);
    await h.arbion.runBackgroundPass();
    const edits = chat.log.filter((entry) => entry.kind === 'edit' && entry.messageId === pressed);
    expect(edits).toHaveLength(2);
    const final = edits[1]?.message;
    expect(final?.kind === 'card' && final.card.actions).toEqual([]);
    expect(final?.kind === 'card' && final.card.notice).not.toMatch(/Placing/);
    expect(chat.texts().filter((text) => text.startsWith('Filled (PAPER)'))).toHaveLength(1);
  });

  it('proposes nothing when the message is replayed after a press attached its card and filled it', async () => {
    // Found by the two-process kill test: the card reached the user but its id was never written,
    // the user pressed Confirm (the press attached that card) and the order filled; the message's
    // inbox row stayed unfinished, so another process replayed it after the kill.
    h = await createHarness('server');
    const chat = new DyingChannel();
    h.arbion.channels.register('console', chat);
    await h.say('alice', 'balance'); // the user exists
    const message = textMessage('buy 0.01 btc', 'tg-82');
    chat.dieOnCard = 'after';
    await h.arbion.conversation.handle(message).catch(() => undefined);
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { requestMessageId: 'tg-82' },
    });
    const card = chat.lastCard()?.messageId ?? '';
    await h.press('alice', `confirm:${intent.id}`, card);
    expect(
      await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } }),
    ).toMatchObject({ status: 'filled', cardMessageId: card });
    const logged = chat.log.length;
    await h.arbion.conversation.handle(message, replayed());
    // No second intent, no second card: the message was answered by the card the user pressed.
    expect(await h.test.database.prisma.tradeIntent.count({ where: { requestMessageId: 'tg-82' } })).toBe(1);
    expect(chat.log.slice(logged)).toEqual([]);
  });

  it("does not let a press attach another user's or another chat's message as the card", async () => {
    h = await createHarness('server');
    const chat = new DyingChannel();
    h.arbion.channels.register('console', chat);
    await h.say('alice', 'balance');
    await h.say('bob', 'balance');
    chat.dieOnCard = 'after';
    await h.arbion.conversation.handle(textMessage('buy 0.01 btc', 'tg-81')).catch(() => undefined);
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { requestMessageId: 'tg-81' },
    });
    await h.press('bob', `confirm:${intent.id}`, 'not-the-card');
    const after = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(after).toMatchObject({ status: 'proposed', cardMessageId: null });
  });

  it('says nothing for a replayed press of an intent already decided: the outbox tells it', async () => {
    h = await createHarness('server');
    const { intent, cardMessageId } = await proposed(h, 'buy 0.01 btc');
    await h.press('alice', `confirm:${intent.id}`, cardMessageId);
    expect(filledSentences(h)).toHaveLength(1);
    const logged = h.channel.log.length;
    const press: InboundMessage = {
      kind: 'action',
      deliveryId: 'replayed-press',
      address: ADDRESS,
      sender: { platformUserId: 'alice', displayName: 'alice' },
      receivedAt: h.clock.now,
      chatType: 'direct',
      messageId: cardMessageId,
      actionId: `confirm:${intent.id}`,
    };
    await h.arbion.conversation.handle(press, replayed());
    expect(h.channel.log.length).toBe(logged);
    // The same press new (not a replay) is answered as before.
    await h.arbion.conversation.handle({ ...press, deliveryId: 'second-press' });
    expect(h.channel.log.length).toBe(logged + 1);
  });
});
