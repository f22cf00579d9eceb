/**
 * Issue 18, point 4: SIGKILL `arbion start` between Confirm presses and the users being told, many
 * times, in webhook and long-polling mode, on the embedded database (PGlite) and on a PostgreSQL
 * server. Each life of the process carries several users at once: their cards are pressed (some
 * twice), the next users' messages are sent alongside, and the process is killed 0-800 ms later;
 * the next life starts on the same data. After a last clean life, every message must have been
 * answered once and every confirmed card filled exactly once (or refused with a reason), shown
 * on its card, and told in exactly one sentence.
 *
 * DURABILITY_SEED replays a run (kill delays, double taps, market); DURABILITY_LOG_DIR keeps every
 * life's log; DURABILITY_ONLY=<mode>-<database> (e.g. webhook-embedded) runs one scenario alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FakeTelegramServer } from '../fakes/telegram/fake-telegram-server.js';
import { ArbionProcess } from '../support/arbion-process.js';
import { openConversation, pressConfirm, waitForCards, waitForOutcomes } from '../support/conversations.js';
import { removeEmbeddedTemplate, seedEmbeddedData } from '../support/embedded-data.js';
import { readLedger } from '../support/ledger.js';
import {
  type AuditSummary,
  auditOutcomes,
  type Conversation,
  describeSummary,
} from '../support/outcome-audit.js';
import { createDatabase, dropDatabase, uniqueDatabaseName } from '../support/postgres-server.js';
import { describeSeed, SeededRandom } from '../support/seeded-random.js';
import { TelegramPlayer } from '../support/telegram-player.js';

const TOKEN = '7000018:AAHdurability-kills_0123456789abcdef';
const SECRET = 'durability-kills-secret_0123';
/** A fixed vault key, so every life (and every cwd) reads the same secrets. */
const VAULT_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const USERS_PER_LIFE = 5;

const seed = SeededRandom.fromEnvironment();
/**
 * Scenarios run side by side: a restart is mostly one core loading modules, so running them
 * together keeps both cores busy.
 */
const SIDE_BY_SIDE = 4;

interface Scenario {
  readonly mode: 'webhook' | 'polling';
  readonly database: 'embedded' | 'server';
  /** Kills in this scenario (an embedded restart costs more: fewer of them). */
  readonly kills: number;
}
const allScenarios: Scenario[] = [
  { mode: 'webhook', database: 'embedded', kills: 6 },
  { mode: 'polling', database: 'server', kills: 9 },
  { mode: 'polling', database: 'embedded', kills: 6 },
  { mode: 'webhook', database: 'server', kills: 9 },
];
const scenarios = allScenarios.filter(
  (scenario) =>
    process.env.DURABILITY_ONLY === undefined ||
    `${scenario.mode}-${scenario.database}` === process.env.DURABILITY_ONLY,
);

/** One kill: when, and how far the round had got. */
interface KillRecord {
  readonly life: string;
  readonly delayMs: number;
  readonly presses: number;
  /** Confirmed cards of the round already showing their end when the kill came. */
  readonly toldBeforeKill: number;
  readonly confirmedInRound: number;
  /** The fake Telegram's last call sequence number before the kill (transcript lines carry theirs). */
  readonly lastSeq: number;
}

interface ScenarioResult {
  readonly name: string;
  readonly kills: KillRecord[];
  readonly summary: AuditSummary;
  readonly lives: ArbionProcess[];
  readonly unfinishedInbox: number;
  readonly ms: number;
  /** The fake Telegram's transcript of each chat with a problem. */
  readonly transcripts: string[];
}

const results: ScenarioResult[] = [];
const cleanups: (() => Promise<void>)[] = [];

