/**
 * The Schwab broker against the local Schwab fake and OAuth 2.0 provider: orders of every type,
 * options with the padded symbol and open/close instructions, balances and positions in one call,
 * tokens that expire mid-session, and exactly-once placement WITHOUT a client order id through
 * timeouts, resets, 5xx and 429 storms (the fake, like Schwab, places a second order if posted
 * twice). Waits go through an injected `sleep` that records the delays and returns at once; both
 * fakes and the broker share one test clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BrokerAuthError,
  BrokerCircuitOpenError,
  BrokerRequestRejectedError,
} from '../../src/brokers/http/errors.js';
import {
  RECHECK_DELAY_MS,
  SchwabBroker,
  type SchwabBrokerOptions,
} from '../../src/brokers/schwab/schwab-broker.js';
import {
  BrokerRejectedError,
  BrokerUnreachableError,
  type PlaceOrderRequest,
} from '../../src/core/brokers/broker.js';
import { Decimal } from '../../src/core/domain/values.js';
import { UnknownInstrumentError } from '../../src/core/market-data/market-data.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { FakeSchwab } from '../fakes/schwab/fake-schwab.js';

const CLIENT = {
  clientId: 'schwab-app-key',
  clientSecret: 'schwab-app-secret',
  redirectUris: ['https://127.0.0.1:8182/callback'],
  auth: 'basic' as const,
  requirePkce: false,
};
const ACCOUNT_NUMBER = '12345678';
const PUT_190 = 'AAPL  240517P00190000';
const BASIC = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`;

let clock: Date;
let oauth: FakeOAuth2Provider;
let schwab: FakeSchwab;
let hash: string;

beforeEach(async () => {
  clock = new Date('2024-05-13T14:30:00.000Z');
  oauth = await FakeOAuth2Provider.start({ clients: [CLIENT], issueIdToken: true, now: () => clock });
  schwab = await FakeSchwab.start({
    oauth,
    accounts: [{ accountNumber: ACCOUNT_NUMBER, cash: '100000' }],
    now: () => clock,
  });
  schwab.setPrice('AAPL', '190.00');
  hash = schwab.hashOf(ACCOUNT_NUMBER);
});

afterEach(async () => {
  await schwab.close();
  await oauth.close();
});

interface TokenSet {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
}

async function tokenRequest(form: Record<string, string>): Promise<TokenSet> {
  const response = await fetch(oauth.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string; refresh_token: string; expires_in: number };
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiresAt: new Date(clock.getTime() + body.expires_in * 1000),
  };
}

/** Signs in at the fake provider as the Schwab linking flow does. */
async function signIn(): Promise<TokenSet> {
  const authorize = new URL(oauth.authorizationEndpoint);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.clientId,
    redirect_uri: CLIENT.redirectUris[0] ?? '',
    state: 'state-1',
  }).toString();
  const callback = await oauth.approve(authorize);
  return tokenRequest({
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: CLIENT.redirectUris[0] ?? '',
  });
}

/**
 * A token source like ConnectionTokens.accessToken: the stored token while it has more than a
 * minute left (by the test clock), else a refresh at the provider first.
 */
async function tokenSource(): Promise<{ accessToken: () => Promise<string>; refreshes: () => number }> {
  let tokens = await signIn();
  let refreshes = 0;
  return {
    accessToken: async () => {
      if (tokens.expiresAt.getTime() - clock.getTime() <= 60_000) {
        tokens = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
        refreshes += 1;
      }
      return tokens.accessToken;
    },
    refreshes: () => refreshes,
  };
}

