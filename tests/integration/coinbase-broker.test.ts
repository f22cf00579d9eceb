/**
 * The Coinbase Advanced Trade broker against the local Coinbase fake: CDP key JWTs (and OAuth
 * tokens) checked on every request, balances and positions, market/limit/stop-limit orders,
 * sizing refused before any order request, refusals as `success: false`, and orders placed exactly
 * once through timeouts, resets, 5xx, repeated client order ids and 429 storms; the circuit breaker.
 * Waits between retries go through an injected `sleep` that records the delays and returns at once.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signCdpRequestJwt } from '../../src/brokers/coinbase/cdp-jwt.js';
import {
  type CoinbaseAuth,
  CoinbaseBroker,
  type CoinbaseBrokerOptions,
} from '../../src/brokers/coinbase/coinbase-broker.js';
import type { BrokerClientOptions } from '../../src/brokers/http/broker-client-options.js';
import { BrokerAuthError, BrokerCircuitOpenError } from '../../src/brokers/http/errors.js';
import {
  BrokerRejectedError,
  BrokerUnreachableError,
  type PlaceOrderRequest,
} from '../../src/core/brokers/broker.js';
import { Decimal } from '../../src/core/domain/values.js';
import { UnknownInstrumentError } from '../../src/core/market-data/market-data.js';
import { API_PREFIX, FakeCoinbase } from '../fakes/coinbase/fake-coinbase.js';

const KEY_NAME =
  'organizations/3f1c7a52-2d2e-4c43-9a55-0d6f5b1c9e01/apiKeys/9b2f8a0e-6f5c-4d3b-8a1e-7c2d4e5f6a7b';
const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PEM = ecKey.privateKey.export({ format: 'pem', type: 'sec1' }).toString();
const ACCOUNT = 'default';

let fake: FakeCoinbase;

beforeEach(async () => {
  fake = await FakeCoinbase.start();
  fake.addKey(KEY_NAME, ecKey.privateKey);
});

afterEach(async () => {
  await fake.close();
});

function connect(
  http: CoinbaseBrokerOptions['http'] = {},
  extra: Partial<BrokerClientOptions> & { readonly auth?: CoinbaseAuth } = {},
) {
  const sleeps: number[] = [];
  const { auth = { credentials: { keyName: KEY_NAME, privateKey: PEM } }, ...rest } = extra;
  const broker = new CoinbaseBroker({
    apiBase: fake.baseUrl,
    ...auth,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    http: { timeoutMs: 2_000, ...http },
    ...rest,
  });
  return { broker, sleeps };
}

function order(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return {
    accountId: ACCOUNT,
    clientOrderId: randomUUID(),
    side: 'buy',
    assetClass: 'crypto',
    symbol: 'BTC',
    quantity: new Decimal('0.01'),
    orderType: 'market',
    timeInForce: 'gtc',
    ...overrides,
  };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Method, path (without the API prefix, ids as :id) and status of every request the fake saw. */
function seen(): string[] {
  return fake.requests.map(
    (request) =>
      `${request.method} ${request.path.replace(API_PREFIX, '').replace(UUID, ':id')} ${request.status}`,
  );
}

