/**
 * One contract, every channel: the same scenarios through each adapter's real client library and
 * a local fake of its platform (and through the console). A scenario that needs something a
 * platform does not have (the console has no webhooks) is not generated for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '../../src/core/domain/values.js';
import { type ContractHarness, createContractHarness } from './contract-harness.js';
import type { DriverFactory, Person, SeenCard } from './driver.js';
import { consoleDriver } from './drivers/console.js';
import { discordDriver } from './drivers/discord.js';
import { slackDriver } from './drivers/slack.js';
import { telegramDriver } from './drivers/telegram.js';

const factories: DriverFactory[] = [consoleDriver, telegramDriver, slackDriver, discordDriver];

describe.each(factories)('$platform channel contract', (factory) => {
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
