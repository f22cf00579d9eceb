/**
 * Option expiries: "May 17", "May 17th, 2026", "2026-01-16", "1/16", "1/16/26". A month and day
 * without a year means the next such date on or after `now` (UTC calendar), so "May 17" typed in
 * June is next year's May 17.
 */
import type { Parsed } from './numbers.js';
import type { Token } from './tokens.js';

const MONTHS: ReadonlyMap<string, number> = new Map([
  ['jan', 1],
  ['january', 1],
  ['feb', 2],
  ['february', 2],
  ['mar', 3],
  ['march', 3],
  ['apr', 4],
  ['april', 4],
  ['may', 5],
  ['jun', 6],
  ['june', 6],
  ['jul', 7],
  ['july', 7],
  ['aug', 8],
  ['august', 8],
  ['sep', 9],
  ['sept', 9],
  ['september', 9],
  ['oct', 10],
  ['october', 10],
  ['nov', 11],
  ['november', 11],
  ['dec', 12],
  ['december', 12],
]);

const ORDINAL_SUFFIXES: ReadonlySet<string> = new Set(['', 'st', 'nd', 'rd', 'th']);

const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const SLASH_DATE = /^(\d{1,2})\/(\d{1,2})(?:\/(\d{2}|\d{4}))?$/;

export function isMonthWord(word: string): boolean {
  return MONTHS.has(word);
}

/** 1-12 for a month's name or abbreviation (lower case); undefined for any other word. */
export function monthNumber(word: string): number | undefined {
  return MONTHS.get(word);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function pad(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** Expiry as YYYY-MM-DD, or a reason it is not a usable date. */
export type ExpiryResult = Parsed<string> | { readonly error: string };

function build(year: number | undefined, month: number, day: number, now: Date, next: number): ExpiryResult {
  if (month < 1 || month > 12 || day < 1 || day > 31) return { error: 'that expiry is not a date' };
  const todayKey = now.getUTCFullYear() * 10_000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
  if (year !== undefined) {
    if (day > daysInMonth(year, month)) return { error: 'that expiry is not a date' };
    if (year * 10_000 + month * 100 + day < todayKey) return { error: 'that expiry is in the past' };
    return { value: `${year}-${pad(month)}-${pad(day)}`, next };
  }
  // The next occurrence on or after today; Feb 29 may be a few years away.
  for (let candidate = now.getUTCFullYear(); candidate < now.getUTCFullYear() + 9; candidate++) {
    if (day <= daysInMonth(candidate, month) && candidate * 10_000 + month * 100 + day >= todayKey) {
      return { value: `${candidate}-${pad(month)}-${pad(day)}`, next };
    }
  }
  return { error: 'that expiry is not a date' };
}

/** Parses an expiry at tokens[from]; undefined when nothing there looks like a date. */
export function parseExpiry(tokens: readonly Token[], from: number, now: Date): ExpiryResult | undefined {
  const first = tokens[from];
  if (first === undefined) return undefined;
  if (first.kind === 'date') {
    const iso = ISO_DATE.exec(first.raw);
    if (iso !== null) return build(Number(iso[1]), Number(iso[2]), Number(iso[3]), now, from + 1);
    const slash = SLASH_DATE.exec(first.raw);
    if (slash !== null) {
      const yearText = slash[3];
      const year =
        yearText === undefined
          ? undefined
          : yearText.length === 2
            ? 2000 + Number(yearText)
            : Number(yearText);
      return build(year, Number(slash[1]), Number(slash[2]), now, from + 1);
    }
    return { error: 'that expiry is not a date' };
  }
  if (first.kind !== 'word') return undefined;
  const month = MONTHS.get(first.low);
  const dayToken = tokens[from + 1];
  if (
    month === undefined ||
    dayToken === undefined ||
    dayToken.kind !== 'number' ||
    dayToken.value === undefined ||
    dayToken.value.length > 2 ||
    !ORDINAL_SUFFIXES.has(dayToken.suffix ?? '')
  ) {
    return undefined;
  }
  let next = from + 2;
  let year: number | undefined;
  const comma = tokens[next]?.raw === ',';
  const yearToken = tokens[comma ? next + 1 : next];
  if (
    yearToken !== undefined &&
    yearToken.kind === 'number' &&
    yearToken.suffix === '' &&
    yearToken.raw.length === 4 &&
    yearToken.raw >= '2000' &&
    yearToken.raw <= '2099'
  ) {
    year = Number(yearToken.raw);
    next = comma ? next + 2 : next + 1;
  }
  return build(year, month, Number(dayToken.value), now, next);
}
