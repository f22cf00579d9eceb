/**
 * The headline numbers of a bench (issue 21's acceptance targets): a `summary` object of plain
 * numbers for the JSON report, and a printed table with each target beside its number.
 */

export interface SummaryLine {
  /** The key in the report's `summary` object. */
  readonly key: string;
  /** What is measured, for the printed table. */
  readonly what: string;
  /** NaN when not measured (written as null). */
  readonly value: number;
  /** Digits printed. */
  readonly digits: number;
  /** `<=`: the value must not exceed `target`; `>=`: it must reach it. */
  readonly bound: '<=' | '>=';
  readonly target: number;
}

const met = (line: SummaryLine) =>
  Number.isNaN(line.value)
    ? 'not measured'
    : (line.bound === '<=' ? line.value <= line.target : line.value >= line.target)
      ? 'met'
      : 'not met';

/** The `summary` object: each key with its number (null if not measured). */
export function summaryObject(lines: readonly SummaryLine[]): Record<string, number | null> {
  return Object.fromEntries(lines.map((line) => [line.key, Number.isNaN(line.value) ? null : line.value]));
}

export function printSummary(title: string, lines: readonly SummaryLine[]): void {
  const rows = lines.map((line) => [
    line.key,
    line.what,
    Number.isNaN(line.value) ? '-' : line.value.toFixed(line.digits),
    `${line.bound} ${line.target}`,
    met(line),
  ]);
  const header = ['summary', 'measure', 'value', 'target', ''];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const print = (cells: readonly string[]) =>
    console.log(
      cells
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  console.log(`\n${title}`);
  print(header);
  print(widths.map((width) => '-'.repeat(width)));
  for (const row of rows) print(row);
}
