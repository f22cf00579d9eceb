/**
 * E*TRADE (OAuth 1.0a, preview then place; it keeps our client order id but never shows it, so
 * `placementLookup: 'reconciliation'`) against the E*TRADE fake, on a fixed clock (10:00 New York).
 */
import { randomUUID } from 'node:crypto';
import { EtradeBroker } from '../../../src/brokers/etrade/etrade-broker.js';
import type { PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import { FAKE_ETRADE_ACCOUNT, FakeOAuth1Provider } from '../../fakes/oauth1-provider/fake-oauth1-provider.js';
import { fakeListedExpiries, newYorkDay } from '../../fakes/option-expiries.js';
import {
  type BrokerUnderTest,
  CONTRACT_HTTP,
  recordingSleep,
  skipCountingLogger,
} from './broker-under-test.js';

const CONSUMER = { consumerKey: 'etrade-contract-key', consumerSecret: 'etrade contract secret+/=' };
const KEY = FAKE_ETRADE_ACCOUNT.accountIdKey;
const ORDERS = `/v1/accounts/${KEY}/orders`;
const EXPIRE_DATES = '/v1/market/optionexpiredate';

export const etrade: BrokerUnderTest = {
  name: 'E*TRADE',
  capabilities: {
    placeTwice: true,
    lostAnswerFound: true,
    failedLookupUnknown: true,
    authRefused: true,
    rateLimitStorm: true,
    openCircuitSendsNothing: true,
    refusalsKeepCircuitClosed: true,
    badListElement: true,
    expiriesListed: true,
    expiriesFallback: true,
  },
  async start() {
    const clock = new Date('2025-06-02T14:00:00Z');
    const now = () => clock;
    const fake = await FakeOAuth1Provider.start({ ...CONSUMER, now });
    fake.setPrice('AAPL', '190.00');
    const tokens = fake.issueAccessToken();
    const { sleeps, sleep } = recordingSleep();
    const { logger, skipped } = skipCountingLogger();
    const broker = new EtradeBroker({
      apiBase: fake.baseUrl,
      ...CONSUMER,
      tokens: async () => tokens,
      now,
      sleep,
      logger,
      http: {
        ...CONTRACT_HTTP,
        rateLimits: { default: { limit: 1000, intervalMs: 1000 }, market: { limit: 1000, intervalMs: 1000 } },
      },
    });
    const places = () =>
      fake.calls.filter((call) => call.method === 'POST' && call.path === `${ORDERS}/place`);
    const request = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
      accountId: KEY,
      clientOrderId: `A${randomUUID().replaceAll('-', '').slice(0, 19).toUpperCase()}`,
      side: 'buy',
      assetClass: 'equity',
      symbol: 'AAPL',
      quantity: new Decimal(2),
      orderType: 'market',
      timeInForce: 'day',
      ...overrides,
    });
    return {
      broker,
      account: KEY,
      sleeps,
      request,
      ordersAtBroker: async () => fake.orders().map((order) => String(order.orderId)),
      requestCount: () => fake.calls.length,
      orderRequests: () => places().length,
      acceptThenLoseAnswer: () => fake.loseNextPlaceAnswer('reset'),
      lostAnswers: () => places().filter((call) => call.status === 0).length,
      failLookups: () => {
        for (let i = 0; i < 20; i++) fake.failNext(ORDERS, 503);
      },
      refuseAuth: () => fake.refuseEveryToken(),
      renewals: () => fake.calls.filter((call) => call.path === '/oauth/renew_access_token').length,
      renewalsPerRefusal: 1,
      // E*TRADE's "too many requests" is HTTP 400 with an HTML page, read as a 429 whose wait
      // doubles with each consecutive page (1 s, 2 s, 4 s...).
      rateLimitStorm: (count) => {
        fake.rateLimitNext(count, 'accounts', '/orders/place');
        return Array.from({ length: count }, (_, index) => 1_000 * Math.min(2 ** index, 8));
      },
      down: () => fake.down(),
      circuit: () => broker.http.health().circuit,
      refusedRequest: () => request({ symbol: 'ZZZZ' }),
      list: {
        seed: async () => {
          const resting = await broker.placeOrder(
            request({ orderType: 'limit', limitPrice: new Decimal('150') }),
          );
          return resting.brokerOrderId;
        },
        injectBad: () =>
          fake.injectUnreadable('orders', {
            orderId: 999,
            OrderDetail: [{ status: 'OPEN', priceType: 'LIMIT', Instrument: 'see website' }],
          }),
        read: async () => (await broker.listOpenOrders(KEY)).map((order) => order.brokerOrderId),
        skipped,
      },
      expiries: {
        underlying: 'AAPL',
        expected: () => fakeListedExpiries(newYorkDay(clock)).map((expiry) => expiry.date),
        unknown: 'ZZZZ',
        injectBad: () => fake.injectUnreadable('expiries', { year: 2025, month: 13, day: 20 }),
        skipped,
        requests: () => fake.calls.filter((call) => call.path === EXPIRE_DATES).length,
        fail: () => {
          for (let i = 0; i < CONTRACT_HTTP.retry.maxAttempts; i++) fake.failNext(EXPIRE_DATES, 503);
        },
      },
      stop: () => fake.close(),
    };
  },
};
