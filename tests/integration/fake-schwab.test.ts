/**
 * The Schwab fake refuses what Schwab refuses and answers in the documented shapes: every answer
 * checked here is validated against the published OpenAPI documents (with the corrections listed in
 * tests/fakes/schwab/openapi-validation.ts), so a client that passes the fake is likely to work
 * against the real service.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { FakeSchwab, GATEWAY_ERROR_PAGE } from '../fakes/schwab/fake-schwab.js';
import { type SchwabApi, SchwabSchemas } from '../fakes/schwab/openapi-validation.js';

const CLIENT = {
  clientId: 'schwab-app-key',
  clientSecret: 'schwab-app-secret',
  redirectUris: ['https://127.0.0.1:8182/callback'],
  auth: 'basic' as const,
  requirePkce: false,
};
const MARGIN_ACCOUNT = '12345678';
const CASH_ACCOUNT = '87654321';
const PUT_190 = 'AAPL  240517P00190000';
const FROM = '2024-05-01T00:00:00.000Z';
const TO = '2024-05-31T23:59:59.000Z';

let clock: Date;
let oauth: FakeOAuth2Provider;
let schwab: FakeSchwab;
let token: string;
let hash: string;

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

async function call(
  path: string,
  init: { method?: string; body?: unknown; bearer?: string | null; signal?: AbortSignal } = {},
): Promise<Reply> {
  const bearer = init.bearer === undefined ? token : init.bearer;
  const response = await fetch(`${schwab.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      accept: 'application/json',
      ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: isJson ? JSON.parse(text) : undefined,
  };
}

const BASIC = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`;

/** A call to the token endpoint: status and JSON body. */
async function tokenEndpoint(
  form: Record<string, string>,
  authorization: string | null = BASIC,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(oauth.tokenEndpoint, {
    method: 'POST',
    headers: {
      ...(authorization === null ? {} : { authorization }),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Signs in through the fake provider the way the Schwab linking flow does: both tokens. */
async function signInForTokens(): Promise<{ accessToken: string; refreshToken: string }> {
  const authorize = new URL(oauth.authorizationEndpoint);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.clientId,
    redirect_uri: CLIENT.redirectUris[0] ?? '',
    state: 'state-2',
  }).toString();
  const callback = await oauth.approve(authorize);
  const { json } = await tokenEndpoint({
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: CLIENT.redirectUris[0] ?? '',
  });
  return { accessToken: String(json['access_token']), refreshToken: String(json['refresh_token']) };
}

/** Signs in through the fake provider the way the Schwab linking flow does, returning the access token. */
async function signIn(): Promise<string> {
  const authorize = new URL(oauth.authorizationEndpoint);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.clientId,
    redirect_uri: CLIENT.redirectUris[0] ?? '',
    state: 'state-1',
  }).toString();
  const callback = await oauth.approve(authorize);
  const code = callback.searchParams.get('code') ?? '';
  const response = await fetch(oauth.tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CLIENT.redirectUris[0] ?? '',
    }),
  });
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

function expectSpec(api: SchwabApi, method: string, template: string, reply: Reply): void {
  expect(SchwabSchemas.get().validateResponse(api, method, template, reply.status, reply.json)).toEqual([]);
}

function equityOrder(
  overrides: Record<string, unknown> = {},
  leg: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    orderType: 'MARKET',
    session: 'NORMAL',
    duration: 'DAY',
    orderStrategyType: 'SINGLE',
    orderLegCollection: [
      { instruction: 'BUY', quantity: 10, instrument: { symbol: 'AAPL', assetType: 'EQUITY' }, ...leg },
    ],
    ...overrides,
  };
}

function optionOrder(
  symbol: string,
  instruction: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    orderType: 'LIMIT',
    session: 'NORMAL',
    duration: 'DAY',
    price: '1.25',
    orderStrategyType: 'SINGLE',
    complexOrderStrategyType: 'NONE',
    orderLegCollection: [{ instruction, quantity: 1, instrument: { symbol, assetType: 'OPTION' } }],
    ...overrides,
  };
}

async function place(body: unknown, account = hash): Promise<Reply> {
  return call(`/trader/v1/accounts/${account}/orders`, { method: 'POST', body });
}

async function placedOrder(reply: Reply): Promise<Record<string, unknown>> {
  expect(reply.status).toBe(201);
  const location = reply.headers.get('location') ?? '';
  const got = await call(new URL(location).pathname);
  expectSpec('trader', 'GET', '/accounts/{accountNumber}/orders/{orderId}', got);
  return got.json as Record<string, unknown>;
}

