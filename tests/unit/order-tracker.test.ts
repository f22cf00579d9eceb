/**
 * The order tracker asks brokers for their capabilities, never their names: brokers that report
 * their own fills are not polled (and never crowd out the others), and a placement that was not
 * found is described as surely as the broker's lookup allows.
 */
import { describe, expect, it } from 'vitest';
import type { Broker, BrokerOrder, BrokerProvider, PlacementLookup } from '../../src/core/brokers/broker.js';
import type { PrismaClient } from '../../src/core/db/database.js';
import type { IntentService } from '../../src/core/intents/intent-service.js';
import { OrderTracker } from '../../src/core/intents/order-tracker.js';
import { createLogger } from '../../src/core/logging/logger.js';

const NOW = new Date('2026-11-24T15:00:00Z');

interface Row {
  id: string;
  intentId: string;
  provider: BrokerProvider;
  connectionId: string | null;
  status: string;
  brokerOrderId: string | null;
  clientOrderId: string;
  lastCheckedAt: Date | null;
  submittedAt: Date | null;
  createdAt: Date;
  filledQuantity: string;
  side: 'buy' | 'sell';
  symbol: string;
  assetClass: 'equity';
  quantity: string;
  notional: null;
  orderType: 'market';
  limitPrice: null;
  stopPrice: null;
  timeInForce: 'day';
  brokerAccount: { externalId: string };
  intent: { id: string; assetClass: 'equity'; status: 'submitting' };
}

function row(id: string, provider: BrokerProvider, overrides: Partial<Row> = {}): Row {
  return {
    id,
    intentId: `intent-${id}`,
    provider,
    connectionId: provider === 'paper' ? null : `connection-${provider}`,
    status: 'accepted',
    brokerOrderId: `broker-${id}`,
    clientOrderId: `client-${id}`,
    lastCheckedAt: null,
    submittedAt: new Date(NOW.getTime() - 60 * 60_000),
    createdAt: new Date(NOW.getTime() - 60 * 60_000),
    filledQuantity: '0',
    side: 'buy',
    symbol: 'AAPL',
    assetClass: 'equity',
    quantity: '1',
    notional: null,
    orderType: 'market',
    limitPrice: null,
    stopPrice: null,
    timeInForce: 'day',
    brokerAccount: { externalId: `account-${provider}` },
    intent: { id: `intent-${id}`, assetClass: 'equity', status: 'submitting' },
    ...overrides,
  };
}

/** The two queries the tracker makes, over rows in memory. */
function fakePrisma(rows: Row[], queries: string[]) {
  const order = {
    async findMany(args: {
      where: { status: unknown; provider?: { notIn: BrokerProvider[] } };
      take: number;
    }): Promise<Row[]> {
      const excluded = args.where.provider?.notIn ?? [];
      const working = typeof args.where.status === 'object';
      queries.push(working ? `working without [${excluded.join(',')}]` : 'pending');
      return rows
        .filter((r) =>
          working ? ['accepted', 'partially_filled'].includes(r.status) : r.status === 'pending',
        )
        .filter((r) => !excluded.includes(r.provider))
        .filter((r) => r.lastCheckedAt === null)
        .slice(0, args.take);
    },
    async update(args: { where: { id: string }; data: { lastCheckedAt: Date } }): Promise<void> {
      const found = rows.find((r) => r.id === args.where.id);
      if (found) found.lastCheckedAt = args.data.lastCheckedAt;
    },
  };
  const tradeIntent = { findUniqueOrThrow: async () => ({ id: 'intent' }) };
  return { order, tradeIntent } as unknown as PrismaClient;
}

function fakeBroker(
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

function tracker(rows: Row[], brokers: Broker[], batchSize = 2) {
  const queries: string[] = [];
  const abandoned: string[] = [];
  const intents = {
    applyBrokerOrder: async (_order: BrokerOrder) => ({ kind: 'notice', text: '' }),
    abandonPlacement: async (_orderId: string, text: string) => {
      abandoned.push(text);
      return { kind: 'notice', text };
    },
  } as unknown as IntentService;
  const orderTracker = new OrderTracker({
    prisma: fakePrisma(rows, queries),
    brokerFor: async (route) => {
      const broker = brokers.find((b) => b.provider === route.provider);
      if (broker === undefined) throw new Error(`no ${route.provider}`);
      return broker;
    },
    intents,
    logger: createLogger({ level: 'silent', format: 'json', secretValues: [] }),
    settings: { batchSize },
    clock: () => NOW,
  });
  return { orderTracker, queries, abandoned };
}

describe('OrderTracker capabilities', () => {
  it('does not poll brokers that report their own fills, and their orders never crowd out the others', async () => {
    const asked: string[] = [];
    const rows = [row('p1', 'paper'), row('p2', 'paper'), row('p3', 'paper'), row('a1', 'alpaca')];
    const { orderTracker, queries } = tracker(rows, [
      fakeBroker('paper', { placementLookup: 'client_order_id', reportsOwnFills: true }, asked),
      fakeBroker('alpaca', { placementLookup: 'client_order_id', reportsOwnFills: false }, asked),
    ]);
    await orderTracker.pass();
    expect(asked).toEqual(['broker-a1']);
    expect(queries).toEqual(['working without []', 'working without [paper]', 'pending']);
    // Learned once: the next pass asks without the paper broker's orders straight away.
    queries.length = 0;
    await orderTracker.pass();
    expect(queries).toEqual(['working without [paper]', 'pending']);
    expect(rows.filter((r) => r.provider === 'paper').every((r) => r.lastCheckedAt === null)).toBe(true);
  });

  it('describes a placement that was not found by how the broker looks for it', async () => {
    const pending = { status: 'pending', brokerOrderId: null };
    const rows = [
      row('c1', 'alpaca', { ...pending, side: 'buy', symbol: 'AAPL' }),
      row('r1', 'schwab', { ...pending, side: 'sell', symbol: 'MSFT' }),
      row('o1', 'cdp_wallet', { ...pending, symbol: 'ETH' }),
    ];
    const { orderTracker, abandoned } = tracker(
      rows,
      [
        fakeBroker('alpaca', { placementLookup: 'client_order_id', reportsOwnFills: false }, []),
        fakeBroker('schwab', { placementLookup: 'reconciliation', reportsOwnFills: false }, []),
        fakeBroker('cdp_wallet', { placementLookup: 'on_chain', reportsOwnFills: false }, []),
      ],
      10,
    );
    await orderTracker.pass();
    expect(abandoned).toEqual([
      'Alpaca never received your order to buy AAPL: nothing was placed and nothing was resent. Ask again if you still want it.',
      "Charles Schwab never confirmed your order to sell MSFT, and it is not among the account's orders: it was most likely not placed. Nothing was resent; check your Charles Schwab account before asking again.",
      "I could not confirm that your swap of ETH reached the network, and this server has no record of sending it: it was most likely not sent. Nothing was resent; check your wallet's activity before asking again.",
    ]);
  });
});
