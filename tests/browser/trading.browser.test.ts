/**
 * Acceptance of live trading through linked brokers, end to end: from a chat, the user links
 * Schwab, E*TRADE and Alpaca on the linking page in a real Chromium, then, broker by broker, says
 * "go live on X", confirms, says "buy 10 AAPL", presses Confirm and is told the fill; the order
 * reached that broker's fake, and only that one. An option order "sell 1 AAPL put 190 May 21 at
 * 1.00" reaches Schwab in Schwab's documented option symbol format, rests, and its fill is told
 * by the background pass. "paper mode" sends the next order to the built-in paper broker.
 *
 * Time. The browser part runs in real time: the site's cookies carry absolute expiry dates that
 * Chromium judges by the wall clock, and the brokers' sign-ins are checked by their fakes on it.
 * The chat part then pins Arbion's clock at MARKET_OPEN (Tuesday 2026-11-24, 10:00 in New York),
 * because Arbion's risk checks refuse every order, market or limit alike, while the US market is
 * closed: without the pin this test would pass or fail with the hour it runs at. Moving only
 * Arbion's clock is honest here: none of the brokers' fakes models market hours, and the broker
 * clients keep talking to the fakes in real time (E*TRADE's signatures and the OAuth tokens are
 * judged by the fakes on the wall clock; when Arbion's clock is ahead, it refreshes the Schwab
 * token early, as it would after any jump). Schwab's market fake follows the chat clock (see the
 * site harness), so "May 21" is always 2027-05-21 and that contract is always alive and priced the
 * same, whenever the test runs.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Decimal } from '../../src/core/domain/values.js';
import { clientOrderIdFor } from '../../src/core/intents/order-identity.js';
import type { Card } from '../../src/core/messages.js';
import { FAKE_ETRADE_ACCOUNT } from '../fakes/oauth1-provider/fake-oauth1-provider.js';
import { MARKET_OPEN } from '../support/arbion-harness.js';
import { linkAlpaca, linkEtrade, linkSchwab, openLink } from './broker-steps.js';
import {
  AAPL_PRICE,
  ALPACA_KEY,
  createSiteHarness,
  SCHWAB_ACCOUNT,
  type SiteHarness,
} from './site-harness.js';

const USER = 'alice';
/** The put of the acceptance, in Schwab's symbol layout: root padded to 6, YYMMDD, P, strike x1000. */
const AAPL_PUT = 'AAPL  270521P00190000';

type LinkedProvider = 'schwab' | 'etrade' | 'alpaca';

/** An order as a broker's fake holds it, in the few fields the acceptance is about. */
interface PlacedOrder {
  readonly brokerOrderId: string;
  readonly symbol: string;
  readonly quantity: number;
  /** Alpaca's client_order_id, E*TRADE's clientOrderId; Schwab has none. */
  readonly clientOrderId: string | undefined;
}

/** The part of Schwab's `Order` the test reads (the fake answers in the documented shape). */
const schwabOrder = z.object({
  orderId: z.number(),
  status: z.string(),
  orderType: z.string(),
  price: z.number().optional(),
  quantity: z.number(),
  orderLegCollection: z
    .array(
      z.object({
        instruction: z.string(),
        quantity: z.number(),
        instrument: z.object({ symbol: z.string(), assetType: z.string() }),
      }),
    )
    .min(1),
});
type SchwabOrder = z.infer<typeof schwabOrder>;

interface BrokerCase {
  readonly provider: LinkedProvider;
  readonly name: string;
  /** The last four characters of the account number, as the chat shows them. */
  readonly lastFour: string;
  readonly realMoney: boolean;
  /** Whose quote the card shows: the broker's own market data where the client reads it. */
  readonly quoteSource: string | undefined;
}

const BROKERS: readonly BrokerCase[] = [
  {
    provider: 'schwab',
    name: 'Charles Schwab',
    lastFour: SCHWAB_ACCOUNT.accountNumber.slice(-4),
    realMoney: true,
    quoteSource: 'schwab',
  },
  {
    provider: 'etrade',
    name: 'E*TRADE',
    lastFour: FAKE_ETRADE_ACCOUNT.accountId.slice(-4),
    realMoney: true,
    quoteSource: 'etrade',
  },
  // The harness links Alpaca with paper keys: orders go to Alpaca's paper environment.
  {
    provider: 'alpaca',
    name: 'Alpaca',
    lastFour: ALPACA_KEY.accountNumber.slice(-4),
    realMoney: false,
    quoteSource: undefined,
  },
];

/** What a buyer pays now: AAPL's ask, a cent above its price at every broker. */
const AAPL_ASK = `$${new Decimal(AAPL_PRICE).plus('0.01').toFixed(2)}`;

