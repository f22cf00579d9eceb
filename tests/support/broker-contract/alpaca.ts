/** Alpaca (API keys, client order ids) against the Alpaca fake. */
import { randomUUID } from 'node:crypto';
import { AlpacaBroker } from '../../../src/brokers/alpaca/alpaca-broker.js';
import type { PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import { FakeAlpaca, type FakeAlpacaKey } from '../../fakes/alpaca/fake-alpaca.js';
import { fakeListedExpiries, newYorkDay } from '../../fakes/option-expiries.js';
import {
  type BrokerUnderTest,
  CONTRACT_HTTP,
  recordingSleep,
  skipCountingLogger,
} from './broker-under-test.js';

const KEY: FakeAlpacaKey = {
  keyId: 'PKCONTRACT1234567890',
  secretKey: 'cOnTrAcT0123456789abcdefghijklmnopqrstuv',
  accountNumber: 'PA3CONTRACT1',
};
const CONTRACTS = '/v2/options/contracts';

export const alpaca: BrokerUnderTest = {
  name: 'Alpaca',
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
    const fake = await FakeAlpaca.start([KEY], { now });
    fake.setPrice('AAPL', '190.00');
    const { sleeps, sleep } = recordingSleep();
    const { logger, skipped } = skipCountingLogger();
    const broker = new AlpacaBroker({
      keyId: KEY.keyId,
      secretKey: KEY.secretKey,
      environment: 'paper',
      baseUrl: fake.baseUrl,
      now,
      sleep,
      logger,
      http: CONTRACT_HTTP,
    });
    const account = KEY.accountNumber;
    const orderPosts = () =>
      fake.requests.filter((sent) => sent.method === 'POST' && sent.path === '/v2/orders');
    const request = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
      accountId: account,
      clientOrderId: randomUUID(),
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
      account,
      sleeps,
      request,
      ordersAtBroker: async () => fake.orders(account).map((order) => order.id),
      requestCount: () => fake.requests.length,
      orderRequests: () => orderPosts().length,
      acceptThenLoseAnswer: () => fake.acceptThenTimeout('reset'),
      lostAnswers: () => orderPosts().filter((sent) => sent.status === 0).length,
      failLookups: () => fake.failNext('GET /v2/orders:by_client_order_id', { status: 503, times: 20 }),
      // API keys: nothing to renew, a 401 is final.
      refuseAuth: () => fake.revokeKey(KEY.keyId),
      renewalsPerRefusal: 0,
      rateLimitStorm: (count) => {
        fake.failNext('POST /v2/orders', { status: 429, retryAfter: 1, times: count });
        return Array(count).fill(1_000);
      },
      down: () => fake.down(),
      circuit: () => broker.http.health().circuit,
      refusedRequest: () => request({ symbol: 'ZZZZ' }),
      list: {
        seed: async () => {
          const resting = await broker.placeOrder(
            request({ orderType: 'limit', limitPrice: new Decimal(150), timeInForce: 'gtc' }),
          );
          return resting.brokerOrderId;
        },
        injectBad: () => {
          const [listed] = fake.orders(account);
          fake.listRaw('/v2/orders', { ...listed, id: 'odd-kind', type: 'pegged' });
        },
        read: async () => (await broker.listOpenOrders(account)).map((order) => order.brokerOrderId),
        skipped,
      },
      expiries: {
        underlying: 'AAPL',
        expected: () => fakeListedExpiries(newYorkDay(clock)).map((expiry) => expiry.date),
        unknown: 'ZZZZ',
        injectBad: () => fake.listRaw(CONTRACTS, { symbol: 'AAPL250620C00190000', expiration_date: 'soon' }),
        skipped,
        requests: () => fake.requests.filter((sent) => sent.path === CONTRACTS).length,
        fail: () =>
          fake.failNext(`GET ${CONTRACTS}`, { status: 503, times: CONTRACT_HTTP.retry.maxAttempts }),
      },
      stop: () => fake.close(),
    };
  },
};
