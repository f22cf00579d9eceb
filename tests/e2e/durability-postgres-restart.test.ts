/**
 * Issue 18, point 4: the PostgreSQL server restarts under `arbion start` while traders keep
 * writing and pressing Confirm. Two processes run on a throwaway cluster of the test's own (never
 * the machine's shared server), one receiving Telegram by webhook and one by long polling, each
 * with its own bot and database. The cluster is stopped (fast or immediate, by the seed), the
 * stream goes on for a few seconds, and the cluster starts again. Every message must end answered
 * (one card, or a reply, or its sender told it could not be handled), and nothing doubled: one
 * card per message, one order per confirmed card, one outcome sentence.
 *
 * DURABILITY_SEED replays the choices; DURABILITY_LOG_DIR keeps both processes' logs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeTelegramServer } from '../fakes/telegram/fake-telegram-server.js';
import { ArbionProcess } from '../support/arbion-process.js';
import { runArbion } from '../support/cli.js';
import { ConversationStream } from '../support/conversation-stream.js';
import { waitForCards, waitForOutcomes } from '../support/conversations.js';
import { readServerLedger } from '../support/ledger.js';
import { auditOutcomes, describeSummary } from '../support/outcome-audit.js';
import { describeSeed, SeededRandom } from '../support/seeded-random.js';
import { TelegramPlayer } from '../support/telegram-player.js';
import { ThrowawayPostgres } from '../support/throwaway-postgres.js';

const SECRET = 'durability-pg-restart-secret_01';
const VAULT_KEYS = `k1:${Buffer.alloc(32, 9).toString('base64')}`;
/** How long the stream runs before, during and after the outage. */
const BEFORE_MS = 2500;
const OUTAGE_MS = 4000;
const AFTER_MS = 2500;

const random = SeededRandom.fromEnvironment();
const cleanups: (() => Promise<void>)[] = [];

/** One `arbion start` with its own bot, fake Telegram, database and stream. */
interface Side {
  readonly name: string;
  readonly fake: FakeTelegramServer;
  readonly player: TelegramPlayer;
  readonly arbion: ArbionProcess;
  readonly stream: ConversationStream;
  readonly url: string;
}

async function startSide(
  cluster: ThrowawayPostgres,
  mode: 'webhook' | 'polling',
  index: number,
): Promise<Side> {
  const name = `pg-restart-${mode}`;
  const token = `70001${index}9:AAHdurability-pg-restart_0123456789`;
  const fake = await FakeTelegramServer.start({ token });
  const player = new TelegramPlayer({ fake, mode, secretToken: SECRET });
  const url = await cluster.createDatabase(`arbion_${mode}`, 'arbion_template');
  const cwd = mkdtempSync(path.join(tmpdir(), `arbion-${name}-`));
  cleanups.push(async () => {
    player.close();
    await fake.close();
    rmSync(cwd, { recursive: true, force: true });
  });
  const arbion = ArbionProcess.spawn({
    label: name,
    cwd,
    env: {
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: '5',
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      ARBION_ENCRYPTION_KEYS: VAULT_KEYS,
      MARKET_DATA_SEED: String(random.seed % 100_000),
      PRICE_TOLERANCE_BPS: '10000',
      CONFIRMATION_TTL_SECONDS: '900',
      ...(mode === 'webhook'
        ? { PUBLIC_URL: 'https://arbion.example', TELEGRAM_WEBHOOK_SECRET: SECRET }
        : {}),
    },
  });
  cleanups.push(async () => {
    await arbion.stop(5000);
  });
  player.setEndpoint('arbion', await arbion.ready());
  const stream = new ConversationStream({
    player,
    random,
    label: name,
    firstNumber: index * 1000,
    intervalMs: 150,
  });
  return { name, fake, player, arbion, stream, url };
}

