/**
 * The Telegram webhook path, end to end: an update POSTed to our fastify webhook -> inbox + InboundQueue ->
 * conversation (database, paper account) -> the card's sendMessage arriving at a fake Bot API.
 * Measured in the same run and against the same fake as two bare grammY bots (grammy-peers.ts):
 * the echo bot (the floor any Telegram bot on this stack pays) and the one-row peer (one node-pg
 * INSERT ... RETURNING per message, then the answer: the fair peer for a bot with a database).
 * Targets (issue 21): Arbion's throughput >= 0.55 of the echo bot's and >= 0.85 of the peer's.
 *
 * Load: `concurrency` private chats, each sending its next message once the previous answer has
 * arrived (closed loop). Latency is POST start -> the answer's sendMessage at the fake. Every side
 * gets the same warm-up and the same measured message count; the measured messages are interleaved
 * in ROUNDS rounds (each side's share in turn, the order rotating every round), so load from other
 * programs on the machine falls on every side alike. Throughput is a side's messages over the sum
 * of its rounds' elapsed times.
 *
 * Standalone: `npm run build && node dist/bench/telegram-webhook.js`
 * (BENCH_ITERATIONS, BENCH_CONCURRENCY, BENCH_DATABASE=server|embedded, BENCH_DATABASE_URL; the
 * one-row peer always needs the PostgreSQL server: with an embedded Arbion it gets a throwaway
 * database of its own).
 */
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { createTelegramChannel, TELEGRAM_WEBHOOK_PATH } from '../src/channels/telegram/index.js';
import type { Database } from '../src/core/db/database.js';
import type { Logger } from '../src/core/logging/logger.js';
import type { Card } from '../src/core/messages.js';
import type { FakeChat, FakeUser } from '../tests/fakes/telegram/chat-model.js';
import { FakeTelegramServer, type UpdateJson } from '../tests/fakes/telegram/fake-telegram-server.js';
import { createWebServer } from '../web-linking/server.js';
import { startEchoBot, startOneRowBot } from './grammy-peers.js';
import {
  benchServerUrl,
  createBenchArbion,
  createServerDatabase,
  openBenchDatabase,
  percentile,
  silentLogger,
} from './support.js';

export interface TelegramWebhookBenchOptions {
  /** Measured messages per side (after the warm-up). */
  readonly iterations: number;
  readonly database: 'server' | 'embedded';
  /** Chats sending at the same time (default 16). */
  readonly concurrency?: number;
  /** Messages per side before measuring (default 50). */
  readonly warmup?: number;
  /** Admin URL of the PostgreSQL server (database 'server'); a bench database is created and dropped. */
  readonly serverUrl?: string;
}

export interface BenchRow {
  readonly name: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly throughputPerSec: number;
}

export interface TelegramWebhookBenchResult {
  /** Arbion end to end, the adapter alone (a core that answers a fixed card), the echo bot, the one-row peer. */
  readonly rows: readonly BenchRow[];
  /** Arbion's throughput / the echo bot's (target >= 0.55). */
  readonly throughputRatio: number;
  /** Arbion's throughput / the one-row peer's (target >= 0.85). */
  readonly oneRowPeerThroughputRatio: number;
  /** The adapter alone / the echo bot: what the Telegram channel itself costs. */
  readonly adapterThroughputRatio: number;
  /** Measured messages per side, in how many interleaved rounds. */
  readonly messagesPerSide: number;
  readonly rounds: number;
}

/** Measured messages are split into this many interleaved rounds per side. */
const ROUNDS = 5;

/** What the adapter-only run answers with: a card like the core's, without the database. */
const FIXED_CARD: Card = {
  title: 'Buy 1 AAPL',
  badge: 'PAPER',
  fields: [
    { label: 'Order', value: 'BUY 1 AAPL' },
    { label: 'Type', value: 'Market, day' },
    { label: 'Est. cost', value: '$190.00' },
  ],
  notice: 'Expires in 2 minutes.',
  actions: [
    { id: 'confirm:00000000-0000-4000-8000-000000000000', label: 'Confirm', style: 'primary' },
    { id: 'cancel:00000000-0000-4000-8000-000000000000', label: 'Cancel', style: 'danger' },
  ],
};

const TOKEN = '7000001:AAHbench-token_0123456789abcdefghijkl';
const SECRET = 'bench-webhook-secret';
/** Waits for the next successful sendMessage to each chat, as the fake records it. */
class AnswerWatcher {
  private readonly waiting = new Map<number, () => void>();

  constructor(fake: FakeTelegramServer) {
    fake.onCall((call) => {
      if (call.method !== 'sendMessage' || call.status !== 200) return;
      const chatId = Number(call.params.chat_id);
      const resolve = this.waiting.get(chatId);
      this.waiting.delete(chatId);
      resolve?.();
    });
  }

  next(chatId: number): Promise<void> {
    return new Promise((resolve) => this.waiting.set(chatId, resolve));
  }
}

