/** Where today, this week and this month begin on a user's clock, across zones and DST changes. */
import { describe, expect, it } from 'vitest';
import { knownTimeZone, periodStart, shortDateTime } from '../../src/core/domain/time-zones.js';

const at = (iso: string) => new Date(iso);

describe('periodStart', () => {
  it.each([
    // Monday 2026-12-07 10:00 in New York (EST, UTC-5).
    ['today', '2026-12-07T15:00:00Z', 'America/New_York', '2026-12-07T05:00:00.000Z'],
    ['week', '2026-12-07T15:00:00Z', 'America/New_York', '2026-12-07T05:00:00.000Z'],
    ['month', '2026-12-07T15:00:00Z', 'America/New_York', '2026-12-01T05:00:00.000Z'],
    // 03:00 UTC is still Sunday evening in New York: its week began on Monday 30 November.
    ['today', '2026-12-07T03:00:00Z', 'America/New_York', '2026-12-06T05:00:00.000Z'],
    ['week', '2026-12-07T03:00:00Z', 'America/New_York', '2026-11-30T05:00:00.000Z'],
    // Wednesday 2 December in Tokyo: the week began in November.
    ['week', '2026-12-02T03:00:00Z', 'Asia/Tokyo', '2026-11-29T15:00:00.000Z'],
    // The DST change on Sunday 8 March 2026: that day began in EST, Tuesday 10 March's week in EDT.
    ['today', '2026-03-08T12:00:00Z', 'America/New_York', '2026-03-08T05:00:00.000Z'],
    ['week', '2026-03-10T12:00:00Z', 'America/New_York', '2026-03-09T04:00:00.000Z'],
    ['month', '2026-04-15T12:00:00Z', 'Europe/London', '2026-03-31T23:00:00.000Z'],
  ] as const)('%s at %s in %s begins at %s', (period, now, zone, expected) => {
    expect(periodStart(period, at(now), zone).toISOString()).toBe(expected);
  });
});

describe('knownTimeZone and shortDateTime', () => {
  it('falls back to New York for a zone the runtime does not know', () => {
    expect(knownTimeZone('Mars/Olympus_Mons')).toBe('America/New_York');
    expect(knownTimeZone(null)).toBe('America/New_York');
    expect(knownTimeZone('Asia/Tokyo')).toBe('Asia/Tokyo');
  });

  it('reads a moment on the user clock, with the year only when it is not this one', () => {
    const now = at('2026-12-07T15:00:00Z');
    expect(shortDateTime(at('2026-12-07T19:02:00Z'), now, 'America/New_York')).toBe('Dec 7 14:02');
    expect(shortDateTime(at('2025-06-01T12:30:00Z'), now, 'America/New_York')).toBe('Jun 1 2025 08:30');
  });
});
