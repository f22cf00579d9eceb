/**
 * Issue 18, point 5 (two processes): two `arbion start` in Telegram webhook mode behind one public
 * URL, on one PostgreSQL database and one Redis, with the test playing Telegram over both (a
 * load balancer's view: each update goes to one of them, and a redelivery to whichever is up).
 * (a) 1,000 concurrent presses of Confirm on one card, split between the two: exactly one order.
 * (b) Under a steady stream of messages and presses spread over both, one is SIGKILLed; every
 * update it did not acknowledge is redelivered to the survivor, and what it acknowledged but did
 * not finish must be taken over: every message answered once, every confirmed card filled once
 * and told once. The takeover is awaited for at most 60 s, and its duration is reported.
 *
 * DURABILITY_SEED replays the choices; DURABILITY_LOG_DIR keeps both processes' logs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FakeTelegramServer } from '../fakes/telegram/fake-telegram-server.js';
import { ArbionProcess, canRunAsOtherHost } from '../support/arbion-process.js';
import { ConversationStream } from '../support/conversation-stream.js';
import {
  cardFinal,
  noteCard,
  openConversation,
  pollUntil,
  waitForCards,
  waitForOutcomes,
} from '../support/conversations.js';
import { readServerLedger } from '../support/ledger.js';
import { auditOutcomes, type Conversation, describeSummary } from '../support/outcome-audit.js';
import { createDatabase, dropDatabase, uniqueDatabaseName } from '../support/postgres-server.js';
import { claimRedisDatabase, type RedisDatabase } from '../support/redis-database.js';
import { describeSeed, SeededRandom } from '../support/seeded-random.js';
import { type Delivery, TelegramPlayer } from '../support/telegram-player.js';

const TOKEN = '7000028:AAHdurability-two-processes_012345';
const SECRET = 'durability-two-processes-secret';
const VAULT_KEYS = `k1:${Buffer.alloc(32, 11).toString('base64')}`;
const PRESSES = 1000;
/** New traders sent to the process about to be killed, just before the kill. */
const WAVE = 6;
/** How long the survivor gets to take over what the killed process left unfinished. */
const TAKEOVER_DEADLINE_MS = 60_000;

const random = SeededRandom.fromEnvironment();
/**
 * b runs as another machine when it can: the survivor then learns b died only from its missed
 * heartbeats, as it would across hosts (on one host a gone pid gives it away at once).
 */
const otherHost = canRunAsOtherHost() ? 'arbion-test-host-b' : undefined;

