/**
 * The expiries the brokers' fakes list for an optionable stock, from the exchanges' listing
 * practice rather than from Arbion's calendar rule (which the fakes must be able to contradict):
 * weeklies for the next six weeks, the standard monthly (third Friday) for the next twelve months,
 * then January LEAPS for two more years. A Friday the exchange is closed moves to the trading day
 * before. So a weekly far ahead (14 May 2027 seen from November 2026) is a Friday that no broker
 * lists yet, while that month's monthly is listed.
 */

export type FakeExpiryKind = 'weekly' | 'monthly';

export interface FakeListedExpiry {
  /** YYYY-MM-DD. */
  readonly date: string;
  readonly kind: FakeExpiryKind;
}

const WEEKLY_WEEKS = 6;
const MONTHLY_MONTHS = 12;
const LEAPS_YEARS = 2;

/** NYSE full-day closures that fall on a Friday (the exchange's published calendars). */
const FRIDAY_HOLIDAYS = new Set([
  '2024-03-29',
  '2025-04-18',
  '2025-07-04',
  '2026-04-03',
  '2026-06-19',
  '2026-07-03',
  '2026-12-25',
  '2027-01-01',
  '2027-03-26',
  '2027-06-18',
  '2027-12-24',
  '2028-04-14',
  '2029-03-30',
  '2030-04-19',
]);

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** A Friday's expiry: the Friday, or the Thursday before a holiday Friday. */
function expiryOf(friday: string): string {
  return FRIDAY_HOLIDAYS.has(friday) ? addDays(friday, -1) : friday;
}

/** The monthly expiry of a month (1-12): its third Friday, moved for a holiday. */
function monthlyExpiry(year: number, month: number): string {
  const first = `${year}-${String(month).padStart(2, '0')}-01`;
  const firstFriday = addDays(first, (5 - weekday(first) + 7) % 7);
  return expiryOf(addDays(firstFriday, 14));
}

/** What the fakes list on `today` (New York), ascending: expiries from today on. */
export function fakeListedExpiries(today: string): FakeListedExpiry[] {
  const listed = new Map<string, FakeExpiryKind>();
  const [year = 0, month = 1] = today.split('-').map(Number);
  for (let offset = 0; offset <= MONTHLY_MONTHS; offset++) {
    const at = year * 12 + (month - 1) + offset;
    listed.set(monthlyExpiry(Math.floor(at / 12), (at % 12) + 1), 'monthly');
  }
  for (let leap = 1; leap <= LEAPS_YEARS; leap++) {
    listed.set(monthlyExpiry(year + 1 + leap, 1), 'monthly');
  }
  const thisFriday = addDays(today, (5 - weekday(today) + 7) % 7);
  for (let week = 0; week < WEEKLY_WEEKS; week++) {
    const expiry = expiryOf(addDays(thisFriday, 7 * week));
    if (!listed.has(expiry)) listed.set(expiry, 'weekly');
  }
  return [...listed]
    .filter(([date]) => date >= today)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([date, kind]) => ({ date, kind }));
}

/** The New York calendar day of an instant, YYYY-MM-DD: the day listings are made for. */
export function newYorkDay(instant: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'America/New_York',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

/** Whether a fake's priced symbol is a stock with options (not a contract, a pair or a coin). */
export function isOptionable(symbol: string): boolean {
  return /^[A-Z][A-Z.]{0,5}$/.test(symbol);
}
