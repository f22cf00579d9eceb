/**
 * `npm run bench`: measured numbers, never timed assertions in tests.
 *
 * 1. Fast-path parse latency (p50/p99 per message) and throughput over a mixed corpus.
 * 2. Message -> confirmation card, and confirm -> order placed, on the paper broker with embedded
 *    PGlite and with the PostgreSQL server (LLM excluded), p50/p99.
 * 3. Database round trips per message on the server, counted at the pg client (the inbox insert
 *    and its handled mark included: messages go through the inbound queue as channels hand them).
 * 4. The Telegram webhook path end to end, beside a bare grammY echo bot (telegram-webhook.ts).
 *
 * Prints a table and writes bench-results/conversation.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { parseMessage } from '../src/core/conversation/parser/parse.js';
import { getSymbolDirectory } from '../src/core/market-data/symbols/directory.js';
import type { ChannelAddress, ChannelPort, InboundMessage, OutboundMessage } from '../src/core/messages.js';
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

/** Counts statements sent to the PostgreSQL server by any pg client in this process. */
let roundTrips = 0;
const clientQuery = pg.Client.prototype.query;
/** BENCH_TRACE=1 prints each statement of the last measured round (what a round trip is spent on). */
const tracing = process.env.BENCH_TRACE === '1';
let traced: string[] = [];
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  roundTrips++;
  if (tracing) {
    const first = args[0] as string | { text?: string };
    traced.push(
      (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 160),
    );
  }
  return (clientQuery as (...inner: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

class NullChannel implements ChannelPort {
  private next = 0;
  async send(_address: ChannelAddress, _message: OutboundMessage) {
    return { messageId: String(++this.next) };
  }
  async edit() {}
  async notify() {}
}

async function benchFlow(kind: 'embedded' | 'server', iterations: number) {
  const { database, cleanup } = await openBenchDatabase(kind, { prefix: 'arbion-bench' });
  const arbion = createBenchArbion(database, silentLogger());
  arbion.channels.register('console', new NullChannel());
  // "Placed" is when the broker has the order; "done" is when the user has been told.
  let placedAt = 0;
  const brokerMs: number[] = [];
  // The paper broker's placement is quoted first, then written in the transaction that applies
  // it: "placed" is when that write returns (its commit comes with the intent's move).
  const preparePlacement = arbion.paper.preparePlacement.bind(arbion.paper);
  arbion.paper.preparePlacement = async (request) => {
    const started = performance.now();
    const write = await preparePlacement(request);
    return async (tx) => {
      const order = await write(tx);
      placedAt = performance.now();
      brokerMs.push(placedAt - started);
      return order;
    };
  };
  const address: ChannelAddress = { platform: 'console', workspaceId: '', chatId: 'bench' };
  const sender = { platformUserId: 'bench-user' };

  // Every message goes through the inbox and the queue, as the channels hand it over: the inbox
  // insert and the handled mark are part of what a message costs.
  const handOver = async (message: InboundMessage) => {
    const { handled } = await arbion.inbound.queue.accept(message);
    await handled;
  };
  let delivery = 0;
  const say = (text: string) =>
    handOver({
      kind: 'text',
      deliveryId: `b${++delivery}`,
      address,
      sender,
      receivedAt: MARKET_OPEN,
      chatType: 'direct',
      messageId: String(delivery),
      text,
    });
  await say('balance'); // creates the user and the paper account

  const cardMs: number[] = [];
  const confirmMs: number[] = [];
  const placedMs: number[] = [];
  const cardTrips: number[] = [];
  let cardStatementsOfLast: string[] = [];
  const confirmTrips: number[] = [];
  for (let i = 0; i < iterations + 20; i++) {
    const tripsBefore = roundTrips;
    traced = [];
    const t0 = performance.now();
    await say('buy 1 AAPL');
    const t1 = performance.now();
    const tripsAfterCard = roundTrips;
    const intent = await database.prisma.tradeIntent.findFirstOrThrow({
      where: { status: 'proposed' },
      orderBy: { createdAt: 'desc' },
    });
    const tripsBeforeConfirm = roundTrips;
    const cardStatements = traced;
    traced = [];
    const t2 = performance.now();
    await handOver({
      kind: 'action',
      deliveryId: `b${++delivery}`,
      address,
      sender,
      receivedAt: MARKET_OPEN,
      chatType: 'direct',
      messageId: '1',
      actionId: `confirm:${intent.id}`,
    });
    const t3 = performance.now();
    cardStatementsOfLast = cardStatements;
    if (i >= 20) {
      cardMs.push(t1 - t0);
      confirmMs.push(t3 - t2);
      placedMs.push(placedAt - t2);
      cardTrips.push(tripsAfterCard - tripsBefore);
      confirmTrips.push(roundTrips - tripsBeforeConfirm);
    }
  }
  if (tracing && kind === 'server') {
    console.log(`message -> card statements:\n  ${cardStatementsOfLast.join('\n  ')}`);
    console.log(`confirm -> told statements:\n  ${traced.join('\n  ')}`);
  }
  const filled = await database.prisma.tradeIntent.count({ where: { status: 'filled' } });
  await cleanup();
  const mean = (values: number[]) =>
    values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return {
    kind,
    card: stats(cardMs),
    confirm: stats(confirmMs),
    placed: stats(placedMs),
    brokerCall: stats(brokerMs.slice(20)),
    filled,
    roundTripsPerCardMessage: kind === 'server' ? mean(cardTrips) : undefined,
    roundTripsPerConfirm: kind === 'server' ? mean(confirmTrips) : undefined,
  };
}

const format = (value: number | undefined, digits = 3) =>
  value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);

async function main(): Promise<void> {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 1000);
  // The Telegram run goes first, on a fresh heap: the flows below leave thousands of objects behind.
  const telegram = await runTelegramWebhookBench({
    iterations,
    database: 'server',
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
    // Both sides get the same warm-up; short runs otherwise measure the JIT more than the code.
    warmup: 500,
  });
  const parse = benchParse();
  const embedded = await benchFlow('embedded', iterations);
  const server = await benchFlow('server', iterations);

  const rows: [string, string, string, string][] = [
    [
      'parse (fast path), per message',
      `${format(parse.p50 * 1000, 1)} us`,
      `${format(parse.p99 * 1000, 1)} us`,
      `<= 50 us p99; ${parse.perSecond.toLocaleString('en-US')} msg/s`,
    ],
  ];
  for (const run of [embedded, server]) {
    rows.push([
      `message -> card (${run.kind})`,
      `${format(run.card.p50, 2)} ms`,
      `${format(run.card.p99, 2)} ms`,
      run.kind === 'server' ? '<= 15 ms p99' : '',
    ]);
    rows.push([
      `confirm -> placed at broker (${run.kind})`,
      `${format(run.placed.p50, 2)} ms`,
      `${format(run.placed.p99, 2)} ms`,
      run.kind === 'server' ? '<= 15 ms p99' : '',
    ]);
    rows.push([
      `  of which the paper broker call (${run.kind})`,
      `${format(run.brokerCall.p50, 2)} ms`,
      `${format(run.brokerCall.p99, 2)} ms`,
      '',
    ]);
    rows.push([
      `confirm -> filled, user told (${run.kind})`,
      `${format(run.confirm.p50, 2)} ms`,
      `${format(run.confirm.p99, 2)} ms`,
      '',
    ]);
  }
  rows.push([
    'DB round trips, message -> card (server)',
    format(server.roundTripsPerCardMessage, 1),
    '',
    '<= 6',
  ]);
  rows.push([
    'DB round trips, confirm -> user told (server)',
    format(server.roundTripsPerConfirm, 1),
    '',
    '',
  ]);

  for (const row of telegram.rows) {
    rows.push([
      `${row.name}, ${row.throughputPerSec.toFixed(0)} msg/s`,
      `${format(row.p50Ms, 2)} ms`,
      `${format(row.p99Ms, 2)} ms`,
      '',
    ]);
  }
  rows.push([
    'telegram throughput, arbion / bare grammY',
    format(telegram.throughputRatio, 2),
    '',
    '>= 0.50',
  ]);
  rows.push([
    'telegram throughput, adapter only / bare grammY',
    format(telegram.adapterThroughputRatio, 2),
    '',
    '',
  ]);

  const widths = [0, 1, 2, 3].map((column) =>
    Math.max(
      ...rows.map((row) => row[column]?.length ?? 0),
      ['measure', 'p50', 'p99', 'target'][column]?.length ?? 0,
    ),
  );
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  console.log(line(['measure', 'p50', 'p99', 'target']));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log(
    `\n${iterations} iterations per backend after 20 warm-up; ${embedded.filled + server.filled} orders filled; node ${process.version}`,
  );

  const report = {
    at: new Date().toISOString(),
    node: process.version,
    iterations,
    parse,
    embedded,
    server,
    telegram,
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/conversation.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log('report: bench-results/conversation.json');
}

await main();
