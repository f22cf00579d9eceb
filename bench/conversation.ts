/**
 * `npm run bench`: measured numbers, never timed assertions in tests.
 *
 * 1. Fast-path parse latency (p50/p99 per message) and throughput over a mixed corpus.
 * 2. Message -> confirmation card, and confirm -> order placed, on the paper broker with embedded
 *    PGlite and with the PostgreSQL server (LLM excluded), p50/p99. "Placed" is when the paper
 *    ledger's write is committed: on the server, when the COMMIT of the transaction that wrote it
 *    returns (seen at the pg client); on PGlite, whose commit cannot be seen from outside, when the
 *    write returns inside that transaction (its COMMIT follows).
 * 3. Statements per message -> card and per confirm -> user told, on the server: every statement
 *    this process sends to PostgreSQL between the message's hand-over and its handling being done,
 *    counted at the pg client as the server executes them (one per extended-protocol query; each
 *    `;`-separated one of a simple-protocol text; BEGIN and COMMIT included; see pg-statements.ts).
 *    The inbox insert and its handled mark are included: messages go through the inbound queue as
 *    channels hand them over. BENCH_TRACE=1 prints the statements of the last round.
 * 4. The Telegram webhook path end to end, beside a bare grammY echo bot and a bare grammY bot that
 *    writes one row per message with node-pg (telegram-webhook.ts).
 * 5. Start-up time and idle RSS of `arbion start` on both databases (startup.ts, about 4 minutes).
 *
 * Prints a table, then the summary against issue 21's targets, and writes
 * bench-results/conversation.json (its `summary` holds the headline numbers; docs/bench.md).
 *
 * Knobs: BENCH_ITERATIONS (1000 measured rounds, and messages per Telegram side), BENCH_CONCURRENCY
 * (16 chats), BENCH_STARTUP_RUNS (3), BENCH_IDLE_SECONDS (30), BENCH_TRACE, BENCH_DATABASE_URL.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseMessage } from '../src/core/conversation/parser/parse.js';
import type { Database } from '../src/core/db/database.js';
import { getSymbolDirectory } from '../src/core/market-data/symbols/directory.js';
import type { ChannelAddress, ChannelPort, InboundMessage, OutboundMessage } from '../src/core/messages.js';
import type { Arbion } from '../src/runtime/arbion.js';
import {
  type FlowResult,
  flowRows,
  format,
  printTable,
  startupRows,
  summaryLines,
  telegramRows,
} from './conversation-report.js';
import { pgStatementCounter } from './pg-statements.js';
import { runStartupBench } from './startup.js';
import { printSummary, summaryObject } from './summary.js';
import { createBenchArbion, MARKET_OPEN, openBenchDatabase, percentile, silentLogger } from './support.js';
import { runTelegramWebhookBench } from './telegram-webhook.js';

const CORPUS = [
  'buy 10 AAPL',
  'sell half my TSLA',
  'buy $500 of BTC',
  'buy 5 MSFT limit 400 gtc',
  'sell 1 AAPL put 190 May 17 at 1.00',
  'quote NVDA',
  "what's my buying power?",
  'positions',
  'buy ten shares of Apple',
  "don't buy AAPL",
  'buy 10 AAPL and sell 5 TSLA',
  'sell all my AMD',
  'buy 2 SOFI 8 calls 2026-01-16 limit 0.45',
  'cancel all orders',
  'what is the meaning of life',
];

function stats(samplesMs: number[]) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

function benchParse() {
  const symbols = getSymbolDirectory();
  const now = MARKET_OPEN;
  for (let i = 0; i < 20_000; i++) parseMessage(CORPUS[i % CORPUS.length] ?? '', { symbols, now }); // warm-up
  const samples: number[] = [];
  const rounds = 200_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const text = CORPUS[i % CORPUS.length] ?? '';
    const t0 = process.hrtime.bigint();
    parseMessage(text, { symbols, now });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...stats(samples), perSecond: Math.round(rounds / elapsedS) };
}

const statements = pgStatementCounter();
const tracing = process.env.BENCH_TRACE === '1';

class NullChannel implements ChannelPort {
  private next = 0;
  async send(_address: ChannelAddress, _message: OutboundMessage) {
    return { messageId: String(++this.next) };
  }
  async edit() {}
  async notify() {}
}

/** Rounds run first and not measured (JIT, pools, prepared statements). */
const WARM_UP_ROUNDS = 20;

