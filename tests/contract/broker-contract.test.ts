/**
 * One contract, every broker: the same cases replayed against each adapter over its strict local
 * fake on 127.0.0.1 (the paper broker over a real test database). A case a broker cannot express
 * is stated in its capabilities with the reason (tests/support/broker-contract/), shown in the
 * test's title, and not run; every other case runs, and a failure is the adapter's.
 *
 * Waits go through each adapter's injected sleep, which records them and returns at once; clocks
 * are fixed; every ambiguous answer is a reset connection, never a wall-clock timeout.
 *
 * Auth refusals are asserted at adapter level (BrokerAuthError). Marking the link `needs_reauth`
 * is the registry's, for any BrokerAuthError from any broker (src/brokers/registry.ts,
 * `watchAuth`); it is exercised end to end in tests/integration/schwab-token-refusal.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerAuthError, BrokerCircuitOpenError } from '../../src/brokers/http/errors.js';
import { BrokerRejectedError, BrokerUnreachableError } from '../../src/core/brokers/broker.js';
import { UnknownInstrumentError } from '../../src/core/market-data/market-data.js';
import { alpaca } from '../support/broker-contract/alpaca.js';
import {
  BREAKER_THRESHOLD,
  type BrokerSession,
  type BrokerUnderTest,
  CONTRACT_CASES,
  type ContractCase,
} from '../support/broker-contract/broker-under-test.js';
import { cdpWallet } from '../support/broker-contract/cdp-wallet.js';
import { coinbase } from '../support/broker-contract/coinbase.js';
import { etrade } from '../support/broker-contract/etrade.js';
import { paper } from '../support/broker-contract/paper.js';
import { schwab } from '../support/broker-contract/schwab.js';

const brokers: BrokerUnderTest[] = [paper, alpaca, schwab, etrade, coinbase, cdpWallet];

/** The case's number and title, with the broker's reason when it cannot express it. */
const TITLES: Readonly<Record<ContractCase, string>> = {
  placeTwice: '1. placing twice with the same intent makes one order at the broker',
  lostAnswerFound: '2. a reset after the broker accepted the order finds that order, placed once',
  failedLookupUnknown:
    '3. a failed lookup after an ambiguous placement reports an unknown outcome, never "not placed"',
  authRefused: '4. refused credentials: one renewal where there is one, then BrokerAuthError, nothing placed',
  rateLimitStorm: '5. a 429 storm places once, waiting as long as the broker asked',
  openCircuitSendsNothing: '6. an open circuit sends nothing',
  refusalsKeepCircuitClosed: '7. 4xx refusals do not trip the circuit',
  badListElement: '8. one bad element in a list answer is skipped and the rest read',
  expiriesListed:
    '9. listed option expiries come back ascending, a bad element skipped; an underlying without options is UnknownInstrumentError',
  expiriesFallback:
    '10. a listing the broker cannot give leaves the calendar rule (undefined); one read is kept, not asked for again',
};

it.each(brokers)('$name states every case it cannot express, with a reason', ({ capabilities }) => {
  for (const which of CONTRACT_CASES) {
    const capability = capabilities[which];
    expect(capability === true || capability.trim().length > 0, which).toBe(true);
  }
});

