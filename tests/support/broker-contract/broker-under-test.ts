/**
 * One broker as the broker contract suite (tests/contract/broker-contract.test.ts) drives it: the
 * real adapter against its strict local fake on 127.0.0.1 (or, for paper, a real test database),
 * with the fake's hooks behind one vocabulary. What a broker cannot express is said in its
 * `capabilities`, case by case, with the reason; nothing else is skipped.
 */
import { Writable } from 'node:stream';
import type { Broker, PlaceOrderRequest } from '../../../src/core/brokers/broker.js';
import { createLogger, type Logger } from '../../../src/core/logging/logger.js';

/** The contract's cases: issue 19, point 6, then the listed option expiries of issue 20. */
export const CONTRACT_CASES = [
  'placeTwice',
  'lostAnswerFound',
  'failedLookupUnknown',
  'authRefused',
  'rateLimitStorm',
  'openCircuitSendsNothing',
  'refusalsKeepCircuitClosed',
  'badListElement',
  'expiriesListed',
  'expiriesFallback',
] as const;

export type ContractCase = (typeof CONTRACT_CASES)[number];

/** `true`: the case runs. A string: the one-line reason the broker cannot express it. */
export type BrokerCapabilitiesUnderTest = Readonly<Record<ContractCase, true | string>>;

/** Every injected sleep and circuit breaker the suite relies on, the same for every HTTP broker. */
export const CONTRACT_HTTP = {
  timeoutMs: 2_000,
  retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
  breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 },
} as const;

/** How many failures open the circuit (the suite's refusals go beyond it). */
export const BREAKER_THRESHOLD = CONTRACT_HTTP.breaker.consecutiveFailures;

/** A list the broker reads element by element, and one element of it the test can make. */
export interface ListUnderTest {
  /** Makes one readable element (a resting order, a holding); returns its key as `read` gives it. */
  seed(): Promise<string>;
  /** From now on the list also carries an element the broker cannot read. */
  injectBad(): void;
  /** The keys the broker read from the list. */
  read(): Promise<string[]>;
  /** Elements the broker logged as skipped so far (how the suite knows the bad one was served). */
  skipped(): number;
}

/** An underlying's option expiries as the broker lists them (`Broker.optionExpiries`). */
export interface ExpiriesUnderTest {
  /** An underlying the fake lists options on. */
  readonly underlying: string;
  /** The expiries the fake lists for it today, ascending. */
  expected(): string[];
  /** An underlying the broker lists no options on. */
  readonly unknown: string;
  /** From now on every listing also carries an element the broker cannot read. */
  injectBad(): void;
  /** Elements the broker logged as skipped so far. */
  skipped(): number;
  /** Listing requests the fake has received so far. */
  requests(): number;
  /** The next listing requests fail with 5xx, outlasting the client's retries. */
  fail(): void;
}

/**
 * A running broker and its fake. Hooks a broker cannot express are absent, and its capabilities
 * say why; `hook()` in the suite refuses to run a case whose hook is missing.
 */
export interface BrokerSession {
  readonly broker: Broker;
  /** The account every request names. */
  readonly account: string;
  /** An order the broker takes and fills or accepts; a fresh client order id each call. */
  request(overrides?: Partial<PlaceOrderRequest>): PlaceOrderRequest;
  /** The ids of the orders the broker holds for the account (its own state, not an API call). */
  ordersAtBroker(): Promise<string[]>;
  /** The waits the broker asked its injected sleep for, in order. */
  readonly sleeps: readonly number[];
  /** Requests of any kind the fake has received so far. */
  requestCount?(): number;
  /** Order placements (the broker's order POST) the fake has received so far, answered or not. */
  orderRequests?(): number;
  /** The next order placement is processed (the order exists), then its connection is reset. */
  acceptThenLoseAnswer?(): void;
  /** Order placements whose connection the fake reset, so far. */
  lostAnswers?(): number;
  /** Every lookup of an order after an ambiguous placement fails (5xx, or reset for the wallet). */
  failLookups?(): void;
  /** From now on the broker refuses every credential; a renewal, where there is one, still succeeds. */
  refuseAuth?(): void;
  /** Renewals (token refresh, OAuth 1.0a renewal) the fake answered so far. */
  renewals?(): number;
  /** The renewals one refused credential earns: 0 where the credentials cannot be renewed. */
  readonly renewalsPerRefusal?: 0 | 1;
  /** The next `count` order placements answer "too many requests"; returns the waits expected. */
  rateLimitStorm?(count: number): number[];
  /** Every request fails with 5xx from now on. */
  down?(): void;
  /** The state of the client's circuit breaker. */
  circuit?(): 'closed' | 'open' | 'half_open';
  /** An order the broker itself (not our client) refuses with a 4xx answer. */
  refusedRequest?(): PlaceOrderRequest;
  readonly list?: ListUnderTest;
  readonly expiries?: ExpiriesUnderTest;
  stop(): Promise<void>;
}

export interface BrokerUnderTest {
  readonly name: string;
  readonly capabilities: BrokerCapabilitiesUnderTest;
  start(): Promise<BrokerSession>;
}

/** A sleep that records what it was asked for and returns at once. */
export function recordingSleep(): { readonly sleeps: number[]; sleep(ms: number): Promise<void> } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
}

/** A logger (warn and up) that counts the list elements a broker skipped. */
export function skipCountingLogger(): { readonly logger: Logger; skipped(): number } {
  let skipped = 0;
  const logger = createLogger({
    level: 'warn',
    format: 'json',
    secretValues: [],
    destination: new Writable({
      write(chunk, _encoding, callback) {
        const line = JSON.parse(String(chunk)) as { msg?: unknown };
        if (String(line.msg).startsWith('skipped an element')) skipped += 1;
        callback();
      },
    }),
  });
  return { logger, skipped: () => skipped };
}