/** An authenticated request straight to the fake, for checks of the fake itself. */
async function rawRequest(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  const url = new URL(`${fake.baseUrl}${API_PREFIX}${path}`);
  const jwt = await signCdpRequestJwt({ name: KEY_NAME, privateKey: PEM }, { method, url });
  return fetch(url, {
    method,
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('Coinbase: authentication', () => {
  it('signs every request with a fresh JWT for its own method and path (EC and Ed25519 keys)', async () => {
    const { broker } = connect();
    await broker.getBalances(ACCOUNT);
    await broker.quote({ assetClass: 'crypto', symbol: 'BTC' });
    expect(fake.requests.map(({ status, kid }) => ({ status, kid }))).toEqual([
      { status: 200, kid: KEY_NAME },
      { status: 200, kid: KEY_NAME },
    ]);

    const edKey = generateKeyPairSync('ed25519');
    const jwk = edKey.privateKey.export({ format: 'jwk' });
    const raw = Buffer.concat([Buffer.from(jwk.d ?? '', 'base64url'), Buffer.from(jwk.x ?? '', 'base64url')]);
    fake.addKey('9b2f8a0e-6f5c-4d3b-8a1e-7c2d4e5f6a70', edKey.privateKey);
    const { broker: ed } = connect(
      {},
      {
        auth: {
          credentials: {
            keyName: '9b2f8a0e-6f5c-4d3b-8a1e-7c2d4e5f6a70',
            privateKey: raw.toString('base64'),
          },
        },
      },
    );
    expect((await ed.getBalances(ACCOUNT)).cash.toFixed()).toBe('10000');
    expect(fake.requests.at(-1)).toMatchObject({ status: 200, kid: '9b2f8a0e-6f5c-4d3b-8a1e-7c2d4e5f6a70' });
  });

  it('a JWT signed by another key under the same name is refused (401 → BrokerAuthError)', async () => {
    const forger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const { broker } = connect(
      {},
      {
        auth: {
          credentials: {
            keyName: KEY_NAME,
            privateKey: forger.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
          },
        },
      },
    );
    const error = await broker.getBalances(ACCOUNT).catch((caught) => caught);
    expect(error).toBeInstanceOf(BrokerAuthError);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.problem).toMatch(/signature/);
  });

  it('an expired JWT is refused, and so is one living longer than 120 s', async () => {
    const { broker } = connect({}, { now: () => new Date(Date.now() - 10 * 60_000) });
    await expect(broker.getBalances(ACCOUNT)).rejects.toBeInstanceOf(BrokerAuthError);
    expect(fake.requests[0]?.problem).toMatch(/"exp" claim/);

    const url = new URL(`${fake.baseUrl}${API_PREFIX}/accounts`);
    const seconds = Math.floor(Date.now() / 1000);
    const longLived = await new SignJWT({ uri: `GET ${url.host}${url.pathname}` })
      .setProtectedHeader({ alg: 'ES256', kid: KEY_NAME, nonce: 'abc123' })
      .setSubject(KEY_NAME)
      .setIssuer('cdp')
      .setNotBefore(seconds)
      .setExpirationTime(seconds + 600)
      .sign(ecKey.privateKey);
    const response = await fetch(url, { headers: { authorization: `Bearer ${longLived}` } });
    expect(response.status).toBe(401);
    expect(fake.requests.at(-1)?.problem).toBe('lifetime');
  });

  it('a JWT is bound to its request: replayed on another path it is refused', async () => {
    const accounts = new URL(`${fake.baseUrl}${API_PREFIX}/accounts`);
    const jwt = await signCdpRequestJwt(
      { name: KEY_NAME, privateKey: PEM },
      { method: 'GET', url: accounts },
    );
    expect((await fetch(accounts, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200);
    const other = await fetch(`${fake.baseUrl}${API_PREFIX}/best_bid_ask`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect(other.status).toBe(401);
    expect(fake.requests.at(-1)?.problem).toMatch(
      /^uri GET 127\.0\.0\.1:\d+\/api\/v3\/brokerage\/accounts != /,
    );
  });

  it('an OAuth-linked user is served with a bearer access token; a revoked one is refused', async () => {
    const token = fake.issueAccessToken();
    const { broker } = connect({}, { auth: { accessToken: async () => token } });
    expect((await broker.getBalances(ACCOUNT)).cash.toFixed()).toBe('10000');
    expect(fake.requests.at(-1)).toMatchObject({ status: 200, kid: undefined });
    fake.revokeAccessToken(token);
    await expect(broker.getBalances(ACCOUNT)).rejects.toBeInstanceOf(BrokerAuthError);
  });

  it('logs method, path and status, never the bearer, the key name or query values', async () => {
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
    fake.failNext('GET /orders/historical/batch', { status: 503 });
    await broker.findOrderByClientOrderId(ACCOUNT, 'client-id-value-42');
    const output = lines.join('');
    expect(output).toContain('/orders/historical/batch');
    expect(output).toContain('"status":503');
    expect(output).not.toContain('client-id-value-42');
    expect(output).not.toContain(KEY_NAME);
    expect(output).not.toContain('Bearer');
  });
});

describe('Coinbase: balances, positions and quotes', () => {
  it('counts USD and USDC as cash, other currencies as positions priced at the best bid', async () => {
    fake.setBalance('USD', '5000');
    fake.setBalance('USDC', '250.5');
    fake.setBalance('BTC', '0.5');
    fake.setBestBidAsk('BTC-USD', '60000', '60010');
    const { broker } = connect();
    const { balances, positions } = await broker.getAccountSnapshot(ACCOUNT);
    expect(balances.cash.toFixed()).toBe('5250.5');
    expect(balances.buyingPower.toFixed()).toBe('5250.5');
    expect(balances.equity.toFixed()).toBe('35250.5');
    expect(balances.currency).toBe('USD');
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: 'BTC', assetClass: 'crypto' });
    expect(positions[0]?.quantity.toFixed()).toBe('0.5');
    expect(positions[0]?.marketPrice?.toFixed()).toBe('60000');
    expect(positions[0]?.marketValue?.toFixed()).toBe('30000');
    expect(seen()).toEqual(['GET /accounts 200', 'GET /best_bid_ask 200']);
  });

  it('follows the accounts cursor, and leaves a currency without a USD book unpriced', async () => {
    for (let i = 0; i < 260; i++) fake.setBalance(`T${String(i).padStart(3, '0')}`, '0');
    fake.setBalance('ZZZ', '42');
    const { broker } = connect();
    const positions = await broker.getPositions(ACCOUNT);
    expect(positions.map((position) => position.symbol)).toEqual(['ZZZ']);
    expect(positions[0]?.marketValue).toBeUndefined();
    expect(seen()).toEqual(['GET /accounts 200', 'GET /accounts 200', 'GET /best_bid_ask 200']);
  });

  it('money held for a resting order is cash but not buying power', async () => {
    const { broker } = connect();
    await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal('50000') }));
    const balances = await broker.getBalances(ACCOUNT);
    // 0.01 BTC at $50,000 plus the 0.6 % fee the hold covers.
    expect(fake.balance('USD')).toEqual({ available: '9497', hold: '503' });
    expect(balances.cash.toFixed()).toBe('10000');
    expect(balances.buyingPower.toFixed()).toBe('9497');
    // The hold is what is reserved, and already out of buying power: nobody takes it off again.
    expect(balances.reserved?.toFixed()).toBe('503');
    expect(balances.netsWorkingOrders).toBe(true);
  });

  it("quotes crypto from Coinbase's book; other asset classes are not Coinbase's", async () => {
    fake.setBestBidAsk('ETH-USD', '3000.00', '3001.00');
    const { broker } = connect();
    const quote = await broker.quote({ assetClass: 'crypto', symbol: 'ETH' });
    expect(quote).toMatchObject({ symbol: 'ETH', assetClass: 'crypto', source: 'coinbase' });
    expect(quote?.bid.toFixed()).toBe('3000');
    expect(quote?.ask.toFixed()).toBe('3001');
    expect(quote?.last.toFixed()).toBe('3000.5');
    expect(await broker.quote({ assetClass: 'equity', symbol: 'AAPL' })).toBeUndefined();
    await expect(broker.quote({ assetClass: 'crypto', symbol: 'DOGE' })).rejects.toBeInstanceOf(
      UnknownInstrumentError,
    );
    expect(seen()).toEqual(['GET /best_bid_ask 200', 'GET /best_bid_ask 200']);
  });
});

