/** Coinbase Advanced Trade (a CDP key's JWT on every request, client order ids) against the Coinbase fake. */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { CoinbaseBroker } from '../../../src/brokers/coinbase/coinbase-broker.js';
import type { PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import { API_PREFIX, FakeCoinbase } from '../../fakes/coinbase/fake-coinbase.js';
import {
  type BrokerUnderTest,
  CONTRACT_HTTP,
  recordingSleep,
  skipCountingLogger,
} from './broker-under-test.js';

const NO_OPTIONS = 'trades crypto only: no options, so no listed expiries';
const KEY_NAME =
  'organizations/5d2e8a41-7c1b-4f0e-9a3d-2b6c8e0f1a23/apiKeys/0c4f9e2a-1b3d-4e5f-8a6b-7c9d0e1f2a3b';

export const coinbase: BrokerUnderTest = {
  name: 'Coinbase Advanced Trade',
  capabilities: {
    placeTwice: true,
    lostAnswerFound: true,
    failedLookupUnknown: true,
    authRefused: true,
    rateLimitStorm: true,
    openCircuitSendsNothing: true,
    refusalsKeepCircuitClosed: true,
    badListElement: true,
    expiriesListed: NO_OPTIONS,
    expiriesFallback: NO_OPTIONS,
  },
  async start() {
    const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const fake = await FakeCoinbase.start();
    fake.addKey(KEY_NAME, ecKey.privateKey);
    const { sleeps, sleep } = recordingSleep();
    const { logger, skipped } = skipCountingLogger();
    const broker = new CoinbaseBroker({
      apiBase: fake.baseUrl,
      credentials: {
        keyName: KEY_NAME,
        privateKey: ecKey.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
      },
      sleep,
      logger,
      http: CONTRACT_HTTP,
    });
    const account = 'default';
    const orderPosts = () =>
      fake.requests.filter((sent) => sent.method === 'POST' && sent.path === `${API_PREFIX}/orders`);
    const request = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
      accountId: account,
      clientOrderId: randomUUID(),
      side: 'buy',
      assetClass: 'crypto',
      symbol: 'BTC',
      quantity: new Decimal('0.001'),
      orderType: 'market',
      timeInForce: 'gtc',
      ...overrides,
    });
    return {
      broker,
      account,
      sleeps,
      request,
      ordersAtBroker: async () => fake.orders().map((order) => String(order['order_id'])),
      requestCount: () => fake.requests.length,
      orderRequests: () => orderPosts().length,
      acceptThenLoseAnswer: () => fake.acceptThenTimeout('reset'),
      lostAnswers: () => orderPosts().filter((sent) => sent.status === 0).length,
      failLookups: () => fake.failNext('GET /orders/historical/batch', { status: 503, times: 20 }),
      // A JWT is signed afresh for every request: nothing to renew, a 401 is final.
      refuseAuth: () => fake.revokeKey(KEY_NAME),
      renewalsPerRefusal: 0,
      rateLimitStorm: (count) => {
        fake.failNext('POST /orders', { status: 429, retryAfter: 2, times: count });
        return Array(count).fill(2_000);
      },
      down: () => fake.down(),
      circuit: () => broker.http.health().circuit,
      // Coinbase answers the product lookup for a pair it does not list with 404.
      refusedRequest: () => request({ symbol: 'DOGE' }),
      list: {
        seed: async () => {
          const resting = await broker.placeOrder(
            request({ orderType: 'limit', limitPrice: new Decimal('50000') }),
          );
          return resting.brokerOrderId;
        },
        injectBad: () => {
          const [listed] = fake.orders();
          fake.listRaw('orders', { ...listed, order_id: 'odd-order', side: 'UNKNOWN_ORDER_SIDE' });
        },
        read: async () => (await broker.listOpenOrders(account)).map((order) => order.brokerOrderId),
        skipped,
      },
      stop: () => fake.close(),
    };
  },
};