async function connect(
  http: SchwabBrokerOptions['http'] = {},
  extra: Partial<SchwabBrokerOptions> = {},
): Promise<{ broker: SchwabBroker; sleeps: number[] }> {
  const sleeps: number[] = [];
  const { accessToken } = await tokenSource();
  const broker = new SchwabBroker({
    apiBase: schwab.baseUrl,
    accessToken,
    now: () => clock,
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
    accountId: hash,
    clientOrderId: `intent-${Math.random().toString(36).slice(2)}`,
    side: 'buy',
    assetClass: 'equity',
    symbol: 'AAPL',
    quantity: new Decimal(10),
    orderType: 'market',
    timeInForce: 'day',
    ...overrides,
  };
}

function putOrder(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return order({
    side: 'sell',
    assetClass: 'option',
    symbol: PUT_190,
    option: { underlying: 'AAPL', expiry: '2024-05-17', right: 'put', strike: new Decimal(190) },
    quantity: new Decimal(1),
    orderType: 'limit',
    limitPrice: new Decimal('1.00'),
    ...overrides,
  });
}

/** Method, path (account hash elided) and status or outcome of every request the fake saw. */
function seen(): string[] {
  return schwab.requests.map(
    (request) =>
      `${request.method} ${request.path.replace(hash, '{hash}')} ${request.status ?? request.outcome}`,
  );
}

const ORDERS = `/trader/v1/accounts/{hash}/orders`;

function orderPosts(): unknown[] {
  return schwab.requests
    .filter((request) => request.method === 'POST' && request.path.endsWith('/orders'))
    .map((request) => request.body);
}

describe('Schwab broker: the happy path', () => {
  it('fills a market order with its fills, then shows cash and the position in one call', async () => {
    const { broker } = await connect();
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-1' }));
    expect(placed).toMatchObject({
      clientOrderId: 'intent-1',
      status: 'filled',
      symbol: 'AAPL',
      side: 'buy',
    });
    expect(placed.orderType).toBe('market');
    expect(placed.filledQuantity.toFixed()).toBe('10');
    expect(placed.averageFillPrice?.toFixed()).toBe('190');
    expect(placed.fills).toHaveLength(1);
    expect(placed.fills[0]?.quantity.toFixed()).toBe('10');
    expect(placed.fills[0]?.price.toFixed()).toBe('190');
    expect(placed.fills[0]?.at).toEqual(clock);
    expect(schwab.orders(hash)).toHaveLength(1);
    expect(orderPosts()).toEqual([
      {
        orderType: 'MARKET',
        session: 'NORMAL',
        duration: 'DAY',
        orderStrategyType: 'SINGLE',
        orderLegCollection: [
          { instruction: 'BUY', quantity: 10, instrument: { symbol: 'AAPL', assetType: 'EQUITY' } },
        ],
      },
    ]);

    schwab.setPrice('AAPL', '200.00');
    const before = schwab.requests.length;
    const { balances, positions } = await broker.getAccountSnapshot(hash);
    expect(schwab.requests.length - before).toBe(1);
    expect(seen().at(-1)).toBe('GET /trader/v1/accounts/{hash} 200');
    expect(schwab.requests.at(-1)?.query).toBe('?fields=positions');
    expect(balances.cash.toFixed()).toBe('98100');
    expect(balances.buyingPower.toFixed()).toBe('98100');
    expect(balances.equity.toFixed()).toBe('100100');
    expect(balances.currency).toBe('USD');
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: 'AAPL', assetClass: 'equity' });
    expect(positions[0]?.quantity.toFixed()).toBe('10');
    expect(positions[0]?.averageCost.toFixed()).toBe('190');
    expect(positions[0]?.marketValue?.toFixed()).toBe('2000');
    expect(positions[0]?.marketPrice?.toFixed()).toBe('200');
    expect(positions[0]?.unrealizedPnl?.toFixed()).toBe('100');

    expect((await broker.findOrderByClientOrderId(hash, 'intent-1'))?.brokerOrderId).toBe(
      placed.brokerOrderId,
    );
    expect(await broker.findOrderByClientOrderId(hash, 'never-placed')).toBeUndefined();
    expect(await broker.getOrder(hash, '999')).toBeUndefined();
  });

  it('returns the first order when the same client order id is placed again', async () => {
    const { broker } = await connect();
    const request = order({ clientOrderId: 'intent-twice' });
    const first = await broker.placeOrder(request);
    const second = await broker.placeOrder(request);
    expect(second.brokerOrderId).toBe(first.brokerOrderId);
    expect(schwab.orders(hash)).toHaveLength(1);
  });

  it('rests a limit order, lists it as open, and reports it filled once the market reaches it', async () => {
    const { broker } = await connect();
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
    expect(orderPosts()[0]).toMatchObject({ price: '185.50', duration: 'GOOD_TILL_CANCEL' });
    const open = await broker.listOpenOrders(hash);
    expect(open.map((entry) => entry.brokerOrderId)).toEqual([placed.brokerOrderId]);
    expect(open[0]?.clientOrderId).toBe(placed.clientOrderId);

    schwab.fillRestingOrders();
    expect((await broker.getOrder(hash, placed.brokerOrderId))?.status).toBe('accepted');
    schwab.setPrice('AAPL', '185.00');
    schwab.fillRestingOrders();
    const filled = await broker.getOrder(hash, placed.brokerOrderId);
    expect(filled?.status).toBe('filled');
    // The fake fills a buy limit at the better of limit and market.
    expect(filled?.averageFillPrice?.toFixed()).toBe('185');
    expect(filled?.fills).toHaveLength(1);
    expect(await broker.listOpenOrders(hash)).toEqual([]);
  });

  it('reports partial fills as fills with stable ids and keeps the order open', async () => {
    const { broker } = await connect();
    const placed = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal(150) }));
    schwab.fillOrder(hash, Number(placed.brokerOrderId), { quantity: 4, price: '149.50' });
    const partial = await broker.getOrder(hash, placed.brokerOrderId);
    expect(partial?.status).toBe('partially_filled');
    expect(partial?.filledQuantity.toFixed()).toBe('4');
    schwab.fillOrder(hash, Number(placed.brokerOrderId), { price: '150' });
    const done = await broker.getOrder(hash, placed.brokerOrderId);
    expect(done?.status).toBe('filled');
    expect(done?.fills.map((fill) => fill.quantity.toFixed())).toEqual(['4', '6']);
    expect(done?.fills[0]?.id).toBe(partial?.fills[0]?.id);
    expect(new Set(done?.fills.map((fill) => fill.id)).size).toBe(2);
    expect(done?.averageFillPrice?.toFixed()).toBe('149.8');
  });

  it('cancels a resting order, and refuses to cancel it twice', async () => {
    const { broker } = await connect();
    const placed = await broker.placeOrder(order({ orderType: 'stop', stopPrice: new Decimal('201.999') }));
    expect(orderPosts()[0]).toMatchObject({ orderType: 'STOP', stopPrice: '201.99' });
    const cancelled = await broker.cancelOrder(hash, placed.brokerOrderId);
    expect(cancelled.status).toBe('cancelled');
    expect(await broker.listOpenOrders(hash)).toEqual([]);
    const again = await broker.cancelOrder(hash, placed.brokerOrderId).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(BrokerRequestRejectedError);
    expect(again).toMatchObject({ status: 400 });
    expect((again as BrokerRejectedError).reason).toMatch(
      /^Order is not cancelable: Order \d+ is CANCELED\.$/,
    );
  });

  it('accepts the plain account number and resolves its hash once', async () => {
    const { broker } = await connect();
    expect(await broker.listAccounts()).toEqual([{ accountNumber: ACCOUNT_NUMBER, hashValue: hash }]);
    await broker.getBalances(ACCOUNT_NUMBER);
    await broker.placeOrder(order({ accountId: ACCOUNT_NUMBER }));
    expect(seen().filter((line) => line.includes('accountNumbers'))).toHaveLength(1);
    expect(schwab.orders(hash)).toHaveLength(1);
  });
});