describe('Coinbase: orders', () => {
  it('buys a dollar amount at the ask, fee included, and the wallets move', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ quantity: undefined, notional: new Decimal(50) }));
    // $50 with the 0.6 % fee inside: 50 / 1.006 / 64010, in whole satoshis.
    const bought = new Decimal(50).div('1.006').div(64010).toDecimalPlaces(8, Decimal.ROUND_DOWN);
    expect(placed).toMatchObject({ status: 'filled', symbol: 'BTC', side: 'buy', orderType: 'market' });
    expect(placed.notional?.toFixed()).toBe('50');
    expect(placed.filledQuantity.toFixed()).toBe(bought.toFixed());
    expect(placed.averageFillPrice?.toFixed()).toBe('64010');
    expect(placed.fills).toHaveLength(1);
    const fee = bought.mul(64010).mul('0.006');
    expect(placed.fills[0]?.fee.toFixed()).toBe(fee.toFixed());
    expect(fake.orders()[0]).toMatchObject({
      order_configuration: { market_market_ioc: { quote_size: '50' } },
    });
    expect(fake.balance('BTC').available).toBe(bought.toFixed());
    expect(fake.balance('USD').available).toBe(new Decimal(10000).sub(bought.mul(64010)).sub(fee).toFixed());
    expect(new Decimal(fake.balance('USD').available).greaterThanOrEqualTo(9950)).toBe(true);
  });

  it('buys and sells a base size at the ask and the bid', async () => {
    const { broker } = connect();
    const bought = await broker.placeOrder(order({ quantity: new Decimal('0.01') }));
    expect(bought.status).toBe('filled');
    expect(bought.filledQuantity.toFixed()).toBe('0.01');
    expect(bought.averageFillPrice?.toFixed()).toBe('64010');
    expect(bought.fills[0]?.fee.toFixed()).toBe('3.8406');
    expect(fake.balance('USD').available).toBe('9356.0594');

    const sold = await broker.placeOrder(order({ side: 'sell', quantity: new Decimal('0.004') }));
    expect(sold).toMatchObject({ status: 'filled', side: 'sell' });
    expect(sold.averageFillPrice?.toFixed()).toBe('64000');
    expect(fake.balance('USD').available).toBe('9610.5234');
    expect((await broker.getPositions(ACCOUNT))[0]?.quantity.toFixed()).toBe('0.006');
  });

  it('rests a limit order until the book reaches it, then fills it at the limit', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(
      order({ orderType: 'limit', limitPrice: new Decimal('63000'), quantity: new Decimal('0.01') }),
    );
    expect(placed).toMatchObject({ status: 'accepted', orderType: 'limit' });
    expect(placed.limitPrice?.toFixed()).toBe('63000');
    expect(placed.fills).toEqual([]);
    expect(fake.orders()[0]).toMatchObject({
      order_configuration: { limit_limit_gtc: { base_size: '0.01', limit_price: '63000', post_only: false } },
    });
    expect((await broker.listOpenOrders(ACCOUNT)).map((open) => open.brokerOrderId)).toEqual([
      placed.brokerOrderId,
    ]);

    expect(fake.fillRestingOrders()).toBe(0);
    fake.setBestBidAsk('BTC-USD', '62900', '62950');
    expect(fake.fillRestingOrders()).toBe(1);
    const filled = await broker.getOrder(ACCOUNT, placed.brokerOrderId);
    expect(filled?.status).toBe('filled');
    expect(filled?.averageFillPrice?.toFixed()).toBe('63000');
    expect(filled?.fills.map((fill) => fill.fee.toFixed())).toEqual(['2.52']);
    expect(await broker.listOpenOrders(ACCOUNT)).toEqual([]);
    expect(fake.balance('USD')).toEqual({ available: '9367.48', hold: '0' });
  });

  it('sends a day limit order as good-till-date, 24 hours ahead', async () => {
    const at = new Date();
    const { broker } = connect({}, { now: () => at });
    await broker.placeOrder(
      order({ orderType: 'limit', limitPrice: new Decimal('60000'), timeInForce: 'day' }),
    );
    expect(fake.orders()[0]).toMatchObject({
      time_in_force: 'GOOD_UNTIL_DATE_TIME',
      order_configuration: {
        limit_limit_gtd: { end_time: new Date(at.getTime() + 24 * 3600_000).toISOString() },
      },
    });
  });

  it('places a sell stop-limit (stop down) that triggers and fills when the bid falls', async () => {
    fake.setBalance('BTC', '0.01');
    const { broker } = connect();
    const placed = await broker.placeOrder(
      order({
        side: 'sell',
        orderType: 'stop_limit',
        quantity: new Decimal('0.005'),
        stopPrice: new Decimal('60000'),
        limitPrice: new Decimal('59900'),
      }),
    );
    expect(placed).toMatchObject({ status: 'accepted', orderType: 'stop_limit' });
    expect(placed.stopPrice?.toFixed()).toBe('60000');
    expect(fake.orders()[0]).toMatchObject({
      order_configuration: {
        stop_limit_stop_limit_gtc: {
          base_size: '0.005',
          limit_price: '59900',
          stop_price: '60000',
          stop_direction: 'STOP_DIRECTION_STOP_DOWN',
        },
      },
      trigger_status: 'STOP_PENDING',
    });
    expect(fake.balance('BTC')).toEqual({ available: '0.005', hold: '0.005' });

    fake.setBestBidAsk('BTC-USD', '60100', '60110');
    expect(fake.fillRestingOrders()).toBe(0);
    fake.setBestBidAsk('BTC-USD', '59950', '59960');
    expect(fake.fillRestingOrders()).toBe(1);
    const filled = await broker.getOrder(ACCOUNT, placed.brokerOrderId);
    expect(filled).toMatchObject({ status: 'filled', orderType: 'stop_limit' });
    expect(filled?.averageFillPrice?.toFixed()).toBe('59900');
    expect(fake.balance('BTC')).toEqual({ available: '0.005', hold: '0' });
  });

  it('cancels a resting order (its hold released), and refuses to cancel it twice', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal('50000') }));
    const cancelled = await broker.cancelOrder(ACCOUNT, placed.brokerOrderId);
    expect(cancelled.status).toBe('cancelled');
    expect(fake.balance('USD')).toEqual({ available: '10000', hold: '0' });
    const again = await broker.cancelOrder(ACCOUNT, placed.brokerOrderId).catch((error) => error);
    expect(again).toBeInstanceOf(BrokerRejectedError);
    expect(again).toMatchObject({ code: 'INVALID_CANCEL_REQUEST' });
    const unknown = await broker.cancelOrder(ACCOUNT, randomUUID()).catch((error) => error);
    expect(unknown).toMatchObject({ reason: 'no such order', code: 'UNKNOWN_CANCEL_ORDER' });
  });

  it('finds orders by client order id and id, and answers undefined for unknown ones', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(order({ clientOrderId: 'A1B2C3D4E5F6A7B8C9D0' }));
    const found = await broker.findOrderByClientOrderId(ACCOUNT, 'A1B2C3D4E5F6A7B8C9D0');
    expect(found?.brokerOrderId).toBe(placed.brokerOrderId);
    expect(found?.fills).toHaveLength(1);
    expect(await broker.findOrderByClientOrderId(ACCOUNT, 'never-placed')).toBeUndefined();
    expect(await broker.getOrder(ACCOUNT, randomUUID())).toBeUndefined();
    const reconciled = await broker.reconcilePlacement(
      order({ clientOrderId: 'A1B2C3D4E5F6A7B8C9D0' }),
      new Date(),
    );
    expect(reconciled?.brokerOrderId).toBe(placed.brokerOrderId);
    expect(seen().filter((line) => line.startsWith('POST'))).toEqual(['POST /orders 200']);
  });

  it('previews fees and totals without placing anything', async () => {
    const { broker } = connect();
    const preview = await broker.previewOrder(order({ quantity: new Decimal('0.01') }));
    expect(preview.productId).toBe('BTC-USD');
    expect(preview.commissionTotal.toFixed()).toBe('3.8406');
    expect(preview.orderTotal.toFixed()).toBe('643.9406');
    expect(preview.baseSize?.toFixed()).toBe('0.01');
    expect(preview.bestAsk?.toFixed()).toBe('64010');
    expect(fake.orders()).toEqual([]);
    expect(seen()).toEqual(['GET /products/BTC-USD 200', 'POST /orders/preview 200']);

    const refused = await broker.previewOrder(order({ quantity: new Decimal('1') })).catch((error) => error);
    expect(refused).toBeInstanceOf(BrokerRejectedError);
    expect(refused).toMatchObject({
      reason: 'there is not enough money available in the Coinbase account for this order',
      code: 'PREVIEW_INSUFFICIENT_FUND',
    });
  });
});