interface Side {
  readonly url: string;
  readonly text: string;
}

/** Drives `total` messages through `url` from `chats` in a closed loop; returns latencies and elapsed time. */
async function drive(
  fake: FakeTelegramServer,
  watcher: AnswerWatcher,
  side: Side,
  users: readonly FakeUser[],
  total: number,
): Promise<{ latenciesMs: number[]; elapsedMs: number }> {
  const latenciesMs: number[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    users.map(async (user) => {
      const chat: FakeChat = { id: user.id, type: 'private', first_name: user.first_name };
      while (issued < total) {
        issued++;
        const update: UpdateJson = fake.textUpdate({ from: user, chat, text: side.text });
        const answered = watcher.next(chat.id);
        const t0 = performance.now();
        const response = await fetch(side.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
          body: JSON.stringify(update),
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
        await answered;
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  return { latenciesMs, elapsedMs: performance.now() - started };
}

function row(name: string, run: { latenciesMs: number[]; elapsedMs: number }): BenchRow {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  return {
    name,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    throughputPerSec: (run.latenciesMs.length / run.elapsedMs) * 1000,
  };
}

interface Measured {
  latenciesMs: number[];
  elapsedMs: number;
}

/**
 * Drives `total` messages through each side, interleaved: ROUNDS rounds, in each every side's share
 * in turn, starting one side later every round. Each side's latencies and elapsed times add up.
 */
async function driveInterleaved(
  fake: FakeTelegramServer,
  watcher: AnswerWatcher,
  sides: readonly Side[],
  users: readonly FakeUser[],
  total: number,
): Promise<Measured[]> {
  const runs: Measured[] = sides.map(() => ({ latenciesMs: [], elapsedMs: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    const share = Math.floor(total / ROUNDS) + (round < total % ROUNDS ? 1 : 0);
    for (let turn = 0; turn < sides.length; turn++) {
      const index = (round + turn) % sides.length;
      const side = sides[index];
      const run = runs[index];
      if (side === undefined || run === undefined) continue;
      const measured = await drive(fake, watcher, side, users, share);
      run.latenciesMs.push(...measured.latenciesMs);
      run.elapsedMs += measured.elapsedMs;
    }
  }
  return runs;
}

/** A webhook under test: where to POST, and how to stop it. */
interface Endpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** Arbion: the product's queue, web server and adapter, as `arbion start` assembles them. */
async function startArbionWebhook(
  database: Database,
  fake: FakeTelegramServer,
  logger: Logger,
): Promise<Endpoint> {
  const arbion = createBenchArbion(database, logger);
  const inbound = arbion.inbound.queue;
  const web = await createWebServer({
    logger,
    health: async () => ({
      status: 'ok',
      version: 'bench',
      pid: process.pid,
      uptimeSeconds: 0,
      database: {
        ok: true,
        kind: database.kind,
        description: 'bench',
        detail: 'bench',
        pendingMigrations: [],
      },
    }),
  });
  const adapter = createTelegramChannel({
    token: TOKEN,
    apiRoot: fake.apiRoot,
    webhook: { publicUrl: 'https://bench.example', secretToken: SECRET },
    sink: inbound,
    logger,
    botInfo: fake.botInfo,
    retry: { maxAttempts: 0, networkErrors: false },
  });
  arbion.channels.register('telegram', adapter);
  await adapter.mount(web);
  await adapter.start();
  const url = `${await web.listen({ host: '127.0.0.1', port: 0 })}${TELEGRAM_WEBHOOK_PATH}`;
  return {
    url,
    close: async () => {
      await adapter.stop();
      await inbound.idle();
      await web.close();
    },
  };
}

/** The adapter alone: the same webhook route and outbound path, no inbox and a core that only answers. */
async function startAdapterOnlyWebhook(fake: FakeTelegramServer, logger: Logger): Promise<Endpoint> {
  const adapterWeb = Fastify();
  const adapterOnly = createTelegramChannel({
    token: TOKEN,
    apiRoot: fake.apiRoot,
    webhook: { publicUrl: 'https://bench.example', secretToken: SECRET },
    sink: {
      accept: async (message) => ({
        duplicate: false,
        handled: adapterOnly.send(message.address, { kind: 'card', card: FIXED_CARD }).then(() => undefined),
      }),
    },
    logger,
    botInfo: fake.botInfo,
    retry: { maxAttempts: 0, networkErrors: false },
  });
  await adapterOnly.mount(adapterWeb);
  await adapterOnly.start();
  const url = `${await adapterWeb.listen({ host: '127.0.0.1', port: 0 })}${TELEGRAM_WEBHOOK_PATH}`;
  return {
    url,
    close: async () => {
      await adapterOnly.stop();
      await adapterWeb.close();
    },
  };
}

/** The one-row peer's database: Arbion's bench database on a server, else a throwaway one. */
async function peerDatabase(
  serverUrl: string | undefined,
  adminUrl: string | undefined,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (serverUrl !== undefined) return { url: serverUrl, drop: async () => {} };
  return createServerDatabase(benchServerUrl(adminUrl), 'arbion-tgbench-peer');
}

export async function runTelegramWebhookBench(
  options: TelegramWebhookBenchOptions,
): Promise<TelegramWebhookBenchResult> {
  const concurrency = options.concurrency ?? 16;
  const warmup = options.warmup ?? 50;
  const logger = silentLogger([TOKEN, SECRET]);
  const fake = await FakeTelegramServer.start({ token: TOKEN });
  const watcher = new AnswerWatcher(fake);
  const users: FakeUser[] = Array.from({ length: concurrency }, (_, index) => ({
    id: 50_000 + index,
    is_bot: false,
    first_name: `Trader ${index}`,
  }));
  const { database, cleanup, serverUrl } = await openBenchDatabase(options.database, {
    prefix: 'arbion-tgbench',
    serverUrl: options.serverUrl,
  });
  const peerStore = await peerDatabase(serverUrl, options.serverUrl);
  const endpoints: Endpoint[] = [];
  try {
    const ours = await startArbionWebhook(database, fake, logger);
    endpoints.push(ours);
    const adapterOnly = await startAdapterOnlyWebhook(fake, logger);
    endpoints.push(adapterOnly);
    const peer = { token: TOKEN, apiRoot: fake.apiRoot, botInfo: fake.botInfo, secretToken: SECRET };
    const echo = await startEchoBot(peer);
    endpoints.push(echo);
    // Arbion's pool size (openBenchDatabase), so neither side has more connections.
    const oneRow = await startOneRowBot({ ...peer, databaseUrl: peerStore.url, poolSize: 10 });
    endpoints.push(oneRow);

    const text = 'buy 1 AAPL';
    const sides: Side[] = [ours, adapterOnly, echo, oneRow].map((endpoint) => ({ url: endpoint.url, text }));
    // Warm-up: creates the users and their paper accounts, and warms every path alike.
    await drive(fake, watcher, { url: ours.url, text: 'balance' }, users, users.length);
    for (const side of sides) await drive(fake, watcher, side, users, warmup);
    const [arbionRun, adapterRun, echoRun, oneRowRun] = await driveInterleaved(
      fake,
      watcher,
      sides,
      users,
      options.iterations,
    );
    if (
      arbionRun === undefined ||
      adapterRun === undefined ||
      echoRun === undefined ||
      oneRowRun === undefined
    )
      throw new Error('a side was not measured');
    const peerRows = await oneRow.rows();
    if (peerRows !== warmup + options.iterations)
      throw new Error(`the one-row peer wrote ${peerRows} rows for ${warmup + options.iterations} messages`);
    const rows = [
      row(`telegram webhook -> card, arbion (${options.database})`, arbionRun),
      row('telegram webhook -> card, adapter only (no core)', adapterRun),
      row('telegram webhook -> echo, bare grammY', echoRun),
      row('telegram webhook -> one row + echo, bare grammY + node-pg', oneRowRun),
    ] as const;
    const [arbion, adapter, bare, oneRowPeer] = rows;
    return {
      rows,
      throughputRatio: arbion.throughputPerSec / bare.throughputPerSec,
      oneRowPeerThroughputRatio: arbion.throughputPerSec / oneRowPeer.throughputPerSec,
      adapterThroughputRatio: adapter.throughputPerSec / bare.throughputPerSec,
      messagesPerSide: options.iterations,
      rounds: ROUNDS,
    };
  } finally {
    for (const endpoint of endpoints) await endpoint.close();
    await fake.close();
    await cleanup();
    await peerStore.drop();
  }
}

async function main(): Promise<void> {
  const database = process.env.BENCH_DATABASE === 'embedded' ? 'embedded' : 'server';
  const result = await runTelegramWebhookBench({
    iterations: Number(process.env.BENCH_ITERATIONS ?? 1000),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
    database,
  });
  const width = Math.max(...result.rows.map((entry) => entry.name.length));
  console.log(`${'measure'.padEnd(width)}  p50 ms   p99 ms   msg/s`);
  for (const entry of result.rows) {
    console.log(
      `${entry.name.padEnd(width)}  ${entry.p50Ms.toFixed(2).padStart(6)}  ${entry.p99Ms.toFixed(2).padStart(7)}  ${entry.throughputPerSec.toFixed(0).padStart(6)}`,
    );
  }
  console.log(`throughput ratio arbion / echo bot: ${result.throughputRatio.toFixed(2)} (target >= 0.55)`);
  console.log(
    `throughput ratio arbion / one-row peer: ${result.oneRowPeerThroughputRatio.toFixed(2)} (target >= 0.85)`,
  );
  console.log(`throughput ratio adapter only / echo bot: ${result.adapterThroughputRatio.toFixed(2)}`);
  console.log(`${result.messagesPerSide} messages per side, interleaved in ${result.rounds} rounds`);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) await main();
