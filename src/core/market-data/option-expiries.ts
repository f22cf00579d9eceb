/**
 * Which days US equity options expire: the listing calendar, as one rule. Weeklies expire every
 * Friday; the standard monthly is the third Friday of the month; when that Friday is an exchange
 * holiday (Good Friday) the contracts expire on the trading day before, usually the Thursday.
 * Dates are YYYY-MM-DD (New York calendar days). Holidays come from `us-market-calendar.ts`; outside
 * the years it lists only weekends are known.
 *
 * A broker that lists its own chain (`Broker.optionExpiries`) is asked instead where it can be:
 * this rule is what Arbion knows without one (the paper broker, the simulated market).
 */
import { addDays, newYorkInstant, usTradingDay, weekdayOf } from './providers/us-market-calendar.js';

const FRIDAY = 5;

/** Whether an expiry is the month's standard one or a weekly. */
export type ExpiryKind = 'monthly' | 'weekly';

/** The trading day a Friday's contracts expire on: the Friday, or the trading day before it. */
function tradingExpiry(friday: string): string {
  let day = friday;
  // Never more than a few closed weekdays in a row; a week is a generous bound.
  for (let i = 0; i < 7 && !usTradingDay(day).trading; i += 1) day = addDays(day, -1);
  return day;
}

/** The Friday of the Monday-to-Sunday week holding `date`. */
function fridayOfWeek(date: string): string {
  const weekday = weekdayOf(date);
  const mondayBased = (weekday + 6) % 7; // Monday 0 ... Sunday 6
  return addDays(date, 4 - mondayBased);
}

/** The listed expiry of the week holding `date` (its Friday, or Thursday before a holiday). */
export function weekExpiry(date: string): string {
  return tradingExpiry(fridayOfWeek(date));
}

/** The third Friday of a month (1-12), before the holiday rule. */
export function thirdFriday(year: number, month: number): string {
  const first = new Date(Date.UTC(year, month - 1, 1));
  const firstFriday = 1 + ((FRIDAY - first.getUTCDay() + 7) % 7);
  return new Date(Date.UTC(year, month - 1, firstFriday + 14)).toISOString().slice(0, 10);
}

/** The standard monthly expiry of a month (1-12): its third Friday, or the trading day before. */
export function monthlyExpiry(year: number, month: number): string {
  return tradingExpiry(thirdFriday(year, month));
}

/** Whether options are listed to expire on `date` (a weekly or the monthly). */
export function isListedExpiry(date: string): boolean {
  return weekExpiry(date) === date;
}

/** Monthly or weekly for a listed expiry; undefined for a day no contract expires on. */
export function expiryKind(date: string): ExpiryKind | undefined {
  if (!isListedExpiry(date)) return undefined;
  const [year = 0, month = 1] = date.split('-').map(Number);
  return monthlyExpiry(year, month) === date ? 'monthly' : 'weekly';
}

/** Every listed expiry from `from` to `to`, both included, ascending. */
export function listedExpiriesBetween(from: string, to: string): string[] {
  const result: string[] = [];
  for (let friday = fridayOfWeek(from); ; friday = addDays(friday, 7)) {
    const expiry = tradingExpiry(friday);
    if (expiry > to) break;
    if (expiry >= from) result.push(expiry);
  }
  return result;
}

/** The listed expiries whose date falls in a month (1-12), ascending. */
export function expiriesInMonth(year: number, month: number): string[] {
  const day = (d: number) => new Date(Date.UTC(year, month - 1, d)).toISOString().slice(0, 10);
  // Day 0 of the next month is this month's last day.
  return listedExpiriesBetween(day(1), new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10));
}

/** When contracts expiring on `expiry` stop trading: 16:00 New York that day. */
export function expiryClose(expiry: string): Date {
  return newYorkInstant(expiry, 16, 0);
}

/** Whether contracts expiring on `expiry` still trade at `at`. */
export function isLive(expiry: string, at: Date): boolean {
  return expiryClose(expiry).getTime() > at.getTime();
}

/**
 * Up to `count` expiries from `listed` nearest to `date` (ties: the earlier first), returned in
 * date order. `listed` is whatever is tradable: the calendar's expiries or a broker's chain.
 */
export function nearestExpiries(date: string, listed: readonly string[], count = 2): string[] {
  const distance = (expiry: string) =>
    Math.abs(Date.parse(`${expiry}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`));
  return [...listed]
    .sort((a, b) => distance(a) - distance(b) || a.localeCompare(b))
    .slice(0, count)
    .sort((a, b) => a.localeCompare(b));
}
