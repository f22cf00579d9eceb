/**
 * The Telegram webhook path, end to end: an update POSTed to our fastify webhook -> inbox + InboundQueue ->
 * conversation (database, paper account) -> the card's sendMessage arriving at a fake Bot API.
 * Measured side by side, in the same run and against the same fake, with a bare grammy echo bot
 * (`webhookCallback` on fastify, answering with sendMessage), which is the floor any Telegram bot
 * on this stack pays. Target: Arbion's throughput >= 50% of the bare bot's.
 *
 * Load: `concurrency` private chats, each sending its next message once the previous answer has
 * arrived (closed loop). Latency is POST start -> the answer's sendMessage at the fake.
 *
 * Standalone: `npm run build && node dist/bench/telegram-webhook.js`
 * (BENCH_ITERATIONS, BENCH_CONCURRENCY, BENCH_DATABASE=server|embedded, BENCH_DATABASE_URL).
 */
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { Bot, webhookCallback } from 'grammy';
import { createTelegramChannel, TELEGRAM_WEBHOOK_PATH } from '../src/channels/telegram/index.js';
import type { Card } from '../src/core/messages.js';
import type { FakeChat, FakeUser } from '../tests/fakes/telegram/chat-model.js';
import { FakeTelegramServer, type UpdateJson } from '../tests/fakes/telegram/fake-telegram-server.js';
import { createWebServer } from '../web-linking/server.js';
import { createBenchArbion, openBenchDatabase, percentile, silentLogger } from './support.js';

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
  /** Arbion end to end, the adapter alone (a core that answers a fixed card), the bare grammy bot. */
  readonly rows: readonly BenchRow[];
  /** Arbion's throughput / the bare bot's (target >= 0.5). */
  readonly throughputRatio: number;
  /** The adapter alone / the bare bot: what the Telegram channel itself costs. */
  readonly adapterThroughputRatio: number;
}

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
  const { database, cleanup } = await openBenchDatabase(options.database, {
    prefix: 'arbion-tgbench',
    serverUrl: options.serverUrl,
  });

  // Arbion: the product's queue, web server and adapter, as `arbion start` assembles them.
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
  const ourUrl = `${await web.listen({ host: '127.0.0.1', port: 0 })}${TELEGRAM_WEBHOOK_PATH}`;

  // The adapter alone: the same webhook route and outbound path, no inbox and a core that only answers.
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
  const adapterUrl = `${await adapterWeb.listen({ host: '127.0.0.1', port: 0 })}${TELEGRAM_WEBHOOK_PATH}`;

  // The bare bot: grammy's own fastify webhook handler, echoing each text.
  const bare = new Bot(TOKEN, { client: { apiRoot: fake.apiRoot }, botInfo: fake.botInfo });
  bare.on('message:text', (context) => context.reply(context.message.text));
  const bareApp = Fastify();
  bareApp.post('/bot', webhookCallback(bare, 'fastify', { secretToken: SECRET }));
  const bareUrl = `${await bareApp.listen({ host: '127.0.0.1', port: 0 })}/bot`;

  try {
    const ours: Side = { url: ourUrl, text: 'buy 1 AAPL' };
    const echo: Side = { url: bareUrl, text: 'buy 1 AAPL' };
    const adapterSide: Side = { url: adapterUrl, text: 'buy 1 AAPL' };
    // Warm-up: creates the users and their paper accounts, and warms both paths.
    await drive(fake, watcher, { url: ourUrl, text: 'balance' }, users, users.length);
    await drive(fake, watcher, ours, users, warmup);
    await drive(fake, watcher, adapterSide, users, warmup);
    await drive(fake, watcher, echo, users, warmup);
    const arbionRun = row(
      `telegram webhook -> card, arbion (${options.database})`,
      await drive(fake, watcher, ours, users, options.iterations),
    );
    const adapterRun = row(
      'telegram webhook -> card, adapter only (no core)',
      await drive(fake, watcher, adapterSide, users, options.iterations),
    );
    const bareRun = row(
      'telegram webhook -> echo, bare grammy',
      await drive(fake, watcher, echo, users, options.iterations),
    );
    return {
      rows: [arbionRun, adapterRun, bareRun],
      throughputRatio: arbionRun.throughputPerSec / bareRun.throughputPerSec,
      adapterThroughputRatio: adapterRun.throughputPerSec / bareRun.throughputPerSec,
    };
  } finally {
    await adapter.stop();
    await adapterOnly.stop();
    await inbound.idle();
    await web.close();
    await adapterWeb.close();
    await bareApp.close();
    await fake.close();
    await cleanup();
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
  console.log(`throughput ratio arbion / bare grammy: ${result.throughputRatio.toFixed(2)} (target >= 0.50)`);
  console.log(`throughput ratio adapter only / bare grammy: ${result.adapterThroughputRatio.toFixed(2)}`);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) await main();
