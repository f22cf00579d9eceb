/**
 * The built-in paper broker: Arbion's own ledger on a real test database (the harness's), priced
 * by the pinned simulated market at a fixed clock. No HTTP, so nothing can be lost on the way,
 * rate limited, refused for credentials or cut off by a circuit.
 */
import { randomUUID } from 'node:crypto';
import type { PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import { ADDRESS, createHarness } from '../arbion-harness.js';
import type { BrokerUnderTest } from './broker-under-test.js';

const NO_NETWORK = 'no network: a placement is one database transaction, committed or not';
const NO_CHAIN = 'no option chain of its own: its option expiries follow the calendar rule';

export const paper: BrokerUnderTest = {
  name: 'paper',
  capabilities: {
    placeTwice: true,
    lostAnswerFound: NO_NETWORK,
    failedLookupUnknown: NO_NETWORK,
    authRefused: 'no credentials: the ledger is in our own database',
    rateLimitStorm: 'no HTTP: nothing rate limits the ledger',
    openCircuitSendsNothing: 'no HTTP client, so no circuit breaker',
    refusalsKeepCircuitClosed: 'no HTTP client, so no circuit breaker',
    badListElement: 'its lists are rows of its own tables, typed by the schema: no foreign answer to parse',
    expiriesListed: NO_CHAIN,
    expiriesFallback: NO_CHAIN,
  },
  async start() {
    const h = await createHarness('server');
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: 'broker-contract' });
    const account = (await h.arbion.accounts.tradingAccount(who.userId)).externalId;
    const request = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
      accountId: account,
      clientOrderId: randomUUID(),
      side: 'buy',
      assetClass: 'equity',
      symbol: 'MSFT',
      quantity: new Decimal(2),
      orderType: 'market',
      timeInForce: 'day',
      ...overrides,
    });
    return {
      broker: h.arbion.paper,
      account,
      sleeps: [],
      request,
      ordersAtBroker: async () =>
        (await h.test.database.prisma.paperOrder.findMany({ where: { paperAccountId: account } })).map(
          (order) => order.id,
        ),
      stop: () => h.destroy(),
    };
  },
};