/** When the paper broker's placements happen (see the header's "placed"). */
interface PlacementTiming {
  /** performance.now() of the last placement; NaN until one is seen. */
  placedAt: number;
  /** Each placement's quote-to-ledger-write time, ms. */
  readonly brokerMs: number[];
}

function timePlacements(arbion: Arbion, kind: 'embedded' | 'server'): PlacementTiming {
  const timing: PlacementTiming = { placedAt: Number.NaN, brokerMs: [] };
  const placed = (at: number) => {
    timing.placedAt = at;
  };
  // The paper broker's placement is quoted first, then written in the transaction that applies it.
  const preparePlacement = arbion.paper.preparePlacement.bind(arbion.paper);
  arbion.paper.preparePlacement = async (request) => {
    const started = performance.now();
    const write = await preparePlacement(request);
    return async (tx) => {
      const order =
        kind === 'server'
          ? await statements.commitOfTransactionDuring(() => write(tx), placed)
          : await write(tx);
      const written = performance.now();
      timing.brokerMs.push(written - started);
      if (kind === 'embedded') placed(written);
      return order;
    };
  };
  return timing;
}

interface Round {
  readonly cardMs: number;
  readonly confirmMs: number;
  readonly placedMs: number;
  readonly cardStatements: number;
  readonly confirmStatements: number;
  /** With BENCH_TRACE=1, the statements' texts. */
  readonly cardTrace: readonly string[] | undefined;
  readonly confirmTrace: readonly string[] | undefined;
}

/** "buy 1 AAPL" -> its card, then Confirm -> placed and told: times and statements of each half. */
async function oneRound(
  database: Database,
  chat: { say(text: string): Promise<void>; press(actionId: string): Promise<void> },
  timing: PlacementTiming,
): Promise<Round> {
  statements.trace = tracing ? [] : undefined;
  const beforeCard = statements.statements;
  const t0 = performance.now();
  await chat.say('buy 1 AAPL');
  const t1 = performance.now();
  const cardStatements = statements.statements - beforeCard;
  const cardTrace = statements.trace;
  statements.trace = undefined; // the bench's own lookup is no part of either half
  const intent = await database.prisma.tradeIntent.findFirstOrThrow({
    where: { status: 'proposed' },
    orderBy: { createdAt: 'desc' },
  });
  statements.trace = tracing ? [] : undefined;
  timing.placedAt = Number.NaN;
  const beforeConfirm = statements.statements;
  const t2 = performance.now();
  await chat.press(`confirm:${intent.id}`);
  const t3 = performance.now();
  const confirmStatements = statements.statements - beforeConfirm;
  if (Number.isNaN(timing.placedAt)) throw new Error('the confirmed order was never seen placed');
  return {
    cardMs: t1 - t0,
    confirmMs: t3 - t2,
    placedMs: timing.placedAt - t2,
    cardStatements,
    confirmStatements,
    cardTrace,
    confirmTrace: statements.trace,
  };
}

/** A console chat whose every message goes through the inbox and the queue, as channels hand them over. */
function benchChat(arbion: Arbion) {
  const address: ChannelAddress = { platform: 'console', workspaceId: '', chatId: 'bench' };
  const sender = { platformUserId: 'bench-user' };
  let delivery = 0;
  const handOver = async (message: InboundMessage) => {
    const { handled } = await arbion.inbound.queue.accept(message);
    await handled;
  };
  const common = () => ({
    deliveryId: `b${++delivery}`,
    address,
    sender,
    receivedAt: MARKET_OPEN,
    chatType: 'direct' as const,
  });
  return {
    say: (text: string) => handOver({ kind: 'text', ...common(), messageId: String(delivery), text }),
    press: (actionId: string) => handOver({ kind: 'action', ...common(), messageId: '1', actionId }),
  };
}

