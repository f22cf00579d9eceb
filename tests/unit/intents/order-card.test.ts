/**
 * The confirmation card of a proposed order, through `proposeOrder` with plain stand-ins for the
 * database, market data and broker: its estimate (a limit order at quantity x limit, whatever a
 * preview says) and the time in force the broker will apply (asked of the broker, never by name).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { coinbaseTimeInForce } from '../../../src/brokers/coinbase/order-json.js';
import { paperTimeInForce } from '../../../src/brokers/paper/fill-model.js';
import type { Trader } from '../../../src/core/accounts/accounts.js';
import type { Broker, OrderPreview, PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { type OrderCommand, orderCommandSchema } from '../../../src/core/conversation/commands.js';
import { Decimal } from '../../../src/core/domain/values.js';
import { type IntentContext, RunningPlacements } from '../../../src/core/intents/intent-context.js';
import type { IntentRow } from '../../../src/core/intents/intent-row.js';
import type { IntentStore } from '../../../src/core/intents/intent-store.js';
import { proposeOrder } from '../../../src/core/intents/order-proposer.js';
import type { MarketDataProvider, Quote, QuoteRequest } from '../../../src/core/market-data/market-data.js';
import type { Card } from '../../../src/core/messages.js';

const NOW = new Date('2026-11-24T15:00:00Z');

const BOOKS: Record<string, { bid: string; ask: string }> = {
  BTC: { bid: '64000.00', ask: '64010.00' },
  AAPL: { bid: '199.50', ask: '200.50' },
};

const TRADER: Trader = {
  userId: 'user-1',
  identityId: 'identity-1',
  account: {
    connectionId: 'connection-1',
    brokerAccountId: 'broker-account-1',
    externalId: 'external-1',
    provider: 'coinbase',
    mode: 'live',
    status: 'active',
  },
  limits: {
    maxOrderNotional: new Decimal(1_000_000),
    maxPositionFraction: new Decimal(1),
    dailyLossLimit: new Decimal(1_000_000),
    allowedAssetClasses: ['equity', 'option', 'crypto'],
  },
  halt: undefined,
};

/** A broker with a book, $100,000 and no positions; each test adds what it is about. */
function broker(extra: Partial<Broker> = {}): Broker {
  const unexpected = () => Promise.reject(new Error('not expected in a proposal'));
  const balances = {
    cash: new Decimal(100_000),
    buyingPower: new Decimal(100_000),
    equity: new Decimal(100_000),
    realizedPnlToday: new Decimal(0),
    currency: 'USD',
  };
  return {
    provider: 'coinbase',
    placementLookup: 'client_order_id',
    reportsOwnFills: false,
    sellsOptionsToOpen: false,
    placeOrder: unexpected,
    findOrderByClientOrderId: unexpected,
    reconcilePlacement: unexpected,
    getOrder: unexpected,
    cancelOrder: unexpected,
    listOpenOrders: unexpected,
    getBalances: async () => balances,
    getPositions: async () => [],
    getAccountSnapshot: async () => ({ balances, positions: [] }),
    quote: async (request: QuoteRequest): Promise<Quote | undefined> => {
      const symbol = 'symbol' in request ? request.symbol : '';
      const book = BOOKS[symbol];
      if (book === undefined || request.assetClass === 'option') return undefined;
      const [bid, ask] = [new Decimal(book.bid), new Decimal(book.ask)];
      return { symbol, assetClass: request.assetClass, bid, ask, last: bid, at: NOW, source: 'broker' };
    },
    ...extra,
  };
}

/** A proposal's surroundings: the intents it stores are kept in `stored`. */
function contextFor(trading: Broker, stored: IntentRow[]): IntentContext {
  const market: MarketDataProvider = {
    name: 'none',
    quote: () => Promise.reject(new Error('the broker quotes')),
    session: () => ({ open: true, description: 'open' }),
  };
  const store = {
    insert: async (intent: IntentRow) => {
      stored.push(intent);
      return { ...intent, cardNumber: stored.length };
    },
    audit: { record: async () => undefined },
  } as unknown as IntentStore;
  const context: IntentContext = {
    prisma: {} as IntentContext['prisma'],
    transaction: (work) => work(context),
    store,
    market,
    accounts: {} as IntentContext['accounts'],
    brokerFor: async () => trading,
    settings: { confirmationTtlSeconds: 120, priceToleranceBps: 50 },
    logger: pino({ level: 'silent' }),
    processId: 'process-1',
    placing: new RunningPlacements(),
    clock: () => NOW,
  };
  return context;
}