describe('durability: PostgreSQL restarts under a steady stream', () => {
  let cluster: ThrowawayPostgres | undefined;

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await cluster?.destroy();
  });

  it('answers every message once and fills every confirmed card once', async () => {
    const started = Date.now();
    const stopMode = random.chance(0.5) ? 'immediate' : 'fast';
    console.log(`durability postgres restart: ${describeSeed(random)}; pg_ctl stop -m ${stopMode}`);
    cluster = await ThrowawayPostgres.create();
    // One migrated database, copied for each process (CREATE DATABASE ... TEMPLATE).
    const template = await cluster.createDatabase('arbion_template');
    const migrateCwd = mkdtempSync(path.join(tmpdir(), 'arbion-pg-restart-migrate-'));
    cleanups.push(async () => rmSync(migrateCwd, { recursive: true, force: true }));
    const migrated = await runArbion(['migrate'], { cwd: migrateCwd, env: { DATABASE_URL: template } });
    if (migrated.code !== 0) throw new Error(`arbion migrate failed:\n${migrated.stdout}${migrated.stderr}`);
    const sides = await Promise.all([startSide(cluster, 'webhook', 1), startSide(cluster, 'polling', 2)]);
    const died = () => sides.find((side) => !side.arbion.alive)?.arbion.tail();
    // How long each phase took, for the report.
    const phases: string[] = [];
    let phaseStarted = started;
    const phase = (name: string) => {
      phases.push(`${name} ${((Date.now() - phaseStarted) / 1000).toFixed(1)} s`);
      phaseStarted = Date.now();
    };
    phase('setup');

    for (const side of sides) side.stream.start();
    await new Promise((resolve) => setTimeout(resolve, BEFORE_MS));
    const outageStarted = Date.now();
    await cluster.stop(stopMode);
    // The stream goes on against a database that is gone.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await cluster.start();
    const outageMs = Date.now() - outageStarted;
    await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
    for (const side of sides) side.stream.stopOpening();
    phase('stream');

    // Everything sent is delivered, every card pressed, every outcome shown (bounded).
    for (const side of sides) {
      await side.player.allAcknowledged(60_000);
      await waitForCards(side.player, side.stream.conversations, 30_000, () =>
        died() === undefined ? undefined : `a process died:\n${died()}`,
      );
      side.stream.pressNewCards();
    }
    phase('cards');
    for (const side of sides) {
      await side.player.allAcknowledged(30_000);
      phase(`${side.name} presses delivered`);
      // Bounded above the product's own 60 s before it resumes a placement its process left unanswered.
      await waitForOutcomes(side.player, side.stream.conversations, 75_000);
      side.stream.close();
      phase(`${side.name} outcomes`);
    }
    const reports: string[] = [];
    const problems: string[] = [];
    const evidence: string[] = [];
    for (const side of sides) {
      const code = await side.arbion.stop();
      const ledger = await readServerLedger(side.url);
      const summary = auditOutcomes(side.player, ledger, side.stream.conversations);
      const webhookRetries = side.player.deliveries.filter((delivery) => delivery.failures.length > 0).length;
      const slowest = side.stream.slowest();
      reports.push(
        `${describeSummary(side.name, summary)}; ${webhookRetries} updates redelivered; ` +
          `slowest ${((slowest?.ms ?? 0) / 1000).toFixed(1)} s from message to outcome (${slowest?.conversation.label}); ` +
          `${ledger.unfinishedInbox.length} inbox rows unfinished; exit ${code}`,
      );
      problems.push(...summary.problems);
      if (ledger.unfinishedInbox.length > 0)
        problems.push(`${side.name}: ${ledger.unfinishedInbox.length} inbox rows never handled`);
      if (code !== 0) problems.push(`${side.name}: exit code ${code} on SIGTERM`);
      if (summary.problems.length > 0) {
        const chats = side.stream.conversations.filter((conversation) =>
          summary.problems.some((text) => text.includes(`(chat ${conversation.chatId},`)),
        );
        for (const conversation of chats)
          evidence.push(
            `  transcript of chat ${conversation.chatId}:\n${side.player
              .transcript(conversation.chatId)
              .map((line) => `    ${line}`)
              .join('\n')}`,
          );
        evidence.push(`  --- ${side.name} warnings:`, ...side.arbion.problems().slice(0, 30));
      }
    }
    console.log(
      [
        `durability postgres restart: ${describeSeed(random)}; outage ${outageMs} ms (stop -m ${stopMode}); ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s (${phases.join(', ')})`,
        ...reports,
      ].join('\n'),
    );
    if (problems.length > 0)
      console.log([`FAILED with ${describeSeed(random)}`, ...problems, ...evidence].join('\n'));
    expect(problems).toEqual([]);
  }, 180_000);
});
