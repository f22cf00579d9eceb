/**
 * The Schwab broker against the local Schwab fake and OAuth 2.0 provider: orders of every type,
 * options with the padded symbol and open/close instructions, balances and positions in one call,
 * tokens that expire mid-session or are refused before their expiry, list answers with entries we
 * cannot read and market orders listed at price 0, gateway error pages, and exactly-once placement
 * WITHOUT a client order id through timeouts, resets, 5xx and 429 storms (the fake, like Schwab,
 * places a second order if posted twice). Waits go through an injected `sleep` that records the
 * delays and returns at once; both fakes and the broker share one test clock.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerCircuitOpenError, BrokerRequestRejectedError } from '../../src/brokers/http/errors.js';
import type { SchwabTokenSource } from '../../src/brokers/schwab/access-tokens.js';
import {
  schwabAccountNumbersSchema,
  schwabAccountSchema,
  schwabChainSchema,
  schwabOrderListSchema,
  schwabQuotesSchema,
} from '../../src/brokers/schwab/schemas.js';
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
import { createLogger, type Logger } from '../../src/core/logging/logger.js';
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
  oauth = await FakeOAuth2Provider.start({
    clients: [CLIENT],
    issueIdToken: true,
    refreshRevokesAccessTokens: true,
    now: () => clock,
  });
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
 * A token source like ConnectionTokens: the stored token while it has more than a minute left (by
 * the test clock), else a refresh at the provider first; a refused token is refreshed unless it was
 * replaced already.
 */
async function tokenSource(): Promise<SchwabTokenSource & { refreshes: () => number }> {
  let tokens = await signIn();
  let refreshes = 0;
  let refreshing: Promise<void> | undefined;
  // One refresh at a time: a second one would kill the token the first just handed out.
  const refresh = async () => {
    refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken })
      .then((renewed) => {
        tokens = renewed;
        refreshes += 1;
      })
      .finally(() => {
        refreshing = undefined;
      });
    await refreshing;
  };
  return {
    accessToken: async () => {
      await refreshing;
      if (tokens.expiresAt.getTime() - clock.getTime() <= 60_000) await refresh();
      return tokens.accessToken;
    },
    refreshAccessToken: async (refused) => {
      await refreshing;
      if (tokens.accessToken === refused) await refresh();
      return tokens.accessToken;
    },
    refreshes: () => refreshes,
  };
}

/** A logger whose JSON lines are kept in `lines`. */
function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'json',
    secretValues: [],
    destination: new Writable({
      write(chunk, _encoding, callback) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        callback();
      },
    }),
  });
  return { logger, lines };
}