async function benchFlow(kind: 'embedded' | 'server', iterations: number): Promise<FlowResult> {
  const { database, cleanup } = await openBenchDatabase(kind, { prefix: 'arbion-bench' });
  const arbion = createBenchArbion(database, silentLogger());
  arbion.channels.register('console', new NullChannel());
  const timing = timePlacements(arbion, kind);
  const chat = benchChat(arbion);
  await chat.say('balance'); // creates the user and the paper account

  const rounds: Round[] = [];
  for (let i = 0; i < iterations + WARM_UP_ROUNDS; i++) {
    const round = await oneRound(database, chat, timing);
    if (i >= WARM_UP_ROUNDS) rounds.push(round);
  }
  const last = rounds.at(-1);
  if (tracing && kind === 'server' && last !== undefined) {
    console.log(`message -> card statements:\n  ${last.cardTrace?.join('\n  ')}`);
    console.log(`confirm -> told statements:\n  ${last.confirmTrace?.join('\n  ')}`);
  }
  const filled = await database.prisma.tradeIntent.count({ where: { status: 'filled' } });
  await cleanup();
  const mean = (values: number[]) =>
    values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return {
    kind,
    card: stats(rounds.map((round) => round.cardMs)),
    confirm: stats(rounds.map((round) => round.confirmMs)),
    placed: stats(rounds.map((round) => round.placedMs)),
    brokerCall: stats(timing.brokerMs.slice(WARM_UP_ROUNDS)),
    filled,
    statementsPerCardMessage:
      kind === 'server' ? mean(rounds.map((round) => round.cardStatements)) : undefined,
    statementsPerConfirm:
      kind === 'server' ? mean(rounds.map((round) => round.confirmStatements)) : undefined,
  };
}

async function main(): Promise<void> {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 1000);
  const startupRuns = Number(process.env.BENCH_STARTUP_RUNS ?? 3);
  // The Telegram run goes first, on a fresh heap: the flows below leave thousands of objects behind.
  const telegram = await runTelegramWebhookBench({
    iterations,
    database: 'server',
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
    // Every side gets the same warm-up; short runs otherwise measure the JIT more than the code.
    warmup: 500,
  });
  const parse = benchParse();
  const embedded = await benchFlow('embedded', iterations);
  const server = await benchFlow('server', iterations);
  console.log(`starting arbion ${startupRuns} times on each database...`);
  const startup = await runStartupBench({
    runs: startupRuns,
    idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 30),
  });

  printTable([
    [
      'parse (fast path), per message',
      `${format(parse.p50 * 1000, 1)} us`,
      `${format(parse.p99 * 1000, 1)} us`,
      `<= 50 us p99; ${parse.perSecond.toLocaleString('en-US')} msg/s`,
    ],
    ...flowRows(embedded),
    ...flowRows(server),
    ['statements, message -> card (server)', format(server.statementsPerCardMessage, 1), '', '<= 2'],
    ['statements, confirm -> user told (server)', format(server.statementsPerConfirm, 1), '', '<= 6'],
    ...telegramRows(telegram),
    ...startupRows(startup, startupRuns),
  ]);
  console.log(
    `\n${iterations} iterations per backend after ${WARM_UP_ROUNDS} warm-up; ${embedded.filled + server.filled} orders filled; ` +
      `telegram: ${telegram.messagesPerSide} messages per side in ${telegram.rounds} interleaved rounds; node ${process.version}`,
  );
  const summary = summaryLines(server, telegram, startup);
  printSummary('summary (issue 21 targets)', summary);

  const report = {
    at: new Date().toISOString(),
    node: process.version,
    iterations,
    summary: summaryObject(summary),
    parse,
    embedded,
    server,
    telegram,
    startup,
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/conversation.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log('report: bench-results/conversation.json');
}

await main();