beforeEach(async () => {
  clock = new Date('2024-05-13T14:30:00.000Z');
  oauth = await FakeOAuth2Provider.start({
    clients: [CLIENT],
    issueIdToken: true,
    refreshRevokesAccessTokens: true,
    refreshRefusal: 'schwab',
    now: () => clock,
  });
  schwab = await FakeSchwab.start({
    oauth,
    now: () => clock,
    seed: 7,
    accounts: [
      {
        accountNumber: MARGIN_ACCOUNT,
        cash: '100000.00',
        positions: [
          { symbol: 'MSFT', quantity: 10, averagePrice: '400.00' },
          { symbol: PUT_190, quantity: -2, averagePrice: '3.10' },
        ],
      },
      { accountNumber: CASH_ACCOUNT, cash: '5000.00', type: 'CASH' },
    ],
  });
  schwab.setPrice('AAPL', '190.00');
  schwab.setPrice('MSFT', '410.00');
  token = await signIn();
  hash = schwab.hashOf(MARGIN_ACCOUNT);
});

afterEach(async () => {
  await schwab.close();
  await oauth.close();
});

describe('the response validator', () => {
  it('is not vacuous: wrong types, enums and shapes are reported', () => {
    const schemas = SchwabSchemas.get();
    const template = '/accounts/{accountNumber}/orders/{orderId}';
    expect(
      schemas.validateResponse('trader', 'GET', template, 200, { status: 'DONE', orderId: 'x' }),
    ).toEqual(
      expect.arrayContaining([expect.stringContaining('/status'), expect.stringContaining('/orderId')]),
    );
    expect(
      schemas.validateResponse('trader', 'GET', template, 200, { enteredTime: 'yesterday' }),
    ).not.toEqual([]);
    expect(
      schemas.validateResponse('marketdata', 'GET', '/quotes', 200, {
        AAPL: { assetMainType: 'EQUITY', quote: { askPrice: '1' } },
      }),
    ).not.toEqual([]);
    expect(
      schemas.validateResponse('marketdata', 'GET', '/chains', 200, {
        putExpDateMap: { '2024-05-17:4': { '190.0': { putCall: 'PUT' } } },
      }),
    ).not.toEqual([]);
  });
});

