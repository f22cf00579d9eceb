/**
 * One contract, every channel: the same scenarios through each adapter's real client library and
 * a local fake of its platform (and through the console). A scenario that needs something a
 * platform does not have (the console has no webhooks) is not generated for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '../../src/core/domain/values.js';
import { CHANNEL_FACTORIES } from './channels.js';
import { type ContractHarness, createContractHarness } from './contract-harness.js';
import type { Person, SeenCard } from './driver.js';

describe.each(CHANNEL_FACTORIES)('$platform channel contract', (factory) => {
  const can = factory.capabilities;
  let h: ContractHarness;

  beforeAll(async () => {
    h = await createContractHarness('server', factory);
    await h.driver.join('alice', 'admin');
    if (can.multiplePeople !== false) await h.driver.join('bob', 'trader');
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const prisma = () => h.test.database.prisma;
  const userOf = async (person: Person) =>
    (
      await prisma().channelIdentity.findFirstOrThrow({
        where: { platform: factory.platform, platformUserId: h.driver.platformUserId(person) },
      })
    ).userId;

  /** Alice asks for an order; returns its card as the platform shows it, and its intent. */
  async function proposal(
    text = 'buy 10 AAPL',
  ): Promise<{ card: SeenCard; intentId: string; confirm: string }> {
    const before = h.driver.cards().length;
    await h.driver.say('alice', text);
    await h.driver.settle();
    const cards = h.driver.cards();
    expect(cards.length).toBe(before + 1);
    const card = cards.at(-1) as SeenCard;
    const confirm = card.actionIds.find((id) => id.startsWith('confirm')) ?? '';
    expect(confirm).not.toBe('');
    const intent = await prisma().tradeIntent.findFirstOrThrow({
      where: { userId: await userOf('alice') },
      // Her newest card has her highest number (the test clock stands still: createdAt ties).
      orderBy: { cardNumber: 'desc' },
    });
    expect(intent.status).toBe('proposed');
    return { card, intentId: intent.id, confirm };
  }

  const cardNow = (messageId: string) => h.driver.cards().find((card) => card.messageId === messageId);
  const orders = (intentId: string) => prisma().order.count({ where: { intentId } });
  const status = async (intentId: string) =>
    (await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } })).status;
  const newTexts = (person: Person, before: number) => h.driver.textsFor(person).slice(before).join('\n');

  it('trades: card with the exact order -> Confirm -> filled, buttons gone, position shown', async () => {
    const { card, intentId, confirm } = await proposal('buy 10 AAPL');
    expect(card.text).toMatch(/PAPER/);
    expect(card.text).toMatch(/BUY 10 AAPL/);
    const before = h.driver.textsFor('alice').length;
    await h.driver.press('alice', card.messageId, confirm);
    await h.driver.settle();
    expect(await status(intentId)).toBe('filled');
    expect(await orders(intentId)).toBe(1);
    expect(cardNow(card.messageId)?.actionIds).toEqual([]);
    expect(newTexts('alice', before)).toMatch(/Filled \(PAPER\): bought 10 AAPL/);

    const fill = await prisma().fill.findFirstOrThrow({ where: { order: { intentId } } });
    const asked = h.driver.textsFor('alice').length;
    await h.driver.say('alice', 'positions');
    await h.driver.settle();
    expect(newTexts('alice', asked)).toContain(`10 AAPL at ${formatUsd(fill.price.toString())}`);
  });

  if (can.multiplePeople !== false) {
    it("refuses another person's press and changes nothing", async () => {
      const { card, intentId, confirm } = await proposal('buy 3 MSFT');
      const before = h.driver.textsFor('bob').length;
      await h.driver.press('bob', card.messageId, confirm);
      await h.driver.settle();
      expect(newTexts('bob', before)).toMatch(/Only the person who asked/);
      expect(await status(intentId)).toBe('proposed');
      expect(await orders(intentId)).toBe(0);
      expect(cardNow(card.messageId)?.actionIds.length).toBeGreaterThan(0);
    });
  }

  it('expires an unanswered card: buttons removed, a late Confirm places nothing', async () => {
    const { card, intentId, confirm } = await proposal('buy 2 NVDA');
    const saved = h.clock.now;
    h.clock.now = new Date(saved.getTime() + 121_000);
    try {
      await h.arbion.runBackgroundPass();
      await h.driver.settle();
      expect(await status(intentId)).toBe('expired');
      expect(cardNow(card.messageId)?.actionIds).toEqual([]);
      expect(cardNow(card.messageId)?.text).toMatch(/Expired/);
      if (factory.platform !== 'console') {
        // A stale button still on someone's screen: pressing it is refused.
        const before = h.driver.textsFor('alice').length;
        await h.driver.press('alice', card.messageId, confirm);
        await h.driver.settle();
        expect(newTexts('alice', before)).toMatch(/expired/i);
      }
      expect(await orders(intentId)).toBe(0);
    } finally {
      h.clock.now = saved;
    }
  });

  it('places one order for a double press', async () => {
    const { card, intentId, confirm } = await proposal('buy 1 AMZN');
    await h.driver.press('alice', card.messageId, confirm);
    if (factory.platform !== 'console') await h.driver.press('alice', card.messageId, confirm);
    else await h.driver.say('alice', 'confirm'); // the console's second "confirm" finds no open card
    await h.driver.settle();
    expect(await orders(intentId)).toBe(1);
    expect(await status(intentId)).toBe('filled');
  });

  it('answers cards by number: a bare confirm with two open cards lists them and places nothing, "confirm N" places that one only', async () => {
    const apple = await proposal('buy 1 AAPL');
    const tesla = await proposal('buy 2 TSLA');
    const numberOf = async (intentId: string) =>
      (await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } })).cardNumber;
    const [first, second] = [await numberOf(apple.intentId), await numberOf(tesla.intentId)];
    expect(second).toBe((first ?? 0) + 1);
    expect(apple.card.text).toContain(`Card #${first}`);
    expect(tesla.card.text).toContain(`Card #${second}`);
    const before = h.driver.textsFor('alice').length;
    // A repeated bare "confirm" never reaches a card: with two open it asks which, twice.
    await h.driver.say('alice', 'confirm');
    await h.driver.say('alice', 'yes');
    await h.driver.settle();
    const asked = newTexts('alice', before);
    expect(asked.match(/Which card\?/g)).toHaveLength(2);
    expect(asked).toContain(`#${first} BUY 1 AAPL`);
    expect(asked).toContain(`#${second} BUY 2 TSLA`);
    expect(await orders(apple.intentId)).toBe(0);
    expect(await orders(tesla.intentId)).toBe(0);
    // "confirm #N" is that card's button: the same path, the card edited.
    await h.driver.say('alice', `confirm #${second}`);
    await h.driver.settle();
    expect(await status(tesla.intentId)).toBe('filled');
    expect(cardNow(tesla.card.messageId)?.actionIds).toEqual([]);
    expect(await status(apple.intentId)).toBe('proposed');
    expect(await orders(apple.intentId)).toBe(0);
    await h.driver.say('alice', `cancel ${first}`);
    await h.driver.settle();
    expect(await status(apple.intentId)).toBe('cancelled');
    expect(cardNow(apple.card.messageId)?.actionIds).toEqual([]);
  });

  it('shows honest numbers: a limit through the market is flagged, and a working buy holds its cash', async () => {
    h.market.override('INTC', { bid: '19.99', ask: '20.01', last: '20.00' });
    const through = await proposal('buy 5 INTC limit 21');
    expect(through.card.text).toMatch(/will likely fill now at about \$20\.01/);
    expect(through.card.text).not.toMatch(/may not fill soon/);
    await h.driver.say(
      'alice',
      `cancel ${(await prisma().tradeIntent.findUniqueOrThrow({ where: { id: through.intentId } })).cardNumber}`,
    );
    await h.driver.settle();
    // A buy far below the market rests at the broker, and holds 10 x $1.00 of the cash.
    const resting = await proposal('buy 10 INTC limit 1 gtc');
    await h.driver.press('alice', resting.card.messageId, resting.confirm);
    await h.driver.settle();
    expect(await status(resting.intentId)).toBe('submitted');
    const before = h.driver.textsFor('alice').length;
    await h.driver.say('alice', 'balance');
    await h.driver.settle();
    expect(newTexts('alice', before)).toMatch(/Reserved[^\n]*\$10\.00/);
  });

  if (can.platformProtocol) {
    it('handles a redelivered update once', async () => {
      const intentsBefore = await prisma().tradeIntent.count();
      const cardsBefore = h.driver.cards().length;
      await h.driver.say('alice', 'buy 1 META');
      await h.driver.redeliverLast();
      await h.driver.settle();
      expect(await prisma().tradeIntent.count()).toBe(intentsBefore + 1);
      expect(h.driver.cards().length).toBe(cardsBefore + 1);
    });

    it('retries after a platform 429 without losing the message', async () => {
      const cardsBefore = h.driver.cards().length;
      h.driver.rateLimitNextCall();
      await h.driver.say('alice', 'buy 1 GOOGL');
      await h.driver.settle();
      expect(h.driver.cards().length).toBe(cardsBefore + 1);
      expect(h.driver.cards().at(-1)?.text).toMatch(/BUY 1 GOOGL/);
    });
  }

  if (can.signedInbound) {
    it('rejects a forged signature or secret and records nothing', async () => {
      const deliveries = await prisma().inboundEvent.count();
      const events = await prisma().auditEvent.count();
      expect(await h.driver.forged()).toBe(401);
      await h.driver.settle();
      expect(await prisma().inboundEvent.count()).toBe(deliveries);
      expect(await prisma().auditEvent.count()).toBe(events);
    });
  }

  if (can.httpInbound) {
    it('answers a malformed payload with 4xx and keeps working', async () => {
      const deliveries = await prisma().inboundEvent.count();
      const answer = await h.driver.malformed();
      expect(answer).toBeGreaterThanOrEqual(400);
      expect(answer).toBeLessThan(500);
      await h.driver.settle();
      expect(await prisma().inboundEvent.count()).toBe(deliveries);
      const { card } = await proposal('buy 1 AAPL');
      expect(card.actionIds.length).toBeGreaterThan(0);
    });
  }
});
