/**
 * The Alpaca broker and the shared broker HTTP client against the local Alpaca fake: orders placed
 * exactly once through timeouts, resets, 5xx and 429 storms; the circuit breaker; rate limits.
 * Waits between retries go through an injected `sleep` that records the delays and returns at once.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlpacaBroker,
  type AlpacaBrokerOptions,
  alpacaOrderRequest,
  occSymbol,
  orderStatusFor,
  toBrokerOrder,
} from '../../src/brokers/alpaca/alpaca-broker.js';
import { alpacaOrderSchema } from '../../src/brokers/alpaca/schemas.js';
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
import { FakeAlpaca, type FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';

const KEY: FakeAlpacaKey = {
  keyId: 'PKTEST1234567890ABCD',
  secretKey: 'sEcReT0123456789abcdefghijklmnopqrstuvwx',
  accountNumber: 'PA3RL1234567',
};

let fake: FakeAlpaca;

beforeEach(async () => {
  fake = await FakeAlpaca.start([KEY]);
  fake.setPrice('AAPL', '190.00');
});

afterEach(async () => {
  await fake.close();
});

function connect(http: AlpacaBrokerOptions['http'] = {}, extra: Partial<AlpacaBrokerOptions> = {}) {
  const sleeps: number[] = [];
  const broker = new AlpacaBroker({
    keyId: KEY.keyId,
    secretKey: KEY.secretKey,
    environment: 'paper',
    baseUrl: fake.baseUrl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    http: { timeoutMs: 2_000, ...http },
    ...extra,
  });
  return { broker, sleeps };
}

function order(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return {
    accountId: KEY.accountNumber,
    clientOrderId: randomUUID(),
    side: 'buy',
    assetClass: 'equity',
    symbol: 'AAPL',
    quantity: new Decimal(10),
    orderType: 'market',
    timeInForce: 'day',
    ...overrides,
  };
}

/** Method, path and status of every request the fake saw, in order. */
function seen(): string[] {
  return fake.requests.map((request) => `${request.method} ${request.path} ${request.status}`);
}