describe('authorization', () => {
  it('refuses a missing, unknown, expired or revoked bearer token with the documented shapes', async () => {
    const missing = await call('/trader/v1/accounts/accountNumbers', { bearer: null });
    expect(missing.status).toBe(401);
    expectSpec('trader', 'GET', '/accounts/accountNumbers', missing);
    expect(missing.json).toMatchObject({ message: expect.any(String), errors: [expect.any(String)] });

    const forged = await call('/trader/v1/accounts/accountNumbers', { bearer: 'at-forged' });
    expect(forged.status).toBe(401);

    const marketData = await call('/marketdata/v1/quotes?symbols=AAPL', { bearer: 'at-forged' });
    expect(marketData.status).toBe(401);
    expectSpec('marketdata', 'GET', '/quotes', marketData);
    expect(marketData.json).toMatchObject({ errors: [{ status: '401', title: 'Unauthorized' }] });

    expect((await call('/trader/v1/accounts/accountNumbers')).status).toBe(200);
    clock = new Date(clock.getTime() + 31 * 60_000);
    const expired = await call('/trader/v1/accounts/accountNumbers');
    expect(expired.status).toBe(401);
    expect(JSON.stringify(expired.json)).toContain('expired');

    token = await signIn();
    expect((await call('/trader/v1/accounts/accountNumbers')).status).toBe(200);
    await fetch(oauth.revocationEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    expect((await call('/trader/v1/accounts/accountNumbers')).status).toBe(401);
    expect(JSON.stringify(schwab.requests)).not.toContain(token);
  });
});

describe('tokens refused before their expiry, and the token endpoint', () => {
  const accountNumbers = (bearer: string) => call('/trader/v1/accounts/accountNumbers', { bearer });

  it('refuses an unexpired access token the service dropped, while its refresh token still works', async () => {
    const tokens = await signInForTokens();
    expect((await accountNumbers(tokens.accessToken)).status).toBe(200);
    expect(oauth.revokeAccessTokens(tokens.accessToken)).toBe(1);
    const refused = await accountNumbers(tokens.accessToken);
    expect(refused.status).toBe(401);
    expectSpec('trader', 'GET', '/accounts/accountNumbers', refused);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const renewed = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
    expect(renewed.status).toBe(200);
    expect((await accountNumbers(String(renewed.json['access_token']))).status).toBe(200);
    // Another sign-in's tokens are not touched by a revocation aimed at this one.
    expect((await accountNumbers(token)).status).toBe(200);
  });

  it('refuses the old access token once a refresh issued a new one (stricter than the documentation)', async () => {
    const tokens = await signInForTokens();
    const renewed = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
    expect(renewed.json).toMatchObject({
      token_type: 'Bearer',
      expires_in: 1800,
      refresh_token: tokens.refreshToken,
    });
    expect((await accountNumbers(tokens.accessToken)).status).toBe(401);
    expect((await accountNumbers(String(renewed.json['access_token']))).status).toBe(200);
  });

  it('enforces the refresh rules: HTTP Basic, grant_type, and seven days from the sign-in', async () => {
    const tokens = await signInForTokens();
    const form = { grant_type: 'refresh_token', refresh_token: tokens.refreshToken };
    const posted = await tokenEndpoint(
      { ...form, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret },
      null,
    );
    expect([posted.status, posted.json['error']]).toEqual([401, 'invalid_client']);
    const wrongSecret = `Basic ${Buffer.from(`${CLIENT.clientId}:nope`).toString('base64')}`;
    expect((await tokenEndpoint(form, wrongSecret)).status).toBe(401);
    expect((await tokenEndpoint({ refresh_token: tokens.refreshToken })).json['error']).toBe(
      'invalid_request',
    );
    expect((await tokenEndpoint({ ...form, grant_type: 'password' })).json['error']).toBe(
      'unsupported_grant_type',
    );
    // Refreshing does not extend the refresh token: it dies seven days after the sign-in.
    clock = new Date(clock.getTime() + 6 * 24 * 3_600_000);
    expect((await tokenEndpoint(form)).status).toBe(200);
    clock = new Date(clock.getTime() + 24 * 3_600_000);
    const expired = await tokenEndpoint(form);
    // Schwab's wording for a refused refresh token, not RFC 6749's invalid_grant.
    expect(expired.status).toBe(400);
    expect(expired.json['error']).toBe('unsupported_token_type');
    expect(String(expired.json['error_description'])).toContain('refresh_token_authentication_error');
    expect(String(expired.json['error_description'])).not.toContain(tokens.refreshToken);
  });

  it('refuseEveryToken refuses even fresh tokens while new ones are still issued', async () => {
    schwab.refuseEveryToken();
    expect((await accountNumbers(token)).status).toBe(401);
    const tokens = await signInForTokens();
    expect((await accountNumbers(tokens.accessToken)).status).toBe(401);
    expect((await call('/marketdata/v1/quotes?symbols=AAPL', { bearer: tokens.accessToken })).status).toBe(
      401,
    );
    schwab.refuseEveryToken(false);
    expect((await accountNumbers(tokens.accessToken)).status).toBe(200);
  });
});

describe('accounts', () => {
  it('lists account numbers with stable opaque hashes and refuses unknown hashes', async () => {
    const first = await call('/trader/v1/accounts/accountNumbers');
    expectSpec('trader', 'GET', '/accounts/accountNumbers', first);
    expect(first.json).toEqual([
      { accountNumber: MARGIN_ACCOUNT, hashValue: hash },
      { accountNumber: CASH_ACCOUNT, hashValue: schwab.hashOf(CASH_ACCOUNT) },
    ]);
    expect(hash).toMatch(/^[0-9A-F]{64}$/);
    expect((await call('/trader/v1/accounts/accountNumbers')).json).toEqual(first.json);

    const byNumber = await call(`/trader/v1/accounts/${MARGIN_ACCOUNT}`);
    expect(byNumber.status).toBe(400);
    expect(byNumber.json).toEqual({ message: 'Invalid account number' });
    expectSpec('trader', 'GET', '/accounts/{accountNumber}', byNumber);
    expect((await place(equityOrder(), MARGIN_ACCOUNT)).status).toBe(400);
  });

  it('returns balances always and positions only when asked, in the documented shapes', async () => {
    const plain = await call(`/trader/v1/accounts/${hash}`);
    expectSpec('trader', 'GET', '/accounts/{accountNumber}', plain);
    expect(plain.json).toMatchObject({
      securitiesAccount: {
        type: 'MARGIN',
        accountNumber: MARGIN_ACCOUNT,
        currentBalances: { availableFunds: 100000 },
      },
    });
    expect(plain.json).not.toHaveProperty('securitiesAccount.positions');

    const withPositions = await call(`/trader/v1/accounts/${hash}?fields=positions`);
    expectSpec('trader', 'GET', '/accounts/{accountNumber}', withPositions);
    const account = withPositions.json as { securitiesAccount: { positions: Record<string, unknown>[] } };
    expect(account.securitiesAccount.positions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          longQuantity: 10,
          marketValue: 4100,
          instrument: expect.objectContaining({ symbol: 'MSFT', assetType: 'EQUITY' }),
        }),
        expect.objectContaining({
          shortQuantity: 2,
          instrument: expect.objectContaining({
            symbol: PUT_190,
            assetType: 'OPTION',
            putCall: 'PUT',
            underlyingSymbol: 'AAPL',
          }),
        }),
      ]),
    );

    const all = await call('/trader/v1/accounts?fields=positions');
    expectSpec('trader', 'GET', '/accounts', all);
    expect(all.json).toEqual([
      expect.anything(),
      expect.objectContaining({
        securitiesAccount: expect.objectContaining({
          type: 'CASH',
          currentBalances: expect.objectContaining({ cashAvailableForTrading: 5000 }),
        }),
      }),
    ]);
    expect((await call(`/trader/v1/accounts/${hash}?fields=orders`)).status).toBe(400);
  });
});