describe('Coinbase: time in force and previews for cards', () => {
  it('applies immediate-or-cancel to every market order, and the time in force asked to limits', async () => {
    const { broker } = connect();
    const ask = (orderType: 'market' | 'limit', timeInForce: 'day' | 'gtc' | 'ioc' | 'fok') =>
      broker.appliedTimeInForce({ assetClass: 'crypto', orderType, timeInForce });
    expect(await ask('market', 'gtc')).toBe('ioc');
    expect(await ask('market', 'day')).toBe('ioc');
    expect(await ask('limit', 'gtc')).toBe('gtc');
    expect(await ask('limit', 'day')).toBe('day');
    // What is sent agrees: a market order "gtc" goes out as market_market_ioc.
    await broker.placeOrder(order({ timeInForce: 'gtc', quantity: new Decimal('0.001') }));
    expect(Object.keys(fake.orders()[0]?.['order_configuration'] ?? {})).toEqual(['market_market_ioc']);
    expect(fake.orders()[0]).toMatchObject({ time_in_force: 'IMMEDIATE_OR_CANCEL' });
  });

  it('a preview that prices only what fills at once answers 0 for a resting limit', async () => {
    // Why the card estimates a limit order at quantity x limit and not at the preview's total.
    fake.previewRestingAtZero();
    const { broker } = connect();
    const resting = await broker.previewCost(
      order({ orderType: 'limit', limitPrice: new Decimal('59000'), quantity: new Decimal('0.001') }),
    );
    expect(resting.total.toFixed()).toBe('0');
    const market = await broker.previewCost(order({ quantity: new Decimal('0.001') }));
    expect(market.total.toFixed()).toBe('64.39406');
  });
});