describe('live trading through linked brokers: linked in Chromium, traded from chat', () => {
  let site: SiteHarness;
  let page: Page;

  beforeAll(async () => {
    site = await createSiteHarness('server');
    page = await site.newPage('desktop');
  });

  afterAll(async () => {
    await site?.close();
  });

  // ---------------------------------------------------------------- reading the fakes and the chat

  function schwabOrders(): SchwabOrder[] {
    return site.schwabApi
      .orders(site.schwabApi.hashOf(SCHWAB_ACCOUNT.accountNumber))
      .map((order) => schwabOrder.parse(order));
  }

  /** Every order each broker's fake holds for the linked account, oldest first. */
  function placedAt(provider: LinkedProvider): PlacedOrder[] {
    switch (provider) {
      case 'schwab':
        return schwabOrders().map((order) => ({
          brokerOrderId: String(order.orderId),
          symbol: order.orderLegCollection[0]?.instrument.symbol ?? '',
          quantity: order.quantity,
          clientOrderId: undefined,
        }));
      case 'etrade':
        return site.etrade.orders().map((order) => ({
          brokerOrderId: String(order.orderId),
          symbol: order.product.symbol,
          quantity: order.body.Instrument[0]?.quantity ?? 0,
          clientOrderId: order.clientOrderId,
        }));
      case 'alpaca':
        return site.alpaca.orders(ALPACA_KEY.accountNumber).map((order) => ({
          brokerOrderId: order.id,
          symbol: order.symbol,
          quantity: Number(order.qty),
          clientOrderId: order.client_order_id,
        }));
    }
  }

  /**
   * Requests at each fake that place, preview, change or cancel an order: what must stay still at
   * the brokers an order is not for (a refused or failed attempt counts too).
   */
  function orderTraffic(): Record<LinkedProvider, number> {
    const writes = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
    return {
      schwab: site.schwabApi.requests.filter(
        (request) =>
          writes.has(request.method) && /\/accounts\/[^/]+\/(orders|previewOrder)/.test(request.path),
      ).length,
      etrade: site.etrade.calls.filter((call) => writes.has(call.method) && call.path.includes('/orders/'))
        .length,
      alpaca: site.alpaca.requests.filter(
        (request) => writes.has(request.method) && request.path.startsWith('/v2/orders'),
      ).length,
    };
  }

  function everyBrokersOrders(): Record<LinkedProvider, number> {
    return {
      schwab: placedAt('schwab').length,
      etrade: placedAt('etrade').length,
      alpaca: placedAt('alpaca').length,
    };
  }

  /** Says `text` in chat; returns what the bot answered. */
  async function say(text: string): Promise<string[]> {
    const before = site.chat.channel.texts().length;
    await site.chat.say(USER, text);
    return site.chat.channel.texts().slice(before);
  }

  /** Says an order in chat; returns the card the bot answered with (fails with its answer otherwise). */
  async function orderCard(text: string): Promise<{ card: Card; messageId: string; intentId: string }> {
    const cardsBefore = site.chat.channel.log.filter((entry) => entry.message?.kind === 'card').length;
    const said = await say(text);
    const cards = site.chat.channel.log.filter((entry) => entry.message?.kind === 'card');
    const last = cards.at(-1);
    if (cards.length === cardsBefore || last?.message?.kind !== 'card') {
      throw new Error(`"${text}" was answered without a card: ${said.join(' | ')}`);
    }
    const confirm = last.message.card.actions.find((action) => action.id.startsWith('confirm:'));
    if (confirm === undefined) throw new Error(`the card of "${text}" has no Confirm button`);
    return {
      card: last.message.card,
      messageId: last.messageId,
      intentId: confirm.id.slice('confirm:'.length),
    };
  }

  /** Presses Confirm on a card; returns what the chat said after the press. */
  async function confirm(card: { messageId: string; intentId: string }): Promise<string[]> {
    const before = site.chat.channel.texts().length;
    await site.chat.press(USER, `confirm:${card.intentId}`, card.messageId);
    return site.chat.channel.texts().slice(before);
  }

  function field(card: Card, label: string): string | undefined {
    return card.fields.find((entry) => entry.label === label)?.value;
  }

  async function goLive(broker: BrokerCase): Promise<void> {
    const [request, ...moreRequest] = await say(`go live on ${broker.provider}`);
    expect(moreRequest).toEqual([]);
    if (broker.realMoney) {
      expect(request).toContain(
        `Going live sends the orders you confirm to your ${broker.name} account ••${broker.lastFour} with REAL money.`,
      );
    } else {
      expect(request).toContain(
        `Your ${broker.name} keys are for its paper environment: the orders you confirm would go to ${broker.name}'s simulated account ••${broker.lastFour} (no real money).`,
      );
      expect(request).not.toContain('REAL money');
    }
    expect(request).toContain(`reply within 5 minutes: confirm live ${broker.provider}`);

    const [confirmation, ...moreConfirmation] = await say(`confirm live ${broker.provider}`);
    expect(moreConfirmation).toEqual([]);
    expect(confirmation).toBe(
      broker.realMoney
        ? `LIVE: your orders now go to ${broker.name} account ••${broker.lastFour} with real money, after you confirm each one. Say "paper mode" to switch back.`
        : `Your orders now go to ${broker.name}'s paper account ••${broker.lastFour} (no real money). Say "paper mode" to go back to the built-in paper account.`,
    );
  }

  async function orderRowsOf(intentId: string) {
    return site.chat.test.database.prisma.order.findMany({ where: { intentId } });
  }

  // ---------------------------------------------------------------- the acceptance

  it('links Schwab, E*TRADE and Alpaca on the page the chat link opens', async () => {
    await openLink(site, page, { user: USER });
    await linkSchwab(site, page);
    await linkEtrade(site, page);
    await linkAlpaca(site, page);
    const card = async (provider: string) =>
      (await page.locator(`article[aria-labelledby="provider-${provider}"]`).textContent()) ?? '';
    for (const provider of ['schwab', 'etrade', 'alpaca'])
      expect(await card(provider)).toContain('Connected');
    expect(await card('coinbase')).not.toContain('Connected');
    await site.screenshot(page, '20-trading-linked');
    const connections = await site.chat.test.database.prisma.brokerConnection.findMany({
      where: { status: 'active', provider: { not: 'paper' } },
      include: { accounts: true },
      orderBy: { provider: 'asc' },
    });
    // Each link's account was read from the broker: the one "go live" will name.
    expect(
      connections.map((connection) => ({
        provider: connection.provider,
        accounts: connection.accounts.map((account) => account.externalId),
      })),
    ).toEqual([
      { provider: 'schwab', accounts: [site.schwabApi.hashOf(SCHWAB_ACCOUNT.accountNumber)] },
      { provider: 'etrade', accounts: [FAKE_ETRADE_ACCOUNT.accountIdKey] },
      { provider: 'alpaca', accounts: [ALPACA_KEY.accountNumber] },
    ]);
  });

  describe('from the chat, during US market hours', () => {
    beforeAll(() => {
      // See the header: risk checks refuse every order while the market is closed.
      site.chat.clock.now = MARKET_OPEN;
    });

    for (const broker of BROKERS) {
      it(`"go live on ${broker.provider}", "buy 10 AAPL", Confirm: filled at ${broker.name}, and nowhere else`, async () => {
        await goLive(broker);
        const badge = broker.realMoney ? 'LIVE' : 'PAPER';
        const ordersBefore = everyBrokersOrders();
        const trafficBefore = orderTraffic();

        const card = await orderCard('buy 10 AAPL');
        expect(card.card).toMatchObject({ title: expect.stringMatching(/^Card #\d+ · Buy AAPL\?$/), badge });
        expect(field(card.card, 'Order')).toBe('BUY 10 AAPL');
        const priceNow = field(card.card, 'Price now') ?? '';
        if (broker.quoteSource === undefined)
          expect(priceNow.startsWith(`${AAPL_ASK} (`), priceNow).toBe(true);
        else expect(priceNow).toBe(`${AAPL_ASK} (${broker.quoteSource})`);
        expect(field(card.card, 'Account')).toBe(broker.realMoney ? 'Live account' : 'Paper account');
        expect(card.card.actions.map((action) => action.id)).toEqual([
          `confirm:${card.intentId}`,
          `cancel:${card.intentId}`,
        ]);
        // Nothing is sent before the press.
        expect(everyBrokersOrders()).toEqual(ordersBefore);

        const said = await confirm(card);
        expect(said).toContain(`Filled (${badge}): bought 10 AAPL at $${AAPL_PRICE}.`);

        // Exactly one AAPL order of 10 at this broker, carrying the id derived from the intent.
        const placed = placedAt(broker.provider).slice(ordersBefore[broker.provider]);
        expect(placed).toHaveLength(1);
        const [order] = placed;
        expect(order).toMatchObject({ symbol: 'AAPL', quantity: 10 });
        const intent = await site.chat.test.database.prisma.tradeIntent.findUniqueOrThrow({
          where: { id: card.intentId },
        });
        expect(intent.clientOrderId).toBe(clientOrderIdFor(card.intentId));
        expect(order?.clientOrderId).toBe(broker.provider === 'schwab' ? undefined : intent.clientOrderId);

        // No other broker saw an order, nor an attempt at one.
        for (const other of BROKERS.filter((candidate) => candidate.provider !== broker.provider)) {
          expect(placedAt(other.provider), other.name).toHaveLength(ordersBefore[other.provider]);
          expect(orderTraffic()[other.provider], other.name).toBe(trafficBefore[other.provider]);
        }

        const rows = await orderRowsOf(card.intentId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          provider: broker.provider,
          status: 'filled',
          symbol: 'AAPL',
          clientOrderId: intent.clientOrderId,
          brokerOrderId: order?.brokerOrderId,
        });
        expect(rows[0]?.brokerOrderId).toEqual(expect.any(String));
        expect(rows[0]?.filledQuantity.toString()).toBe('10');
        expect(intent.status).toBe('filled');
      });
    }

    it('"sell 1 AAPL put 190 May 21 at 1.00" reaches Schwab as AAPL  270521P00190000, rests, and its fill is told', async () => {
      const schwab = BROKERS[0];
      if (schwab?.provider !== 'schwab') throw new Error('Schwab comes first in BROKERS');
      await goLive(schwab);
      // The put trades around $1.00 (bid 0.98, ask 1.02): a sell limit at 1.00 is a real price
      // that does not cross the bid, so Schwab keeps it working until the market comes to it.
      site.schwabApi.setPrice(AAPL_PUT, '1.00');
      const ordersBefore = everyBrokersOrders();
      const trafficBefore = orderTraffic();

      const card = await orderCard('sell 1 AAPL put 190 May 21 at 1.00');
      expect(card.card).toMatchObject({
        title: expect.stringMatching(/^Card #\d+ · Sell AAPL\?$/),
        badge: 'LIVE',
      });
      expect(field(card.card, 'Order')).toBe('SELL TO OPEN 1 AAPL 21 May 2027 $190 put');
      // Schwab's quote of that very contract: its bid, what a seller gets now.
      expect(field(card.card, 'Price now')).toBe('$0.98 a share, $98 a contract (schwab)');
      expect(field(card.card, 'Type')).toBe('Limit (limit $1.00 a share, $100 a contract), day');

      const said = await confirm(card);
      expect(said).toContain(
        'Order placed (LIVE) and working at the broker: sell to open 1 AAPL 21 May 2027 $190 put.',
      );

      const placed = schwabOrders().slice(ordersBefore.schwab);
      expect(placed).toHaveLength(1);
      const [order] = placed;
      expect(order?.orderLegCollection).toHaveLength(1);
      expect(order?.orderLegCollection[0]).toMatchObject({
        instrument: { symbol: AAPL_PUT, assetType: 'OPTION' },
        instruction: 'SELL_TO_OPEN',
        quantity: 1,
      });
      expect(order).toMatchObject({ orderType: 'LIMIT', price: 1, quantity: 1, status: 'WORKING' });
      for (const other of ['etrade', 'alpaca'] as const) {
        expect(placedAt(other), other).toHaveLength(ordersBefore[other]);
        expect(orderTraffic()[other], other).toBe(trafficBefore[other]);
      }

      // The market reaches the limit; the next background pass asks Schwab and tells the fill.
      site.schwabApi.fillOrder(site.schwabApi.hashOf(SCHWAB_ACCOUNT.accountNumber), order?.orderId ?? 0, {
        price: '1.00',
      });
      // Working orders are asked about every few seconds: let some pass on Arbion's clock.
      site.chat.clock.now = new Date(site.chat.clock.now.getTime() + 10_000);
      const before = site.chat.channel.texts().length;
      await site.chat.arbion.runBackgroundPass();
      expect(site.chat.channel.texts().slice(before)).toContain(
        'Filled (LIVE): sold 1 AAPL 21 May 2027 $190 put at $1.00 a share, $100 a contract ($19,000 secured).',
      );

      const rows = await orderRowsOf(card.intentId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        provider: 'schwab',
        assetClass: 'option',
        status: 'filled',
        brokerOrderId: String(order?.orderId),
      });
    });

    it('"paper mode" sends the next order to the built-in paper broker, none to a linked broker', async () => {
      const [answer, ...more] = await say('paper mode');
      expect(more).toEqual([]);
      expect(answer).toBe(
        'Back on your paper account: orders use simulated money. Your linked brokers stay linked.',
      );
      const ordersBefore = everyBrokersOrders();
      const trafficBefore = orderTraffic();

      const card = await orderCard('buy 1 AAPL');
      expect(card.card).toMatchObject({
        title: expect.stringMatching(/^Card #\d+ · Buy AAPL\?$/),
        badge: 'PAPER',
      });
      expect(field(card.card, 'Account')).toBe('Paper account');
      const said = await confirm(card);
      expect(said.join('\n')).toMatch(/Filled \(PAPER\): bought 1 AAPL at \$\d/);

      const rows = await orderRowsOf(card.intentId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ provider: 'paper', status: 'filled', symbol: 'AAPL' });
      expect(everyBrokersOrders()).toEqual(ordersBefore);
      expect(orderTraffic()).toEqual(trafficBefore);
    });
  });
});