describe.each(brokers)('$name: broker contract', (subject) => {
  const can = subject.capabilities;
  const runs = (which: ContractCase) => can[which] === true;
  /**
   * A case is registered only for the brokers that can express it: what runs is what the table
   * says, and nothing is reported skipped (the reasons are checked by the test above).
   */
  const contractCase = (which: ContractCase, body: () => Promise<void>) => {
    if (runs(which)) it(TITLES[which], body);
  };

  let t: BrokerSession;

  beforeEach(async () => {
    t = await subject.start();
  });
  afterEach(async () => {
    await t?.stop();
  });

  /** A fake-control hook the case needs; a broker that runs the case must provide it. */
  function hook<K extends keyof BrokerSession>(name: K): NonNullable<BrokerSession[K]> {
    const value = t[name];
    if (value === undefined) throw new Error(`${subject.name} runs this case but has no "${name}" hook`);
    return value as NonNullable<BrokerSession[K]>;
  }

  /** The broker's `optionExpiries`; a broker that runs the expiry cases must have it. */
  function listedBy(underlying: string): Promise<readonly string[] | undefined> {
    if (t.broker.optionExpiries === undefined) throw new Error(`${subject.name} has no optionExpiries`);
    return t.broker.optionExpiries(underlying);
  }

  contractCase('placeTwice', async () => {
    const request = t.request();
    const first = await t.broker.placeOrder(request);
    const second = await t.broker.placeOrder(request);
    expect(second.brokerOrderId).toBe(first.brokerOrderId);
    expect(await t.ordersAtBroker()).toEqual([first.brokerOrderId]);
  });

  contractCase('lostAnswerFound', async () => {
    hook('acceptThenLoseAnswer')();
    const request = t.request();
    const placed = await t.broker.placeOrder(request);
    expect(hook('lostAnswers')()).toBe(1);
    expect(placed.clientOrderId).toBe(request.clientOrderId);
    expect(await t.ordersAtBroker()).toEqual([placed.brokerOrderId]);
  });

  contractCase('failedLookupUnknown', async () => {
    hook('acceptThenLoseAnswer')();
    hook('failLookups')();
    const outcome = await t.broker.placeOrder(t.request()).catch((caught: unknown) => caught);
    expect(hook('lostAnswers')()).toBeGreaterThanOrEqual(1);
    expect(outcome).toBeInstanceOf(BrokerUnreachableError);
    expect(outcome).not.toBeInstanceOf(BrokerRejectedError);
    // The broker did take it: "not placed" would have been false.
    expect(await t.ordersAtBroker()).toHaveLength(1);
  });

  contractCase('authRefused', async () => {
    const renewals = hook('renewalsPerRefusal');
    const renewalsBefore = t.renewals?.() ?? 0;
    hook('refuseAuth')();
    const outcome = await t.broker.placeOrder(t.request()).catch((caught: unknown) => caught);
    expect(outcome).toBeInstanceOf(BrokerAuthError);
    expect(outcome).toMatchObject({ kind: 'auth' });
    expect((t.renewals?.() ?? 0) - renewalsBefore).toBe(renewals);
    // Refused before the order request, or the order request refused once per credential tried.
    expect(hook('orderRequests')()).toBeLessThanOrEqual(1 + renewals);
    expect(await t.ordersAtBroker()).toEqual([]);
  });

  contractCase('rateLimitStorm', async () => {
    const storm = 3;
    const waits = hook('rateLimitStorm')(storm);
    const placed = await t.broker.placeOrder(t.request());
    expect(await t.ordersAtBroker()).toEqual([placed.brokerOrderId]);
    expect(hook('orderRequests')()).toBe(storm + 1);
    expect(t.sleeps).toEqual(waits);
  });

  contractCase('openCircuitSendsNothing', async () => {
    const circuit = hook('circuit');
    const requestCount = hook('requestCount');
    hook('down')();
    for (let read = 0; read < 2 * BREAKER_THRESHOLD && circuit() !== 'open'; read++) {
      await t.broker.getBalances(t.account).catch(() => undefined);
    }
    expect(circuit()).toBe('open');
    const before = requestCount();
    const outcome = await t.broker.placeOrder(t.request()).catch((caught: unknown) => caught);
    expect(outcome).toBeInstanceOf(BrokerCircuitOpenError);
    expect(requestCount()).toBe(before);
    expect(await t.ordersAtBroker()).toEqual([]);
  });

  contractCase('refusalsKeepCircuitClosed', async () => {
    const requestCount = hook('requestCount');
    for (let refusal = 0; refusal <= BREAKER_THRESHOLD; refusal++) {
      const before = requestCount();
      const outcome = await t.broker.placeOrder(hook('refusedRequest')()).catch((caught: unknown) => caught);
      expect(outcome).toBeInstanceOf(BrokerRejectedError);
      expect(outcome).not.toBeInstanceOf(BrokerCircuitOpenError);
      // Refused by the broker's answer, not by our client before sending.
      expect(requestCount()).toBeGreaterThan(before);
    }
    expect(hook('circuit')()).toBe('closed');
    const placed = await t.broker.placeOrder(t.request());
    expect(await t.ordersAtBroker()).toEqual([placed.brokerOrderId]);
  });

  contractCase('badListElement', async () => {
    const list = hook('list');
    const good = await list.seed();
    list.injectBad();
    expect(await list.read()).toEqual([good]);
    expect(list.skipped()).toBeGreaterThanOrEqual(1);
  });

  contractCase('expiriesListed', async () => {
    const expiries = hook('expiries');
    await expect(listedBy(expiries.unknown)).rejects.toBeInstanceOf(UnknownInstrumentError);
    expiries.injectBad();
    const expected = expiries.expected();
    expect(expected.length).toBeGreaterThan(5);
    expect(await listedBy(expiries.underlying)).toEqual(expected);
    expect(expiries.skipped()).toBeGreaterThanOrEqual(1);
  });

  contractCase('expiriesFallback', async () => {
    const expiries = hook('expiries');
    expiries.fail();
    expect(await listedBy(expiries.underlying)).toBeUndefined();
    const afterFailure = expiries.requests();
    // A failure is not kept: the next ask goes to the broker, and its listing is kept.
    expect(await listedBy(expiries.underlying)).toEqual(expiries.expected());
    const afterListing = expiries.requests();
    expect(afterListing).toBeGreaterThan(afterFailure);
    expect(await listedBy(expiries.underlying)).toEqual(expiries.expected());
    expect(expiries.requests()).toBe(afterListing);
  });
});
