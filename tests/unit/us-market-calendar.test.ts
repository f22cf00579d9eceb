import { describe, expect, it } from 'vitest';
import {
  newYorkInstant,
  newYorkOffsetMinutes,
  newYorkTime,
} from '../../src/core/market-data/providers/us-market-calendar.js';

/** New York wall-clock fields straight from the time zone database, for comparison. */
const reference = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  weekday: 'short',
});
const WEEKDAY = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 } as const;

function fromIntl(at: Date) {
  const parts = Object.fromEntries(reference.formatToParts(at).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAY[parts.weekday as keyof typeof WEEKDAY],
  };
}

describe('New York time (offset cached per UTC hour)', () => {
  it('agrees with the time zone database every 7 minutes 13 seconds across 2025-2027, DST switches included', () => {
    const start = Date.UTC(2025, 0, 1);
    const end = Date.UTC(2028, 0, 1);
    let checked = 0;
    for (let at = start; at < end; at += 433_000) {
      const { date: _date, ...fields } = newYorkTime(new Date(at));
      expect(fields).toEqual(fromIntl(new Date(at)));
      checked++;
    }
    expect(checked).toBeGreaterThan(200_000);
  });

  it('switches offset exactly at the DST boundaries', () => {
    expect(newYorkOffsetMinutes(new Date('2026-03-08T06:59:59Z'))).toBe(-300);
    expect(newYorkOffsetMinutes(new Date('2026-03-08T07:00:00Z'))).toBe(-240);
    expect(newYorkOffsetMinutes(new Date('2026-11-01T05:59:59Z'))).toBe(-240);
    expect(newYorkOffsetMinutes(new Date('2026-11-01T06:00:00Z'))).toBe(-300);
  });

  it('finds the instant of a wall-clock time on either side of a switch', () => {
    expect(newYorkInstant('2026-03-09', 9, 30).toISOString()).toBe('2026-03-09T13:30:00.000Z');
    expect(newYorkInstant('2026-03-06', 9, 30).toISOString()).toBe('2026-03-06T14:30:00.000Z');
  });
});
