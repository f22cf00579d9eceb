/**
 * Whether an option order names a contract that trades: its expiry not past, and a day contracts
 * are listed to expire on (the broker's own chain where it publishes one, else the calendar rule).
 * Checked before any card, so "sell 1 AAPL 190 put May 17 2027" (a Monday) is refused with the
 * nearest real expiries instead of a card for a contract that does not exist. Also what an option
 * order does to a position (to open, to close) when the user did not say.
 */
import type { Broker } from '../brokers/broker.js';
import { Decimal, type OrderSide } from '../domain/values.js';
import type { OptionContract } from '../market-data/market-data.js';
import {
  expiryKind,
  isListedExpiry,
  isLive,
  listedExpiriesBetween,
  nearestExpiries,
} from '../market-data/option-expiries.js';
import { addDays, newYorkTime, weekdayOf } from '../market-data/providers/us-market-calendar.js';
import { expiryDayLabel, expiryLabel } from './instrument-label.js';

/** How far around a refused expiry the calendar is searched for suggestions. */
const SUGGESTION_WINDOW_DAYS = 45;

/** The listed expiries an underlying's options trade with: the broker's, else the calendar's. */
export async function listedExpiries(
  broker: Pick<Broker, 'optionExpiries'> | undefined,
  underlying: string,
  around: { from: string; to: string },
): Promise<{ readonly expiries: readonly string[]; readonly fromBroker: boolean }> {
  const fromBroker = await broker?.optionExpiries?.(underlying);
  if (fromBroker !== undefined) return { expiries: fromBroker, fromBroker: true };
  return { expiries: listedExpiriesBetween(around.from, around.to), fromBroker: false };
}

/** "14 May 2027 (Fri) or 21 May 2027 (Fri, monthly)". */
function suggestionList(expiries: readonly string[]): string {
  const words = expiries.map((expiry) => {
    const label = expiryDayLabel(expiry);
    return expiryKind(expiry) === 'monthly' ? label.replace(/\)$/, ', monthly)') : label;
  });
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

/**
 * Why `contract` cannot be traded at `now`, in a sentence or two; undefined when its expiry is
 * listed (or `held`: a contract already in the account exists, whatever its date).
 */
export async function expiryProblem(
  contract: OptionContract,
  options: {
    readonly broker: Pick<Broker, 'optionExpiries'>;
    readonly now: Date;
    readonly held: () => Promise<boolean>;
  },
): Promise<string | undefined> {
  const { expiry, underlying } = contract;
  if (!isLive(expiry, options.now)) {
    return `${underlying} options expiring ${expiryLabel(expiry)} no longer trade: that expiry has passed.`;
  }
  const around = {
    from: newYorkTime(options.now).date,
    to: addDays(expiry, SUGGESTION_WINDOW_DAYS),
  };
  const listing = await listedExpiries(options.broker, underlying, around);
  const listed = listing.fromBroker ? listing.expiries.includes(expiry) : isListedExpiry(expiry);
  if (listed || (await options.held())) return undefined;
  const live = listing.expiries.filter((day) => isLive(day, options.now));
  const nearest = nearestExpiries(expiry, live);
  const suggestion = nearest.length === 0 ? '' : ` Did you mean ${suggestionList(nearest)}?`;
  const why = listing.fromBroker
    ? `Your broker lists no ${underlying} options expiring ${expiryDayLabel(expiry)}.`
    : weekdayOf(expiry) === 5
      ? `No ${underlying} options expire on ${expiryDayLabel(expiry)}: the exchange is closed that day, so that week's contracts expire the trading day before.`
      : `${underlying} options expire on Fridays (the Thursday before when that Friday is a holiday), not on ${expiryDayLabel(expiry)}.`;
  return `${why}${suggestion}`;
}

/**
 * What an option order does to the position when the user did not say: a sale with nothing held
 * opens a short position, a sale of no more than is held closes; a buy with no short position
 * opens, a buy of no more than the short closes. Undefined when it would do both (partly closing).
 */
export function inferredPositionEffect(
  side: OrderSide,
  held: Decimal,
  quantity: Decimal | undefined,
): 'open' | 'close' | undefined {
  if (quantity === undefined) return undefined;
  const long = Decimal.max(held, 0);
  const short = Decimal.max(held.neg(), 0);
  if (side === 'sell') {
    if (long.isZero()) return 'open';
    return quantity.lessThanOrEqualTo(long) ? 'close' : undefined;
  }
  if (short.isZero()) return 'open';
  return quantity.lessThanOrEqualTo(short) ? 'close' : undefined;
}
