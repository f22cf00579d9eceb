/**
 * The E*TRADE broker against the local E*TRADE fake (signed OAuth 1.0a requests, preview then
 * place, clientOrderId uniqueness): the happy path, orders placed exactly once through timeouts,
 * resets, 5xx and E*TRADE's "400 with an HTML page" rate limiting, token renewal after idling,
 * the midnight expiry, and the circuit breaker. Waits between retries go through an injected
 * `sleep` that records the delays.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EtradeBroker,
  type EtradeBrokerOptions,
  isDuplicateClientOrderId,
} from '../../src/brokers/etrade/etrade-broker.js';
import {
  etradeClientOrderId,
  etradeOrderBody,
  optionEffectFor,
} from '../../src/brokers/etrade/order-json.js';
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
import { FAKE_ETRADE_ACCOUNT, FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';

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

describe('E*TRADE broker: the happy path', () => {
  it('previews, then places a market order that fills, and moves cash and positions', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ clientOrderId: 'INTENT1' }));
    expect(placed).toMatchObject({ clientOrderId: 'INTENT1', status: 'filled', symbol: 'AAPL', side: 'buy' });
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

  it('finds orders by client order id and id, and answers undefined for unknown ones', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ clientOrderId: 'arbion-order-with-dashes-1' }));
    expect(fake.orders()[0]?.clientOrderId).toBe(etradeClientOrderId('arbion-order-with-dashes-1'));
    expect(fake.orders()[0]?.clientOrderId).toMatch(/^[A-Za-z0-9]{1,20}$/);
    const found = await broker.findOrderByClientOrderId(KEY, 'arbion-order-with-dashes-1');
    expect(found).toMatchObject({
      brokerOrderId: placed.brokerOrderId,
      clientOrderId: 'arbion-order-with-dashes-1',
    });
    expect(await broker.findOrderByClientOrderId(KEY, 'NOSUCHORDER')).toBeUndefined();
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
      order({ assetClass: 'option', symbol: 'AAPL250718C00200000', side: 'sell', quantity: new Decimal(2) }),
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

describe('E*TRADE broker: exactly once', () => {
  it('after a timeout on a place E*TRADE processed, returns that order without placing it again', async () => {
    const { broker } = connect({ timeoutMs: 300 });
    fake.acceptThenTimeout('hang');
    const placed = await broker.placeOrder(order({ clientOrderId: 'TIMEOUT1' }));
    expect(placed).toMatchObject({ clientOrderId: 'TIMEOUT1', status: 'filled' });
    expect(fake.orders()).toHaveLength(1);
    expect(places()).toEqual(['POST /orders/place 0']);
  });

  it('after a reset on a place E*TRADE processed, returns that order without placing it again', async () => {
    const { broker } = connect();
    fake.acceptThenTimeout('reset');
    const placed = await broker.placeOrder(order({ clientOrderId: 'RESET1' }));
    expect(placed.clientOrderId).toBe('RESET1');
    expect(fake.orders()).toHaveLength(1);
    expect(places()).toEqual(['POST /orders/place 0']);
  });

  it('after a reset before processing, finds nothing, previews again and places once', async () => {
    const { broker } = connect();
    fake.dropNext('/orders/place');
    const placed = await broker.placeOrder(order({ clientOrderId: 'DROPPED1' }));
    expect(placed.status).toBe('filled');
    expect(fake.orders()).toHaveLength(1);
    expect(seen()).toEqual([
      'POST /orders/preview 200',
      'POST /orders/place 0',
      'GET /orders 204',
      'POST /orders/preview 200',
      'POST /orders/place 200',
      'GET /orders 200',
    ]);
  });

  it('does not repeat a place that got a 5xx: it looks the order up first', async () => {
    const { broker } = connect();
    fake.failNext(`${ORDERS}/place`, 503);
    await broker.placeOrder(order());
    expect(fake.orders()).toHaveLength(1);
    expect(places()).toEqual(['POST /orders/place 503', 'POST /orders/place 200']);
  });

  it('placing the same client order id again returns the first order (E*TRADE refuses the duplicate)', async () => {
    const { broker } = connect();
    const request = order({ clientOrderId: 'TWICE1' });
    const first = await broker.placeOrder(request);
    const second = await broker.placeOrder(request);
    expect(second.brokerOrderId).toBe(first.brokerOrderId);
    expect(fake.orders()).toHaveLength(1);
    expect(seen().filter((line) => line.startsWith('POST /orders/preview'))).toEqual([
      'POST /orders/preview 200',
      'POST /orders/preview 400',
    ]);
  });

  it('reports an unknown outcome (never "nothing placed") when the lookup after a reset fails', async () => {
    const { broker } = connect();
    fake.acceptThenTimeout('reset');
    fake.failNext(ORDERS, 403);
    const error = await broker.placeOrder(order()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerUnreachableError);
    expect(error).not.toBeInstanceOf(BrokerRejectedError);
    expect(fake.orders()).toHaveLength(1);
  });

  it("rides out E*TRADE's 400-with-an-HTML-page rate limiting and places one order", async () => {
    const { broker, sleeps } = connect();
    fake.rateLimitNext(3);
    const placed = await broker.placeOrder(order({ clientOrderId: 'STORM1' }));
    expect(placed.status).toBe('filled');
    expect(fake.orders()).toHaveLength(1);
    expect(sleeps).toEqual([1000, 1000, 1000]);
    expect(seen().slice(0, 4)).toEqual([
      'POST /orders/preview 400',
      'POST /orders/preview 400',
      'POST /orders/preview 400',
      'POST /orders/preview 200',
    ]);
    fake.rateLimitNext(2);
    await broker.placeOrder(order({ clientOrderId: 'STORM2' }));
    expect(fake.orders().map((placedOrder) => placedOrder.clientOrderId)).toEqual(['STORM1', 'STORM2']);
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
    expect(sleeps.every((ms) => ms === 1000)).toBe(true);
  });

  it('stays under the documented quota by itself with the default limits', async () => {
    fake.setRateLimit('accounts', { limit: 2, intervalMs: 1000 });
    const { broker } = connect({ rateLimits: undefined });
    await Promise.all([broker.getBalances(KEY), broker.listOpenOrders(KEY)]);
    await broker.getPositions(KEY);
    expect(seen().filter((line) => line.endsWith(' 400'))).toEqual([]);
  });
});

describe('E*TRADE broker: tokens', () => {
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

describe('E*TRADE broker: the circuit breaker', () => {
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
    await new Promise((resolve) => setTimeout(resolve, 250)); // past halfOpenAfterMs
    await broker.placeOrder(order());
    expect(fake.orders()).toHaveLength(1);
    expect(broker.http.health()).toMatchObject({ status: 'healthy', circuit: 'closed' });
  });
});

describe('E*TRADE order JSON (pure)', () => {
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
        order({
          clientOrderId: 'X1',
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
      order({ assetClass: 'option', option, side: 'sell', quantity: new Decimal(1) }),
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
});
