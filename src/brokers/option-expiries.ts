/**
 * The option expiries a broker lists for an underlying (`Broker.optionExpiries`), shared by the
 * adapters that publish a chain (Schwab, E*TRADE, Alpaca): each reads its own endpoint; this
 * module puts the answer in order, keeps it per underlying for a few minutes (a card, its
 * re-check at confirm and the chain answer then cost one request, not one each), and decides what
 * a failure means.
 *
 * - No options listed: `UnknownInstrumentError`, remembered like a listing.
 * - The broker refused the sign-in: passed on, so the registry marks the link for a new sign-in.
 * - Any other broker failure (down, slow, rate limited, an answer we cannot read): undefined, and
 *   core falls back to the calendar rule. The listing only sharpens a check that the calendar
 *   already makes, so a broker that does not answer must not keep an order from being proposed;
 *   the placement itself still goes to that broker and meets its own checks. Not remembered.
 * - Every element of the listing unreadable: undefined too. The broker does list options, we just
 *   cannot tell which, and "no options" would be false.
 */
import { z } from 'zod';
import { BrokerError } from '../core/brokers/errors.js';
import type { Logger } from '../core/logging/logger.js';
import { UnknownInstrumentError } from '../core/market-data/market-data.js';

/** How long a listing (or "no options") is trusted. Exchanges add expiries overnight, not by the minute. */
export const EXPIRY_LISTING_TTL_MS = 10 * 60_000;

/** A calendar day as brokers write expiries, `2027-05-21`, checked to be a real date. */
export const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((day) => {
    // Date.parse rolls 2025-02-30 over to March; the day must read back as it was written.
    const time = Date.parse(`${day}T00:00:00Z`);
    return !Number.isNaN(time) && new Date(time).toISOString().startsWith(day);
  }, 'must be a real date');

/** A day from its parts (E*TRADE's `{year, month, day}`); undefined when they make no real date. */
export function dayOf(year: number, month: number, day: number): string | undefined {
  const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return isoDay.safeParse(text).success ? text : undefined;
}

/** What one read of a broker's listing found. */
export interface ExpiryReading {
  /** The expiries read, in any order, repeats allowed. */
  readonly expiries: readonly string[];
  /** Elements of the answer that could not be read (already logged by the reader). */
  readonly unreadable: number;
}

type Remembered = { readonly until: number; readonly expiries: readonly string[] | 'none' };

export interface ListedExpiriesOptions {
  readonly provider: string;
  /** Reads the broker's listing for an upper-case underlying; may throw `UnknownInstrumentError`. */
  readonly read: (underlying: string) => Promise<ExpiryReading>;
  readonly now: () => Date;
  readonly logger: Logger | undefined;
}

export class ListedExpiries {
  private readonly remembered = new Map<string, Remembered>();
  /** Reads under way, so concurrent asks for one underlying share one request. */
  private readonly reading = new Map<string, Promise<readonly string[] | undefined>>();

  constructor(private readonly options: ListedExpiriesOptions) {}

  /**
   * The underlying's listed expiries, YYYY-MM-DD ascending and unique; undefined when the broker
   * could not tell (see the module comment).
   * @throws UnknownInstrumentError when the broker lists no options on `underlying`
   */
  async get(underlying: string): Promise<readonly string[] | undefined> {
    const symbol = underlying.trim().toUpperCase();
    const known = this.remembered.get(symbol);
    if (known !== undefined && this.options.now().getTime() < known.until) {
      if (known.expiries === 'none') throw new UnknownInstrumentError(symbol);
      return known.expiries;
    }
    const pending = this.reading.get(symbol) ?? this.readAndRemember(symbol);
    this.reading.set(symbol, pending);
    try {
      return await pending;
    } finally {
      this.reading.delete(symbol);
    }
  }

  private async readAndRemember(symbol: string): Promise<readonly string[] | undefined> {
    const until = this.options.now().getTime() + EXPIRY_LISTING_TTL_MS;
    let reading: ExpiryReading;
    try {
      reading = await this.options.read(symbol);
    } catch (error) {
      if (error instanceof UnknownInstrumentError) this.remembered.set(symbol, { until, expiries: 'none' });
      if (!(error instanceof BrokerError) || error.kind === 'auth') throw error;
      this.options.logger?.warn(
        { provider: this.options.provider, underlying: symbol, kind: error.kind },
        'option expiries unavailable from the broker; the calendar rule stands in',
      );
      return undefined;
    }
    const expiries = [...new Set(reading.expiries)].sort();
    if (expiries.length === 0 && reading.unreadable > 0) return undefined;
    this.remembered.set(symbol, { until, expiries: expiries.length === 0 ? 'none' : expiries });
    if (expiries.length === 0) throw new UnknownInstrumentError(symbol);
    return expiries;
  }
}