describe('Alpaca broker: the happy path', () => {
  it('fills a market order and moves cash and positions', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-1' }));
    expect(placed).toMatchObject({
      clientOrderId: 'intent-1',
      status: 'filled',
      symbol: 'AAPL',
      side: 'buy',
    });
    expect(placed.filledQuantity.toFixed()).toBe('10');
    expect(placed.averageFillPrice?.toFixed()).toBe('190');
    expect(placed.fills).toHaveLength(1);
    expect(placed.fills[0]?.id).toBe(placed.brokerOrderId);

    fake.setPrice('AAPL', '200.00');
    const { balances, positions } = await broker.getAccountSnapshot(KEY.accountNumber);
    expect(balances.cash.toFixed()).toBe('98100');
    expect(balances.equity.toFixed()).toBe('100100');
    expect(balances.realizedPnlToday.toFixed()).toBe('100');
    expect(balances.currency).toBe('USD');
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: 'AAPL', assetClass: 'equity' });
    expect(positions[0]?.quantity.toFixed()).toBe('10');
    expect(positions[0]?.averageCost.toFixed()).toBe('190');
    expect(positions[0]?.marketValue?.toFixed()).toBe('2000');
    expect(positions[0]?.unrealizedPnl?.toFixed()).toBe('100');

    const sold = await broker.placeOrder(order({ side: 'sell', quantity: new Decimal(4) }));
    expect(sold.status).toBe('filled');
    expect((await broker.getPositions(KEY.accountNumber))[0]?.quantity.toFixed()).toBe('6');
    expect((await broker.getBalances(KEY.accountNumber)).cash.toFixed()).toBe('98900');
  });

  it('rests a limit order until the price reaches it, then fills it at the limit', async () => {
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
    expect((await broker.listOpenOrders(KEY.accountNumber)).map((open) => open.brokerOrderId)).toEqual([
      placed.brokerOrderId,
    ]);

    expect(fake.fillRestingOrders()).toBe(0);
    fake.setPrice('AAPL', '185.00');
    expect(fake.fillRestingOrders()).toBe(1);
    const filled = await broker.getOrder(KEY.accountNumber, placed.brokerOrderId);
    expect(filled?.status).toBe('filled');
    expect(filled?.averageFillPrice?.toFixed()).toBe('185.5');
    expect(await broker.listOpenOrders(KEY.accountNumber)).toEqual([]);
  });

  it('reports buying power with resting buys out of it, as Alpaca does, and says so', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(
      order({ orderType: 'limit', limitPrice: new Decimal(150), quantity: new Decimal(100) }),
    );
    let balances = await broker.getBalances(KEY.accountNumber);
    expect([balances.cash.toFixed(), balances.buyingPower.toFixed()]).toEqual(['100000', '185000']);
    expect(balances.netsWorkingOrders).toBe(true);
    expect(balances.reserved).toBeUndefined(); // Alpaca reports no such figure
    await broker.cancelOrder(KEY.accountNumber, placed.brokerOrderId);
    balances = await broker.getBalances(KEY.accountNumber);
    expect(balances.buyingPower.toFixed()).toBe('200000');
  });

  it('cancels a resting order, and refuses to cancel it twice', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal(150) }));
    const cancelled = await broker.cancelOrder(KEY.accountNumber, placed.brokerOrderId);
    expect(cancelled.status).toBe('cancelled');
    expect(await broker.listOpenOrders(KEY.accountNumber)).toEqual([]);
    const again = await broker.cancelOrder(KEY.accountNumber, placed.brokerOrderId).catch((error) => error);
    expect(again).toBeInstanceOf(BrokerRequestRejectedError);
    expect(again).toMatchObject({ status: 422, reason: 'order is already in "canceled" state' });
  });

  it('finds orders by client order id and id, and answers undefined for unknown ones', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-find' }));
    expect((await broker.findOrderByClientOrderId(KEY.accountNumber, 'intent-find'))?.brokerOrderId).toBe(
      placed.brokerOrderId,
    );
    expect(await broker.findOrderByClientOrderId(KEY.accountNumber, 'never-placed')).toBeUndefined();
    expect(await broker.getOrder(KEY.accountNumber, randomUUID())).toBeUndefined();
  });

  it('buys a dollar amount and an option by its OCC symbol', async () => {
    const { broker } = connect();
    const dollars = await broker.placeOrder(order({ quantity: undefined, notional: new Decimal(95) }));
    expect(dollars.filledQuantity.toFixed()).toBe('0.5');
    fake.setPrice('AAPL240517P00190000', '2.50');
    const option = await broker.placeOrder(
      order({
        assetClass: 'option',
        symbol: 'AAPL  240517P00190000',
        option: { underlying: 'AAPL', expiry: '2024-05-17', right: 'put', strike: new Decimal(190) },
        quantity: new Decimal(1),
      }),
    );
    expect(option.symbol).toBe('AAPL240517P00190000');
    expect((await broker.getBalances(KEY.accountNumber)).cash.toFixed()).toBe('99655');
  });
});

describe('Alpaca broker: lists read element by element', () => {
  /** A logger whose lines the test reads. */
  function capturedLogger() {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    return { lines, logger };
  }

  const skipped = (lines: readonly Record<string, unknown>[]) =>
    lines.filter((line) => String(line['msg']).startsWith('skipped an element'));

  it('reads the nulls and zeros Alpaca documents: an unfilled order, a position without a quote', async () => {
    const { broker } = connect();
    const resting = await broker.placeOrder(
      order({
        orderType: 'limit',
        limitPrice: new Decimal(150),
        timeInForce: 'gtc',
        quantity: new Decimal(2),
      }),
    );
    const raw = fake.orders(KEY.accountNumber)[0];
    // As listed: filled_qty "0", filled_avg_price, filled_at and stop_price null.
    expect(raw).toMatchObject({ filled_qty: '0', filled_avg_price: null, filled_at: null, stop_price: null });
    const [open] = await broker.listOpenOrders(KEY.accountNumber);
    expect(open).toMatchObject({ brokerOrderId: resting.brokerOrderId, status: 'accepted' });
    expect(open?.filledQuantity.toFixed()).toBe('0');
    expect(open?.averageFillPrice).toBeUndefined();
    expect(open?.stopPrice).toBeUndefined();

    await broker.placeOrder(order({ quantity: new Decimal(3) }));
    fake.clearPrice('AAPL');
    const [position] = await broker.getPositions(KEY.accountNumber);
    expect(position?.quantity.toFixed()).toBe('3');
    expect(position?.marketPrice).toBeUndefined();
    expect(position?.marketValue).toBeUndefined();
    expect(position?.unrealizedPnl).toBeUndefined();
  });

  it('skips an open order it cannot read, logs its id, and returns the others', async () => {
    const { lines, logger } = capturedLogger();
    const { broker } = connect({}, { logger });
    const resting = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal(150) }));
    const [listed] = fake.orders(KEY.accountNumber);
    // A kind we do not know, and an order whose filled_qty is null (the documentation says a string).
    fake.listRaw('/v2/orders', { ...listed, id: 'odd-kind', type: 'pegged' });
    fake.listRaw('/v2/orders', { ...listed, id: 'no-filled-qty', filled_qty: null });
    const open = await broker.listOpenOrders(KEY.accountNumber);
    expect(open.map((order) => order.brokerOrderId)).toEqual([resting.brokerOrderId]);
    expect(skipped(lines)).toEqual([
      expect.objectContaining({
        provider: 'alpaca',
        list: 'open orders',
        id: 'odd-kind',
        issues: ['type: invalid_value'],
      }),
      expect.objectContaining({ id: 'no-filled-qty', issues: ['filled_qty: invalid_type'] }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(KEY.secretKey);
  });

  it('skips a position it cannot read and keeps the others', async () => {
    const { lines, logger } = capturedLogger();
    const { broker } = connect({}, { logger });
    await broker.placeOrder(order({ quantity: new Decimal(3) }));
    fake.listRaw('/v2/positions', { symbol: 'ODD', asset_class: 'us_equity', qty: null, side: 'long' });
    const positions = await broker.getPositions(KEY.accountNumber);
    expect(positions.map((position) => position.symbol)).toEqual(['AAPL']);
    expect(skipped(lines)).toEqual([
      expect.objectContaining({
        list: 'positions',
        id: 'ODD',
        issues: ['qty: invalid_type', 'avg_entry_price: invalid_type'],
      }),
    ]);
  });
});

