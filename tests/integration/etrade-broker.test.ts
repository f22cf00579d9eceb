/**
 * The E*TRADE broker against the local E*TRADE fake (signed OAuth 1.0a requests, preview then
 * place, clientOrderId unique per account and never shown in an answer): the happy path; orders
 * placed exactly once when the place answer is lost (found again among recent orders by content,
 * never resent, "outcome unknown" when not found or ambiguous); E*TRADE's "400 with an HTML page"
 * rate limiting; lists read element by element; token renewal and the midnight expiry; the circuit
 * breaker; and, on a real database, the whole way from the chat through the order tracker. Waits
 * go through an injected `sleep` that records them; the clocks are fixed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EtradeBroker, type EtradeBrokerOptions } from '../../src/brokers/etrade/etrade-broker.js';
import { isDuplicateClientOrderId, recogniseRateLimitPage } from '../../src/brokers/etrade/etrade-errors.js';
import {
  etradeClientOrderId,
  etradeOrderBody,
  optionEffectFor,
} from '../../src/brokers/etrade/order-json.js';
import { RECHECK_DELAY_MS } from '../../src/brokers/etrade/placement.js';
import {
  BrokerAuthError,
  BrokerCircuitOpenError,
  BrokerRequestRejectedError,
} from '../../src/brokers/http/errors.js';
import {
  BrokerRejectedError,
  BrokerUnreachableError,
  type PlaceOrderRequest,
} from '../../src/core/brokers/broker.js';
import { Decimal } from '../../src/core/domain/values.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { Vault } from '../../src/core/vault/index.js';
import { FAKE_ETRADE_ACCOUNT, FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';
import { ADDRESS, createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

const CONSUMER = { consumerKey: 'etrade-consumer-key', consumerSecret: 'etrade consumer secret+/=' };
const KEY = FAKE_ETRADE_ACCOUNT.accountIdKey;
const ORDERS = `/v1/accounts/${KEY}/orders`;
const AAPL_CALL = {
  securityType: 'OPTN',
  symbol: 'AAPL',
  callPut: 'CALL',
  expiryYear: 2025,
  expiryMonth: 7,
  expiryDay: 18,
  strikePrice: 200,
} as const;

/** A pino logger whose JSON lines the test can read (nothing scrubbed: the broker must not log secrets). */
function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    secretValues: [],
    destination: new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    }),
  });
  return {
    logger,
    text: () => lines.join(''),
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('E*TRADE broker against the fake', () => {
  let fake: FakeOAuth1Provider;
  let now: Date;
  const clock = () => now;
  let tokens: { token: string; tokenSecret: string };

  beforeEach(async () => {
    now = new Date('2025-06-02T14:00:00Z'); // 10:00 in New York
    fake = await FakeOAuth1Provider.start({ ...CONSUMER, now: clock });
    fake.setPrice('AAPL', '190.00');
    fake.setPrice('MSFT', '410.25');
    tokens = fake.issueAccessToken();
  });

  afterEach(async () => {
    await fake.close();
  });

  function connect(http: EtradeBrokerOptions['http'] = {}, extra: Partial<EtradeBrokerOptions> = {}) {
    const sleeps: number[] = [];
    const broker = new EtradeBroker({
      apiBase: fake.baseUrl,
      ...CONSUMER,
      tokens: async () => tokens,
      now: clock,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      http: {
        timeoutMs: 2_000,
        rateLimits: { default: { limit: 1000, intervalMs: 1000 }, market: { limit: 1000, intervalMs: 1000 } },
        ...http,
      },
      ...extra,
    });
    return { broker, sleeps };
  }

  function order(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
    return {
      accountId: KEY,
      clientOrderId: `A${randomUUID().replaceAll('-', '').slice(0, 19).toUpperCase()}`,
      side: 'buy',
      assetClass: 'equity',
      symbol: 'AAPL',
      quantity: new Decimal(10),
      orderType: 'market',
      timeInForce: 'day',
      ...overrides,
    };
  }

  /** Method, path and status of every API request the fake saw, in order. */
  function seen(): string[] {
    return fake.calls.map(
      (call) => `${call.method} ${call.path.replace(`/v1/accounts/${KEY}`, '')} ${call.status}`,
    );
  }

  const places = () => seen().filter((line) => line.startsWith('POST /orders/place'));
  const previews = () => seen().filter((line) => line.startsWith('POST /orders/preview'));
  const orderListings = () => fake.calls.filter((call) => call.method === 'GET' && call.path === ORDERS);

  describe('the happy path', () => {
    it('previews, then places a market order that fills, and moves cash and positions', async () => {
      const { broker } = connect();
      const placed = await broker.placeOrder(order({ clientOrderId: 'INTENT1' }));
      expect(placed).toMatchObject({
        clientOrderId: 'INTENT1',
        status: 'filled',
        symbol: 'AAPL',
        side: 'buy',
      });
      expect(placed.filledQuantity.toFixed()).toBe('10');
      expect(placed.averageFillPrice?.toFixed()).toBe('190');
      expect(placed.fills).toEqual([expect.objectContaining({ id: placed.brokerOrderId, at: now })]);
      expect(seen()).toEqual(['POST /orders/preview 200', 'POST /orders/place 200', 'GET /orders 200']);
      expect(fake.orders()).toHaveLength(1);

      fake.setPrice('AAPL', '200.00');
      const { balances, positions } = await broker.getAccountSnapshot(KEY);
      expect(balances.cash.toFixed()).toBe('98100');
      expect(balances.equity.toFixed()).toBe('100100');
      expect(balances.buyingPower.toFixed()).toBe('196200'); // margin account
      expect(balances.realizedPnlToday.toFixed()).toBe('100');
      expect(positions).toHaveLength(1);
      expect(positions[0]).toMatchObject({ symbol: 'AAPL', assetClass: 'equity' });
      expect(positions[0]?.quantity.toFixed()).toBe('10');
      expect(positions[0]?.averageCost.toFixed()).toBe('190');
      expect(positions[0]?.marketValue?.toFixed()).toBe('2000');
      expect(positions[0]?.marketPrice?.toFixed()).toBe('200');
      expect(positions[0]?.unrealizedPnl?.toFixed()).toBe('100');

      const sold = await broker.placeOrder(order({ side: 'sell', quantity: new Decimal(4) }));
      expect(sold.status).toBe('filled');
      expect((await broker.getPositions(KEY))[0]?.quantity.toFixed()).toBe('6');
      expect((await broker.getBalances(KEY)).cash.toFixed()).toBe('98900');
    });

    it('rests a limit order until the price reaches it, then reports it filled at the limit', async () => {
      const { broker } = connect();
      const placed = await broker.placeOrder(
        order({
          orderType: 'limit',
          limitPrice: new Decimal('185.50'),
          timeInForce: 'gtc',
          quantity: new Decimal(5),
        }),
      );
      expect(placed.status).toBe('accepted');
      expect(placed.limitPrice?.toFixed()).toBe('185.5');
      expect(placed.fills).toEqual([]);
      expect(fake.orders()[0]?.body).toMatchObject({
        priceType: 'LIMIT',
        orderTerm: 'GOOD_UNTIL_CANCEL',
        limitPrice: 185.5,
      });
      expect((await broker.listOpenOrders(KEY)).map((open) => open.brokerOrderId)).toEqual([
        placed.brokerOrderId,
      ]);

      expect(fake.fillRestingOrders()).toBe(0);
      fake.setPrice('AAPL', '185.00');
      expect(fake.fillRestingOrders()).toBe(1);
      const filled = await broker.getOrder(KEY, placed.brokerOrderId);
      expect(filled?.status).toBe('filled');
      expect(filled?.averageFillPrice?.toFixed()).toBe('185.5');
      expect(filled?.fills).toHaveLength(1);
      expect(await broker.listOpenOrders(KEY)).toEqual([]);
    });

    it('cancels a resting order, and a second cancel is refused', async () => {
      const { broker } = connect();
      const placed = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal('150') }));
      const cancelled = await broker.cancelOrder(KEY, placed.brokerOrderId);
      expect(cancelled.status).toBe('cancelled');
      expect(seen()).toContain('PUT /orders/cancel 200');
      const again = await broker.cancelOrder(KEY, placed.brokerOrderId).catch((error: unknown) => error);
      expect(again).toBeInstanceOf(BrokerRejectedError);
      expect((again as BrokerRejectedError).reason).toMatch(/cannot be cancelled/);
    });

    it('knows its own orders by client order id; after a restart only reconciliation can find them', async () => {
      const { broker } = connect();
      const placed = await broker.placeOrder(order({ clientOrderId: 'arbion-order-with-dashes-1' }));
      expect(fake.orders()[0]?.clientOrderId).toBe(etradeClientOrderId('arbion-order-with-dashes-1'));
      expect(fake.orders()[0]?.clientOrderId).toMatch(/^[A-Za-z0-9]{1,20}$/);
      expect(await broker.findOrderByClientOrderId(KEY, 'arbion-order-with-dashes-1')).toMatchObject({
        brokerOrderId: placed.brokerOrderId,
        clientOrderId: 'arbion-order-with-dashes-1',
      });
      // E*TRADE never shows the client order id: another process cannot look it up, and says so
      // by its capability (undefined here is not "not placed").
      const { broker: restarted } = connect();
      expect(restarted.placementLookup).toBe('reconciliation');
      expect(await restarted.findOrderByClientOrderId(KEY, 'arbion-order-with-dashes-1')).toBeUndefined();
      expect(await restarted.getOrder(KEY, placed.brokerOrderId)).toMatchObject({
        brokerOrderId: placed.brokerOrderId,
        clientOrderId: '',
      });
      expect(await broker.getOrder(KEY, '999999')).toBeUndefined();
    });

    it('lists the accounts and quotes symbols, 25 per request', async () => {
      const { broker } = connect();
      expect(await broker.listAccounts()).toEqual([
        expect.objectContaining({ accountIdKey: KEY, accountId: FAKE_ETRADE_ACCOUNT.accountId }),
      ]);
      const quotes = await broker.getQuotes(['AAPL', 'msft']);
      expect(
        quotes.map((quote) => [quote.symbol, quote.bid.toFixed(), quote.ask.toFixed(), quote.last.toFixed()]),
      ).toEqual([
        ['AAPL', '189.99', '190.01', '190'],
        ['MSFT', '410.24', '410.26', '410.25'],
      ]);
      expect(quotes[0]).toMatchObject({ assetClass: 'equity', source: 'etrade', at: now });
      const many = Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? 'AAPL' : 'MSFT'));
      expect(await broker.getQuotes(many)).toHaveLength(30);
      expect(seen().filter((line) => line.startsWith('GET /v1/market/quote'))).toHaveLength(3);
    });

    it('opens and closes an option position with the right orderAction', async () => {
      const { broker } = connect();
      fake.setPrice(AAPL_CALL, '3.10');
      const option = {
        underlying: 'AAPL',
        expiry: '2025-07-18',
        right: 'call' as const,
        strike: new Decimal(200),
      };
      const bought = await broker.placeOrder(
        order({ assetClass: 'option', symbol: 'AAPL  250718C00200000', option, quantity: new Decimal(2) }),
      );
      expect(bought).toMatchObject({ status: 'filled', symbol: 'AAPL  250718C00200000' });
      expect(fake.orders()[0]).toMatchObject({
        orderType: 'OPTN',
        body: { Instrument: [{ orderAction: 'BUY_OPEN', Product: AAPL_CALL }] },
      });
      expect(fake.cash()).toBe('99380');
      const positions = await broker.getPositions(KEY);
      expect(positions).toEqual([
        expect.objectContaining({ symbol: 'AAPL  250718C00200000', assetClass: 'option' }),
      ]);

      // By its OCC symbol alone.
      const sold = await broker.placeOrder(
        order({
          assetClass: 'option',
          symbol: 'AAPL250718C00200000',
          side: 'sell',
          quantity: new Decimal(2),
        }),
      );
      expect(sold.status).toBe('filled');
      expect(fake.orders()[1]?.body.Instrument[0]?.orderAction).toBe('SELL_CLOSE');
      expect(await broker.getPositions(KEY)).toEqual([]);
    });

    it('refuses locally what E*TRADE would refuse, sending nothing', async () => {
      const { broker } = connect();
      for (const bad of [
        order({ quantity: undefined, notional: new Decimal(500) }),
        order({ quantity: new Decimal('1.5') }),
        order({ assetClass: 'crypto', symbol: 'BTC' }),
        order({ orderType: 'limit' }),
        order({ orderType: 'stop' }),
        order({ assetClass: 'option', symbol: 'NOT-AN-OPTION' }),
      ]) {
        await expect(broker.placeOrder(bad)).rejects.toBeInstanceOf(BrokerRejectedError);
      }
      expect(fake.calls).toEqual([]);
    });

    it("passes E*TRADE's refusals on as rejections with its message and code", async () => {
      const { broker } = connect();
      const error = await broker.placeOrder(order({ symbol: 'ZZZZ' })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerRequestRejectedError);
      expect(error).toMatchObject({ status: 400, code: '10033' });
      expect((error as BrokerRejectedError).reason).toContain('ZZZZ is not a valid symbol');
      const poor = await broker
        .placeOrder(order({ quantity: new Decimal(10_000) }))
        .catch((caught: unknown) => caught);
      expect((poor as BrokerRejectedError).reason).toMatch(/Insufficient funds/);
      expect(fake.orders()).toEqual([]);
    });
  });

  describe('exactly once: a place whose answer is lost', () => {
    it.each([
      // A reset connection: the broker contract suite (tests/contract).
      ['no answer (timeout)', 'hang', 0],
      ['HTTP 500', 500, 500],
      ['HTTP 504', 504, 504],
    ] as const)(
      'after %s on a place E*TRADE processed, finds that order among recent orders and never places again',
      async (_what, how, status) => {
        const { broker, sleeps } = connect({ timeoutMs: 300 });
        fake.loseNextPlaceAnswer(how);
        const placed = await broker.placeOrder(order({ clientOrderId: 'LOST1' }));
        expect(placed).toMatchObject({
          clientOrderId: 'LOST1',
          status: 'filled',
          brokerOrderId: String(fake.orders()[0]?.orderId),
        });
        expect(fake.orders()).toHaveLength(1);
        expect(places()).toEqual([`POST /orders/place ${status}`]);
        // Found at the first look, in a window of New York days around the send.
        expect(sleeps).toEqual([]);
        expect(orderListings().map((call) => call.query)).toEqual([
          { count: '100', fromDate: '06022025', toDate: '06022025' },
        ]);
        expect(await broker.findOrderByClientOrderId(KEY, 'LOST1')).toMatchObject({
          brokerOrderId: placed.brokerOrderId,
        });
      },
    );

    it('looks a second time, after a wait, for an order E*TRADE lists late', async () => {
      const { broker, sleeps } = connect();
      fake.loseNextPlaceAnswer(502);
      fake.listNextOrderLate(1);
      const placed = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal('150') }));
      expect(placed).toMatchObject({ status: 'accepted', brokerOrderId: String(fake.orders()[0]?.orderId) });
      expect(sleeps).toEqual([RECHECK_DELAY_MS]);
      expect(seen()).toEqual([
        'POST /orders/preview 200',
        'POST /orders/place 502',
        'GET /orders 204',
        'GET /orders 200',
      ]);
    });

    it.each([
      ['was reset before E*TRADE processed it', () => fake.dropNext('/orders/place'), 0],
      ['got a 503 without being processed', () => fake.failNext(`${ORDERS}/place`, 503), 503],
    ])(
      'when the place %s: looks twice, says the outcome is unknown, and never resends',
      async (_what, lose, status) => {
        const { broker, sleeps } = connect();
        lose();
        const request = order({ clientOrderId: 'NOTTHERE1' });
        const sentAt = now;
        const error = await broker.placeOrder(request).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(BrokerUnreachableError);
        expect(error).not.toBeInstanceOf(BrokerRejectedError);
        expect((error as Error).message).toMatch(/outcome is unknown; nothing was resent/);
        expect((error as Error).message).not.toMatch(/not placed/i);
        expect(sleeps).toEqual([RECHECK_DELAY_MS]);
        expect(seen()).toEqual([
          'POST /orders/preview 200',
          `POST /orders/place ${status}`,
          'GET /orders 204',
          'GET /orders 204',
        ]);
        expect(fake.orders()).toEqual([]);
        // A later look from another process finds nothing either, and sends nothing.
        now = new Date(now.getTime() + 60_000);
        expect(await connect().broker.reconcilePlacement(request, sentAt)).toBeUndefined();
        expect(places()).toHaveLength(1);
        expect(fake.orders()).toEqual([]);
      },
    );

    it('claims none of two identical orders, and finds ours once the other is known to be another intent’s', async () => {
      const limit = { orderType: 'limit', limitPrice: new Decimal('150') } as const;
      // The same order placed a moment before by another process (or on E*TRADE's website).
      const first = await connect().broker.placeOrder(order({ ...limit, clientOrderId: 'OTHER1' }));
      const { broker } = connect();
      fake.loseNextPlaceAnswer(502);
      const mine = order({ ...limit, clientOrderId: 'MINE1' });
      const error = await broker.placeOrder(mine).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerUnreachableError);
      expect((error as Error).message).toMatch(/lists 2 orders .* cannot tell which is ours/);
      expect(fake.orders()).toHaveLength(2);
      expect(places()).toEqual(['POST /orders/place 200', 'POST /orders/place 502']);
      expect(await broker.findOrderByClientOrderId(KEY, 'MINE1')).toBeUndefined();
      await expect(broker.reconcilePlacement(mine, now)).rejects.toBeInstanceOf(BrokerUnreachableError);

      const { broker: informed } = connect({}, { knownOrderIds: async () => new Set([first.brokerOrderId]) });
      expect(await informed.reconcilePlacement(mine, now)).toMatchObject({
        brokerOrderId: String(fake.orders()[1]?.orderId),
        clientOrderId: 'MINE1',
        status: 'accepted',
      });
      expect(places()).toHaveLength(2);
    });

    it('never places one client order id twice: the same instance returns its order; another gets an unclear outcome', async () => {
      const { broker } = connect();
      const request = order({ clientOrderId: 'TWICE1' });
      const sentAt = now;
      const first = await broker.placeOrder(request);
      const second = await broker.placeOrder(request);
      expect(second.brokerOrderId).toBe(first.brokerOrderId);
      expect(previews()).toEqual(['POST /orders/preview 200']);

      // Another process: E*TRADE refuses the duplicate id, which means the order exists.
      const { broker: restarted } = connect();
      const error = await restarted.placeOrder(request).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerUnreachableError);
      expect(error).not.toBeInstanceOf(BrokerRejectedError);
      expect(previews()).toEqual(['POST /orders/preview 200', 'POST /orders/preview 400']);
      expect(await restarted.reconcilePlacement(request, sentAt)).toMatchObject({
        brokerOrderId: first.brokerOrderId,
        clientOrderId: 'TWICE1',
      });
      expect(fake.orders()).toHaveLength(1);
    });

    it('says nothing was placed when the preview cannot be had: the place was never sent', async () => {
      const { broker } = connect({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
      fake.failNext(`${ORDERS}/preview`, 503);
      fake.failNext(`${ORDERS}/preview`, 503);
      const error = await broker.placeOrder(order()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerRejectedError);
      expect(error).toMatchObject({ code: 'not_sent' });
      expect(places()).toEqual([]);
    });
  });

  describe("E*TRADE's rate limit: HTTP 400 with an HTML page", () => {
    it('is waited out with a growing pause, and one order is placed', async () => {
      const { broker, sleeps } = connect();
      fake.rateLimitNext(3);
      const placed = await broker.placeOrder(order({ clientOrderId: 'STORM1' }));
      expect(placed.status).toBe('filled');
      expect(fake.orders()).toHaveLength(1);
      expect(sleeps).toEqual([1000, 2000, 4000]);
      expect(seen().slice(0, 4)).toEqual([
        'POST /orders/preview 400',
        'POST /orders/preview 400',
        'POST /orders/preview 400',
        'POST /orders/preview 200',
      ]);
      // The pause starts over after an answer.
      fake.rateLimitNext(2);
      await broker.placeOrder(order({ clientOrderId: 'STORM2' }));
      expect(sleeps.slice(3)).toEqual([1000, 2000]);
      expect(fake.orders().map((placedOrder) => placedOrder.clientOrderId)).toEqual(['STORM1', 'STORM2']);
    });

    it('on the place itself is not a refusal: the place is sent again (it was not processed) and placed once', async () => {
      const { broker, sleeps } = connect();
      fake.rateLimitNext(2, 'accounts', '/orders/place');
      const placed = await broker.placeOrder(order());
      expect(placed.status).toBe('filled');
      expect(seen()).toEqual([
        'POST /orders/preview 200',
        'POST /orders/place 400',
        'POST /orders/place 400',
        'POST /orders/place 200',
        'GET /orders 200',
      ]);
      expect(sleeps).toEqual([1000, 2000]);
      expect(fake.orders()).toHaveLength(1);
    });

    it('waits out a real burst over the quota: every request succeeds after pausing', async () => {
      fake.setRateLimit('accounts', { limit: 2, intervalMs: 200 });
      const sleeps: number[] = [];
      const { broker } = connect(
        {},
        {
          sleep: async (ms) => {
            sleeps.push(ms);
            await new Promise((resolve) => setTimeout(resolve, ms / 4));
          },
        },
      );
      const snapshots = await Promise.all([KEY, KEY, KEY].map((key) => broker.getAccountSnapshot(key)));
      expect(snapshots.map((snapshot) => snapshot.balances.cash.toFixed())).toEqual([
        '100000',
        '100000',
        '100000',
      ]);
      expect(seen().filter((line) => line.endsWith(' 400')).length).toBeGreaterThan(0);
      expect(sleeps.length).toBeGreaterThan(0);
      expect(sleeps.every((ms) => [1000, 2000, 4000, 8000].includes(ms))).toBe(true);
    });

    it('stays under the documented quota by itself with the default limits', async () => {
      fake.setRateLimit('accounts', { limit: 2, intervalMs: 1000 });
      const { broker } = connect({ rateLimits: undefined });
      await Promise.all([broker.getBalances(KEY), broker.listOpenOrders(KEY)]);
      await broker.getPositions(KEY);
      expect(seen().filter((line) => line.endsWith(' 400'))).toEqual([]);
    });
  });

  describe('lists read element by element', () => {
    it('skips an order it cannot read, logs its id, and still tracks the others (executedTime null) to their fill', async () => {
      const log = capturingLogger();
      const { broker } = connect({}, { logger: log.logger });
      fake.injectUnreadable('orders', {
        orderId: 999,
        OrderDetail: [{ status: 'OPEN', priceType: 'LIMIT', Instrument: 'see website' }],
      });
      const placed = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal('185.5') }));
      expect(placed.status).toBe('accepted');
      expect((await broker.listOpenOrders(KEY)).map((open) => open.brokerOrderId)).toEqual([
        placed.brokerOrderId,
      ]);
      fake.setPrice('AAPL', '185.00');
      fake.fillRestingOrders();
      const filled = await broker.getOrder(KEY, placed.brokerOrderId);
      expect(filled).toMatchObject({ status: 'filled', brokerOrderId: placed.brokerOrderId });
      expect(filled?.fills).toHaveLength(1);

      const skipped = log.entries().filter((entry) => entry['list'] === 'order');
      expect(skipped.length).toBeGreaterThan(0);
      expect(skipped[0]).toMatchObject({ provider: 'etrade', id: '999', accountIdKey: KEY, level: 40 });
      expect(log.text()).not.toContain('see website');
      for (const secret of [...fake.issuedSecrets(), CONSUMER.consumerSecret]) {
        expect(log.text()).not.toContain(secret);
      }
    });

    it('skips a position, a quote and an account it cannot read, and reads the rest', async () => {
      const log = capturingLogger();
      const { broker } = connect({}, { logger: log.logger });
      fake.injectUnreadable('positions', { positionId: 77, quantity: 'lots', Product: { symbol: 'XYZ' } });
      fake.injectUnreadable('quotes', {
        Product: { symbol: 'ZZZZ', securityType: 'EQ' },
        All: { bid: null },
      });
      fake.injectUnreadable('accounts', { accountIdKey: '', accountId: null });
      await broker.placeOrder(order());
      expect((await broker.getPositions(KEY)).map((position) => position.symbol)).toEqual(['AAPL']);
      expect((await broker.getQuotes(['AAPL'])).map((quote) => quote.symbol)).toEqual(['AAPL']);
      // A quote E*TRADE sent but we cannot read is left to the market data, not called unknown.
      expect(await broker.quote({ assetClass: 'equity', symbol: 'ZZZZ' })).toBeUndefined();
      expect((await broker.listAccounts()).map((account) => account.accountIdKey)).toEqual([KEY]);
      const lists = log.entries().flatMap((entry) => (entry['list'] === undefined ? [] : [entry['list']]));
      expect(new Set(lists)).toEqual(new Set(['position', 'quote', 'account']));
    });
  });

  describe('tokens', () => {
    it('renews a token that went idle for two hours, once, and carries on', async () => {
      const { broker } = connect();
      await broker.getBalances(KEY);
      now = new Date(now.getTime() + 2 * 3600_000 + 60_000);
      const placed = await broker.placeOrder(order());
      expect(placed.status).toBe('filled');
      expect(fake.calls.filter((call) => call.problem === 'token_inactive')).toHaveLength(1);
      expect(seen().filter((line) => line.includes('renew_access_token'))).toEqual([
        'GET /oauth/renew_access_token 200',
      ]);
      expect(fake.orders()).toHaveLength(1);
    });

    it('after midnight US Eastern, asks the user to link E*TRADE again', async () => {
      const { broker } = connect();
      now = new Date('2025-06-03T04:00:01Z'); // 00:00:01 in New York
      const error = await broker.placeOrder(order()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerAuthError);
      expect(error).toMatchObject({ code: 'reauth_required' });
      expect((error as BrokerAuthError).reason).toMatch(/Link E\*TRADE again/);
      expect(fake.calls.at(-1)).toMatchObject({
        path: '/oauth/renew_access_token',
        status: 401,
        problem: 'token_expired',
      });
      expect(fake.orders()).toEqual([]);
    });

    it('a signature made with the wrong secret is refused; nothing is placed and no renewal is tried', async () => {
      const { broker } = connect({}, { tokens: async () => ({ ...tokens, tokenSecret: 'tampered' }) });
      const error = await broker.placeOrder(order()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerAuthError);
      expect(error).toMatchObject({ code: 'signature_invalid' });
      expect(seen()).toEqual(['POST /orders/preview 401']);
      expect(fake.orders()).toEqual([]);
    });
  });

  describe('the circuit breaker', () => {
    it('opens after consecutive failures, sends nothing while open, and closes on a success', async () => {
      const { broker } = connect({
        retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
        breaker: { consecutiveFailures: 4, halfOpenAfterMs: 200 },
      });
      fake.down();
      await expect(broker.getPositions(KEY)).rejects.toBeInstanceOf(BrokerUnreachableError);
      await expect(broker.getPositions(KEY)).rejects.toBeInstanceOf(BrokerUnreachableError);
      expect(fake.calls).toHaveLength(4);
      const open = await broker.getPositions(KEY).catch((caught: unknown) => caught);
      expect(open).toBeInstanceOf(BrokerCircuitOpenError);
      await expect(broker.placeOrder(order())).rejects.toBeInstanceOf(BrokerCircuitOpenError);
      expect(fake.calls).toHaveLength(4);
      expect(broker.http.health()).toMatchObject({ status: 'down', circuit: 'open', lastError: 'HTTP 503' });

      fake.up();
      await new Promise((resolve) => setTimeout(resolve, 250)); // past halfOpenAfterMs (cockatiel's own clock)
      await broker.placeOrder(order());
      expect(fake.orders()).toHaveLength(1);
      expect(broker.http.health()).toMatchObject({ status: 'healthy', circuit: 'closed' });
    });
  });
});