describe('durability: two processes behind one webhook', () => {
  let fake: FakeTelegramServer;
  let redis: RedisDatabase;
  let databaseName: string;
  let databaseUrl: string;
  const processes = new Map<'a' | 'b', ArbionProcess>();
  const directories: string[] = [];
  const players: TelegramPlayer[] = [];

  const player = (ordering: 'per-chat' | 'none') => {
    const made = new TelegramPlayer({ fake, mode: 'webhook', secretToken: SECRET, ordering });
    for (const [name, arbion] of processes) made.setEndpoint(name, arbion.alive ? arbion.baseUrl : undefined);
    players.push(made);
    return made;
  };
  const evidence = (arbion: ArbionProcess) => [
    `--- ${arbion.label} warnings:`,
    ...arbion.problems().slice(0, 30),
  ];

  beforeAll(async () => {
    console.log(
      `durability two processes: ${describeSeed(random)}; b runs ${otherHost === undefined ? 'on the same host (unshare unavailable)' : `as host ${otherHost}`}`,
    );
    fake = await FakeTelegramServer.start({ token: TOKEN });
    redis = await claimRedisDatabase();
    databaseName = uniqueDatabaseName('arbion_two');
    databaseUrl = await createDatabase(databaseName, inject('templateDatabase'));
    const start = async (name: 'a' | 'b') => {
      const cwd = mkdtempSync(path.join(tmpdir(), `arbion-two-${name}-`));
      directories.push(cwd);
      const arbion = ArbionProcess.spawn({
        label: `two-processes ${name}`,
        cwd,
        ...(name === 'b' && otherHost !== undefined ? { hostname: otherHost } : {}),
        env: {
          DATABASE_URL: databaseUrl,
          REDIS_URL: redis.url,
          TELEGRAM_BOT_TOKEN: TOKEN,
          TELEGRAM_API_ROOT: fake.apiRoot,
          PUBLIC_URL: 'https://arbion.example',
          TELEGRAM_WEBHOOK_SECRET: SECRET,
          ARBION_ENCRYPTION_KEYS: VAULT_KEYS,
          MARKET_DATA_SEED: String(random.seed % 100_000),
          PRICE_TOLERANCE_BPS: '10000',
          CONFIRMATION_TTL_SECONDS: '900',
        },
      });
      processes.set(name, arbion);
      await arbion.ready();
    };
    await Promise.all([start('a'), start('b')]);
  }, 120_000);

  afterAll(async () => {
    for (const made of players) made.close();
    for (const arbion of processes.values()) await arbion.stop(5000).catch(() => undefined);
    await fake?.close();
    await redis?.release().catch(() => undefined);
    if (databaseName !== undefined) await dropDatabase(databaseName);
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  it('makes one order of 1,000 concurrent Confirm presses on one card, split between the two', async () => {
    const started = Date.now();
    const ordered = player('per-chat');
    const conversation = openConversation(ordered, 0, 'burst', 'a');
    expect(await waitForCards(ordered, [conversation], 30_000)).toEqual([]);
    expect(conversation.intentId).toBeDefined();
    const burst = player('none');
    for (let i = 0; i < PRESSES; i++) {
      const update = fake.callbackUpdate({
        from: conversation.who.user,
        chatId: conversation.chatId,
        messageId: conversation.cardMessageId ?? 0,
        data: `confirm:${conversation.intentId}`,
      });
      conversation.presses.push(burst.deliver(update, i % 2 === 0 ? 'a' : 'b'));
    }
    await burst.allAcknowledged(60_000);
    const queries = conversation.presses.map((press) => (press.update.callback_query as { id: string }).id);
    const answered = () => queries.every((id) => fake.model.queries.get(id)?.answer !== undefined);
    await pollUntil(answered, 60_000);
    await waitForOutcomes(ordered, [conversation], 30_000);

    const ledger = await readServerLedger(databaseUrl);
    const summary = auditOutcomes(ordered, ledger, [conversation]);
    const byProcess = { a: 0, b: 0 };
    for (const press of conversation.presses)
      if (press.acknowledgedBy === 'a' || press.acknowledgedBy === 'b') byProcess[press.acknowledgedBy]++;
    const answers = new Map<string, number>();
    for (const id of queries) {
      const answer = fake.model.queries.get(id)?.answer;
      const text = answer === undefined ? '(no answer)' : (answer.text ?? '(empty)');
      answers.set(text, (answers.get(text) ?? 0) + 1);
    }
    const refusedAnswers = fake.callsTo('answerCallbackQuery').filter((call) => call.status !== 200).length;
    const intent = ledger.intents.find((row) => row.id === conversation.intentId);
    console.log(
      `durability two processes (a): ${describeSeed(random)}; ${PRESSES} presses (${byProcess.a} to a, ${byProcess.b} to b) -> ` +
        `${intent?.orders} order rows, ${intent?.paperOrders} paper orders, ${intent?.paperFills} paper fills, intent ${intent?.status}; ` +
        `answers: ${[...answers].map(([text, count]) => `${count}x "${text}"`).join(', ')}; ` +
        `${refusedAnswers} answers refused by Telegram; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    if (summary.problems.length > 0)
      console.log(
        [
          ...summary.problems,
          ...ordered.transcript(conversation.chatId).slice(0, 20),
          ...[...processes.values()].flatMap(evidence),
        ].join('\n'),
      );
    expect(intent?.status).toBe('filled');
    expect(summary.problems).toEqual([]);
    expect(answered()).toBe(true);
    expect(refusedAnswers).toBe(0);
  }, 180_000);

  it('loses nothing when one is killed under load and Telegram redelivers to the other', async () => {
    const started = Date.now();
    const killed = processes.get('b');
    const survivor = processes.get('a');
    if (killed === undefined || survivor === undefined) throw new Error('both processes should be running');
    const ordered = player('per-chat');
    const stream = new ConversationStream({
      player: ordered,
      random,
      label: 'two-processes',
      firstNumber: 1000,
      intervalMs: 60,
      endpointFor: (count) => (count % 2 === 0 ? 'a' : 'b'),
    });
    stream.start();
    const killAfterMs = random.int(2000, 4000);
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    // A wave of new traders at b, killed once b has recorded (acknowledged) a few of them: work it
    // accepted and had no time to finish, which only a takeover can complete.
    const wave = Array.from({ length: WAVE }, (_, i) =>
      openConversation(ordered, 1900 + i, `two-processes wave ${i}`, 'b'),
    );
    stream.conversations.push(...wave);
    await pollUntil(
      () => wave.filter((conversation) => conversation.message.acknowledgedBy === 'b').length >= 3,
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, random.int(0, 30)));
    await killed.kill();
    const killedAt = Date.now();
    for (const made of players) made.setEndpoint('b', undefined);
    // What the killed process had acknowledged but not finished: the survivor must take it over.
    // Taken over = each delivery b acknowledged shows its effect: a message its card, a press its final card.
    const byB = (delivery: Delivery) => delivery.acknowledgedBy === 'b';
    const takenOver = (conversation: Conversation) =>
      (!byB(conversation.message) || noteCard(ordered, conversation)) &&
      (!conversation.presses.some(byB) || cardFinal(ordered, conversation));
    const inFlight = stream.conversations.filter(
      (conversation) => [conversation.message, ...conversation.presses].some(byB) && !takenOver(conversation),
    );
    const finishedAt = new Map<Conversation, number>();
    const noteTakenOver = () => {
      for (const conversation of inFlight)
        if (!finishedAt.has(conversation) && takenOver(conversation))
          finishedAt.set(conversation, Date.now());
    };
    const watch = setInterval(noteTakenOver, 25);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    stream.stopOpening();

    const deadline = killedAt + TAKEOVER_DEADLINE_MS;
    await ordered.allAcknowledged(30_000);
    await waitForCards(ordered, stream.conversations, Math.max(0, deadline - Date.now()), () =>
      survivor.alive ? undefined : `the survivor died:\n${survivor.tail()}`,
    );
    stream.pressNewCards();
    await ordered.allAcknowledged(30_000);
    await waitForOutcomes(ordered, stream.conversations, Math.max(1, deadline - Date.now()), undefined, 5000);
    clearInterval(watch);
    noteTakenOver();
    stream.close();
    const takeoverMs = Math.max(0, ...[...finishedAt.values()].map((at) => at - killedAt));
    const notTakenOver = inFlight.filter((conversation) => !finishedAt.has(conversation));

    const code = await survivor.stop();
    const ledger = await readServerLedger(databaseUrl);
    const summary = auditOutcomes(ordered, ledger, stream.conversations);
    const redelivered = ordered.deliveries.filter((delivery) => delivery.failures.length > 0).length;
    console.log(
      `durability two processes (b): ${describeSeed(random)}; killed b after ${killAfterMs} ms; ` +
        `${inFlight.length} conversations in b's hands at the kill, ${finishedAt.size} taken over by a ` +
        `(the last ${(takeoverMs / 1000).toFixed(1)} s after the kill), ${notTakenOver.length} not within ${TAKEOVER_DEADLINE_MS / 1000} s; ` +
        `${redelivered} updates redelivered to a; ${ledger.unfinishedInbox.length} inbox rows unfinished\n` +
        `${describeSummary('two-processes', summary)}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const problems = [
      ...summary.problems,
      ...notTakenOver.map(
        (conversation) => `${conversation.label}: not taken over within ${TAKEOVER_DEADLINE_MS / 1000} s`,
      ),
      ...ledger.unfinishedInbox.map((row) => `inbox row ${row.id} (update ${row.deliveryId}) never handled`),
    ];
    if (problems.length > 0) {
      const troubled = stream.conversations.filter((conversation) =>
        problems.some(
          (text) => text.startsWith(`${conversation.label} `) || text.startsWith(`${conversation.label}:`),
        ),
      );
      console.log(
        [
          `FAILED with ${describeSeed(random)}`,
          ...problems,
          ...troubled.flatMap((conversation) => [
            `  transcript of chat ${conversation.chatId}:`,
            ...ordered.transcript(conversation.chatId).map((line) => `    ${line}`),
          ]),
          ...evidence(killed),
          ...evidence(survivor),
        ].join('\n'),
      );
    }
    expect(code).toBe(0);
    expect(problems).toEqual([]);
  }, 180_000);
});