describe('placing orders', () => {
  it('answers 201 with an empty body and a Location; a market order fills at once', async () => {
    const reply = await place(equityOrder());
    expect(reply.status).toBe(201);
    expect(reply.text).toBe('');
    const location = reply.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`^${schwab.traderUrl}/accounts/${hash}/orders/\\d+$`));
    const order = await placedOrder(reply);
    expect(order).toMatchObject({
      status: 'FILLED',
      orderType: 'MARKET',
      quantity: 10,
      filledQuantity: 10,
      remainingQuantity: 0,
      enteredTime: '2024-05-13T14:30:00+0000',
      accountNumber: Number(MARGIN_ACCOUNT),
      orderLegCollection: [
        { instruction: 'BUY', quantity: 10, instrument: { symbol: 'AAPL', assetType: 'EQUITY' } },
      ],
      orderActivityCollection: [
        {
          activityType: 'EXECUTION',
          executionType: 'FILL',
          quantity: 10,
          executionLegs: [{ quantity: 10, price: 190 }],
        },
      ],
    });
    expect(String(order['orderId'])).toBe(location.split('/').pop());
    expect(schwab.cash(hash)).toBe('98100.00');
    expect(schwab.position(hash, 'AAPL')).toBe(10);
  });

  it('has no client order id: two identical POSTs place two orders', async () => {
    const first = await place(equityOrder());
    const second = await place(equityOrder());
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.headers.get('location')).not.toBe(second.headers.get('location'));
    expect(schwab.orders(hash)).toHaveLength(2);
    expect(schwab.position(hash, 'AAPL')).toBe(20);
    expect((await place(equityOrder({ clientOrderId: 'intent-1' }))).status).toBe(400);
  });

  it('refuses bodies that break the schema, listing the schema errors', async () => {
    const reply = await place(equityOrder({ orderType: 'LIMIT', price: 189.5 }, { instruction: 'PURCHASE' }));
    expect(reply.status).toBe(400);
    expectSpec('trader', 'POST', '/accounts/{accountNumber}/orders', reply);
    const errors = (reply.json as { errors: string[] }).errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          '/orderLegCollection/0/instruction must be equal to one of the allowed values',
        ),
        '/price must be string',
      ]),
    );
    const notJson = await fetch(`${schwab.traderUrl}/accounts/${hash}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"orderType":',
    });
    expect(notJson.status).toBe(400);
    const wrongType = await fetch(`${schwab.traderUrl}/accounts/${hash}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: JSON.stringify(equityOrder()),
    });
    expect(wrongType.status).toBe(415);
    expect(schwab.orders(hash)).toEqual([]);
  });

  it.each([
    [
      'an empty leg collection',
      equityOrder({ orderLegCollection: [] }),
      'orderLegCollection must contain at least one leg',
    ],
    ['a missing duration', equityOrder({ duration: undefined }), 'duration is required'],
    [
      'an option instruction on a stock',
      equityOrder({}, { instruction: 'BUY_TO_OPEN' }),
      'not valid for EQUITY',
    ],
    ['a stock instruction on an option', optionOrder(PUT_190, 'BUY'), 'not valid for OPTION'],
    [
      'an unpadded option symbol',
      optionOrder('AAPL 240517P00190000', 'SELL_TO_OPEN'),
      'not a valid option symbol',
    ],
    [
      'an option symbol with a bad date',
      optionOrder('AAPL  241317P00190000', 'SELL_TO_OPEN'),
      'not a valid option symbol',
    ],
    [
      'three decimals above $1',
      equityOrder({ orderType: 'LIMIT', price: '189.505' }),
      'more than 2 decimal places',
    ],
    [
      'five decimals below $1',
      optionOrder(PUT_190, 'BUY_TO_OPEN', { price: '0.12345' }),
      'more than 4 decimal places',
    ],
    ['a limit without a price', equityOrder({ orderType: 'LIMIT' }), 'price is required for LIMIT orders'],
    [
      'a market order with a price',
      equityOrder({ price: '190.00' }),
      'price is not allowed for MARKET orders',
    ],
    ['a fractional quantity', equityOrder({}, { quantity: 1.5 }), 'whole number'],
    [
      'an unknown symbol',
      equityOrder({}, { instrument: { symbol: 'NOPE', assetType: 'EQUITY' } }),
      'NOPE was not found',
    ],
  ])('refuses %s', async (_name, body, message) => {
    const reply = await place(body);
    expect(reply.status).toBe(400);
    expectSpec('trader', 'POST', '/accounts/{accountNumber}/orders', reply);
    expect((reply.json as { errors: string[] }).errors.join('\n')).toContain(message);
    expect(schwab.orders(hash)).toEqual([]);
  });

  it('accepts option orders in Schwab layout with 4 decimals below $1', async () => {
    const reply = await place(optionOrder('AAPL  240517C00195000', 'BUY_TO_OPEN', { price: '0.0525' }));
    const order = await placedOrder(reply);
    expect(order).toMatchObject({
      status: 'WORKING',
      price: 0.0525,
      orderLegCollection: [
        {
          instruction: 'BUY_TO_OPEN',
          positionEffect: 'OPENING',
          instrument: { assetType: 'OPTION', putCall: 'CALL' },
        },
      ],
    });
    const market = await placedOrder(
      await place(optionOrder(PUT_190, 'BUY_TO_CLOSE', { orderType: 'MARKET', price: undefined })),
    );
    expect(market).toMatchObject({ status: 'FILLED', filledQuantity: 1 });
    expect(schwab.position(hash, PUT_190)).toBe(-1);
  });

  it('rejects (after creating) orders the account cannot carry', async () => {
    const cashHash = schwab.hashOf(CASH_ACCOUNT);
    const tooBig = await placedOrder(await place(equityOrder({}, { quantity: 100 }), cashHash));
    expect(tooBig).toMatchObject({
      status: 'REJECTED',
      statusDescription: expect.stringContaining('buying power'),
    });
    const oversold = await placedOrder(
      await place(
        equityOrder(
          {},
          { instruction: 'SELL', quantity: 11, instrument: { symbol: 'MSFT', assetType: 'EQUITY' } },
        ),
      ),
    );
    expect(oversold).toMatchObject({ status: 'REJECTED' });
    const short = await placedOrder(
      await place(equityOrder({}, { instruction: 'SELL_SHORT', quantity: 1 }), cashHash),
    );
    expect(short).toMatchObject({ status: 'REJECTED' });
    expect(schwab.cash(cashHash)).toBe('5000.00');
  });
});