async function connect(
  http: SchwabBrokerOptions['http'] = {},
  extra: Partial<SchwabBrokerOptions> = {},
): Promise<{ broker: SchwabBroker; sleeps: number[] }> {
  const sleeps: number[] = [];
  const { accessToken, refreshAccessToken } = await tokenSource();
  const broker = new SchwabBroker({
    apiBase: schwab.baseUrl,
    accessToken,
    refreshAccessToken,
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
    const broker = new SchwabBroker({ ...source, apiBase: schwab.baseUrl, now: () => clock });
    await broker.getBalances(hash);
    clock = new Date(clock.getTime() + 31 * 60_000);
    const balances = await broker.getBalances(hash);
    expect(balances.cash.toFixed()).toBe('100000');
    expect(source.refreshes()).toBe(1);
    expect(seen()).toEqual(['GET /trader/v1/accounts/{hash} 200', 'GET /trader/v1/accounts/{hash} 200']);
  });

  it('renews a token Schwab refused before its expiry, once, and repeats the order POST once', async () => {
    const source = await tokenSource();
    const { logger, lines } = recordingLogger();
    const broker = new SchwabBroker({ ...source, apiBase: schwab.baseUrl, now: () => clock, logger });
    await broker.getBalances(hash);
    expect(oauth.revokeAccessTokens()).toBe(1); // 29 minutes left, and refused all the same
    const placed = await broker.placeOrder(order());
    expect(placed.status).toBe('filled');
    expect(seen().slice(1)).toEqual([
      `POST ${ORDERS} 401`,
      `POST ${ORDERS} 201`,
      `GET ${ORDERS}/${placed.brokerOrderId} 200`,
    ]);
    expect(orderPosts()).toHaveLength(2);
    expect(schwab.orders(hash)).toHaveLength(1);
    expect(source.refreshes()).toBe(1);
    expect(oauth.tokenCalls('refresh_token').map((call) => call.status)).toEqual([200]);
    expect(lines.map((line) => line['msg'])).toContain(
      'Schwab refused the access token; renewing it once and repeating the request',
    );
    // The renewed token serves the next calls; nothing is refreshed again.
    await broker.getBalances(hash);
    expect(source.refreshes()).toBe(1);
  });

  it('does not renew a token that was never refused: a refusal of another kind is passed on', async () => {
    const source = await tokenSource();
    const broker = new SchwabBroker({ ...source, apiBase: schwab.baseUrl, now: () => clock });
    schwab.failNext({ method: 'GET' }, { status: 403 });
    await expect(broker.getBalances(hash)).rejects.toMatchObject({ status: 403 });
    expect(source.refreshes()).toBe(0);
    expect(schwab.requests).toHaveLength(1);
  });

  it('after a renewal, an order POST with an unknown outcome is looked up, never sent a third time', async () => {
    const source = await tokenSource();
    const broker = new SchwabBroker({
      ...source,
      apiBase: schwab.baseUrl,
      now: () => clock,
      sleep: async () => undefined,
      http: { timeoutMs: 300 },
    });
    oauth.revokeAccessTokens();
    schwab.acceptThenTimeout('hang');
    const placed = await broker.placeOrder(order());
    expect(placed.status).toBe('filled');
    expect(seen()).toEqual([`POST ${ORDERS} 401`, `POST ${ORDERS} unanswered`, `GET ${ORDERS} 200`]);
    expect(schwab.orders(hash)).toHaveLength(1);
  });

  it('tells the token store the token each refused request was sent with; concurrent refusals share one refresh', async () => {
    const source = await tokenSource();
    const refusedTokens: string[] = [];
    const broker = new SchwabBroker({
      ...source,
      refreshAccessToken: async (refused) => {
        refusedTokens.push(refused);
        return source.refreshAccessToken(refused);
      },
      apiBase: schwab.baseUrl,
      now: () => clock,
    });
    const first = await source.accessToken();
    oauth.revokeAccessTokens();
    const results = await Promise.all([broker.getBalances(hash), broker.listOpenOrders(hash)]);
    expect(results[0].cash.toFixed()).toBe('100000');
    expect(refusedTokens).toEqual([first, first]);
    // The second refusal found the token replaced: one refresh for both.
    expect(source.refreshes()).toBe(1);
  });
});

