/**
 * The E*TRADE fake itself, driven with raw signed requests: it must refuse what E*TRADE refuses
 * (a place without the matching preview, a reused or malformed clientOrderId, invalid fields,
 * tampered signatures, too many requests) and answer as E*TRADE documents (never showing the
 * clientOrderId, nulls and zeros where nothing applies yet), or the broker tests prove nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OAuth1Signer } from '../../src/core/oauth/oauth1-signer.js';
import { FAKE_ETRADE_ACCOUNT, FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';

const CONSUMER = { consumerKey: 'etrade-consumer-key', consumerSecret: 'etrade consumer secret+/=' };
const ORDERS = `/v1/accounts/${FAKE_ETRADE_ACCOUNT.accountIdKey}/orders`;

let fake: FakeOAuth1Provider;
let signer: OAuth1Signer;
let tokens: { token: string; tokenSecret: string };
const now = new Date('2025-06-02T14:00:00Z');

beforeEach(async () => {
  fake = await FakeOAuth1Provider.start({ ...CONSUMER, now: () => now });
  fake.setPrice('AAPL', '190');
  signer = new OAuth1Signer(CONSUMER, () => now);
  tokens = fake.issueAccessToken();
});

afterEach(async () => {
  await fake.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  options: { signedPath?: string; accept?: string } = {},
): Promise<{ status: number; contentType: string; json: unknown; text: string }> {
  const url = new URL(`${fake.baseUrl}${path}`);
  const signedUrl = new URL(`${fake.baseUrl}${options.signedPath ?? path}`);
  const response = await fetch(url, {
    method,
    headers: {
      authorization: signer.authorization(method, signedUrl, tokens),
      accept: options.accept ?? 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', json, text };
}

function orderBody(clientOrderId: string, overrides: Record<string, unknown> = {}) {
  return {
    orderType: 'EQ',
    clientOrderId,
    Order: [
      {
        allOrNone: false,
        priceType: 'LIMIT',
        orderTerm: 'GOOD_FOR_DAY',
        marketSession: 'REGULAR',
        limitPrice: 169.73,
        Instrument: [
          {
            Product: { securityType: 'EQ', symbol: 'AAPL' },
            orderAction: 'BUY',
            quantityType: 'QUANTITY',
            quantity: 1,
          },
        ],
        ...overrides,
      },
    ],
  };
}

async function previewId(body: unknown): Promise<number> {
  const preview = await call('POST', `${ORDERS}/preview`, { PreviewOrderRequest: body });
  expect(preview.status).toBe(200);
  const ids = (preview.json as { PreviewOrderResponse: { PreviewIds: { previewId: number }[] } })
    .PreviewOrderResponse.PreviewIds;
  return ids[0]?.previewId ?? 0;
}

describe('fake E*TRADE: preview then place', () => {
  it('places the previewed order, and refuses a place without a preview or with another body', async () => {
    const body = orderBody('CID1');
    const withoutPreview = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...body, PreviewIds: [{ previewId: 1 }] },
    });
    expect(withoutPreview.status).toBe(400);
    expect(withoutPreview.json).toMatchObject({
      Error: { code: 101, message: expect.stringContaining('timed out') },
    });

    const id = await previewId(body);
    const altered = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...orderBody('CID1', { limitPrice: 169.74 }), PreviewIds: [{ previewId: id }] },
    });
    expect(altered.status).toBe(400);
    const otherId = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...orderBody('CID2'), PreviewIds: [{ previewId: id }] },
    });
    expect(otherId.status).toBe(400);
    expect(fake.orders()).toEqual([]);

    const placed = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...body, PreviewIds: [{ previewId: id }] },
    });
    expect(placed.status).toBe(200);
    expect(placed.json).toMatchObject({
      PlaceOrderResponse: { OrderIds: [{ orderId: expect.any(Number) }] },
    });
    expect(fake.orders()).toHaveLength(1);

    // The preview is spent, and the clientOrderId is taken: E*TRADE's error shape both times.
    const replay = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...body, PreviewIds: [{ previewId: id }] },
    });
    expect(replay.status).toBe(400);
    expect(replay.json).toMatchObject({ Error: { code: expect.any(Number), message: expect.any(String) } });
    const duplicate = await call('POST', `${ORDERS}/preview`, { PreviewOrderRequest: body });
    expect(duplicate.status).toBe(400);
    expect((duplicate.json as { Error: { message: string } }).Error.message).toMatch(
      /clientOrderId .* already been used/,
    );
    expect(fake.orders()).toHaveLength(1);
  });

  it('refuses a duplicate clientOrderId at place even when both were previewed first', async () => {
    const first = await previewId(orderBody('SAME1'));
    const second = await previewId(orderBody('SAME1'));
    const place = (id: number) =>
      call('POST', `${ORDERS}/place`, {
        PlaceOrderRequest: { ...orderBody('SAME1'), PreviewIds: [{ previewId: id }] },
      });
    expect((await place(first)).status).toBe(200);
    const again = await place(second);
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ Error: { message: expect.stringMatching(/duplicate/) } });
    expect(fake.orders()).toHaveLength(1);
  });

  it.each([
    ['a missing clientOrderId', { ...orderBody('X'), clientOrderId: undefined }],
    ['a clientOrderId over 20 characters', orderBody('A123456789012345678901')],
    ['a clientOrderId with punctuation', orderBody('ABC-123')],
    ['an unknown priceType', orderBody('P1', { priceType: 'LIMITED' })],
    ['an unknown orderTerm', orderBody('P2', { orderTerm: 'FOREVER' })],
    ['an unknown marketSession', orderBody('P3', { marketSession: 'NIGHT' })],
    ['a LIMIT without limitPrice', orderBody('P4', { limitPrice: undefined })],
    [
      'an option action on a stock',
      orderBody('P5', {
        Instrument: [
          {
            Product: { securityType: 'EQ', symbol: 'AAPL' },
            orderAction: 'BUY_OPEN',
            quantityType: 'QUANTITY',
            quantity: 1,
          },
        ],
      }),
    ],
    [
      'an option without its strike',
      {
        ...orderBody('P6', {
          Instrument: [
            {
              Product: {
                securityType: 'OPTN',
                symbol: 'AAPL',
                callPut: 'CALL',
                expiryYear: 2025,
                expiryMonth: 7,
                expiryDay: 18,
              },
              orderAction: 'BUY_OPEN',
              quantityType: 'QUANTITY',
              quantity: 1,
            },
          ],
        }),
        orderType: 'OPTN',
      },
    ],
    [
      'a fractional quantity',
      orderBody('P7', {
        Instrument: [
          {
            Product: { securityType: 'EQ', symbol: 'AAPL' },
            orderAction: 'BUY',
            quantityType: 'QUANTITY',
            quantity: 1.5,
          },
        ],
      }),
    ],
  ])('refuses a preview with %s', async (_what, body) => {
    const answer = await call('POST', `${ORDERS}/preview`, { PreviewOrderRequest: body });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ Error: { code: expect.any(Number), message: expect.any(String) } });
  });

  it('lists orders by status and cancels only open ones', async () => {
    const id = await previewId(orderBody('LIST1'));
    const placed = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...orderBody('LIST1'), PreviewIds: [{ previewId: id }] },
    });
    const orderId = (placed.json as { PlaceOrderResponse: { OrderIds: { orderId: number }[] } })
      .PlaceOrderResponse.OrderIds[0]?.orderId;
    expect((await call('GET', `${ORDERS}?status=OPEN`)).json).toMatchObject({
      OrdersResponse: { Order: [{ orderId, OrderDetail: [{ status: 'OPEN' }] }] },
    });
    expect((await call('GET', `${ORDERS}?status=EXECUTED`)).status).toBe(204);
    expect((await call('GET', `${ORDERS}?status=SOMETIMES`)).status).toBe(400);
    expect((await call('PUT', `${ORDERS}/cancel`, { CancelOrderRequest: { orderId } })).status).toBe(200);
    expect((await call('PUT', `${ORDERS}/cancel`, { CancelOrderRequest: { orderId } })).status).toBe(400);
    expect((await call('GET', `${ORDERS}?status=CANCELLED`)).json).toMatchObject({
      OrdersResponse: { Order: [{ orderId, OrderDetail: [{ status: 'CANCELLED' }] }] },
    });
  });
});

describe('fake E*TRADE: answers as documented', () => {
  async function placeLimit(clientOrderId: string): Promise<{ text: string; orderId: number }> {
    const id = await previewId(orderBody(clientOrderId));
    const placed = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...orderBody(clientOrderId), PreviewIds: [{ previewId: id }] },
    });
    expect(placed.status).toBe(200);
    const orderId =
      (placed.json as { PlaceOrderResponse: { OrderIds: { orderId: number }[] } }).PlaceOrderResponse
        .OrderIds[0]?.orderId ?? 0;
    return { text: placed.text, orderId };
  }

  it('never shows the clientOrderId: not in preview, place nor list answers', async () => {
    const preview = await call('POST', `${ORDERS}/preview`, { PreviewOrderRequest: orderBody('SECRETID1') });
    expect(preview.status).toBe(200);
    expect(preview.text).not.toContain('SECRETID1');
    const { text } = await placeLimit('SECRETID2');
    expect(text).not.toContain('SECRETID2');
    const listed = await call('GET', ORDERS);
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain('SECRETID2');
    expect(listed.text).not.toContain('clientOrderId');
    expect(fake.orders()[0]?.clientOrderId).toBe('SECRETID2');
  });

  it('lists what does not apply yet as null or 0: executedTime, averageExecutionPrice, stopPrice', async () => {
    const { orderId } = await placeLimit('NULLS1');
    const listed = (await call('GET', ORDERS)).json as {
      OrdersResponse: { Order: { orderId: number; OrderDetail: Record<string, unknown>[] }[] };
    };
    const [detail] =
      listed.OrdersResponse.Order.find((order) => order.orderId === orderId)?.OrderDetail ?? [];
    expect(detail).toMatchObject({ status: 'OPEN', executedTime: null, limitPrice: 169.73, stopPrice: 0 });
    expect(detail?.['Instrument']).toMatchObject([
      { filledQuantity: 0, averageExecutionPrice: null, orderedQuantity: 1 },
    ]);
  });

  it('narrows the order list to New York days (fromDate/toDate, MMDDYYYY, both or neither)', async () => {
    await placeLimit('DAYS1'); // 10:00 in New York on June 2
    const count = async (query: string) => {
      const answer = await call('GET', `${ORDERS}?${query}`);
      if (answer.status === 204) return 0;
      expect(answer.status).toBe(200);
      return (answer.json as { OrdersResponse: { Order: unknown[] } }).OrdersResponse.Order.length;
    };
    expect(await count('fromDate=06022025&toDate=06022025')).toBe(1);
    expect(await count('fromDate=05302025&toDate=06012025')).toBe(0);
    expect(await count('fromDate=06032025&toDate=06042025')).toBe(0);
    for (const bad of [
      'fromDate=06022025',
      'fromDate=2025-06-02&toDate=06022025',
      'fromDate=06032025&toDate=06022025',
    ]) {
      expect((await call('GET', `${ORDERS}?${bad}`)).status).toBe(400);
    }
  });

  it('can lose a place answer after creating the order, and list an order late', async () => {
    fake.loseNextPlaceAnswer(500);
    const id = await previewId(orderBody('LOST1'));
    const lost = await call('POST', `${ORDERS}/place`, {
      PlaceOrderRequest: { ...orderBody('LOST1'), PreviewIds: [{ previewId: id }] },
    });
    expect(lost.status).toBe(500);
    expect(lost.contentType).toContain('text/html');
    expect(fake.orders()).toHaveLength(1);

    fake.listNextOrderLate(1);
    await placeLimit('LATE1');
    const first = (await call('GET', ORDERS)).json as { OrdersResponse: { Order: unknown[] } };
    expect(first.OrdersResponse.Order).toHaveLength(1);
    const second = (await call('GET', ORDERS)).json as { OrdersResponse: { Order: unknown[] } };
    expect(second.OrdersResponse.Order).toHaveLength(2);
  });

  it('slips an element a client cannot read into a list', async () => {
    fake.injectUnreadable('orders', { orderId: 5, OrderDetail: 'n/a' });
    const listed = (await call('GET', ORDERS)).json as { OrdersResponse: { Order: unknown[] } };
    expect(listed.OrdersResponse.Order).toEqual([{ orderId: 5, OrderDetail: 'n/a' }]);
  });
});

describe('fake E*TRADE: option expire dates', () => {
  const EXPIRE_DATES = '/v1/market/optionexpiredate';
  type Listed = { OptionExpireDateResponse: { ExpirationDate: Record<string, unknown>[] } };

  it('lists weeklies and monthlies as {year, month, day, expiryType}, filtered by expiryType', async () => {
    const all = await call('GET', `${EXPIRE_DATES}?symbol=AAPL&expiryType=ALL`);
    expect(all.status).toBe(200);
    const dates = (all.json as Listed).OptionExpireDateResponse.ExpirationDate;
    // Monday 2 June 2025: this Friday is the first weekly, the 20th the June monthly.
    expect(dates[0]).toEqual({ year: 2025, month: 6, day: 6, expiryType: 'WEEKLY' });
    expect(dates).toContainEqual({ year: 2025, month: 6, day: 20, expiryType: 'MONTHLY' });
    // 4 July 2025 is a holiday Friday: that week's weekly expires on Thursday the 3rd.
    expect(dates).toContainEqual({ year: 2025, month: 7, day: 3, expiryType: 'WEEKLY' });
    const monthly = await call('GET', `${EXPIRE_DATES}?symbol=AAPL&expiryType=MONTHLY`);
    const monthlies = (monthly.json as Listed).OptionExpireDateResponse.ExpirationDate;
    expect(monthlies.every((date) => date['expiryType'] === 'MONTHLY')).toBe(true);
    expect(monthlies.length).toBeLessThan(dates.length);
    const xml = await call('GET', `${EXPIRE_DATES}?symbol=AAPL`, undefined, { accept: 'application/xml' });
    expect(xml.text).toContain('<ExpirationDate><year>2025</year><month>6</month><day>6</day>');
  });

  it('refuses a missing symbol (10043), an unknown one (10033) and an unknown expiryType', async () => {
    const missing = await call('GET', EXPIRE_DATES);
    expect(missing).toMatchObject({ status: 400, json: { Error: { code: 10043 } } });
    const unknown = await call('GET', `${EXPIRE_DATES}?symbol=ZZZZ`);
    expect(unknown).toMatchObject({ status: 400, json: { Error: { code: 10033 } } });
    const badType = await call('GET', `${EXPIRE_DATES}?symbol=AAPL&expiryType=SOMETIMES`);
    expect(badType.status).toBe(400);
  });
});

describe('fake E*TRADE: protocol', () => {
  it('refuses a request whose query was altered after signing, and one signed for another path', async () => {
    const tampered = await call(
      'GET',
      `/v1/accounts/${FAKE_ETRADE_ACCOUNT.accountIdKey}/balance?instType=BROKERAGE&realTimeNAV=false`,
      undefined,
      {
        signedPath: `/v1/accounts/${FAKE_ETRADE_ACCOUNT.accountIdKey}/balance?instType=BROKERAGE&realTimeNAV=true`,
      },
    );
    expect(tampered.status).toBe(401);
    expect(tampered.text).toContain('oauth_problem=signature_invalid');
    const moved = await call(
      'POST',
      `${ORDERS}/place`,
      { PlaceOrderRequest: {} },
      { signedPath: `${ORDERS}/preview` },
    );
    expect(moved.status).toBe(401);
    expect(moved.text).toContain('oauth_problem=signature_invalid');
  });

  it('answers JSON when asked (header or .json suffix), XML otherwise', async () => {
    const path = `/v1/accounts/${FAKE_ETRADE_ACCOUNT.accountIdKey}/balance`;
    const xml = await call('GET', `${path}?instType=BROKERAGE`, undefined, { accept: 'application/xml' });
    expect(xml.contentType).toContain('application/xml');
    expect(xml.text).toContain('<BalanceResponse>');
    const suffixed = await call('GET', `${path}.json?instType=BROKERAGE`, undefined, { accept: '*/*' });
    expect(suffixed.json).toMatchObject({ BalanceResponse: { Computed: { cashBuyingPower: 100000 } } });
  });

  it('answers too many requests with HTTP 400 and an HTML page, per bucket', async () => {
    fake.setRateLimit('accounts', { limit: 2, intervalMs: 60_000 });
    const balance = `/v1/accounts/${FAKE_ETRADE_ACCOUNT.accountIdKey}/balance?instType=BROKERAGE`;
    expect((await call('GET', balance)).status).toBe(200);
    expect((await call('GET', balance)).status).toBe(200);
    const limited = await call('GET', balance);
    expect(limited.status).toBe(400);
    expect(limited.contentType).toContain('text/html');
    // Market data counts apart.
    expect((await call('GET', '/v1/market/quote/AAPL?detailFlag=ALL')).status).toBe(200);
    const tooMany = Array.from({ length: 26 }, () => 'AAPL').join(',');
    expect((await call('GET', `/v1/market/quote/${tooMany}`)).status).toBe(400);
  });
});