describe('Alpaca broker: refusals', () => {
  it('maps 401 to BrokerAuthError', async () => {
    const { broker } = connect({}, { secretKey: 'wrong-secret-0123456789abcdefghij' });
    const error = await broker.getBalances(KEY.accountNumber).catch((caught) => caught);
    expect(error).toBeInstanceOf(BrokerAuthError);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error).toMatchObject({ reason: 'request is not authorized', code: '40110000', status: 401 });
  });

  it("maps 422 to BrokerRejectedError with Alpaca's message and code", async () => {
    const { broker } = connect();
    const error = await broker.placeOrder(order({ symbol: 'ZZZZ' })).catch((caught) => caught);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error).not.toBeInstanceOf(BrokerAuthError);
    expect(error).toMatchObject({ reason: 'asset "ZZZZ" not found', code: '40010001', status: 422 });
    expect(fake.orders(KEY.accountNumber)).toHaveLength(0);
  });

  it('maps 403 insufficient buying power to a rejection', async () => {
    const { broker } = connect();
    const error = await broker.placeOrder(order({ quantity: new Decimal(10_000) })).catch((caught) => caught);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error).toMatchObject({ reason: 'insufficient buying power', status: 403 });
  });

  it('refuses locally what Alpaca would refuse, sending nothing', async () => {
    const { broker } = connect();
    await expect(broker.placeOrder(order({ clientOrderId: 'x'.repeat(129) }))).rejects.toBeInstanceOf(
      BrokerRejectedError,
    );
    await expect(broker.placeOrder(order({ orderType: 'limit' }))).rejects.toThrow(/limit price/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('Alpaca broker: exactly once through ambiguous failures', () => {
  it('after a timeout on an order Alpaca accepted, returns that order without placing it again', async () => {
    const { broker } = connect({ timeoutMs: 300 });
    fake.acceptThenTimeout('hang');
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-timeout' }));
    expect(placed).toMatchObject({ clientOrderId: 'intent-timeout', status: 'filled' });
    expect(fake.orders(KEY.accountNumber)).toHaveLength(1);
    expect(seen()).toEqual(['POST /v2/orders 0', 'GET /v2/orders:by_client_order_id 200']);
  });

  it('after a reset before processing, looks up (404) and then places it once', async () => {
    const { broker } = connect();
    fake.dropNext('POST /v2/orders');
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-dropped' }));
    expect(placed.status).toBe('filled');
    expect(fake.orders(KEY.accountNumber)).toHaveLength(1);
    expect(seen()).toEqual([
      'POST /v2/orders 0',
      'GET /v2/orders:by_client_order_id 404',
      'POST /v2/orders 200',
    ]);
  });

  it('does not retry an order POST that got a 5xx: it looks the order up first', async () => {
    const { broker, sleeps } = connect();
    fake.failNext('POST /v2/orders', { status: 500 });
    await broker.placeOrder(order());
    expect(seen()).toEqual([
      'POST /v2/orders 500',
      'GET /v2/orders:by_client_order_id 404',
      'POST /v2/orders 200',
    ]);
    expect(sleeps).toEqual([]);
    expect(fake.orders(KEY.accountNumber)).toHaveLength(1);
  });

  it('returns the order when Alpaca placed it but answered 5xx', async () => {
    const { broker } = connect();
    fake.failNext('POST /v2/orders', { status: 502, afterProcessing: true });
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-502' }));
    expect(placed.clientOrderId).toBe('intent-502');
    expect(seen()).toEqual(['POST /v2/orders 502', 'GET /v2/orders:by_client_order_id 200']);
    expect(fake.orders(KEY.accountNumber)).toHaveLength(1);
  });

  it('reports an unknown outcome (never "nothing placed") when the lookup after a timeout fails', async () => {
    const { broker } = connect({
      timeoutMs: 300,
      breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 },
    });
    fake.acceptThenTimeout('hang');
    const error = await broker.placeOrder(order()).catch((caught) => caught);
    // The circuit opened on the timeout, so the lookup was not sent; the order does exist.
    expect(error).toBeInstanceOf(BrokerUnreachableError);
    expect(error).not.toBeInstanceOf(BrokerRejectedError);
    expect(fake.orders(KEY.accountNumber)).toHaveLength(1);
    expect(seen()).toEqual(['POST /v2/orders 0']);
  });
});

describe('broker HTTP client against the Alpaca fake', () => {
  it('retries a GET on 5xx up to maxAttempts', async () => {
    const { broker, sleeps } = connect({ retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 } });
    fake.failNext('GET /v2/account', { status: 503, times: 2 });
    const balances = await broker.getBalances(KEY.accountNumber);
    expect(balances.cash.toFixed()).toBe('100000');
    expect(seen()).toEqual(['GET /v2/account 503', 'GET /v2/account 503', 'GET /v2/account 200']);
    expect(sleeps).toHaveLength(2);
    for (const delay of sleeps) expect(delay).toBeGreaterThanOrEqual(0);
    for (const delay of sleeps) expect(delay).toBeLessThanOrEqual(1_000);

    fake.failNext('GET /v2/account', { status: 500, times: 3 });
    await expect(broker.getBalances(KEY.accountNumber)).rejects.toBeInstanceOf(BrokerUnreachableError);
    expect(seen().slice(3)).toEqual(Array(3).fill('GET /v2/account 500'));
  });

  it('waits as long as a 503 Retry-After asks', async () => {
    const { broker, sleeps } = connect();
    fake.failNext('GET /v2/positions', { status: 503, retryAfter: 2 });
    await broker.getPositions(KEY.accountNumber);
    expect(sleeps).toEqual([2000]);
  });

  it('opens the circuit after consecutive failures, sends nothing while open, and closes on a success', async () => {
    const { broker } = connect({
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      breaker: { consecutiveFailures: 4, halfOpenAfterMs: 200 },
    });
    fake.down();
    await expect(broker.getBalances(KEY.accountNumber)).rejects.toBeInstanceOf(BrokerUnreachableError);
    expect(broker.http.health()).toMatchObject({
      status: 'degraded',
      circuit: 'closed',
      consecutiveFailures: 2,
    });
    await expect(broker.getBalances(KEY.accountNumber)).rejects.toBeInstanceOf(BrokerUnreachableError);
    expect(fake.requests).toHaveLength(4);

    const open = await broker.getBalances(KEY.accountNumber).catch((caught) => caught);
    expect(open).toBeInstanceOf(BrokerCircuitOpenError);
    expect(open).toBeInstanceOf(BrokerRejectedError);
    expect(open.reason).toBe('Alpaca is not answering; we stopped sending requests for 1 s.');
    await expect(broker.placeOrder(order())).rejects.toBeInstanceOf(BrokerCircuitOpenError);
    expect(fake.requests).toHaveLength(4);
    const health = broker.http.health();
    expect(health).toMatchObject({
      status: 'down',
      circuit: 'open',
      consecutiveFailures: 4,
      lastError: 'HTTP 503',
    });
    expect(health.lastFailureAt).toBeInstanceOf(Date);

    fake.up();
    await new Promise((resolve) => setTimeout(resolve, 250)); // past halfOpenAfterMs
    await broker.getBalances(KEY.accountNumber);
    expect(fake.requests).toHaveLength(5);
    expect(broker.http.health()).toMatchObject({
      status: 'healthy',
      circuit: 'closed',
      consecutiveFailures: 0,
    });
  });

  it('keeps every window under the bucket limit', async () => {
    const { broker } = connect({ rateLimits: { default: { limit: 3, intervalMs: 300 } } });
    await Promise.all(Array.from({ length: 9 }, () => broker.getBalances(KEY.accountNumber)));
    const arrivals = fake.requests.map((request) => request.receivedAt).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(9);
    // Any 300 ms window holding 4 requests would have a 4th arrival within 300 ms of the 1st.
    for (let i = 0; i + 3 < arrivals.length; i++) {
      expect((arrivals[i + 3] as number) - (arrivals[i] as number)).toBeGreaterThanOrEqual(300);
    }
  });

  it('logs method, path and status, never keys, secrets or query values', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const { broker } = connect({}, { logger });
    fake.failNext('GET /v2/orders:by_client_order_id', { status: 503 });
    await broker.findOrderByClientOrderId(KEY.accountNumber, 'client-id-value-42');
    const output = lines.join('');
    expect(output).toContain('/v2/orders:by_client_order_id');
    expect(output).toContain('client_order_id');
    expect(output).toContain('"status":503');
    expect(output).toContain('"attempt":2');
    expect(output).not.toContain('client-id-value-42');
    expect(output).not.toContain(KEY.keyId);
    expect(output).not.toContain(KEY.secretKey);
  });
});