describe('Schwab broker: untidy answers', () => {
  it('reads an order list around an entry it cannot use, and finds a market order listed at price 0', async () => {
    const { logger, lines } = recordingLogger();
    const { broker } = await connect({ timeoutMs: 300 }, { logger });
    schwab.listAlso(hash, { orderId: 'not-a-number', status: 'WORKING', orderType: 'LIMIT' });
    schwab.acceptThenTimeout('hang');
    const placed = await broker.placeOrder(order({ clientOrderId: 'intent-market' }));
    expect(placed).toMatchObject({ clientOrderId: 'intent-market', status: 'filled', orderType: 'market' });
    expect(placed.limitPrice).toBeUndefined();
    const listed = schwab.orders(hash);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ orderType: 'MARKET', price: 0 });
    expect(seen()).toEqual([`POST ${ORDERS} unanswered`, `GET ${ORDERS} 200`]);
    const skipped = lines.filter((line) => line['list'] === 'orders');
    expect(skipped).toEqual([
      expect.objectContaining({
        level: 40,
        provider: 'schwab',
        at: '1',
        id: 'not-a-number',
        issues: expect.arrayContaining(['orderId: invalid_type']),
      }),
    ]);
    // Open orders are listed around it too.
    await broker.placeOrder(order({ orderType: 'limit', limitPrice: new Decimal(150) }));
    expect((await broker.listOpenOrders(hash)).map((open) => open.orderType)).toEqual(['limit']);
  });

  it('reads listings whose entries leave out optional fields, or send them as null', () => {
    const orders = schwabOrderListSchema.parse([
      {
        orderId: 2,
        status: 'FILLED',
        orderType: 'MARKET',
        quantity: 5,
        price: null,
        duration: null,
        statusDescription: null,
        filledQuantity: null,
        orderActivityCollection: null,
        enteredTime: '2024-05-13T14:30:00+0000',
        orderLegCollection: [
          { instruction: 'BUY', quantity: 5, instrument: { symbol: 'AAPL', assetType: 'EQUITY' } },
        ],
      },
      { orderId: 3, status: 'WORKING' },
    ]);
    expect(orders.items).toHaveLength(1);
    expect(orders.items[0]).toMatchObject({
      orderId: 2,
      price: undefined,
      duration: undefined,
      orderActivityCollection: [],
    });
    expect(orders.items[0]?.filledQuantity.toFixed()).toBe('0');
    expect(orders.skipped).toEqual([
      expect.objectContaining({
        at: '1',
        id: '3',
        issues: expect.arrayContaining(['quantity: invalid_type']),
      }),
    ]);
    const accounts = schwabAccountNumbersSchema.parse([
      { accountNumber: '1', hashValue: 'H1' },
      { accountNumber: 2 },
    ]);
    expect(accounts).toEqual({
      items: [{ accountNumber: '1', hashValue: 'H1' }],
      skipped: [expect.objectContaining({ at: '1', id: undefined })],
    });
    const account = schwabAccountSchema.parse({
      securitiesAccount: {
        type: 'MARGIN',
        accountNumber: '1',
        positions: [
          { longQuantity: 1, instrument: { symbol: 'AAPL', assetType: 'EQUITY' }, averagePrice: null },
          { longQuantity: 'lots', instrument: { symbol: 'MSFT', assetType: 'EQUITY' } },
        ],
        currentBalances: null,
      },
    });
    expect(account.securitiesAccount.positions.items.map((position) => position.instrument.symbol)).toEqual([
      'AAPL',
    ]);
    expect(account.securitiesAccount.positions.skipped).toEqual([
      expect.objectContaining({ at: '1', id: 'MSFT' }),
    ]);
    expect(
      schwabAccountSchema.parse({ securitiesAccount: { type: 'CASH', accountNumber: '1' } }).securitiesAccount
        .positions,
    ).toEqual({ items: [], skipped: [] });
    // A body that is no list at all is still refused.
    expect(schwabOrderListSchema.safeParse({ orders: [] }).success).toBe(false);
  });

  it('reads quote maps and option chains entry by entry', () => {
    const quotes = schwabQuotesSchema.parse({
      AAPL: { assetMainType: 'EQUITY', symbol: 'AAPL', quote: { bidPrice: 1, askPrice: 2, lastPrice: 1.5 } },
      ODD: { assetMainType: 'EQUITY', symbol: 7 },
      errors: { invalidSymbols: ['ZZZZ'] },
    });
    expect(quotes.quotes.map((quote) => quote.symbol)).toEqual(['AAPL']);
    expect(quotes.invalidSymbols).toEqual(['ZZZZ']);
    expect(quotes.skipped).toEqual([expect.objectContaining({ at: 'ODD' })]);
    const contract = (symbol: string, strike: number) => ({
      putCall: 'PUT',
      symbol,
      strikePrice: strike,
      bid: 1,
      ask: 1.1,
    });
    const chain = schwabChainSchema.parse({
      symbol: 'AAPL',
      status: 'SUCCESS',
      underlyingPrice: 190,
      callExpDateMap: null,
      putExpDateMap: {
        '2024-05-17:4': {
          '185.0': [
            contract('AAPL  240517P00185000', 185),
            { putCall: 'PUT', symbol: 'AAPL  240517P00187500' },
          ],
          '190.0': { not: 'a list' },
        },
      },
    });
    expect(chain.contracts.items).toEqual([
      expect.objectContaining({
        expiry: '2024-05-17',
        contract: expect.objectContaining({ symbol: 'AAPL  240517P00185000' }),
      }),
    ]);
    expect(chain.contracts.skipped.map((entry) => [entry.at, entry.id])).toEqual([
      ['2024-05-17:4/185.0/1', 'AAPL  240517P00187500'],
      ['2024-05-17:4/190.0', undefined],
    ]);
  });

  it('turns a gateway HTML error page into an unreachable error, never a parse failure', async () => {
    const { broker } = await connect({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    schwab.failNextWithGatewayPage({ method: 'GET' });
    schwab.failNextWithGatewayPage({ method: 'GET' });
    const error = await broker.getBalances(hash).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerUnreachableError);
    expect(error).not.toBeInstanceOf(BrokerRejectedError);
    expect((error as Error).message).toMatch(
      /^Schwab answered GET \/trader\/v1\/accounts\/\S+ with HTTP 502: /,
    );
    expect((error as Error).message).not.toContain('<');
    expect(seen()).toEqual(['GET /trader/v1/accounts/{hash} 502', 'GET /trader/v1/accounts/{hash} 502']);
    // A market data call too (its own error shape).
    schwab.failNextWithGatewayPage({ path: '/marketdata/v1/quotes' }, 503);
    schwab.failNextWithGatewayPage({ path: '/marketdata/v1/quotes' }, 503);
    await expect(broker.getQuotes(['AAPL'])).rejects.toBeInstanceOf(BrokerUnreachableError);
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