describe('Schwab broker: options', () => {
  it('sells 1 AAPL put 190 May 17 at 1.00 to open, then buys it back to close', async () => {
    const { broker } = await connect();
    const sold = await broker.placeOrder(putOrder());
    expect(orderPosts()[0]).toEqual({
      orderType: 'LIMIT',
      session: 'NORMAL',
      duration: 'DAY',
      orderStrategyType: 'SINGLE',
      complexOrderStrategyType: 'NONE',
      price: '1.00',
      orderLegCollection: [
        { instruction: 'SELL_TO_OPEN', quantity: 1, instrument: { symbol: PUT_190, assetType: 'OPTION' } },
      ],
    });
    expect(sold).toMatchObject({ symbol: PUT_190, side: 'sell', status: 'accepted', orderType: 'limit' });
    schwab.fillRestingOrders();
    expect((await broker.getOrder(hash, sold.brokerOrderId))?.status).toBe('filled');
    expect(schwab.position(hash, PUT_190)).toBe(-1);
    const positions = await broker.getPositions(hash);
    expect(positions.find((position) => position.symbol === PUT_190)).toMatchObject({ assetClass: 'option' });
    expect(positions.find((position) => position.symbol === PUT_190)?.quantity.toFixed()).toBe('-1');

    await broker.placeOrder(putOrder({ side: 'buy', orderType: 'market', limitPrice: undefined }));
    expect(orderPosts()[1]).toMatchObject({
      orderLegCollection: [{ instruction: 'BUY_TO_CLOSE', quantity: 1, instrument: { symbol: PUT_190 } }],
    });
    expect(schwab.position(hash, PUT_190)).toBe(0);
  });

  it('sends prices below $1 with four decimals, truncated', async () => {
    const { broker } = await connect();
    await broker.placeOrder(
      putOrder({
        side: 'buy',
        option: { underlying: 'AAPL', expiry: '2024-05-17', right: 'put', strike: new Decimal(150) },
        symbol: 'AAPL  240517P00150000',
        limitPrice: new Decimal('0.12345'),
      }),
    );
    expect(orderPosts()[0]).toMatchObject({
      price: '0.1234',
      orderLegCollection: [{ instruction: 'BUY_TO_OPEN', instrument: { symbol: 'AAPL  240517P00150000' } }],
    });
    expect(schwab.orders(hash)).toHaveLength(1);
  });
});