describe('E*TRADE through Arbion, on a real database: a lost place answer is never a second order', () => {
  const CONSUMER_LIVE = { key: 'etrade-e2e-key', secret: 'etrade-e2e-secret' };
  const SITE = 'http://127.0.0.1:8787';
  const vault = new Vault([{ id: 'k1', key: randomBytes(32) }]);
  let etrade: FakeOAuth1Provider;
  let h: Harness;
  const clock = () => h?.clock.now ?? MARKET_OPEN;

  beforeAll(async () => {
    etrade = await FakeOAuth1Provider.start({
      now: clock,
      consumerKey: CONSUMER_LIVE.key,
      consumerSecret: CONSUMER_LIVE.secret,
    });
    etrade.setPrice('AAPL', '190.00');
    h = await createHarness('server', {
      env: {
        PUBLIC_URL: SITE,
        ETRADE_CONSUMER_KEY: CONSUMER_LIVE.key,
        ETRADE_CONSUMER_SECRET: CONSUMER_LIVE.secret,
        ETRADE_API_BASE: etrade.baseUrl,
        ETRADE_AUTHORIZE_URL: `${etrade.baseUrl}/authorize`,
      },
      linking: { vault, publicBaseUrl: () => SITE },
      brokers: {
        brokerClientOptions: {
          now: clock,
          // The second look waits RECHECK_DELAY_MS: no need to really wait here.
          sleep: async () => undefined,
          http: {
            timeoutMs: 1_500,
            retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
            breaker: { consecutiveFailures: 20, halfOpenAfterMs: 300 },
          },
        },
        orderTracking: { pollIntervalMs: 0, reconcileAfterMs: 0, reconcileForMs: 15 * 60_000 },
      },
    });
    h.market.override('AAPL', { bid: '189.99', ask: '190.01', last: '190.00' });
    await linkEtrade('erin');
    await h.say('erin', 'go live on etrade');
    await h.say('erin', 'confirm live etrade');
  });

  afterAll(async () => {
    await h?.destroy();
    await etrade?.close();
  });

  function services() {
    const linking = h.arbion.linking;
    if (linking === undefined) throw new Error('linking is not wired');
    return linking.services;
  }

  async function linkEtrade(user: string): Promise<void> {
    await h.say(user, 'balance');
    const identity = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
      where: { platformUserId: user },
    });
    const { url } = await services().linkTokens.issue(identity.userId, ADDRESS);
    const redeemed = await services().linkTokens.redeem(url.split('/').pop() ?? '');
    if (redeemed.kind !== 'redeemed') throw new Error(`link not redeemed: ${redeemed.kind}`);
    const { token } = await services().sessions.open(identity.userId, redeemed.linkTokenId);
    const session = await services().sessions.authenticate(token);
    const provider = services().catalog.get('etrade');
    const flow = services().oauth1('etrade');
    if (session === undefined || provider === undefined || flow === undefined) throw new Error('no E*TRADE');
    const { state, authorizeUrl } = await flow.begin({ userId: session.userId, webSessionId: session.id });
    const verifier = etrade.authorize(authorizeUrl.searchParams.get('token') ?? '');
    const { tokens } = await flow.complete({ state, webSessionId: session.id, verifier });
    await services().connections.storeOAuth1(session.userId, provider, tokens, undefined);
  }

  /** Says `text`, presses Confirm on its card; returns the intent and what the chat said after. */
  async function buyAndConfirm(text: string): Promise<{ intentId: string; said: string }> {
    await h.say('erin', text);
    const card = h.channel.lastCard();
    if (card?.message?.kind !== 'card') throw new Error(`no card: ${h.channel.texts().at(-1)}`);
    const confirm = card.message.card.actions.find((action) => action.id.startsWith('confirm:'));
    if (confirm === undefined) throw new Error('the card has no confirm button');
    const before = h.channel.texts().length;
    await h.press('erin', confirm.id, card.messageId);
    return {
      intentId: confirm.id.slice('confirm:'.length),
      said: h.channel.texts().slice(before).join('\n'),
    };
  }

  async function orderRowOf(intentId: string) {
    return h.test.database.prisma.order.findFirstOrThrow({ where: { intentId } });
  }

  /** One background pass a second later; returns what the chat said during it. */
  async function backgroundPass(): Promise<string> {
    const before = h.channel.texts().length;
    h.clock.now = new Date(h.clock.now.getTime() + 1_000);
    await h.arbion.runBackgroundPass();
    return h.channel.texts().slice(before).join('\n');
  }

  const placeCalls = () => etrade.calls.filter((call) => call.path.endsWith('/orders/place'));

  it('a 500 after E*TRADE created a limit order: found at once, then tracked to its fill; placed once', async () => {
    const ordersBefore = etrade.orders().length;
    const placesBefore = placeCalls().length;
    etrade.loseNextPlaceAnswer(500);
    const { intentId } = await buyAndConfirm('buy 5 AAPL at 185');
    const created = etrade.orders().slice(ordersBefore);
    expect(created).toHaveLength(1);
    expect(await orderRowOf(intentId)).toMatchObject({
      provider: 'etrade',
      status: 'accepted',
      brokerOrderId: String(created[0]?.orderId),
    });

    etrade.setPrice('AAPL', '184.90');
    expect(etrade.fillRestingOrders()).toBe(1);
    etrade.setPrice('AAPL', '190.00');
    expect(await backgroundPass()).toMatch(/Filled \(LIVE\): bought 5 AAPL/);
    expect(await orderRowOf(intentId)).toMatchObject({ status: 'filled' });
    expect(etrade.orders()).toHaveLength(ordersBefore + 1);
    expect(
      placeCalls()
        .slice(placesBefore)
        .map((call) => call.status),
    ).toEqual([500]);
  });

  it('a reset after E*TRADE filled it, and the lookup fails: the tracker finds it later; placed once', async () => {
    const ordersBefore = etrade.orders().length;
    etrade.loseNextPlaceAnswer('reset');
    etrade.failNext(`/v1/accounts/${FAKE_ETRADE_ACCOUNT.accountIdKey}/orders`, 503);
    const { intentId, said } = await buyAndConfirm('buy 3 AAPL');
    expect(said).toContain('will not send it twice');
    expect(said).not.toMatch(/not placed/i);
    expect(await orderRowOf(intentId)).toMatchObject({ status: 'pending', brokerOrderId: null });
    expect(etrade.orders()).toHaveLength(ordersBefore + 1);

    expect(await backgroundPass()).toMatch(/Filled \(LIVE\): bought 3 AAPL/);
    expect(await orderRowOf(intentId)).toMatchObject({
      status: 'filled',
      brokerOrderId: String(etrade.orders().at(-1)?.orderId),
    });
    expect(etrade.orders()).toHaveLength(ordersBefore + 1);
  });

  it('a place E*TRADE never processed: the outcome stays unclear, nothing is resent, never "not placed"', async () => {
    const ordersBefore = etrade.orders().length;
    const placesBefore = placeCalls().length;
    etrade.failNext(`/v1/accounts/${FAKE_ETRADE_ACCOUNT.accountIdKey}/orders/place`, 502);
    const { intentId, said } = await buyAndConfirm('buy 2 AAPL');
    expect(said).toContain('will not send it twice');
    for (let pass = 0; pass < 3; pass++) expect(await backgroundPass()).not.toMatch(/not placed/i);
    expect(await orderRowOf(intentId)).toMatchObject({ status: 'pending', brokerOrderId: null });
    expect(etrade.orders()).toHaveLength(ordersBefore);
    expect(
      placeCalls()
        .slice(placesBefore)
        .map((call) => call.status),
    ).toEqual([502]);
  });
});

