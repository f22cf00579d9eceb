/**
 * What the adapters share for `Broker.optionExpiries` (src/brokers/option-expiries.ts): the listing
 * in order and once per day, "no options" told apart from "could not tell", failures that leave
 * the calendar rule, and a listing kept for a few minutes on the injected clock. The read is a
 * plain function here; the adapters' reads run against their fakes in the broker contract.
 */
import { describe, expect, it } from 'vitest';
import { BrokerAuthError, BrokerCircuitOpenError } from '../../src/brokers/http/errors.js';
import {
  dayOf,
  EXPIRY_LISTING_TTL_MS,
  type ExpiryReading,
  isoDay,
  ListedExpiries,
} from '../../src/brokers/option-expiries.js';
import { BrokerUnreachableError } from '../../src/core/brokers/broker.js';
import { UnknownInstrumentError } from '../../src/core/market-data/market-data.js';

/** A listing over a scripted read, on a clock the test moves. */
function listing(read: (symbol: string) => Promise<ExpiryReading>) {
  const clock = { now: new Date('2026-11-24T15:00:00Z') };
  const asked: string[] = [];
  const expiries = new ListedExpiries({
    provider: 'schwab',
    read: (symbol) => {
      asked.push(symbol);
      return read(symbol);
    },
    now: () => clock.now,
    logger: undefined,
  });
  return { expiries, asked, clock };
}

const reading =
  (expiries: string[], unreadable = 0) =>
  async () => ({ expiries, unreadable });

describe('a broker listing of option expiries', () => {
  it('comes back ascending and unique, for the underlying in capitals', async () => {
    const { expiries, asked } = listing(reading(['2027-05-21', '2026-12-04', '2027-05-21', '2026-11-27']));
    expect(await expiries.get(' aapl ')).toEqual(['2026-11-27', '2026-12-04', '2027-05-21']);
    expect(asked).toEqual(['AAPL']);
  });

  it('is kept for a few minutes on the injected clock, then asked for again', async () => {
    const { expiries, asked, clock } = listing(reading(['2026-12-18']));
    await expiries.get('AAPL');
    clock.now = new Date(clock.now.getTime() + EXPIRY_LISTING_TTL_MS - 1);
    await expiries.get('AAPL');
    expect(asked).toHaveLength(1);
    clock.now = new Date(clock.now.getTime() + 1);
    await expiries.get('AAPL');
    expect(asked).toHaveLength(2);
  });

  it('asks once for concurrent cards on one underlying', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { expiries, asked } = listing(async () => {
      await gate;
      return { expiries: ['2026-12-18'], unreadable: 0 };
    });
    const both = Promise.all([expiries.get('AAPL'), expiries.get('AAPL')]);
    release();
    expect(await both).toEqual([['2026-12-18'], ['2026-12-18']]);
    expect(asked).toHaveLength(1);
  });

  it('says "no options" for an empty listing, and keeps saying it without asking again', async () => {
    const { expiries, asked } = listing(reading([]));
    await expect(expiries.get('ZZZZ')).rejects.toBeInstanceOf(UnknownInstrumentError);
    await expect(expiries.get('ZZZZ')).rejects.toMatchObject({ symbol: 'ZZZZ' });
    expect(asked).toHaveLength(1);
  });

  it('keeps an UnknownInstrumentError the read raised', async () => {
    const { expiries, asked } = listing(async (symbol) => {
      throw new UnknownInstrumentError(symbol);
    });
    await expect(expiries.get('ZZZZ')).rejects.toBeInstanceOf(UnknownInstrumentError);
    await expect(expiries.get('ZZZZ')).rejects.toBeInstanceOf(UnknownInstrumentError);
    expect(asked).toHaveLength(1);
  });

  it('cannot tell when every element was unreadable: undefined, not "no options"', async () => {
    const { expiries } = listing(reading([], 3));
    expect(await expiries.get('AAPL')).toBeUndefined();
  });

  it('leaves the calendar rule when the broker is down or paused, and asks again next time', async () => {
    let calls = 0;
    const { expiries } = listing(async () => {
      calls += 1;
      if (calls === 1) throw new BrokerUnreachableError('schwab', 'timed out');
      if (calls === 2) throw new BrokerCircuitOpenError('schwab', 'circuit open');
      return { expiries: ['2026-12-18'], unreadable: 0 };
    });
    expect(await expiries.get('AAPL')).toBeUndefined();
    expect(await expiries.get('AAPL')).toBeUndefined();
    expect(await expiries.get('AAPL')).toEqual(['2026-12-18']);
  });

  it('passes a refused sign-in on (the registry marks the link) and anything that is not a broker failure', async () => {
    const refused = listing(async () => {
      throw new BrokerAuthError('schwab', 'token revoked');
    });
    await expect(refused.expiries.get('AAPL')).rejects.toBeInstanceOf(BrokerAuthError);
    const broken = listing(async () => {
      throw new TypeError('a bug');
    });
    await expect(broken.expiries.get('AAPL')).rejects.toBeInstanceOf(TypeError);
  });
});

describe('expiry days as brokers write them', () => {
  it('takes real YYYY-MM-DD days only', () => {
    expect(isoDay.safeParse('2027-05-21').success).toBe(true);
    for (const bad of ['2027-02-30', '2027-13-01', '2027-5-21', '21/05/2027', '2027-05-21T20:00:00Z']) {
      expect(isoDay.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('builds a day from E*TRADE-style parts, or nothing', () => {
    expect(dayOf(2027, 5, 21)).toBe('2027-05-21');
    expect(dayOf(2027, 2, 29)).toBeUndefined();
    expect(dayOf(2027, 0, 1)).toBeUndefined();
  });
});