describe('resting orders, cancel, replace, listing', () => {
  it('a limit order rests until the market reaches it, then fills', async () => {
    const placed = await placedOrder(
      await place(equityOrder({ orderType: 'LIMIT', price: '189.50', duration: 'GOOD_TILL_CANCEL' })),
    );
    expect(placed).toMatchObject({
      status: 'WORKING',
      filledQuantity: 0,
      remainingQuantity: 10,
      price: 189.5,
      cancelable: true,
    });
    expect(placed).not.toHaveProperty('orderActivityCollection');
    schwab.fillRestingOrders();
    expect(schwab.orders(hash)[0]).toMatchObject({ status: 'WORKING' });
    schwab.setPrice('AAPL', '189.00');
    schwab.fillRestingOrders();
    const filled = await call(`/trader/v1/accounts/${hash}/orders/${String(placed['orderId'])}`);
    expectSpec('trader', 'GET', '/accounts/{accountNumber}/orders/{orderId}', filled);
    expect(filled.json).toMatchObject({
      status: 'FILLED',
      filledQuantity: 10,
      remainingQuantity: 0,
      orderActivityCollection: [{ executionLegs: [{ price: 189, quantity: 10 }] }],
    });
  });

  it('fills partially on request and keeps the order working', async () => {
    const placed = await placedOrder(await place(equityOrder({ orderType: 'LIMIT', price: '185.00' })));
    schwab.fillOrder(hash, Number(placed['orderId']), { quantity: 4, price: '185.00' });
    expect(schwab.orders(hash)[0]).toMatchObject({
      status: 'WORKING',
      filledQuantity: 4,
      remainingQuantity: 6,
    });
  });

  it('cancels a working order once; a filled one is not cancelable', async () => {
    const placed = await placedOrder(await place(equityOrder({ orderType: 'LIMIT', price: '150.00' })));
    const path = `/trader/v1/accounts/${hash}/orders/${String(placed['orderId'])}`;
    const cancel = await call(path, { method: 'DELETE' });
    expect(cancel.status).toBe(200);
    expect(cancel.text).toBe('');
    expect((await call(path)).json).toMatchObject({ status: 'CANCELED', cancelable: false });
    const again = await call(path, { method: 'DELETE' });
    expect(again.status).toBe(400);
    expectSpec('trader', 'DELETE', '/accounts/{accountNumber}/orders/{orderId}', again);
    expect((await call(`/trader/v1/accounts/${hash}/orders/999`, { method: 'DELETE' })).status).toBe(404);
  });

  it('replaces a working order with a new one', async () => {
    const placed = await placedOrder(await place(equityOrder({ orderType: 'LIMIT', price: '150.00' })));
    const path = `/trader/v1/accounts/${hash}/orders/${String(placed['orderId'])}`;
    const replaced = await call(path, {
      method: 'PUT',
      body: equityOrder({ orderType: 'LIMIT', price: '151.00' }),
    });
    const replacement = await placedOrder(replaced);
    expect(replacement).toMatchObject({ status: 'WORKING', price: 151 });
    expect(replacement['orderId']).not.toBe(placed['orderId']);
    expect((await call(path)).json).toMatchObject({ status: 'REPLACED' });
    expect(
      (await call(path, { method: 'PUT', body: equityOrder({ orderType: 'LIMIT', price: '152.00' }) }))
        .status,
    ).toBe(400);
  });

  it('lists orders only with both entry-time bounds, newest first, filtered by status', async () => {
    const missing = await call(`/trader/v1/accounts/${hash}/orders?toEnteredTime=${TO}`);
    expect(missing.status).toBe(400);
    expectSpec('trader', 'GET', '/accounts/{accountNumber}/orders', missing);
    expect((missing.json as { errors: string[] }).errors).toContain('fromEnteredTime is required');
    expect(
      (await call(`/trader/v1/accounts/${hash}/orders?fromEnteredTime=2024-05-01&toEnteredTime=${TO}`))
        .status,
    ).toBe(400);
    expect(
      (
        await call(
          `/trader/v1/accounts/${hash}/orders?fromEnteredTime=2023-01-01T00:00:00.000Z&toEnteredTime=${TO}`,
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await call(
          `/trader/v1/accounts/${hash}/orders?fromEnteredTime=${FROM}&toEnteredTime=${TO}&status=OPEN`,
        )
      ).status,
    ).toBe(400);

    await place(equityOrder());
    clock = new Date(clock.getTime() + 60_000);
    await place(equityOrder({ orderType: 'LIMIT', price: '150.00' }));
    const all = await call(`/trader/v1/accounts/${hash}/orders?fromEnteredTime=${FROM}&toEnteredTime=${TO}`);
    expectSpec('trader', 'GET', '/accounts/{accountNumber}/orders', all);
    expect((all.json as { status: string }[]).map((order) => order.status)).toEqual(['WORKING', 'FILLED']);
    const working = await call(
      `/trader/v1/accounts/${hash}/orders?fromEnteredTime=${FROM}&toEnteredTime=${TO}&status=WORKING`,
    );
    expect(working.json).toHaveLength(1);
    const offset = await call(
      `/trader/v1/orders?fromEnteredTime=${encodeURIComponent('2024-05-13T14:30:30+0000')}&toEnteredTime=${TO}`,
    );
    expectSpec('trader', 'GET', '/orders', offset);
    expect(offset.json).toHaveLength(1);
  });

  it('previews without placing, in the documented shape', async () => {
    const reply = await call(`/trader/v1/accounts/${hash}/previewOrder`, {
      method: 'POST',
      body: equityOrder(),
    });
    expect(reply.status).toBe(200);
    expectSpec('trader', 'POST', '/accounts/{accountNumber}/previewOrder', reply);
    expect(reply.json).toMatchObject({
      orderStrategy: { orderBalance: { orderValue: 1900 }, status: 'ACCEPTED' },
    });
    expect(schwab.orders(hash)).toEqual([]);
    expect(
      (
        await call(`/trader/v1/accounts/${hash}/previewOrder`, {
          method: 'POST',
          body: equityOrder({ orderLegCollection: [] }),
        })
      ).status,
    ).toBe(400);
  });
});

describe('the order rate limit', () => {
  it('answers 429 to the 121st place/cancel/replace within 60 s on the fake clock', async () => {
    const placed = await placedOrder(
      await place(
        equityOrder({
          orderType: 'LIMIT',
          price: '100.00',
          orderLegCollection: [
            { instruction: 'BUY', quantity: 1, instrument: { symbol: 'AAPL', assetType: 'EQUITY' } },
          ],
        }),
      ),
    );
    await call(`/trader/v1/accounts/${hash}/orders/${String(placed['orderId'])}`, { method: 'DELETE' });
    for (let index = 0; index < 118; index += 1) {
      expect((await place(equityOrder({}, { quantity: 1 }))).status).toBe(201);
    }
    const limited = await place(equityOrder({}, { quantity: 1 }));
    expect(limited.status).toBe(429);
    expect(SchwabSchemas.get().validateComponent('trader', 'ServiceError', limited.json)).toEqual([]);
    expect(schwab.orders(hash)).toHaveLength(119);
    expect(
      (await call(`/trader/v1/accounts/${hash}/orders?fromEnteredTime=${FROM}&toEnteredTime=${TO}`)).status,
    ).toBe(200);
    clock = new Date(clock.getTime() + 60_001);
    expect((await place(equityOrder({}, { quantity: 1 }))).status).toBe(201);
  });
});

describe('market data', () => {
  it('quotes known symbols by key and lists unknown ones under errors.invalidSymbols', async () => {
    const reply = await call(
      `/marketdata/v1/quotes?symbols=AAPL,${encodeURIComponent(PUT_190)},NOPE&fields=quote,reference`,
    );
    expect(reply.status).toBe(200);
    expectSpec('marketdata', 'GET', '/quotes', reply);
    expect(reply.json).toMatchObject({
      AAPL: {
        assetMainType: 'EQUITY',
        symbol: 'AAPL',
        quote: { bidPrice: 189.99, askPrice: 190.01, lastPrice: 190, mark: 190 },
        reference: {},
      },
      [PUT_190]: {
        assetMainType: 'OPTION',
        quote: { delta: expect.any(Number), underlyingPrice: 190 },
        reference: { contractType: 'P', strikePrice: 190 },
      },
      errors: { invalidSymbols: ['NOPE'] },
    });
    const quoteOnly = await call('/marketdata/v1/quotes?symbols=AAPL&fields=quote');
    expect(quoteOnly.json).not.toHaveProperty('AAPL.reference');
    const badFields = await call('/marketdata/v1/quotes?symbols=AAPL&fields=price');
    expect(badFields.status).toBe(400);
    expectSpec('marketdata', 'GET', '/quotes', badFields);
    expect((await call('/marketdata/v1/quotes')).status).toBe(400);
  });

  it('serves chains keyed by "date:DTE" and strike, from a deterministic model', async () => {
    const path =
      '/marketdata/v1/chains?symbol=AAPL&contractType=PUT&fromDate=2024-05-13&toDate=2024-05-24&strikeCount=5';
    const reply = await call(path);
    expect(reply.status).toBe(200);
    expectSpec('marketdata', 'GET', '/chains', reply);
    const chain = reply.json as {
      status: string;
      callExpDateMap: Record<string, unknown>;
      putExpDateMap: Record<string, Record<string, Record<string, unknown>[]>>;
    };
    expect(chain.status).toBe('SUCCESS');
    expect(chain.callExpDateMap).toEqual({});
    expect(Object.keys(chain.putExpDateMap)).toEqual(['2024-05-17:4', '2024-05-24:11']);
    const strikes = chain.putExpDateMap['2024-05-17:4'] ?? {};
    expect(Object.keys(strikes)).toHaveLength(5);
    const [contract] = strikes['190.0'] ?? [];
    expect(contract).toMatchObject({
      putCall: 'PUT',
      symbol: PUT_190,
      strikePrice: 190,
      daysToExpiration: 4,
      multiplier: 100,
    });
    const { bid, ask, delta } = contract as { bid: number; ask: number; delta: number };
    expect(bid).toBeLessThan(ask);
    expect(delta).toBeGreaterThan(-1);
    expect(delta).toBeLessThan(0);
    expect((await call(path)).json).toEqual(reply.json);
    expect((await call('/marketdata/v1/chains?contractType=PUT')).status).toBe(400);
    expect((await call('/marketdata/v1/chains?symbol=AAPL&fromDate=05/13/2024')).status).toBe(400);
  });

  it('serves the expiration chain: weeklies (W) and monthlies (S) from today, FAILED for an unknown symbol', async () => {
    const reply = await call('/marketdata/v1/expirationchain?symbol=AAPL');
    expect(reply.status).toBe(200);
    expectSpec('marketdata', 'GET', '/expirationchain', reply);
    const { expirationList } = reply.json as { expirationList: Record<string, unknown>[] };
    // Monday 13 May 2024: Friday the 17th is the May monthly, the 24th a weekly.
    expect(expirationList[0]).toEqual({
      expirationDate: '2024-05-17',
      daysToExpiration: 4,
      expirationType: 'S',
      settlementType: 'P',
      optionRoots: 'AAPL',
      standard: true,
    });
    expect(expirationList[1]).toMatchObject({ expirationDate: '2024-05-24', expirationType: 'W' });
    const unknown = await call('/marketdata/v1/expirationchain?symbol=NOPE');
    expect(unknown.json).toEqual({ status: 'FAILED', expirationList: [] });
    const missing = await call('/marketdata/v1/expirationchain');
    expect(missing.status).toBe(400);
    expectSpec('marketdata', 'GET', '/expirationchain', missing);
    expect((await call('/marketdata/v1/expirationchain?symbol=AAPL', { bearer: null })).status).toBe(401);
  });
});

describe('untidy listings', () => {
  const listing = () =>
    call(`/trader/v1/accounts/${hash}/orders?fromEnteredTime=${FROM}&toEnteredTime=${TO}`);

  it('lists market orders with "price": 0 and leaves optional fields out of every other entry, within the spec', async () => {
    for (let i = 0; i < 4; i += 1) {
      await place(equityOrder(i % 2 === 0 ? {} : { orderType: 'LIMIT', price: '150.00' }));
      clock = new Date(clock.getTime() + 1_000);
    }
    const all = await listing();
    expectSpec('trader', 'GET', '/accounts/{accountNumber}/orders', all);
    const orders = all.json as Record<string, unknown>[];
    expect(orders).toHaveLength(4);
    for (const order of orders) {
      expect(order).toMatchObject({
        orderType: order['orderType'],
        price: order['orderType'] === 'MARKET' ? 0 : 150,
      });
      const sparse = Number(order['orderId']) % 2 === 0;
      expect(['duration', 'session', 'cancelable', 'accountNumber'].map((field) => field in order)).toEqual(
        Array(4).fill(!sparse),
      );
      expect(Object.keys(order)).toEqual(
        expect.arrayContaining([
          'orderId',
          'status',
          'orderType',
          'quantity',
          'enteredTime',
          'orderLegCollection',
        ]),
      );
    }
    expect(new Set(orders.map((order) => Number(order['orderId']) % 2))).toEqual(new Set([0, 1]));
    // The single order is read in full, its market price 0 included.
    const id = orders.find((order) => order['orderType'] === 'MARKET')?.['orderId'];
    const one = await call(`/trader/v1/accounts/${hash}/orders/${String(id)}`);
    expect(one.json).toMatchObject({ orderType: 'MARKET', price: 0, duration: 'DAY', session: 'NORMAL' });
  });

  it('listAlso adds an entry, as given, to the account listing', async () => {
    await place(equityOrder());
    schwab.listAlso(hash, { orderId: 'x', orderLegCollection: [] });
    const all = await listing();
    expect(all.json).toEqual([
      expect.objectContaining({ orderType: 'MARKET' }),
      { orderId: 'x', orderLegCollection: [] },
    ]);
    expect(() => schwab.listAlso('NO-SUCH-HASH', {})).toThrow(/no account hash/);
  });

  it('answers like a gateway with an HTML error page when told to', async () => {
    schwab.failNextWithGatewayPage({ path: '/trader/v1/accounts/accountNumbers' });
    const page = await call('/trader/v1/accounts/accountNumbers');
    expect([page.status, page.headers.get('content-type'), page.text]).toEqual([
      502,
      'text/html; charset=utf-8',
      GATEWAY_ERROR_PAGE,
    ]);
    expect((await call('/trader/v1/accounts/accountNumbers')).status).toBe(200);
  });
});

describe('failure injection', () => {
  it('failNext answers the scripted failure without processing, then recovers', async () => {
    schwab.failNext({ method: 'POST', path: /\/orders$/ }, { status: 503, retryAfter: 5 });
    const failed = await place(equityOrder());
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('5');
    expect(schwab.orders(hash)).toEqual([]);
    expect((await place(equityOrder())).status).toBe(201);
    schwab.failNext(() => true, { status: 500, body: '<html>gateway</html>' });
    const gateway = await call('/marketdata/v1/quotes?symbols=AAPL');
    expect([gateway.status, gateway.headers.get('content-type'), gateway.text]).toEqual([
      500,
      'text/html; charset=utf-8',
      '<html>gateway</html>',
    ]);
  });

  it('acceptThenTimeout creates the order but never answers (hang) or resets (reset)', async () => {
    schwab.acceptThenTimeout();
    const abort = new AbortController();
    const pending = call(`/trader/v1/accounts/${hash}/orders`, {
      method: 'POST',
      body: equityOrder(),
      signal: abort.signal,
    });
    await schwab.until(() => schwab.orders(hash).length === 1);
    abort.abort();
    await expect(pending).rejects.toThrow();
    expect(schwab.requests.at(-1)).toMatchObject({
      method: 'POST',
      status: undefined,
      outcome: 'unanswered',
    });

    schwab.acceptThenTimeout('reset');
    await expect(place(equityOrder())).rejects.toThrow();
    expect(schwab.requests.at(-1)).toMatchObject({ method: 'POST', status: undefined, outcome: 'dropped' });
    expect(schwab.orders(hash).map((order) => order['status'])).toEqual(['FILLED', 'FILLED']);
    expect((await place(equityOrder())).status).toBe(201);
  });

  it('dropNext resets the connection before anything is processed', async () => {
    schwab.dropNext({ method: 'POST' });
    await expect(place(equityOrder())).rejects.toThrow();
    expect(schwab.orders(hash)).toEqual([]);
    expect(schwab.requests.at(-1)).toMatchObject({ outcome: 'dropped', status: undefined });
    expect((await place(equityOrder())).status).toBe(201);
  });

  it('down() answers 503 everywhere until up()', async () => {
    schwab.down();
    expect((await call('/trader/v1/accounts/accountNumbers')).status).toBe(503);
    expect((await call('/marketdata/v1/quotes?symbols=AAPL')).status).toBe(503);
    expect((await place(equityOrder())).status).toBe(503);
    expect(schwab.orders(hash)).toEqual([]);
    schwab.up();
    expect((await call('/trader/v1/accounts/accountNumbers')).status).toBe(200);
  });

  it('latency delays the answer after the order was processed', async () => {
    schwab.latencyMs = 60_000;
    const abort = new AbortController();
    const pending = call(`/trader/v1/accounts/${hash}/orders`, {
      method: 'POST',
      body: equityOrder(),
      signal: abort.signal,
    });
    await schwab.until(() => schwab.orders(hash).length === 1);
    expect(schwab.requests.at(-1)).toMatchObject({ outcome: 'unanswered' });
    abort.abort();
    await expect(pending).rejects.toThrow();
    schwab.latencyMs = 0;
    expect((await call('/trader/v1/accounts/accountNumbers')).status).toBe(200);
  });
});
