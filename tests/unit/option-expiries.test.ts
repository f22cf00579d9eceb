/**
 * The option listing calendar over 2026-2027: Fridays, third-Friday monthlies, and the Thursday
 * (trading day before) rule when the Friday is an exchange holiday.
 */
import { describe, expect, it } from 'vitest';
import {
  expiriesInMonth,
  expiryKind,
  isListedExpiry,
  isLive,
  listedExpiriesBetween,
  monthlyExpiry,
  nearestExpiries,
  weekExpiry,
} from '../../src/core/market-data/option-expiries.js';

describe('option expiries', () => {
  it('lists every Friday as a weekly and refuses the other weekdays', () => {
    expect(isListedExpiry('2027-05-21')).toBe(true);
    expect(isListedExpiry('2027-05-14')).toBe(true);
    for (const day of ['2027-05-17', '2027-05-18', '2027-05-19', '2027-05-20', '2027-05-22', '2027-05-23']) {
      expect(isListedExpiry(day), day).toBe(false);
    }
  });

  it('moves a holiday Friday to the Thursday before (Good Friday, Juneteenth, July 4th, Christmas)', () => {
    // Good Friday 2026-04-03 is an exchange holiday: that week expires on Thursday 2026-04-02.
    expect(weekExpiry('2026-03-30')).toBe('2026-04-02');
    expect(isListedExpiry('2026-04-02')).toBe(true);
    expect(isListedExpiry('2026-04-03')).toBe(false);
    for (const [holiday, thursday] of [
      ['2026-06-19', '2026-06-18'],
      ['2026-07-03', '2026-07-02'],
      ['2026-12-25', '2026-12-24'],
      ['2027-01-01', '2026-12-31'],
      ['2027-03-26', '2027-03-25'],
      ['2027-06-18', '2027-06-17'],
      ['2027-12-24', '2027-12-23'],
    ] as const) {
      expect(weekExpiry(holiday), holiday).toBe(thursday);
      expect(isListedExpiry(holiday), holiday).toBe(false);
    }
  });

  it('names the standard monthly: the third Friday, or the Thursday before when it is a holiday', () => {
    const monthlies2026 = Array.from({ length: 12 }, (_, index) => monthlyExpiry(2026, index + 1));
    expect(monthlies2026).toEqual([
      '2026-01-16',
      '2026-02-20',
      '2026-03-20',
      '2026-04-17',
      '2026-05-15',
      '2026-06-18', // Juneteenth falls on the third Friday
      '2026-07-17',
      '2026-08-21',
      '2026-09-18',
      '2026-10-16',
      '2026-11-20',
      '2026-12-18',
    ]);
    expect(monthlyExpiry(2027, 5)).toBe('2027-05-21');
    expect(monthlyExpiry(2027, 6)).toBe('2027-06-17');
    expect(expiryKind('2027-05-21')).toBe('monthly');
    expect(expiryKind('2027-05-14')).toBe('weekly');
    expect(expiryKind('2027-05-17')).toBeUndefined();
  });

  it('lists a month and a range, holidays applied', () => {
    expect(expiriesInMonth(2027, 5)).toEqual(['2027-05-07', '2027-05-14', '2027-05-21', '2027-05-28']);
    expect(expiriesInMonth(2026, 4)).toEqual(['2026-04-02', '2026-04-10', '2026-04-17', '2026-04-24']);
    // 2027-01-01 is a holiday Friday: its expiry is Thursday 2026-12-31, which belongs to December.
    expect(expiriesInMonth(2027, 1)).toEqual(['2027-01-08', '2027-01-15', '2027-01-22', '2027-01-29']);
    expect(expiriesInMonth(2026, 12)).toContain('2026-12-31');
    // 52 Fridays in 2026 and 53 in 2027 (it starts and ends on a Friday), one expiry each.
    expect(listedExpiriesBetween('2026-01-01', '2027-12-31')).toHaveLength(105);
    expect(listedExpiriesBetween('2026-11-24', '2026-12-11')).toEqual([
      '2026-11-27',
      '2026-12-04',
      '2026-12-11',
    ]);
  });

  it('suggests the nearest listed expiries, in date order', () => {
    const listed = listedExpiriesBetween('2027-04-01', '2027-06-30');
    expect(nearestExpiries('2027-05-17', listed)).toEqual(['2027-05-14', '2027-05-21']);
    expect(nearestExpiries('2026-04-03', listedExpiriesBetween('2026-03-01', '2026-04-30'))).toEqual([
      '2026-03-27',
      '2026-04-02',
    ]);
    expect(nearestExpiries('2027-05-17', ['2027-06-17'])).toEqual(['2027-06-17']);
  });

  it('trades an expiry until 16:00 New York that day', () => {
    expect(isLive('2026-12-04', new Date('2026-12-04T20:59:00Z'))).toBe(true);
    expect(isLive('2026-12-04', new Date('2026-12-04T21:00:00Z'))).toBe(false);
  });
});
