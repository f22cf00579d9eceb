/**
 * Alpaca's listed option expiries come from its option contracts, page by page
 * (src/brokers/alpaca/option-contracts.ts), against the Alpaca fake on a fixed clock: every page
 * followed up to a bound, a listing past the bound not trusted, contracts that an order under the
 * underlying's own root cannot reach left out. What every broker's listing shares (order, bad
 * elements, no options, failures, the cache) is in the broker contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlpacaBroker } from '../../src/brokers/alpaca/alpaca-broker.js';
import { MAX_CONTRACT_PAGES } from '../../src/brokers/alpaca/option-contracts.js';
import { FakeAlpaca, type FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';
import { fakeListedExpiries } from '../fakes/option-expiries.js';

const KEY: FakeAlpacaKey = {
  keyId: 'PKEXPIRIES1234567890',
  secretKey: 'eXpIrIeS0123456789abcdefghijklmnopqrstuv',
  accountNumber: 'PA3EXPIRIES1',
};
const CLOCK = new Date('2026-11-24T15:00:00Z'); // Tuesday, 10:00 in New York
const CONTRACTS = '/v2/options/contracts';
/** The fake's contracts per expiry: five strikes, a call and a put each. */
const PER_EXPIRY = 10;

let fake: FakeAlpaca;
let broker: AlpacaBroker;

beforeEach(async () => {
  fake = await FakeAlpaca.start([KEY], { now: () => CLOCK });
  fake.setPrice('AAPL', '190.00');
  broker = new AlpacaBroker({
    keyId: KEY.keyId,
    secretKey: KEY.secretKey,
    environment: 'paper',
    baseUrl: fake.baseUrl,
    now: () => CLOCK,
    sleep: async () => undefined,
    http: { timeoutMs: 2_000 },
  });
});

afterEach(async () => {
  await fake.close();
});

const listed = () => fakeListedExpiries('2026-11-24').map((expiry) => expiry.date);
const pagesAsked = () => fake.requests.filter((request) => request.path === CONTRACTS).length;

describe('Alpaca option expiries', () => {
  it('follows next_page_token through every page and lists each expiry once', async () => {
    const expected = listed();
    fake.contractsPageCap = Math.ceil((expected.length * PER_EXPIRY) / 4);
    expect(await broker.optionExpiries('AAPL')).toEqual(expected);
    expect(pagesAsked()).toBe(4);
    // Out to the LEAPS: the client asked past Alpaca's default of the coming weekend.
    expect(expected.at(-1)).toBe('2029-01-19');
  });

  it('does not trust a listing longer than its page bound: the calendar rule stands in', async () => {
    fake.contractsPageCap = 1;
    expect(await broker.optionExpiries('AAPL')).toBeUndefined();
    expect(pagesAsked()).toBe(MAX_CONTRACT_PAGES);
  });

  it('leaves out contracts of an adjusted root and contracts not tradable', async () => {
    const base = { symbol: 'AAPL1261202C00190000', underlying_symbol: 'AAPL', type: 'call' };
    fake.listRaw(CONTRACTS, { ...base, expiration_date: '2026-12-02', root_symbol: 'AAPL1', tradable: true });
    fake.listRaw(CONTRACTS, { ...base, expiration_date: '2026-12-03', root_symbol: 'AAPL', tradable: false });
    const expiries = await broker.optionExpiries('AAPL');
    expect(expiries).toEqual(listed());
    expect(expiries).not.toContain('2026-12-02');
    expect(expiries).not.toContain('2026-12-03');
  });

  it('finds no options on a symbol Alpaca lists no contracts for', async () => {
    await expect(broker.optionExpiries('ZZZZ')).rejects.toMatchObject({ symbol: 'ZZZZ' });
  });
});
