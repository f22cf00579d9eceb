/**
 * Calendar arithmetic in a user's time zone (User.timezone, an IANA name), through Intl only:
 * where today, this week and this month begin, and how a moment reads on the user's clock.
 */

export type CalendarPeriod = 'today' | 'week' | 'month';

/** Used when a stored zone is not one this runtime knows. */
export const DEFAULT_TIME_ZONE = 'America/New_York';

const partsFormats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(timeZone: string): Intl.DateTimeFormat {
  let format = partsFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    partsFormats.set(timeZone, format);
  }
  return format;
}

/** A zone this runtime knows, or the default. */
export function knownTimeZone(timeZone: string | null | undefined): string {
  if (!timeZone) return DEFAULT_TIME_ZONE;
  try {
    partsFormat(timeZone);
    return timeZone;
  } catch {
    return DEFAULT_TIME_ZONE;
  }
}

const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 0 = Monday. */
  readonly weekday: number;
  /** Minutes the zone is ahead of UTC at that moment. */
  readonly offsetMinutes: number;
}

function wallClock(at: Date, timeZone: string): WallClock {
  const values: Record<string, string> = {};
  for (const part of partsFormat(timeZone).formatToParts(at)) values[part.type] = part.value;
  const number = (name: string) => Number(values[name] ?? 0);
  const asUtc = Date.UTC(
    number('year'),
    number('month') - 1,
    number('day'),
    number('hour'),
    number('minute'),
    number('second'),
  );
  const whole = Math.floor(at.getTime() / 1000) * 1000;
  return {
    year: number('year'),
    month: number('month'),
    day: number('day'),
    weekday: WEEKDAY_INDEX[values['weekday'] ?? 'Mon'] ?? 0,
    offsetMinutes: Math.round((asUtc - whole) / 60_000),
  };
}

/** The moment a local calendar day begins (midnight, or the first moment after a DST gap). */
function localMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const naive = Date.UTC(year, month - 1, day);
  // The offset at the guess, then at the corrected moment: right on both sides of a DST change.
  const first = naive - wallClock(new Date(naive), timeZone).offsetMinutes * 60_000;
  return new Date(naive - wallClock(new Date(first), timeZone).offsetMinutes * 60_000);
}

/** Where `period` begins in `timeZone`, as seen at `now`; weeks begin on Monday. */
export function periodStart(period: CalendarPeriod, now: Date, timeZone: string): Date {
  const clock = wallClock(now, timeZone);
  switch (period) {
    case 'today':
      return localMidnight(clock.year, clock.month, clock.day, timeZone);
    case 'week': {
      // Date.UTC normalizes a day before the 1st into the previous month.
      const monday = new Date(Date.UTC(clock.year, clock.month - 1, clock.day - clock.weekday));
      return localMidnight(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), timeZone);
    }
    case 'month':
      return localMidnight(clock.year, clock.month, 1, timeZone);
  }
}

const shortFormats = new Map<string, Intl.DateTimeFormat>();

/** "Dec 7 14:02" on the user's clock (the year added when it is not the current one). */
export function shortDateTime(at: Date, now: Date, timeZone: string): string {
  const withYear = wallClock(at, timeZone).year !== wallClock(now, timeZone).year;
  const key = `${timeZone}|${withYear}`;
  let format = shortFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      ...(withYear ? { year: 'numeric' } : {}),
    });
    shortFormats.set(key, format);
  }
  return format
    .format(at)
    .replace(',', '')
    .replace(/, (\d\d:\d\d)$/, ' $1');
}

/**
 * "10:02 EST" on the user's clock, with the date when it is not today there ("Nov 23, 10:02 EST"):
 * when a card expired, as its answers and its own words say it. An unknown zone reads as the default.
 */
export function clockTime(at: Date, now: Date, timeZone: string): string {
  const zone = knownTimeZone(timeZone);
  const time = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(at);
  const day = new Intl.DateTimeFormat('en-US', { timeZone: zone, month: 'short', day: 'numeric' });
  return day.format(at) === day.format(now) ? time : `${day.format(at)}, ${time}`;
}