describe('Coinbase: lists read element by element', () => {
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

  it('reads the zeros and nulls of an unfilled order as Coinbase lists them', async () => {
    const { broker } = connect();
    const placed = await broker.placeOrder(
      order({ orderType: 'limit', limitPrice: new Decimal('50000'), quantity: new Decimal('0.001') }),
    );
    expect(fake.orders()[0]).toMatchObject({
      filled_size: '0',
      average_filled_price: '0',
      settled: null,
      last_fill_time: null,
    });
    const [open] = await broker.listOpenOrders(ACCOUNT);
    expect(open).toMatchObject({ brokerOrderId: placed.brokerOrderId, status: 'accepted' });
    expect(open?.filledQuantity.toFixed()).toBe('0');
    expect(open?.averageFillPrice).toBeUndefined();
    // Empty wallets are listed at "0" and are not positions.
    expect(await broker.getPositions(ACCOUNT)).toEqual([]);
  });

  it('skips an order, a fill and an account it cannot read, logs their ids, and keeps the rest', async () => {
    const { lines, logger } = capturedLogger();
    fake.setBalance('BTC', '0.5');
    const { broker } = connect({}, { logger });
    const filled = await broker.placeOrder(
      order({ clientOrderId: 'C-FILLED', quantity: new Decimal('0.001') }),
    );
    const [listed] = fake.orders();
    fake.listRaw('orders', { ...listed, order_id: 'odd-order', side: 'UNKNOWN_ORDER_SIDE' });
    fake.listRaw('orders', { ...listed, order_id: 'no-time', created_time: null });
    fake.listRaw('fills', { entry_id: 'odd-fill', order_id: filled.brokerOrderId, price: null, size: '1' });
    fake.listRaw('accounts', { uuid: 'odd-wallet', currency: 'XYZ', available_balance: null });

    const found = await broker.findOrderByClientOrderId(ACCOUNT, 'C-FILLED');
    expect(found?.brokerOrderId).toBe(filled.brokerOrderId);
    expect(found?.fills).toHaveLength(1);
    const snapshot = await broker.getAccountSnapshot(ACCOUNT);
    expect(snapshot.positions.map((position) => position.symbol)).toEqual(['BTC']);
    expect(snapshot.balances.cash.greaterThan(0)).toBe(true);

    const ids = skipped(lines).map((line) => [line['list'], line['id'], line['issues']]);
    expect(ids).toEqual(
      expect.arrayContaining([
        ['orders', 'odd-order', ['side: invalid_value']],
        ['orders', 'no-time', ['created_time: invalid_type']],
        ['fills', 'odd-fill', ['trade_time: invalid_type', 'price: invalid_type']],
        ['accounts', 'odd-wallet', ['available_balance: invalid_type']],
      ]),
    );
    expect(skipped(lines).every((line) => line['provider'] === 'coinbase')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(KEY_NAME);
  });
});

describe('Coinbase: refusals', () => {
  it('refuses a size below the minimum before any order request reaches Coinbase', async () => {
    const { broker } = connect();
    const tiny = await broker
      .placeOrder(order({ quantity: new Decimal('0.000001') }))
      .catch((error) => error);
    expect(tiny).toBeInstanceOf(BrokerRejectedError);
    expect(tiny.reason).toBe('The smallest BTC order on Coinbase is 0.00001 BTC.');
    const cents = await broker
      .placeOrder(order({ quantity: undefined, notional: new Decimal('0.5') }))
      .catch((error) => error);
    expect(cents.reason).toBe('The smallest BTC order on Coinbase is $1.00.');
    expect(seen()).toEqual(['GET /products/BTC-USD 200', 'GET /products/BTC-USD 200']);
    expect(fake.orders()).toEqual([]);
  });

  it('refuses an order that was not sized to the increments, saying what it would be', async () => {
    const { broker } = connect();
    const error = await broker.placeOrder(order({ quantity: new Decimal('0.123456789') })).catch((e) => e);
    expect(error).toMatchObject({ code: 'not_sized' });
    expect(error.reason).toContain('buy 0.12345678 BTC');
    expect(seen()).toEqual(['GET /products/BTC-USD 200']);
  });

  it('refuses locally what Coinbase cannot take, sending nothing', async () => {
    const { broker } = connect();
    await expect(broker.placeOrder(order({ assetClass: 'equity', symbol: 'AAPL' }))).rejects.toThrow(
      /crypto only/,
    );
    await expect(broker.placeOrder(order({ orderType: 'stop', stopPrice: new Decimal(1) }))).rejects.toThrow(
      /no stop market orders/,
    );
    await expect(
      broker.placeOrder(order({ side: 'sell', quantity: undefined, notional: new Decimal(50) })),
    ).rejects.toThrow(/say how much BTC to sell/);
    expect(fake.requests).toHaveLength(0);
    await expect(broker.placeOrder(order({ symbol: 'DOGE' }))).rejects.toThrow(
      'Coinbase does not trade DOGE-USD.',
    );
  });

  it('turns success:false into BrokerRejectedError with a reason people can read', async () => {
    const { broker } = connect();
    const broke = await broker.placeOrder(order({ quantity: new Decimal('1') })).catch((error) => error);
    expect(broke).toBeInstanceOf(BrokerRejectedError);
    expect(broke).toMatchObject({
      reason: 'there is not enough money available in the Coinbase account for this order',
      code: 'PREVIEW_INSUFFICIENT_FUND',
    });
    const nothingToSell = await broker.placeOrder(order({ side: 'sell' })).catch((error) => error);
    expect(nothingToSell.reason).toBe(
      'there is not enough BTC available in the Coinbase account for this order',
    );
    expect(seen().filter((line) => line.startsWith('POST'))).toEqual([
      'POST /orders 200',
      'POST /orders 200',
    ]);
    expect(fake.orders()).toEqual([]);
  });

  it('the fake refuses an invalid size with success:false, as Coinbase does', async () => {
    const below = await rawRequest('POST', '/orders', {
      client_order_id: 'raw-1',
      product_id: 'BTC-USD',
      side: 'BUY',
      order_configuration: { market_market_ioc: { base_size: '0.000001' } },
    });
    expect(below.status).toBe(200);
    expect(await below.json()).toMatchObject({
      success: false,
      error_response: { preview_failure_reason: 'PREVIEW_INVALID_BASE_SIZE_TOO_SMALL' },
    });
    const precision = await rawRequest('POST', '/orders', {
      client_order_id: 'raw-2',
      product_id: 'BTC-USD',
      side: 'BUY',
      order_configuration: { market_market_ioc: { base_size: '0.000100001' } },
    });
    expect(await precision.json()).toMatchObject({
      success: false,
      error_response: { new_order_failure_reason: 'INVALID_SIZE_PRECISION' },
    });
    expect(fake.orders()).toEqual([]);
  });
});

describe('Coinbase: exactly once through ambiguous failures', () => {
  it('after a timeout on an order Coinbase accepted, finds that order without placing it again', async () => {
    const { broker } = connect({ timeoutMs: 300 });
    fake.acceptThenTimeout('hang');
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-timeout' }));
    expect(placed).toMatchObject({ clientOrderId: 'intent-timeout', status: 'filled' });
    expect(fake.orders()).toHaveLength(1);
    expect(seen()).toEqual([
      'GET /products/BTC-USD 200',
      'POST /orders 0',
      'GET /orders/historical/batch 200',
      'GET /orders/historical/fills 200',
    ]);
  });

  it('after a reset before processing, looks up (not listed) and sends the same client order id once more', async () => {
    const { broker } = connect();
    fake.dropNext('POST /orders');
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-dropped' }));
    expect(placed.status).toBe('filled');
    expect(fake.orders()).toHaveLength(1);
    expect(seen()).toEqual([
      'GET /products/BTC-USD 200',
      'POST /orders 0',
      'GET /orders/historical/batch 200',
      'POST /orders 200',
      'GET /orders/historical/:id 200',
      'GET /orders/historical/fills 200',
    ]);
  });

  it('returns the order when Coinbase placed it but answered 5xx, without retrying the POST', async () => {
    const { broker, sleeps } = connect();
    fake.failNext('POST /orders', { status: 502, afterProcessing: true });
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-502' }));
    expect(placed.clientOrderId).toBe('intent-502');
    expect(sleeps).toEqual([]);
    expect(seen().filter((line) => line.startsWith('POST'))).toEqual(['POST /orders 502']);
    expect(fake.orders()).toHaveLength(1);
  });

  it('rides out a 429 storm, honouring Retry-After, and places the order once', async () => {
    const { broker, sleeps } = connect();
    fake.failNext('*', { status: 429, retryAfter: 1, times: 2 });
    fake.failNext('POST /orders', { status: 429, retryAfter: 2, times: 3 });
    const placed = await broker.placeOrder(order());
    expect(placed.status).toBe('filled');
    expect(fake.orders()).toHaveLength(1);
    expect(seen().slice(0, 7)).toEqual([
      'GET /products/BTC-USD 429',
      'GET /products/BTC-USD 429',
      'GET /products/BTC-USD 200',
      'POST /orders 429',
      'POST /orders 429',
      'POST /orders 429',
      'POST /orders 200',
    ]);
    expect(sleeps).toEqual([1000, 1000, 2000, 2000, 2000]);
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
    expect(fake.orders()).toHaveLength(1);
    expect(seen()).toEqual(['GET /products/BTC-USD 200', 'POST /orders 0']);
  });

  it('reports a placed order as pending when reading it back fails', async () => {
    const { broker } = connect({ retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    fake.failNext('GET /orders/historical/*', { status: 503 });
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-unread' }));
    expect(placed).toMatchObject({ clientOrderId: 'intent-unread', status: 'pending', symbol: 'BTC' });
    expect(placed.brokerOrderId).toBe(fake.orders()[0]?.['order_id']);
    expect(fake.orders()).toHaveLength(1);
    expect(seen().slice(1)).toEqual(['POST /orders 200', 'GET /orders/historical/:id 503']);
  });
});

describe('Coinbase: circuit breaker', () => {
  it('opens after consecutive failures, sends nothing while open, and closes on a success', async () => {
    const { broker } = connect({
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      breaker: { consecutiveFailures: 4, halfOpenAfterMs: 200 },
    });
    fake.down();
    await expect(broker.getBalances(ACCOUNT)).rejects.toBeInstanceOf(BrokerUnreachableError);
    await expect(broker.getBalances(ACCOUNT)).rejects.toBeInstanceOf(BrokerUnreachableError);
    expect(fake.requests).toHaveLength(4);

    const open = await broker.getBalances(ACCOUNT).catch((caught) => caught);
    expect(open).toBeInstanceOf(BrokerCircuitOpenError);
    expect(open.reason).toBe('Coinbase is not answering; we stopped sending requests for 1 s.');
    await expect(broker.placeOrder(order())).rejects.toBeInstanceOf(BrokerCircuitOpenError);
    expect(fake.requests).toHaveLength(4);
    expect(broker.http.health()).toMatchObject({ status: 'down', circuit: 'open', lastError: 'HTTP 503' });

    fake.up();
    await new Promise((resolve) => setTimeout(resolve, 250)); // past halfOpenAfterMs
    expect((await broker.getBalances(ACCOUNT)).cash.toFixed()).toBe('10000');
    expect(broker.http.health()).toMatchObject({
      status: 'healthy',
      circuit: 'closed',
      consecutiveFailures: 0,
    });
    const placed = await broker.placeOrder(order());
    expect(placed.status).toBe('filled');
  });
});
