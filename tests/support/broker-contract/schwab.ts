/**
 * Schwab (OAuth 2.0 bearer tokens, NO client order id: `placementLookup: 'reconciliation'`)
 * against the Schwab fake and its OAuth 2.0 provider, on one fixed clock. The token source is the
 * per-broker test's: the stored token, and one refresh at the provider for a refused one.
 */

import { SchwabBroker } from '../../../src/brokers/schwab/schwab-broker.js';
import type { PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import { FakeOAuth2Provider } from '../../fakes/oauth2-provider/fake-oauth2-provider.js';
import { fakeListedExpiries, newYorkDay } from '../../fakes/option-expiries.js';
import { FakeSchwab } from '../../fakes/schwab/fake-schwab.js';
import {
  type BrokerUnderTest,
  CONTRACT_HTTP,
  recordingSleep,
  skipCountingLogger,
} from './broker-under-test.js';

const CLIENT = {
  clientId: 'schwab-contract-app',
  clientSecret: 'schwab-contract-secret',
  redirectUris: ['https://127.0.0.1:8182/callback'],
  auth: 'basic' as const,
  requirePkce: false,
};
const BASIC = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`;
const ORDERS = /\/orders$/;
const EXPIRATION_CHAIN = '/marketdata/v1/expirationchain';

/** Tokens from the provider's token endpoint (sign-in, then refresh_token grants). */
async function tokenSource(oauth: FakeOAuth2Provider) {
  const grant = async (form: Record<string, string>) => {
    const response = await fetch(oauth.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    if (response.status !== 200) throw new Error(`fake token endpoint answered ${response.status}`);
    return (await response.json()) as { access_token: string; refresh_token: string };
  };
  const authorize = new URL(oauth.authorizationEndpoint);
  const redirectUri = CLIENT.redirectUris[0] ?? '';
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.clientId,
    redirect_uri: redirectUri,
    state: 'contract',
  }).toString();
  const code = (await oauth.approve(authorize)).searchParams.get('code') ?? '';
  let tokens = await grant({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  return {
    accessToken: async () => tokens.access_token,
    refreshAccessToken: async (refused: string) => {
      if (tokens.access_token === refused) {
        tokens = await grant({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      }
      return tokens.access_token;
    },
  };
}

export const schwab: BrokerUnderTest = {
  name: 'Schwab',
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
    const clock = new Date('2024-05-13T14:30:00.000Z');
    const now = () => clock;
    const oauth = await FakeOAuth2Provider.start({
      clients: [CLIENT],
      issueIdToken: true,
      refreshRevokesAccessTokens: true,
      now,
    });
    const fake = await FakeSchwab.start({
      oauth,
      accounts: [{ accountNumber: '12345678', cash: '100000' }],
      now,
    });
    fake.setPrice('AAPL', '190.00');
    const account = fake.hashOf('12345678');
    const { sleeps, sleep } = recordingSleep();
    const { logger, skipped } = skipCountingLogger();
    const broker = new SchwabBroker({
      apiBase: fake.baseUrl,
      ...(await tokenSource(oauth)),
      now,
      sleep,
      logger,
      http: CONTRACT_HTTP,
    });
    const orderPosts = () => fake.requests.filter((sent) => sent.method === 'POST' && ORDERS.test(sent.path));
    const request = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
      accountId: account,
      clientOrderId: `intent-${Math.random().toString(36).slice(2)}`,
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
      ordersAtBroker: async () => fake.orders(account).map((order) => String(order['orderId'])),
      requestCount: () => fake.requests.length,
      orderRequests: () => orderPosts().length,
      acceptThenLoseAnswer: () => fake.acceptThenTimeout('reset'),
      lostAnswers: () => orderPosts().filter((sent) => sent.outcome === 'dropped').length,
      failLookups: () => {
        for (let i = 0; i < 20; i++) fake.failNext({ method: 'GET', path: ORDERS }, { status: 503 });
      },
      refuseAuth: () => fake.refuseEveryToken(),
      renewals: () => oauth.tokenCalls('refresh_token').length,
      renewalsPerRefusal: 1,
      rateLimitStorm: (count) => {
        for (let i = 0; i < count; i++) {
          fake.failNext({ method: 'POST', path: ORDERS }, { status: 429, retryAfter: 1 });
        }
        return Array(count).fill(1_000);
      },
      down: () => fake.down(),
      circuit: () => broker.http.health().circuit,
      refusedRequest: () => request({ symbol: 'ZZZZ' }),
      list: {
        seed: async () => {
          const resting = await broker.placeOrder(
            request({ orderType: 'limit', limitPrice: new Decimal(150) }),
          );
          return resting.brokerOrderId;
        },
        injectBad: () =>
          fake.listAlso(account, { orderId: 'not-a-number', status: 'WORKING', orderType: 'LIMIT' }),
        read: async () => (await broker.listOpenOrders(account)).map((order) => order.brokerOrderId),
        skipped,
      },
      expiries: {
        underlying: 'AAPL',
        expected: () => fakeListedExpiries(newYorkDay(clock)).map((expiry) => expiry.date),
        unknown: 'ZZZZ',
        injectBad: () => fake.listExpirationAlso({ expirationDate: 'next Friday', expirationType: 'W' }),
        skipped,
        requests: () => fake.requests.filter((sent) => sent.path === EXPIRATION_CHAIN).length,
        fail: () => {
          for (let i = 0; i < CONTRACT_HTTP.retry.maxAttempts; i++) {
            fake.failNext({ method: 'GET', path: EXPIRATION_CHAIN }, { status: 503 });
          }
        },
      },
      stop: async () => {
        await fake.close();
        await oauth.close();
      },
    };
  },
};