describe('Schwab broker: tokens', () => {
  it('keeps working when the access token expires between two calls', async () => {
    const source = await tokenSource();
    const broker = new SchwabBroker({
      apiBase: schwab.baseUrl,
      accessToken: source.accessToken,
      now: () => clock,
    });
    await broker.getBalances(hash);
    clock = new Date(clock.getTime() + 31 * 60_000);
    const balances = await broker.getBalances(hash);
    expect(balances.cash.toFixed()).toBe('100000');
    expect(source.refreshes()).toBe(1);
    expect(seen()).toEqual(['GET /trader/v1/accounts/{hash} 200', 'GET /trader/v1/accounts/{hash} 200']);
  });

  it('asks for the token again after a 401 and repeats the request once', async () => {
    const source = await tokenSource();
    const stale = await source.accessToken();
    clock = new Date(clock.getTime() + 31 * 60_000); // the provider expired `stale`
    let calls = 0;
    const broker = new SchwabBroker({
      apiBase: schwab.baseUrl,
      // The first answer raced a refresh and is already stale; the second is fresh.
      accessToken: async () => (++calls === 1 ? stale : source.accessToken()),
      now: () => clock,
    });
    const placed = await broker.placeOrder(order());
    expect(placed.status).toBe('filled');
    expect(seen()).toEqual([
      `POST ${ORDERS} 401`,
      `POST ${ORDERS} 201`,
      expect.stringMatching(/^GET .* 200$/),
    ]);
    expect(schwab.orders(hash)).toHaveLength(1);
  });

  it('gives up with BrokerAuthError when the second token is refused too', async () => {
    const broker = new SchwabBroker({
      apiBase: schwab.baseUrl,
      accessToken: async () => 'at-revoked-or-made-up',
      now: () => clock,
    });
    const error = await broker.getBalances(hash).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerAuthError);
    expect((error as BrokerAuthError).reason).toBe('Client not authorized: The access token is invalid.');
    expect(schwab.requests).toHaveLength(2);
  });
});

describe('Schwab broker: refusals', () => {
  it('passes on what Schwab refuses as a readable rejection, placing nothing', async () => {
    const { broker } = await connect();
    const gtcMarket = await broker.placeOrder(order({ timeInForce: 'gtc' })).catch((error: unknown) => error);
    expect(gtcMarket).toBeInstanceOf(BrokerRejectedError);
    expect((gtcMarket as BrokerRejectedError).reason).toBe(
      'A validation error occurred while processing the request: MARKET orders must have duration DAY.',
    );
    const unknown = await broker.placeOrder(order({ symbol: 'ZZZZ' })).catch((error: unknown) => error);
    expect((unknown as BrokerRejectedError).reason).toMatch(/Symbol ZZZZ was not found/);
    expect(schwab.orders(hash)).toHaveLength(0);
  });

  it('refuses locally, sending nothing, what Schwab cannot take', async () => {
    const { broker } = await connect();
    await expect(broker.placeOrder(order({ quantity: new Decimal('1.5') }))).rejects.toThrow(/whole shares/);
    await expect(
      broker.placeOrder(order({ quantity: undefined, notional: new Decimal(100) })),
    ).rejects.toBeInstanceOf(BrokerRejectedError);
    expect(schwab.requests).toHaveLength(0);
  });

  it('reports a broker-side rejection (no buying power) as a rejected order', async () => {
    const { broker } = await connect();
    const placed = await broker.placeOrder(order({ quantity: new Decimal(10_000) }));
    expect(placed.status).toBe('rejected');
    expect(placed.rejectReason).toBe('Your buying power is insufficient for this order.');
  });
});

