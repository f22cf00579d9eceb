/**
 * The conversation bench's printed table and its summary against issue 21's targets
 * (conversation.ts measures; this file only presents).
 */
import type { StartupResult } from './startup.js';
import type { SummaryLine } from './summary.js';
import type { TelegramWebhookBenchResult } from './telegram-webhook.js';

/** Latencies of one measured path, ms. */
export interface LatencyStats {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The message -> card -> confirm flow on one database. */
export interface FlowResult {
  readonly kind: 'embedded' | 'server';
  readonly card: LatencyStats;
  /** Confirm -> filled and the user told. */
  readonly confirm: LatencyStats;
  /** Confirm -> placed at the paper broker (see conversation.ts). */
  readonly placed: LatencyStats;
  /** The paper broker's quote-to-ledger-write. */
  readonly brokerCall: LatencyStats;
  /** Intents filled in the run. */
  readonly filled: number;
  /** Mean statements (server only). */
  readonly statementsPerCardMessage: number | undefined;
  readonly statementsPerConfirm: number | undefined;
}

export interface StartupResults {
  readonly server: StartupResult;
  readonly embedded: StartupResult;
}

export const format = (value: number | undefined, digits = 3) =>
  value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);

type TableRow = [measure: string, p50: string, p99: string, target: string];

export function flowRows(run: FlowResult): TableRow[] {
  const server = run.kind === 'server';
  return [
    [
      `message -> card (${run.kind})`,
      `${format(run.card.p50, 2)} ms`,
      `${format(run.card.p99, 2)} ms`,
      server ? '<= 6 ms p99' : '',
    ],
    [
      `confirm -> placed at broker (${run.kind})`,
      `${format(run.placed.p50, 2)} ms`,
      `${format(run.placed.p99, 2)} ms`,
      server ? '<= 8 ms p99' : '',
    ],
    [
      `  of which the paper broker call (${run.kind})`,
      `${format(run.brokerCall.p50, 2)} ms`,
      `${format(run.brokerCall.p99, 2)} ms`,
      '',
    ],
    [
      `confirm -> filled, user told (${run.kind})`,
      `${format(run.confirm.p50, 2)} ms`,
      `${format(run.confirm.p99, 2)} ms`,
      '',
    ],
  ];
}

export function telegramRows(telegram: TelegramWebhookBenchResult): TableRow[] {
  return [
    ...telegram.rows.map(
      (row): TableRow => [
        `${row.name}, ${row.throughputPerSec.toFixed(0)} msg/s`,
        `${format(row.p50Ms, 2)} ms`,
        `${format(row.p99Ms, 2)} ms`,
        '',
      ],
    ),
    ['telegram throughput, arbion / echo bot', format(telegram.throughputRatio, 2), '', '>= 0.55'],
    [
      'telegram throughput, arbion / one-row peer',
      format(telegram.oneRowPeerThroughputRatio, 2),
      '',
      '>= 0.85',
    ],
    ['telegram throughput, adapter only / echo bot', format(telegram.adapterThroughputRatio, 2), '', ''],
  ];
}

export function startupRows(startup: StartupResults, runs: number): TableRow[] {
  return (['server', 'embedded'] as const).flatMap((kind): TableRow[] => [
    [
      `start -> /healthz 200 (${kind}), median of ${runs}`,
      `${format(startup[kind].readySecondsMedian, 2)} s`,
      '',
      kind === 'server' ? '<= 2 s' : '',
    ],
    [
      `idle RSS (${kind}), median of ${runs}`,
      `${format(startup[kind].idleRssMbMedian, 0)} MB`,
      '',
      kind === 'server' ? '<= 180 MB' : '<= 350 MB',
    ],
  ]);
}

export function printTable(rows: readonly TableRow[]): void {
  const header: TableRow = ['measure', 'p50', 'p99', 'target'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Issue 21's headline numbers, each with its target. */
export function summaryLines(
  server: FlowResult,
  telegram: TelegramWebhookBenchResult,
  startup: StartupResults,
): SummaryLine[] {
  return [
    line('messageToCardP99Ms', 'message -> card p99 (server), ms', server.card.p99, 2, '<=', 6),
    line('confirmToPlacedP99Ms', 'confirm -> placed p99 (server), ms', server.placed.p99, 2, '<=', 8),
    line('statementsPerMessage', 'statements, message -> card', server.statementsPerCardMessage, 1, '<=', 2),
    line('statementsPerConfirm', 'statements, confirm -> told', server.statementsPerConfirm, 1, '<=', 6),
    line('telegramRatioEcho', 'telegram throughput / echo bot', telegram.throughputRatio, 2, '>=', 0.55),
    line(
      'telegramRatioOneRowPeer',
      'telegram throughput / one-row peer',
      telegram.oneRowPeerThroughputRatio,
      2,
      '>=',
      0.85,
    ),
    line('idleRssMbServer', 'idle RSS, server database, MB', startup.server.idleRssMbMedian, 0, '<=', 180),
    line('idleRssMbEmbedded', 'idle RSS, embedded, MB', startup.embedded.idleRssMbMedian, 0, '<=', 350),
    line(
      'readySecondsServer',
      'start -> ready, server database, s',
      startup.server.readySecondsMedian,
      2,
      '<=',
      2,
    ),
  ];
}

function line(
  key: string,
  what: string,
  value: number | undefined,
  digits: number,
  bound: '<=' | '>=',
  target: number,
): SummaryLine {
  return { key, what, value: value ?? Number.NaN, digits, bound, target };
}
