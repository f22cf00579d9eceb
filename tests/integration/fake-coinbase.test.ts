/**
 * The Coinbase fake itself, driven with raw signed requests: what open orders set aside must be on
 * `hold` and out of `available_balance` in GET /accounts, as Coinbase reports it (a buy holds the
 * quote currency, a sale the base currency), released when the order is cancelled or fills, and an
 * order beyond the available balance refused; or the tests that trust Coinbase's figure prove
 * nothing.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signCdpRequestJwt } from '../../src/brokers/coinbase/cdp-jwt.js';
import { Decimal } from '../../src/core/domain/values.js';
import { API_PREFIX, FakeCoinbase } from '../fakes/coinbase/fake-coinbase.js';

const KEY_NAME =
  'organizations/5d0c2a41-7b3e-4f1a-9c6d-2e8f0a1b3c4d/apiKeys/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PEM = ecKey.privateKey.export({ format: 'pem', type: 'sec1' }).toString();
const NOW = new Date('2026-11-24T15:00:00Z');

let fake: FakeCoinbase;
let orders = 0;

beforeEach(async () => {
  fake = await FakeCoinbase.start();
  fake.now = () => NOW;
  fake.addKey(KEY_NAME, ecKey.privateKey);
  fake.setBestBidAsk('BTC-USD', '64000', '64010');
});

afterEach(async () => {
  await fake.close();
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const url = new URL(`${fake.baseUrl}${API_PREFIX}${path}`);
  const jwt = await signCdpRequestJwt({ name: KEY_NAME, privateKey: PEM }, { method, url }, NOW);
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** A wallet's available balance and hold, as GET /accounts lists them. */
async function wallet(currency: string): Promise<{ available: string; hold: string }> {
  type Listed = { currency: string; available_balance: { value: string }; hold: { value: string } };
  const { accounts } = (await call('GET', '/accounts')) as { accounts: Listed[] };
  const listed = accounts.find((account) => account.currency === currency);
  if (listed === undefined) throw new Error(`no ${currency} wallet listed`);
  return { available: listed.available_balance.value, hold: listed.hold.value };
}

async function place(side: 'BUY' | 'SELL', configuration: Record<string, unknown>) {
  return call('POST', '/orders', {
    client_order_id: `fake-cb-${++orders}`,
    product_id: 'BTC-USD',
    side,
    order_configuration: configuration,
  });
}

const limit = (baseSize: string, limitPrice: string) => ({
  limit_limit_gtc: { base_size: baseSize, limit_price: limitPrice, post_only: false },
});

const orderIdOf = (answer: Record<string, unknown>) =>
  (answer['success_response'] as { order_id: string }).order_id;

describe('Coinbase fake: open orders on hold', () => {
  it('an open buy holds its dollars (value plus fee) out of the available balance; a cancel releases them', async () => {
    expect(await wallet('USD')).toEqual({ available: '10000', hold: '0' });
    // 0.1 BTC at 50,000 below the 64,010 ask rests: 5,000 plus the 0.6 % fee it could pay.
    const placed = await place('BUY', limit('0.1', '50000'));
    expect(placed['success']).toBe(true);
    expect(await wallet('USD')).toEqual({ available: '4970', hold: '5030' });

    const cancelled = await call('POST', '/orders/batch_cancel', { order_ids: [orderIdOf(placed)] });
    expect(cancelled['results']).toEqual([expect.objectContaining({ success: true })]);
    expect(await wallet('USD')).toEqual({ available: '10000', hold: '0' });
  });

  it('a fill releases the hold and charges what the fill cost, maker fee included', async () => {
    await place('BUY', limit('0.1', '50000'));
    fake.setBestBidAsk('BTC-USD', '49990', '50000');
    expect(fake.fillRestingOrders()).toBe(1);
    // 5,000 and the 0.4 % maker fee.
    expect(await wallet('USD')).toEqual({ available: '4980', hold: '0' });
    expect(await wallet('BTC')).toEqual({ available: '0.1', hold: '0' });
  });

  it('refuses a buy beyond the available balance even though the total would cover it', async () => {
    await place('BUY', limit('0.1', '50000')); // 5,030 on hold, 4,970 available
    const refused = await place('BUY', { market_market_ioc: { quote_size: '5000' } });
    expect(refused).toMatchObject({
      success: false,
      error_response: { error: 'INSUFFICIENT_FUND', preview_failure_reason: 'PREVIEW_INSUFFICIENT_FUND' },
    });
    expect((await place('BUY', { market_market_ioc: { quote_size: '4970' } }))['success']).toBe(true);
    // The dollars bought whole satoshis only: a few hundredths of a cent are left, the hold stays.
    const left = await wallet('USD');
    expect([new Decimal(left.available).lessThan('0.01'), left.hold]).toEqual([true, '5030']);
  });

  it('an open sale holds the coins it sells, not dollars; a second sale of them is refused', async () => {
    fake.setBalance('BTC', '0.5');
    const sale = await place('SELL', limit('0.3', '70000'));
    expect(sale['success']).toBe(true);
    expect(await wallet('BTC')).toEqual({ available: '0.2', hold: '0.3' });
    expect(await wallet('USD')).toEqual({ available: '10000', hold: '0' });
    expect((await place('SELL', limit('0.25', '70000')))['success']).toBe(false);

    fake.setBestBidAsk('BTC-USD', '70000', '70010');
    expect(fake.fillRestingOrders()).toBe(1);
    expect(await wallet('BTC')).toEqual({ available: '0.2', hold: '0' });
    // 21,000 less the 0.4 % maker fee.
    expect(await wallet('USD')).toEqual({ available: '30916', hold: '0' });
  });
});
