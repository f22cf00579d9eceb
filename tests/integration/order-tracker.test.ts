/**
 * The order tracker on a real database asks brokers for their capabilities, never their names:
 * brokers that report their own fills are not polled (and never crowd out the others), a cancel a
 * broker has not finished is followed, and a placement that was not found is described as surely
 * as the broker's lookup allows. The brokers are in-memory stand-ins of the port (the wire-level
 * fakes are exercised by each broker's own suite).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, BrokerProvider, PlacementLookup } from '../../src/core/brokers/broker.js';
import { BrokerUnreachableError } from '../../src/core/brokers/broker.js';
import { OrderTracker } from '../../src/core/intents/order-tracker.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { ADDRESS, createHarness, type Harness } from '../support/arbion-harness.js';

describe('the order tracker', () => {
  let h: Harness;
  let intentId: string;
  let serial = 0;

  beforeAll(async () => {
    h = await createHarness('server');
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: 'tia', displayName: 'tia' });
    const outcome = await h.arbion.intents.propose(h.order({ side: 'buy', symbol: 'AAPL', quantity: '1' }), {
      ...who,
      address: ADDRESS,
    });
    if (outcome.kind !== 'card') throw new Error(outcome.text);
    intentId = outcome.intentId;
    await h.test.database.prisma.tradeIntent.update({
      where: { id: intentId },
      data: { status: 'submitting' },
    });
  });
  afterAll(async () => {
    await h?.destroy();
  });

  async function order(
    provider: BrokerProvider,
    fields: { status: 'accepted' | 'cancel_requested' | 'pending'; side?: 'buy' | 'sell'; symbol?: string },
  ) {
    serial++;
    const placed = fields.status !== 'pending';
    return h.test.database.prisma.order.create({
      data: {
        intentId,
        provider,
        clientOrderId: `tracker-${serial}`,
        brokerOrderId: placed ? `broker-${serial}` : null,
        status: fields.status,
        side: fields.side ?? 'buy',
        assetClass: 'equity',
        symbol: fields.symbol ?? 'AAPL',
        quantity: '1',
        orderType: 'market',
        timeInForce: 'day',
        submittedAt: new Date(h.clock.now.getTime() - 60 * 60_000),
      },
    });
  }

  function broker(
    provider: BrokerProvider,
    capabilities: { placementLookup: PlacementLookup; reportsOwnFills: boolean },
    asked: string[],
  ): Broker {
    return {
      provider,
      sellsOptionsToOpen: false,
      ...capabilities,
      getOrder: async (_account: string, brokerOrderId: string) => {
        asked.push(brokerOrderId);
        return undefined;
      },
      reconcilePlacement: async () => undefined,
    } as unknown as Broker;
  }

  function tracker(brokers: Broker[], batchSize: number) {
    return new OrderTracker({
      prisma: h.test.database.prisma,
      brokerFor: async (route) => {
        const found = brokers.find((candidate) => candidate.provider === route.provider);
        if (found === undefined) throw new Error(`no ${route.provider}`);
        return found;
      },
      intents: h.arbion.intents,
      logger: createLogger({ level: 'silent', format: 'json', secretValues: [] }),
      settings: { batchSize },
      clock: () => h.clock.now,
    });
  }

  it('polls working orders and unfinished cancels, but not brokers that report their own fills', async () => {
    const asked: string[] = [];
    const paper = await Promise.all([1, 2, 3].map(() => order('paper', { status: 'accepted' })));
    const alpaca = await order('alpaca', { status: 'accepted' });
    const cancelling = await order('alpaca', { status: 'cancel_requested' });
    await tracker(
      [
        broker('paper', { placementLookup: 'client_order_id', reportsOwnFills: true }, asked),
        broker('alpaca', { placementLookup: 'client_order_id', reportsOwnFills: false }, asked),
      ],
      2,
    ).pass();
    // Batches of two: the paper orders fill the first, yet both Alpaca orders are asked about.
    expect(asked.sort()).toEqual([alpaca.brokerOrderId, cancelling.brokerOrderId].sort());
    const untouched = await h.test.database.prisma.order.findMany({
      where: { id: { in: paper.map((row) => row.id) } },
    });
    expect(untouched.every((row) => row.lastCheckedAt === null)).toBe(true);
    await h.test.database.prisma.order.deleteMany({ where: { intentId } });
  });

  it('describes a placement that was not found by how the broker looks for it', async () => {
    const rows = [
      await order('alpaca', { status: 'pending', side: 'buy', symbol: 'AAPL' }),
      await order('schwab', { status: 'pending', side: 'sell', symbol: 'MSFT' }),
      await order('cdp_wallet', { status: 'pending', symbol: 'ETH' }),
    ];
    const updates = await tracker(
      [
        broker('alpaca', { placementLookup: 'client_order_id', reportsOwnFills: false }, []),
        broker('schwab', { placementLookup: 'reconciliation', reportsOwnFills: false }, []),
        broker('cdp_wallet', { placementLookup: 'on_chain', reportsOwnFills: false }, []),
      ],
      10,
    ).pass();
    // The pass reads due placements in no particular order.
    expect(updates.map(({ update }) => update.text).sort()).toEqual([
      'Alpaca never received your order to buy AAPL: nothing was placed and nothing was resent. Ask again if you still want it.',
      "I could not confirm that your swap of ETH reached the network, and this server has no record of sending it: it was most likely not sent. Nothing was resent; check your wallet's activity before asking again.",
      "I could not confirm whether your order to sell MSFT reached Charles Schwab: Charles Schwab never answered it clearly, and I cannot tell it apart among the account's orders. Nothing was resent. Check your Charles Schwab orders before placing it again: if it is there, it was placed.",
    ]);
    const closed = await h.test.database.prisma.order.findMany({
      where: { id: { in: rows.map((row) => row.id) } },
    });
    expect(closed.every((row) => row.status === 'rejected')).toBe(true);
  });

  it('tells a placement it cannot tell apart (several matches) as unclear once the window is over, never as not placed', async () => {
    const several = new BrokerUnreachableError('etrade', 'several E*TRADE orders match; none is claimed');
    const unclear = (provider: BrokerProvider): Broker =>
      ({
        ...broker(provider, { placementLookup: 'reconciliation', reportsOwnFills: false }, []),
        reconcilePlacement: async () => {
          throw several;
        },
      }) as unknown as Broker;
    // The intent the earlier cases failed is being placed again, as far as this case goes.
    await h.test.database.prisma.tradeIntent.update({
      where: { id: intentId },
      data: { status: 'submitting' },
    });
    const recent = await order('etrade', { status: 'pending', side: 'buy', symbol: 'IBM' });
    await h.test.database.prisma.order.update({
      where: { id: recent.id },
      data: { submittedAt: new Date(h.clock.now.getTime() - 5 * 60_000) },
    });
    // Within the window: looked for again later, nothing said.
    expect(await tracker([unclear('etrade')], 10).pass()).toEqual([]);
    h.clock.now = new Date(h.clock.now.getTime() + 15 * 60_000);
    const updates = await tracker([unclear('etrade')], 10).pass();
    expect(updates.map(({ update }) => update.text)).toEqual([
      "I could not confirm whether your order to buy IBM reached E*TRADE: E*TRADE never answered it clearly, and I cannot tell it apart among the account's orders. Nothing was resent. Check your E*TRADE orders before placing it again: if it is there, it was placed.",
    ]);
  });
});
