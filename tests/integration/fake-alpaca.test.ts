/**
 * The Alpaca fake itself, driven with raw requests: its buying power must be as strict as Alpaca
 * documents ("Orders at Alpaca", Buying Power): open buys take their value off `buying_power` at
 * once and give it back when they are cancelled or fill, `cash` moves only on fills, and an order
 * beyond what the open ones leave is refused, or the tests that trust the broker's figure prove
 * nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAlpaca, type FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';

const KEY: FakeAlpacaKey = {
  keyId: 'PKFAKETEST0123456789',
  secretKey: 'fakeTestSecret0123456789abcdefghijklmnop',
  accountNumber: 'PA0FAKE00001',
};

let fake: FakeAlpaca;

beforeEach(async () => {
  fake = await FakeAlpaca.start([KEY]);
  fake.setPrice('AAPL', '190');
  fake.setPrice('MSFT', '400');
});

afterEach(async () => {
  await fake.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${fake.baseUrl}${path}`, {
    method,
    headers: {
      'apca-api-key-id': KEY.keyId,
      'apca-api-secret-key': KEY.secretKey,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** The account's cash and buying power fields, as GET /v2/account answers them. */
async function account(): Promise<AccountFunds> {
  const { status, json } = await call('GET', '/v2/account');
  expect(status).toBe(200);
  const { cash, buying_power, regt_buying_power } = json as AccountFunds;
  return { cash, buying_power, regt_buying_power };
}

interface AccountFunds {
  readonly cash: string;
  readonly buying_power: string;
  readonly regt_buying_power: string;
}

async function buy(fields: Record<string, unknown>): Promise<{ status: number; json: unknown }> {
  return call('POST', '/v2/orders', { side: 'buy', time_in_force: 'gtc', ...fields });
}

const orderId = (json: unknown) => (json as { id: string }).id;

describe('Alpaca fake: buying power net of open orders', () => {
  it('an open buy limit takes limit x qty off buying power, not off cash; a cancel gives it back', async () => {
    // 100,000 of cash and no positions: Reg T buying power of 200,000.
    expect(await account()).toEqual({ cash: '100000', buying_power: '200000', regt_buying_power: '200000' });

    const placed = await buy({ symbol: 'AAPL', qty: '500', type: 'limit', limit_price: '180' });
    expect(placed.status).toBe(200);
    expect(await account()).toEqual({ cash: '100000', buying_power: '110000', regt_buying_power: '110000' });

    expect((await call('DELETE', `/v2/orders/${orderId(placed.json)}`)).status).toBe(204);
    expect(await account()).toEqual({ cash: '100000', buying_power: '200000', regt_buying_power: '200000' });
  });

  it('refuses an order that fits only without the open ones, with 403 and Alpaca code', async () => {
    await buy({ symbol: 'AAPL', qty: '500', type: 'limit', limit_price: '180' }); // 90,000
    await buy({ symbol: 'MSFT', qty: '225', type: 'limit', limit_price: '400' }); // 90,000
    expect((await account()).buying_power).toBe('20000');

    // 110 x 190 = 20,900: inside 200,000, beyond the 20,000 the open buys leave.
    const refused = await buy({ symbol: 'AAPL', qty: '110', type: 'market', time_in_force: 'day' });
    expect(refused).toEqual({ status: 403, json: { code: 40310000, message: 'insufficient buying power' } });
    // A limit is valued at its limit, a stop at the higher of its stop and the price.
    const stop = await buy({ symbol: 'AAPL', qty: '100', type: 'stop', stop_price: '201' }); // 20,100
    expect(stop.status).toBe(403);
    expect((await buy({ symbol: 'AAPL', qty: '100', type: 'limit', limit_price: '200' })).status).toBe(200);
    expect((await account()).buying_power).toBe('0');
    expect(fake.orders(KEY.accountNumber).map((order) => order.status)).toEqual(['new', 'new', 'new']);
  });

  it('a fill turns the hold into a position: cash pays the fill price, and nothing is held twice', async () => {
    await buy({ symbol: 'AAPL', qty: '100', type: 'limit', limit_price: '185' });
    expect(await account()).toMatchObject({ cash: '100000', buying_power: '181500' });

    fake.setPrice('AAPL', '184');
    expect(fake.fillRestingOrders()).toBe(1);
    // Cash 81,500 and 100 AAPL worth 18,400: 2 x 99,900 - 18,400.
    expect(await account()).toMatchObject({ cash: '81500', buying_power: '181400' });
  });

  it('an open sale neither adds buying power before it fills nor takes any', async () => {
    await buy({ symbol: 'AAPL', qty: '100', type: 'market', time_in_force: 'day' }); // 19,000
    const before = await account();
    const sale = await call('POST', '/v2/orders', {
      symbol: 'AAPL',
      qty: '100',
      side: 'sell',
      type: 'limit',
      limit_price: '250',
      time_in_force: 'gtc',
    });
    expect(sale.status).toBe(200);
    expect(await account()).toEqual(before);
  });

  it('an open option buy holds limit x 100 per contract', async () => {
    const contract = 'AAPL261218C00200000';
    fake.setPrice(contract, '5.10');
    await buy({ symbol: contract, qty: '2', type: 'limit', limit_price: '4.50', time_in_force: 'day' });
    expect((await account()).buying_power).toBe('199100');
  });
});
