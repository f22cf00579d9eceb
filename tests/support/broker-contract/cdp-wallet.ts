/**
 * The Coinbase smart wallet (CDP v2, through the real @coinbase/cdp-sdk) against the CDP fake. It
 * swaps tokens instead of placing orders: the request is a swap of 0.01 ETH to USDC on base, and
 * the "order" is the user operation it sends (`ordersAtBroker`: operations sent, not the ones only
 * prepared). Its "lookup" after a send whose answer was lost is the SDK repeating the send under
 * the same idempotency key, which CDP answers with the stored answer.
 *
 * The SDK configures one process-wide HTTP client, so each `start` builds its client after its
 * fake; the suite runs one broker at a time.
 */
import { randomUUID } from 'node:crypto';
import { CdpWalletBroker } from '../../../src/brokers/cdp-wallet/cdp-wallet-broker.js';
import { CdpWallets } from '../../../src/brokers/cdp-wallet/cdp-wallets.js';
import type { PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import { cdpTestCredentials } from '../../fakes/cdp/credentials.js';
import { FakeCdp, type FakeToken, NATIVE_TOKEN } from '../../fakes/cdp/fake-cdp.js';
import { type BrokerUnderTest, skipCountingLogger } from './broker-under-test.js';

const ETH: FakeToken = { contractAddress: NATIVE_TOKEN, symbol: 'ETH', decimals: 18 };
const USDC: FakeToken = {
  contractAddress: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  symbol: 'USDC',
  decimals: 6,
};
/** The send of a prepared user operation: the request that places the swap. */
const SEND = /\/user-operations\/0x[0-9a-fA-F]{64}\/send$/;
const NO_OPTIONS = 'swaps tokens only: no options, so no listed expiries';
const NO_CIRCUIT =
  'no circuit breaker: every call goes through the CDP SDK, and health() only counts failures (circuit always "closed")';

export const cdpWallet: BrokerUnderTest = {
  name: 'CDP v2 smart wallet',
  capabilities: {
    placeTwice: true,
    lostAnswerFound: true,
    failedLookupUnknown: true,
    authRefused:
      "the credentials are the operator's CDP project key, not the user's sign-in: a 401 is a refusal for the operator, nothing to renew",
    rateLimitStorm: true,
    openCircuitSendsNothing: NO_CIRCUIT,
    refusalsKeepCircuitClosed: NO_CIRCUIT,
    badListElement: true,
    expiriesListed: NO_OPTIONS,
    expiriesFallback: NO_OPTIONS,
  },
  async start() {
    const credentials = cdpTestCredentials();
    const fake = await FakeCdp.start({ credentials });
    fake.addToken('base', USDC);
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000');
    const wallets = new CdpWallets({
      apiKeyId: credentials.apiKeyId,
      apiKeySecret: credentials.apiKeySecret,
      walletSecret: credentials.walletSecret,
      apiBase: fake.basePath,
      paymasterUrl: undefined,
    });
    const { logger, skipped } = skipCountingLogger();
    const sleeps: number[] = [];
    const broker = new CdpWalletBroker({
      wallets,
      userId: randomUUID(),
      defaultNetwork: 'base',
      logger,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const account = await broker.accountAddress();
    fake.setBalance('base', account, ETH, (10n ** 18n).toString());
    const sends = () => fake.requests().filter((sent) => SEND.test(sent.path));
    const request = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
      accountId: account,
      clientOrderId: randomUUID(),
      side: 'sell',
      assetClass: 'crypto',
      symbol: 'ETH',
      quantity: new Decimal('0.01'),
      orderType: 'market',
      timeInForce: 'gtc',
      swap: { network: 'base', toToken: 'USDC', slippageBps: 100, minToAmount: new Decimal('29.7') },
      ...overrides,
    });
    return {
      broker,
      account,
      // The broker's own waits (a rate-limited send); the SDK's retries of resets wait by themselves.
      sleeps,
      request,
      ordersAtBroker: async () =>
        fake
          .userOperations()
          .filter((operation) => operation.status !== 'pending')
          .map((operation) => operation.userOpHash),
      requestCount: () => fake.requests().length,
      orderRequests: () => sends().length,
      acceptThenLoseAnswer: () => fake.dropNext(SEND, { afterProcessing: true }),
      lostAnswers: () => sends().filter((sent) => sent.status === 0).length,
      // The SDK repeats a send whose connection was reset (3 times); every repetition is reset too.
      failLookups: () => fake.dropNext(SEND, { times: 10 }),
      rateLimitStorm: (count) => {
        fake.failNext(SEND, 429, undefined, { times: count, retryAfter: 1 });
        // The SDK does not pass Retry-After on: the broker waits 1 s, doubling on each repeat.
        return Array.from({ length: count }, (_, attempt) => 1_000 * 2 ** attempt);
      },
      list: {
        seed: async () => 'ETH',
        injectBad: () =>
          fake.listRawBalance('base', account, {
            amount: { amount: null, decimals: 18 },
            token: { network: 'base', contractAddress: '0x4200000000000000000000000000000000000006' },
          }),
        read: async () => (await broker.getPositions()).map((position) => position.symbol),
        skipped,
      },
      stop: () => fake.close(),
    };
  },
};
