/**
 * US equity and option trading sessions: regular hours 09:30-16:00 America/New_York, weekends,
 * NYSE full holidays and 13:00 early closes. The New York offset comes from `Intl.DateTimeFormat`
 * so daylight saving time is right without a time zone library.
 */
import type { MarketSession } from '../market-data.js';

/** NYSE full-day closures, from the exchange's published calendar (plus the 2025-01-09 day of mourning). */
const HOLIDAYS: ReadonlyMap<string, string> = new Map([
  ['2025-01-01', "New Year's Day"],
  ['2025-01-09', 'the National Day of Mourning for President Carter'],
  ['2025-01-20', 'Martin Luther King Jr. Day'],
  ['2025-02-17', "Washington's Birthday"],
  ['2025-04-18', 'Good Friday'],
  ['2025-05-26', 'Memorial Day'],
  ['2025-06-19', 'Juneteenth'],
  ['2025-07-04', 'Independence Day'],
  ['2025-09-01', 'Labor Day'],
  ['2025-11-27', 'Thanksgiving'],
  ['2025-12-25', 'Christmas'],
  ['2026-01-01', "New Year's Day"],
  ['2026-01-19', 'Martin Luther King Jr. Day'],
  ['2026-02-16', "Washington's Birthday"],
  ['2026-04-03', 'Good Friday'],
  ['2026-05-25', 'Memorial Day'],
  ['2026-06-19', 'Juneteenth'],
  ['2026-07-03', 'Independence Day (observed)'],
  ['2026-09-07', 'Labor Day'],
  ['2026-11-26', 'Thanksgiving'],
  ['2026-12-25', 'Christmas'],
  ['2027-01-01', "New Year's Day"],
  ['2027-01-18', 'Martin Luther King Jr. Day'],
  ['2027-02-15', "Washington's Birthday"],
  ['2027-03-26', 'Good Friday'],
  ['2027-05-31', 'Memorial Day'],
  ['2027-06-18', 'Juneteenth (observed)'],
  ['2027-07-05', 'Independence Day (observed)'],
  ['2027-09-06', 'Labor Day'],
  ['2027-11-25', 'Thanksgiving'],
  ['2027-12-24', 'Christmas (observed)'],
]);

/** Days the market closes at 13:00 ET. */
const EARLY_CLOSES: ReadonlySet<string> = new Set([
  '2025-07-03',
  '2025-11-28',
  '2025-12-24',
  '2026-11-27',
  '2026-12-24',
  '2027-11-26',
]);

/** Years whose holidays are listed; outside them only weekends are known. */
export const US_CALENDAR_YEARS: readonly number[] = [2025, 2026, 2027];

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const newYorkFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Wall-clock time in New York. `date` is YYYY-MM-DD. */
export interface NewYorkTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday. */
  readonly weekday: number;
  readonly date: string;
}