describe('Alpaca mapping', () => {
  const alpacaOrder = (status: string, filledQty = '0') =>
    alpacaOrderSchema.parse({
      id: 'o-1',
      client_order_id: 'c-1',
      created_at: '2026-01-05T15:00:00.123456Z',
      updated_at: '2026-01-05T15:00:01Z',
      filled_at: filledQty === '0' ? null : '2026-01-05T15:00:01Z',
      symbol: 'AAPL',
      asset_class: 'us_equity',
      qty: '10',
      notional: null,
      filled_qty: filledQty,
      filled_avg_price: filledQty === '0' ? null : '190.25',
      type: 'limit',
      side: 'buy',
      time_in_force: 'day',
      limit_price: '191',
      stop_price: null,
      status,
    });

  it.each([
    ['pending_new', '0', 'pending'],
    ['new', '0', 'accepted'],
    ['accepted', '0', 'accepted'],
    ['held', '0', 'accepted'],
    ['partially_filled', '4', 'partially_filled'],
    ['done_for_day', '4', 'partially_filled'],
    ['done_for_day', '0', 'accepted'],
    ['calculated', '10', 'filled'],
    ['filled', '10', 'filled'],
    ['pending_cancel', '0', 'cancel_requested'],
    ['canceled', '0', 'cancelled'],
    ['replaced', '0', 'cancelled'],
    ['expired', '4', 'expired'],
    ['rejected', '0', 'rejected'],
    ['something_new', '0', 'unknown'],
  ])('maps %s (filled %s) to %s', (status, filled, expected) => {
    expect(orderStatusFor(alpacaOrder(status, filled))).toBe(expected);
  });

  it('reports one fill, under the order id, only once the order is final', () => {
    expect(toBrokerOrder(alpacaOrder('partially_filled', '4')).fills).toEqual([]);
    const expired = toBrokerOrder(alpacaOrder('expired', '4'));
    expect(expired.fills).toHaveLength(1);
    expect(expired.fills[0]).toMatchObject({ id: 'o-1' });
    expect(expired.fills[0]?.quantity.toFixed()).toBe('4');
    expect(expired.fills[0]?.price.toFixed()).toBe('190.25');
  });

  it('writes OCC symbols without padding and decimal strings for amounts', () => {
    expect(
      occSymbol({ underlying: 'AAPL', expiry: '2024-05-17', right: 'put', strike: new Decimal('190') }),
    ).toBe('AAPL240517P00190000');
    expect(
      occSymbol({ underlying: 'F', expiry: '2025-01-17', right: 'call', strike: new Decimal('12.5') }),
    ).toBe('F250117C00012500');
    expect(
      alpacaOrderRequest(
        order({ orderType: 'stop_limit', limitPrice: new Decimal('1.10'), stopPrice: new Decimal('1.05') }),
      ),
    ).toMatchObject({ limit_price: '1.1', stop_price: '1.05', qty: '10', type: 'stop_limit' });
    expect(
      alpacaOrderRequest(order({ assetClass: 'crypto', symbol: 'BTC', timeInForce: 'gtc' })).symbol,
    ).toBe('BTC/USD');
  });
});