describe('Schwab broker: exactly once without a client order id', () => {
  it('after a timeout on an order Schwab accepted, returns the order found among recent orders', async () => {
    const { broker, sleeps } = await connect({ timeoutMs: 300 });
    schwab.acceptThenTimeout('hang');
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-timeout' }));
    expect(placed).toMatchObject({ clientOrderId: 'intent-timeout', status: 'filled' });
    expect(schwab.orders(hash)).toHaveLength(1);
    expect(placed.brokerOrderId).toBe(String(schwab.orders(hash)[0]?.['orderId']));
    expect(seen()).toEqual([`POST ${ORDERS} unanswered`, `GET ${ORDERS} 200`]);
    expect(sleeps).toEqual([]);
    const lookup = schwab.requests[1];
    const query = new URLSearchParams(lookup?.query);
    expect(query.get('fromEnteredTime')).toBe('2024-05-13T14:28:00.000Z');
    expect(query.get('toEnteredTime')).toBe('2024-05-13T14:31:00.000Z');
    expect((await broker.findOrderByClientOrderId(hash, 'intent-timeout'))?.brokerOrderId).toBe(
      placed.brokerOrderId,
    );
  });

  it('after a reset on an order Schwab accepted, returns that order without posting again', async () => {
    const { broker } = await connect();
    schwab.acceptThenTimeout('reset');
    const placed = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal(180) }));
    expect(placed.status).toBe('accepted');
    expect(schwab.orders(hash)).toHaveLength(1);
    expect(orderPosts()).toHaveLength(1);
  });

  it('does not claim an identical order that belongs to another intent', async () => {
    const { broker } = await connect({ timeoutMs: 300 });
    const other = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal(180) }));
    schwab.acceptThenTimeout('hang');
    const ours = await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal(180) }));
    expect(ours.brokerOrderId).not.toBe(other.brokerOrderId);
    expect(schwab.orders(hash)).toHaveLength(2);
  });

  it('when the order never reached Schwab: looks twice, then says it was NOT found and posts nothing again', async () => {
    const { broker, sleeps } = await connect();
    schwab.dropNext({ method: 'POST', path: /\/orders$/ });
    const error = await broker.placeOrder(order()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerUnreachableError);
    expect(error).not.toBeInstanceOf(BrokerRejectedError);
    expect((error as Error).message).toMatch(/NOT found/);
    expect((error as Error).message).toMatch(/Nothing was resent/);
    expect(schwab.orders(hash)).toHaveLength(0);
    expect(orderPosts()).toHaveLength(1);
    expect(seen()).toEqual([`POST ${ORDERS} dropped`, `GET ${ORDERS} 200`, `GET ${ORDERS} 200`]);
    expect(sleeps).toEqual([RECHECK_DELAY_MS]);
  });

  it('never repeats an order POST that got a 5xx', async () => {
    const { broker } = await connect();
    schwab.failNext({ method: 'POST', path: /\/orders$/ }, { status: 502, body: '<html>Bad gateway</html>' });
    await expect(broker.placeOrder(order())).rejects.toThrow(/NOT found/);
    expect(seen()).toEqual([`POST ${ORDERS} 502`, `GET ${ORDERS} 200`, `GET ${ORDERS} 200`]);
    expect(schwab.orders(hash)).toHaveLength(0);
  });

  it('sends the order again through a 429 storm, honouring Retry-After, and places it once', async () => {
    const { broker, sleeps } = await connect();
    for (let i = 0; i < 4; i++)
      schwab.failNext({ method: 'POST', path: /\/orders$/ }, { status: 429, retryAfter: 1 });
    const placed = await broker.placeOrder(order());
    expect(placed.status).toBe('filled');
    expect(schwab.orders(hash)).toHaveLength(1);
    expect(seen().filter((line) => line.startsWith('POST'))).toEqual([
      ...Array(4).fill(`POST ${ORDERS} 429`),
      `POST ${ORDERS} 201`,
    ]);
    expect(sleeps).toEqual([1000, 1000, 1000, 1000]);
  });

  it('after a restart, reconcilePlacement finds the order by its content, unless another intent owns it', async () => {
    const { broker } = await connect();
    const sentAt = clock;
    const request = order({ orderType: 'limit', limitPrice: new Decimal('180.00') });
    const placed = await broker.placeOrder(request);

    const restarted = (await connect()).broker;
    const found = await restarted.reconcilePlacement(request, sentAt);
    expect(found).toMatchObject({
      brokerOrderId: placed.brokerOrderId,
      clientOrderId: request.clientOrderId,
    });
    expect((await restarted.findOrderByClientOrderId(hash, request.clientOrderId))?.brokerOrderId).toBe(
      placed.brokerOrderId,
    );

    const another = (await connect({}, { knownOrderIds: () => new Set([placed.brokerOrderId]) })).broker;
    expect(await another.reconcilePlacement(request, sentAt)).toBeUndefined();
    const third = (await connect()).broker;
    expect(
      await third.reconcilePlacement(request, sentAt, { knownOrderIds: new Set([placed.brokerOrderId]) }),
    ).toBeUndefined();
    expect(schwab.orders(hash)).toHaveLength(1);
  });
});