function order(fields: Partial<OrderCommand> & Pick<OrderCommand, 'symbol'>): OrderCommand {
  return orderCommandSchema.parse({
    kind: 'order',
    side: 'buy',
    assetClass: 'equity',
    orderType: 'market',
    timeInForce: 'day',
    quantity: '1',
    ...fields,
  });
}

async function propose(trading: Broker, command: OrderCommand): Promise<{ card: Card; intent: IntentRow }> {
  const stored: IntentRow[] = [];
  const outcome = await proposeOrder(contextFor(trading, stored), command, {
    userId: TRADER.userId,
    identityId: TRADER.identityId,
    address: { platform: 'console', workspaceId: '', chatId: 'chat-1' },
    trader: TRADER,
  });
  if (outcome.kind !== 'card') throw new Error(`refused: ${outcome.text}`);
  const [intent] = stored;
  if (intent === undefined) throw new Error('no intent stored');
  return { card: outcome.card, intent };
}

const field = (card: Card, label: string) =>
  card.fields.find((candidate) => candidate.label === label)?.value;

/** "buy 0.001 BTC limit 59000": a limit buy that rests below the market. */
const restingBtcLimit = order({
  symbol: 'BTC',
  assetClass: 'crypto',
  quantity: '0.001',
  orderType: 'limit',
  limitPrice: '59000',
  timeInForce: 'gtc',
});