async function runScenario(scenario: Scenario, index: number): Promise<ScenarioResult> {
  const started = Date.now();
  // Each scenario draws from its own stream, so scenarios run side by side replay alike.
  const random = new SeededRandom(seed.seed + index * 7919);
  const name = `${scenario.mode}-${scenario.database}`;
  const fake = await FakeTelegramServer.start({ token: TOKEN });
  const player = new TelegramPlayer({ fake, mode: scenario.mode, secretToken: SECRET });
  const cwd = mkdtempSync(path.join(tmpdir(), `arbion-kills-${name}-`));
  let location = path.join(cwd, 'data', 'postgres');
  const env: Record<string, string> = {
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    ARBION_ENCRYPTION_KEYS: VAULT_KEYS,
    MARKET_DATA_SEED: String(seed.seed % 100_000),
    // Nothing here is about prices or timeouts: no requotes, no card expiring during the test.
    PRICE_TOLERANCE_BPS: '10000',
    CONFIRMATION_TTL_SECONDS: '900',
    ...(scenario.mode === 'webhook'
      ? { PUBLIC_URL: 'https://arbion.example', TELEGRAM_WEBHOOK_SECRET: SECRET }
      : {}),
  };
  let databaseName: string | undefined;
  if (scenario.database === 'embedded') await seedEmbeddedData(path.join(cwd, 'data'));
  if (scenario.database === 'server') {
    databaseName = uniqueDatabaseName('arbion_kills');
    location = await createDatabase(databaseName, inject('templateDatabase'));
    env.DATABASE_URL = location;
  }
  const lives: ArbionProcess[] = [];
  cleanups.push(async () => {
    // A scenario that failed midway may leave its last life running.
    for (const life of lives) await life.kill();
    player.close();
    await fake.close();
    if (databaseName !== undefined) await dropDatabase(databaseName);
    rmSync(cwd, { recursive: true, force: true });
  });

  const startLife = async () => {
    const life = ArbionProcess.spawn({ label: `${name} life ${lives.length}`, cwd, env });
    lives.push(life);
    player.setEndpoint('arbion', await life.ready());
    return life;
  };
  const died = (life: ArbionProcess) => () =>
    life.alive ? undefined : `${life.label} exited on its own:\n${life.tail()}`;

  const conversations: Conversation[] = [];
  let next = index * 1000;
  const openRound = () =>
    Array.from({ length: USERS_PER_LIFE }, () => {
      const conversation = openConversation(player, next, `${name} user ${next}`);
      next++;
      conversations.push(conversation);
      return conversation;
    });

  const kills: KillRecord[] = [];
  let life = await startLife();
  let waiting = openRound();
  for (let round = 0; round < scenario.kills; round++) {
    await waitForCards(player, waiting, 30_000, died(life));
    const presses = pressConfirm(player, waiting, () => random.chance(0.25));
    const following = openRound();
    const delayMs = random.int(0, 800);
    // The kill point itself is what is random: there is no event to wait for.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    await life.kill();
    player.setEndpoint('arbion', undefined);
    const confirmed = waiting.filter((conversation) => conversation.presses.length > 0);
    const stillOpen = await waitForOutcomes(player, confirmed, 0);
    kills.push({
      life: life.label,
      delayMs,
      presses,
      toldBeforeKill: confirmed.length - stillOpen.length,
      confirmedInRound: confirmed.length,
      lastSeq: fake.calls.at(-1)?.seq ?? 0,
    });
    life = await startLife();
    waiting = following;
  }
  // The last life is not killed: it presses the last cards and lets recovery finish.
  await waitForCards(player, waiting, 30_000, died(life));
  pressConfirm(player, waiting, () => random.chance(0.25));
  await player.allAcknowledged(30_000);
  // The last life resumes and tells at once what earlier lives left (its first background pass):
  // a card not final after 30 s, or a sentence missing 5 s after its card, will not come.
  await waitForOutcomes(player, conversations, 30_000, died(life), 5000);
  const code = await life.stop();
  if (code !== 0) throw new Error(`${life.label} did not stop cleanly (exit ${code}):\n${life.tail()}`);
  const ledger = await readLedger(location);
  const summary = auditOutcomes(player, ledger, conversations);
  const troubled = conversations.filter((conversation) =>
    summary.problems.some((text) => text.includes(`(chat ${conversation.chatId},`)),
  );
  const transcripts = troubled.map(
    (conversation) =>
      `  chat ${conversation.chatId} (intent ${conversation.intentId}):\n${player
        .transcript(conversation.chatId)
        .map((line) => `    ${line}`)
        .join('\n')}`,
  );
  return {
    transcripts,
    name,
    kills,
    summary,
    lives,
    unfinishedInbox: ledger.unfinishedInbox.length,
    ms: Date.now() - started,
  };
}