describe('Schwab broker: circuit breaker', () => {
  it('opens after consecutive failures, sends nothing while open, and recovers', async () => {
    const { broker } = await connect({
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 200 },
    });
    schwab.down();
    await expect(broker.getBalances(hash)).rejects.toBeInstanceOf(BrokerUnreachableError);
    const open = await broker.getBalances(hash).catch((caught: unknown) => caught);
    expect(open).toBeInstanceOf(BrokerCircuitOpenError);
    expect((open as BrokerCircuitOpenError).reason).toBe(
      'Schwab is not answering; we stopped sending requests for 1 s.',
    );
    await expect(broker.placeOrder(order())).rejects.toBeInstanceOf(BrokerCircuitOpenError);
    expect(schwab.requests).toHaveLength(2);
    expect(broker.http.health()).toMatchObject({ status: 'down', circuit: 'open' });

    schwab.up();
    await new Promise((resolve) => setTimeout(resolve, 250)); // past halfOpenAfterMs
    expect((await broker.getBalances(hash)).cash.toFixed()).toBe('100000');
    expect(broker.http.health()).toMatchObject({ status: 'healthy', circuit: 'closed' });
    expect((await broker.placeOrder(order())).status).toBe('filled');
  });
});

describe('Schwab market data', () => {
  it('quotes equities and options with Decimal prices and greeks, listing unknown symbols', async () => {
    const { broker } = await connect();
    const { quotes, invalidSymbols } = await broker.getQuotes(['AAPL', PUT_190, 'ZZZZ']);
    expect(invalidSymbols).toEqual(['ZZZZ']);
    const aapl = quotes.find((quote) => quote.symbol === 'AAPL');
    expect(aapl).toMatchObject({ assetClass: 'equity', source: 'schwab', greeks: undefined });
    expect(aapl?.bid.toFixed()).toBe('189.99');
    expect(aapl?.ask.toFixed()).toBe('190.01');
    expect(aapl?.last.toFixed()).toBe('190');
    const put = quotes.find((quote) => quote.symbol === PUT_190);
    expect(put?.assetClass).toBe('option');
    expect(put?.bid.lt(put.ask)).toBe(true);
    expect(put?.greeks?.delta?.lt(0)).toBe(true);
    expect(put?.greeks?.impliedVolatility?.gt(0)).toBe(true);
    expect(put?.greeks?.impliedVolatility?.lt(5)).toBe(true);
  });

  it('lists an option chain by expiration and strike', async () => {
    const { broker } = await connect();
    const chain = await broker.getOptionChain('AAPL', {
      contractType: 'PUT',
      fromDate: '2024-05-13',
      toDate: '2024-05-24',
    });
    expect(chain.underlying).toBe('AAPL');
    expect(chain.underlyingPrice?.toFixed()).toBe('190');
    expect(chain.expirations).toEqual(['2024-05-17', '2024-05-24']);
    expect(chain.contracts.every((entry) => entry.contract.right === 'put')).toBe(true);
    const put190 = chain.contracts.find((entry) => entry.symbol === PUT_190);
    expect(put190?.contract).toEqual({
      underlying: 'AAPL',
      expiry: '2024-05-17',
      right: 'put',
      strike: new Decimal(190),
    });
    expect(put190?.greeks.delta?.lt(0)).toBe(true);
    expect(put190?.bid?.lte(put190.ask ?? 0)).toBe(true);
    expect(put190?.daysToExpiry).toBe(4);
    await expect(broker.getOptionChain('ZZZZ')).rejects.toBeInstanceOf(UnknownInstrumentError);
  });
});
