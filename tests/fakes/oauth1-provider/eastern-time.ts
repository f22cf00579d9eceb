/** Midnight in New York, for E*TRADE's "access tokens expire at midnight US Eastern time". */

const NEW_YORK = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** New York wall-clock fields of an instant. */
function wallClock(instant: Date): { year: number; month: number; day: number; utcOfWall: number } {
  const fields = Object.fromEntries(
    NEW_YORK.formatToParts(instant)
      .filter((part) => part.type !== 'literal')
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
  return {
    year: fields.year,
    month: fields.month,
    day: fields.day,
    utcOfWall: Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second),
  };
}

/** The first midnight in New York strictly after `instant`. */
export function nextEasternMidnight(instant: Date): Date {
  const { year, month, day } = wallClock(instant);
  const midnightAsUtc = Date.UTC(year, month - 1, day + 1);
  // Offset of New York at (about) that midnight; midnight is never inside a DST switch (2 a.m.).
  let guess = midnightAsUtc;
  for (let i = 0; i < 2; i += 1) {
    const offset = wallClock(new Date(guess)).utcOfWall - guess;
    guess = midnightAsUtc - offset;
  }
  return new Date(guess);
}

/** The New York day of an instant, as the number YYYYMMDD. */
export function easternDayNumber(instant: Date): number {
  const { year, month, day } = wallClock(instant);
  return year * 10_000 + month * 100 + day;
}