/** New York's offset in one UTC hour, read from the time zone database (Intl). */
function offsetFromIntl(at: Date): number {
  const values: Record<string, number> = {};
  for (const part of newYorkFormat.formatToParts(at)) {
    if (part.type !== 'literal') values[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    values['year'] ?? 0,
    (values['month'] ?? 1) - 1,
    values['day'] ?? 1,
    values['hour'] ?? 0,
    values['minute'] ?? 0,
    values['second'] ?? 0,
  );
  const whole = Math.floor(at.getTime() / 1000) * 1000;
  return Math.round((asUtc - whole) / 60_000);
}

const HOUR_MS = 3_600_000;
// Intl is slow (every quote and risk check asks the session) and New York's offset only changes at
// a whole UTC hour (2:00 local), so it is looked up once per UTC hour. Bounded: cleared when full.
const offsetByHour = new Map<number, number>();

/** Minutes New York is ahead of UTC at `at` (-300 in winter, -240 in summer). */
export function newYorkOffsetMinutes(at: Date): number {
  const hour = Math.floor(at.getTime() / HOUR_MS);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    offset = offsetFromIntl(new Date(hour * HOUR_MS));
    if (offsetByHour.size >= 10_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

export function newYorkTime(at: Date): NewYorkTime {
  const local = new Date(at.getTime() + newYorkOffsetMinutes(at) * 60_000);
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth() + 1;
  const day = local.getUTCDate();
  return {
    year,
    month,
    day,
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: local.getUTCDay(),
    date: isoDate(year, month, day),
  };
}

/** The instant of a New York wall-clock time on a YYYY-MM-DD date. */
export function newYorkInstant(date: string, hour: number, minute: number): Date {
  const [year, month, day] = parseDate(date);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // Two passes settle the offset even when the first guess lands on the other side of a DST switch.
  let utc = wall - newYorkOffsetMinutes(new Date(wall)) * 60_000;
  utc = wall - newYorkOffsetMinutes(new Date(utc)) * 60_000;
  return new Date(utc);
}

/** Adds days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  const [year, month, day] = parseDate(date);
  const next = new Date(Date.UTC(year, month - 1, day + days));
  return isoDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
}

/** 0 = Sunday. */
export function weekdayOf(date: string): number {
  const [year, month, day] = parseDate(date);
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** One calendar day for US equities and options. */
export interface UsTradingDay {
  readonly date: string;
  readonly trading: boolean;
  /** Why the market is shut all day: a holiday name or "the weekend". */
  readonly closedFor?: string;
  readonly earlyClose: boolean;
  readonly open?: Date;
  readonly close?: Date;
}

export function usTradingDay(date: string): UsTradingDay {
  const weekday = weekdayOf(date);
  if (weekday === 0 || weekday === 6)
    return { date, trading: false, closedFor: 'the weekend', earlyClose: false };
  const holiday = HOLIDAYS.get(date);
  if (holiday !== undefined) return { date, trading: false, closedFor: holiday, earlyClose: false };
  const earlyClose = EARLY_CLOSES.has(date);
  return {
    date,
    trading: true,
    earlyClose,
    open: newYorkInstant(date, 9, 30),
    close: newYorkInstant(date, earlyClose ? 13 : 16, 0),
  };
}

/** The first trading day strictly after `date`. */
export function nextTradingDay(date: string): UsTradingDay {
  let candidate = addDays(date, 1);
  // Never more than four closed days in a row (weekend plus holidays); 14 is a generous bound.
  for (let i = 0; i < 14; i += 1) {
    const day = usTradingDay(candidate);
    if (day.trading) return day;
    candidate = addDays(candidate, 1);
  }
  throw new Error(`No US trading day within two weeks after ${date}`);
}

/**
 * Session state of US equities/options at `at`. `label` names the market in the description.
 */
export function usMarketSession(at: Date, label = 'US markets'): MarketSession {
  const now = newYorkTime(at);
  const today = usTradingDay(now.date);
  if (today.trading && today.open && today.close && at >= today.open && at < today.close) {
    const following = nextTradingDay(today.date);
    return {
      open: true,
      description: `${label} are open; they close ${today.earlyClose ? 'early ' : ''}today at ${clock(today.close)} ET`,
      nextClose: today.close,
      ...(following.open ? { nextOpen: following.open } : {}),
    };
  }
  const upcoming = today.trading && today.open && at < today.open ? today : nextTradingDay(today.date);
  let reason: string;
  if (today.closedFor !== undefined) reason = `closed for ${today.closedFor}`;
  else if (today.open && at < today.open) reason = 'closed (pre-market)';
  else reason = `closed (after ${today.earlyClose ? 'an early close' : 'hours'})`;
  const opensAt = upcoming.open
    ? `; they open ${when(upcoming.date, now.date)} ${clock(upcoming.open)} ET`
    : '';
  const early = upcoming.earlyClose && upcoming.close ? ` (early close ${clock(upcoming.close)} ET)` : '';
  return {
    open: false,
    description: `${label} are ${reason}${opensAt}${early}`,
    ...(upcoming.open ? { nextOpen: upcoming.open } : {}),
    ...(upcoming.close ? { nextClose: upcoming.close } : {}),
  };
}

/** Crypto trades around the clock. */
export function cryptoSession(): MarketSession {
  return { open: true, description: 'Crypto markets trade 24/7' };
}

/** Session for any asset class, shared by every provider. */
export function sessionFor(assetClass: 'equity' | 'option' | 'crypto', at: Date): MarketSession {
  if (assetClass === 'crypto') return cryptoSession();
  return usMarketSession(at, assetClass === 'option' ? 'US options markets' : 'US markets');
}

function when(date: string, today: string): string {
  if (date === today) return 'today';
  const weekday = WEEKDAYS[weekdayOf(date)] ?? '';
  // Beyond a week the weekday alone is ambiguous, so add the date.
  if (date > addDays(today, 6)) {
    const [, month, day] = parseDate(date);
    return `${weekday} ${MONTHS[month - 1] ?? ''} ${day}`;
  }
  return weekday;
}

function clock(at: Date): string {
  const ny = newYorkTime(at);
  return `${String(ny.hour).padStart(2, '0')}:${String(ny.minute).padStart(2, '0')}`;
}

function parseDate(date: string): [number, number, number] {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new RangeError(`Expected a YYYY-MM-DD date, got "${date}"`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