describe('E*TRADE order JSON and answers (pure)', () => {
  const request = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
    accountId: KEY,
    clientOrderId: 'X1',
    side: 'buy',
    assetClass: 'equity',
    symbol: 'AAPL',
    quantity: new Decimal(10),
    orderType: 'market',
    timeInForce: 'day',
    ...overrides,
  });

  it('keeps a fitting client order id and digests any other deterministically', () => {
    expect(etradeClientOrderId('A1B2C3')).toBe('A1B2C3');
    const digest = etradeClientOrderId('0b0c3c8e-2f5e-4a77-9d0e-1f8f2d7c0e11');
    expect(digest).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(etradeClientOrderId('0b0c3c8e-2f5e-4a77-9d0e-1f8f2d7c0e11')).toBe(digest);
    expect(etradeClientOrderId('0b0c3c8e-2f5e-4a77-9d0e-1f8f2d7c0e12')).not.toBe(digest);
  });

  it('writes stop-limit orders and option contracts as E*TRADE expects', () => {
    expect(
      etradeOrderBody(
        request({
          orderType: 'stop_limit',
          stopPrice: new Decimal('191.5'),
          limitPrice: new Decimal('192'),
          timeInForce: 'fok',
        }),
      ),
    ).toEqual({
      orderType: 'EQ',
      clientOrderId: 'X1',
      Order: [
        {
          allOrNone: false,
          priceType: 'STOP_LIMIT',
          orderTerm: 'FILL_OR_KILL',
          marketSession: 'REGULAR',
          limitPrice: 192,
          stopPrice: 191.5,
          Instrument: [
            {
              Product: { securityType: 'EQ', symbol: 'AAPL' },
              orderAction: 'BUY',
              quantityType: 'QUANTITY',
              quantity: 10,
            },
          ],
        },
      ],
    });
    const option = {
      underlying: 'AAPL',
      expiry: '2025-07-18',
      right: 'put' as const,
      strike: new Decimal('192.5'),
    };
    const body = etradeOrderBody(
      request({ assetClass: 'option', option, side: 'sell', quantity: new Decimal(1) }),
      'open',
    );
    expect(body.orderType).toBe('OPTN');
    expect(body.Order[0].Instrument[0]).toMatchObject({
      orderAction: 'SELL_OPEN',
      Product: {
        securityType: 'OPTN',
        symbol: 'AAPL',
        callPut: 'PUT',
        expiryYear: 2025,
        expiryMonth: 7,
        expiryDay: 18,
        strikePrice: 192.5,
      },
    });
    expect(optionEffectFor('buy', new Decimal(-2))).toBe('close');
    expect(optionEffectFor('sell', new Decimal(3))).toBe('close');
    expect(optionEffectFor('sell', new Decimal(0))).toBe('open');
  });

  it('recognises only a duplicate-id refusal as "the order exists"', () => {
    const refusal = (reason: string) => new BrokerRequestRejectedError('etrade', reason, 400, '1');
    expect(isDuplicateClientOrderId(refusal('The clientOrderId X has already been used.'))).toBe(true);
    expect(isDuplicateClientOrderId(refusal('Insufficient funds for this order.'))).toBe(false);
  });

  it('takes a 400 HTML page for the rate limit, by content type or by its first characters; other 400s pass', async () => {
    const answers = [
      new Response('<html><body>Too many requests</body></html>', {
        status: 400,
        headers: { 'content-type': 'text/html; charset=utf-8' },
      }),
      new Response('  <!DOCTYPE html><html>limit</html>', { status: 400 }),
      new Response(JSON.stringify({ Error: { code: 1, message: 'bad' } }), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      }),
      new Response('oauth_problem=parameter_absent', {
        status: 400,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    ];
    const wrapped = recogniseRateLimitPage(async () => answers.shift() ?? new Response(null), 1);
    const first = await wrapped('http://127.0.0.1/');
    const second = await wrapped('http://127.0.0.1/');
    expect([first.status, first.headers.get('retry-after')]).toEqual([429, '1']);
    expect([second.status, second.headers.get('retry-after')]).toEqual([429, '2']);
    const json = await wrapped('http://127.0.0.1/');
    expect([json.status, await json.json()]).toEqual([400, { Error: { code: 1, message: 'bad' } }]);
    expect((await wrapped('http://127.0.0.1/')).status).toBe(400);
  });
});