function meanReadyMs(lives: ArbionProcess[]): number {
  const times = lives.slice(1).map((life) => life.readyMs ?? 0);
  return Math.round(times.reduce((sum, ms) => sum + ms, 0) / Math.max(1, times.length));
}

/** The per-kill log a failure prints: each life, where it was killed, and what it logged at warn or above. */
function killReport(result: ScenarioResult): string {
  const lines = result.kills.map(
    (kill) =>
      `  ${kill.life}: killed ${kill.delayMs} ms after ${kill.presses} presses; ${kill.toldBeforeKill}/${kill.confirmedInRound} told before the kill (Telegram seq ${kill.lastSeq})`,
  );
  lines.push(...result.transcripts);
  for (const life of result.lives) {
    const problems = life.problems();
    if (problems.length > 0)
      lines.push(`  --- ${life.label} warnings:`, ...problems.slice(0, 20).map((line) => `    ${line}`));
  }
  return lines.join('\n');
}

describe('durability: SIGKILL between Confirm and the telling', () => {
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await removeEmbeddedTemplate();
  });

  it('every confirmed card ends filled once or refused, shown and told once, across 30 kills', async () => {
    console.log(`durability kills: ${describeSeed(seed)}`);
    for (let first = 0; first < scenarios.length; first += SIDE_BY_SIDE) {
      const batch = scenarios.slice(first, first + SIDE_BY_SIDE);
      results.push(
        ...(await Promise.all(
          batch.map((scenario) => runScenario(scenario, allScenarios.indexOf(scenario))),
        )),
      );
    }
    const kills = results.flatMap((result) => result.kills);
    const effective = kills.filter((kill) => kill.toldBeforeKill < kill.confirmedInRound).length;
    const report = results.map(
      (result) =>
        `${describeSummary(result.name, result.summary)}; ${result.kills.length} kills; ` +
        `${result.unfinishedInbox} inbox rows unfinished; restarts ${meanReadyMs(result.lives)} ms on average; ` +
        `${(result.ms / 1000).toFixed(1)} s`,
    );
    console.log(
      [
        `durability kills: ${describeSeed(seed)}: ${kills.length} kills (${effective} with a confirmed card not yet told), ` +
          `${results.reduce((sum, result) => sum + result.summary.presses, 0)} presses, ` +
          `${results.reduce((sum, result) => sum + result.summary.filled, 0)} filled, ` +
          `${results.reduce((sum, result) => sum + result.summary.told, 0)} told, ` +
          `${results.reduce((sum, result) => sum + result.summary.problems.length, 0)} problems`,
        ...report,
      ].join('\n'),
    );
    const problems = results.flatMap((result) => result.summary.problems);
    const unfinished = results.filter((result) => result.unfinishedInbox > 0);
    if (problems.length > 0 || unfinished.length > 0) {
      console.log(
        [
          `FAILED with ${describeSeed(seed)}`,
          ...problems,
          ...unfinished.map((result) => `${result.name}: ${result.unfinishedInbox} inbox rows never handled`),
          ...results.map((result) => `${result.name}:\n${killReport(result)}`),
        ].join('\n'),
      );
    }
    if (process.env.DURABILITY_ONLY === undefined) expect(kills.length).toBeGreaterThanOrEqual(30);
    expect(problems).toEqual([]);
    expect(unfinished.map((result) => result.name)).toEqual([]);
  }, 290_000);
});