describe('the confirmation card of an order', () => {
  it('estimates a crypto limit buy at quantity x limit, even when the preview prices it at 0', async () => {
    const previews: PlaceOrderRequest[] = [];
    // A preview that prices only what would fill at once: nothing, for an order that rests.
    const zeroPreview = async (request: PlaceOrderRequest): Promise<OrderPreview> => {
      previews.push(request);
      return { total: new Decimal(0), fees: new Decimal(0) };
    };
    const { card, intent } = await propose(broker({ previewCost: zeroPreview }), restingBtcLimit);
    expect(field(card, 'Est. cost')).toBe('$59.00');
    expect(intent.estimatedCost?.toString()).toBe('59');
    expect(field(card, 'Type')).toBe('Limit (limit $59,000.00), good till cancelled');
    expect(previews).toHaveLength(1);
  });

  it("adds the preview's fee estimate to a limit buy and takes it off a limit sale", async () => {
    const withFees = async (): Promise<OrderPreview> => ({
      total: new Decimal('59.35'),
      fees: new Decimal('0.354'),
    });
    const buy = await propose(broker({ previewCost: withFees }), restingBtcLimit);
    expect(field(buy.card, 'Est. cost')).toBe('$59.35');
    const held = [{ symbol: 'BTC', quantity: new Decimal(1) }];
    const seller = broker({
      previewCost: withFees,
      getAccountSnapshot: async () => ({
        balances: (await broker().getAccountSnapshot('')).balances,
        positions: held.map((position) => ({
          ...position,
          assetClass: 'crypto' as const,
          averageCost: new Decimal(0),
          marketPrice: undefined,
          marketValue: undefined,
          unrealizedPnl: undefined,
          realizedPnl: new Decimal(0),
        })),
      }),
    });
    const sale = await propose(seller, { ...restingBtcLimit, side: 'sell', limitPrice: '70000' });
    expect(field(sale.card, 'Est. proceeds')).toBe('$69.65');
  });

  it('estimates a crypto limit buy without a preview at quantity x limit too', async () => {
    const { card } = await propose(broker(), restingBtcLimit);
    expect(field(card, 'Est. cost')).toBe('$59.00');
  });

  it("keeps the preview's total for a market order", async () => {
    const preview = async (): Promise<OrderPreview> => ({
      total: new Decimal('64.394'),
      fees: new Decimal('0.384'),
    });
    const command = order({ symbol: 'BTC', assetClass: 'crypto', quantity: '0.001', timeInForce: 'gtc' });
    const { card } = await propose(broker({ previewCost: preview }), command);
    expect(field(card, 'Est. cost')).toBe('$64.39');
  });

  it('shows a market crypto order on Coinbase as immediate or cancel, and stores it so', async () => {
    const command = order({ symbol: 'BTC', assetClass: 'crypto', quantity: '0.001', timeInForce: 'gtc' });
    const { card, intent } = await propose(
      broker({ appliedTimeInForce: async (order) => coinbaseTimeInForce(order) }),
      command,
    );
    expect(field(card, 'Type')).toBe('Market, immediate or cancel');
    expect(intent.timeInForce).toBe('ioc');
    // A limit order keeps the time in force asked for.
    const limit = await propose(
      broker({ appliedTimeInForce: async (order) => coinbaseTimeInForce(order) }),
      restingBtcLimit,
    );
    expect(field(limit.card, 'Type')).toBe('Limit (limit $59,000.00), good till cancelled');
  });

  it('previews the order with the time in force the broker applies', async () => {
    const previews: PlaceOrderRequest[] = [];
    const preview = async (request: PlaceOrderRequest): Promise<OrderPreview> => {
      previews.push(request);
      return { total: new Decimal(64), fees: new Decimal(0) };
    };
    const command = order({ symbol: 'BTC', assetClass: 'crypto', quantity: '0.001', timeInForce: 'gtc' });
    await propose(
      broker({ appliedTimeInForce: async (order) => coinbaseTimeInForce(order), previewCost: preview }),
      command,
    );
    expect(previews.map((request) => request.timeInForce)).toEqual(['ioc']);
  });

  it('still shows an equity day order as a day order (a broker that declares nothing)', async () => {
    const { card, intent } = await propose(broker({ provider: 'schwab' }), order({ symbol: 'AAPL' }));
    expect(field(card, 'Type')).toBe('Market, day');
    expect(intent.timeInForce).toBe('day');
    expect(field(card, 'Est. cost')).toBe('$200.50');
  });

  it('shows the paper book as it behaves: a crypto market order fills at once, a day order stays day', async () => {
    const paper = broker({ provider: 'paper', appliedTimeInForce: async (order) => paperTimeInForce(order) });
    const market = order({ symbol: 'BTC', assetClass: 'crypto', quantity: '0.001', timeInForce: 'gtc' });
    expect(field((await propose(paper, market)).card, 'Type')).toBe('Market, immediate or cancel');
    const day = await propose(paper, order({ symbol: 'AAPL' }));
    expect(field(day.card, 'Type')).toBe('Market, day');
  });
});

describe('the time in force each broker applies', () => {
  const ask = (assetClass: 'equity' | 'crypto', orderType: 'market' | 'limit', timeInForce: string) =>
    ({ assetClass, orderType, timeInForce }) as Parameters<typeof coinbaseTimeInForce>[0];

  it('Coinbase: every market order is IOC; limits keep what was asked', () => {
    for (const timeInForce of ['day', 'gtc', 'ioc', 'fok']) {
      expect(coinbaseTimeInForce(ask('crypto', 'market', timeInForce))).toBe('ioc');
      expect(coinbaseTimeInForce(ask('crypto', 'limit', timeInForce))).toBe(timeInForce);
    }
  });

  it('paper: IOC/FOK rest like GTC, crypto day orders never end, equity day orders stay day', () => {
    expect(paperTimeInForce(ask('crypto', 'market', 'gtc'))).toBe('ioc');
    expect(paperTimeInForce(ask('crypto', 'market', 'day'))).toBe('ioc');
    expect(paperTimeInForce(ask('crypto', 'limit', 'day'))).toBe('gtc');
    expect(paperTimeInForce(ask('crypto', 'limit', 'gtc'))).toBe('gtc');
    expect(paperTimeInForce(ask('equity', 'limit', 'ioc'))).toBe('gtc');
    expect(paperTimeInForce(ask('equity', 'limit', 'fok'))).toBe('gtc');
    expect(paperTimeInForce(ask('equity', 'market', 'day'))).toBe('day');
    expect(paperTimeInForce(ask('equity', 'limit', 'gtc'))).toBe('gtc');
  });
});
