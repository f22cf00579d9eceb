/**
 * The inbound queue on a real inbox, on both databases: a chat's messages are handled in order,
 * one at a time, chats side by side up to a bound; a redelivery is recorded once and handled
 * once; a message the inbox could not record is refused and never handled; failures while the
 * database is away are waited out (the sender told once), failures with it up are given up after
 * a bound (the sender told); unfinished rows are resumed in id order after a restart; and a
 * message is never handled twice because its handled mark failed. Every wait is on an event or a
 * promise, never on the clock.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HANDLING_DELAYED_TEXT,
  HANDLING_FAILED_TEXT,
  InboundQueue,
} from '../../src/channels/inbound-queue.js';
import { Inbox, InboxUnavailableError } from '../../src/core/conversation/inbox.js';
import { Prisma, type SqlExecutor } from '../../src/core/db/database.js';
import { createLogger } from '../../src/core/logging/logger.js';
import type { InboundMessage } from '../../src/core/messages.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const logger = createLogger({
  level: 'silent',
  format: 'json',
  secretValues: [],
  destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
});

/** When the messages of most tests arrived; resumed rows are older (see the resume test). */
const RECEIVED_AT = new Date('2026-11-24T15:00:00Z');
/** The inbox's clock: every handled mark carries it. */
const HANDLED_AT = new Date('2026-11-24T15:00:05Z');
/** Processes (core/processes): one that died with rows unfinished, one that is alive. */
const DEAD_PROCESS = '00000000-0000-4000-8000-00000000dead';
const LIVE_PROCESS = '00000000-0000-4000-8000-0000000011fe';

let sequence = 0;
function message(chatId: string, text: string, receivedAt = RECEIVED_AT): InboundMessage {
  sequence++;
  return {
    kind: 'text',
    deliveryId: `d${sequence}`,
    messageId: `m${sequence}`,
    address: { platform: 'telegram', workspaceId: '', chatId },
    sender: { platformUserId: 'u1' },
    chatType: 'direct',
    receivedAt,
    text,
  };
}

const textOf = (inbound: InboundMessage): string => (inbound.kind === 'text' ? inbound.text : '');

/** The database's plain SQL, which can be taken away (every statement fails as pg's do) and given back. */
class SwitchableSql implements SqlExecutor {
  /** Every statement fails while true. */
  down = false;
  /** The next this many `execute` statements fail (the inbox's handled marks are executes). */
  failingExecutes = 0;

  constructor(private readonly inner: SqlExecutor) {}

  query<Row>(statement: Prisma.Sql): Promise<Row[]> {
    if (this.down) return Promise.reject(new Error('Connection terminated unexpectedly'));
    return this.inner.query<Row>(statement);
  }

  execute(statement: Prisma.Sql): Promise<number> {
    if (this.failingExecutes > 0) {
      this.failingExecutes--;
      return Promise.reject(new Error('Connection terminated unexpectedly'));
    }
    if (this.down) return Promise.reject(new Error('Connection terminated unexpectedly'));
    return this.inner.execute(statement);
  }

  /** What the product's readiness check does: a trivial statement. */
  reachable(): Promise<boolean> {
    return this.query(Prisma.sql`SELECT 1`).then(
      () => true,
      () => false,
    );
  }
}

/** A handler whose calls finish only when the test releases them; each start is an event. */
function gatedHandler() {
  const started: string[] = [];
  const finished: string[] = [];
  const gates = new Map<string, () => void>();
  const startWaiters = new Map<string, () => void>();
  let active = 0;
  let peak = 0;
  return {
    started,
    finished,
    peak: () => peak,
    release(text: string) {
      const gate = gates.get(text);
      if (gate === undefined) throw new Error(`${text} has not started`);
      gate();
    },
    /** Resolves once the handler has started on `text`. */
    hasStarted(text: string): Promise<void> {
      if (started.includes(text)) return Promise.resolve();
      return new Promise((resolve) => startWaiters.set(text, resolve));
    },
    handle(inbound: InboundMessage): Promise<void> {
      const text = textOf(inbound);
      started.push(text);
      active++;
      peak = Math.max(peak, active);
      const done = new Promise<void>((resolve) => {
        gates.set(text, () => {
          active--;
          finished.push(text);
          resolve();
        });
      });
      startWaiters.get(text)?.();
      return done;
    },
  };
}

describe.each(backends)('the inbound queue on a %s PostgreSQL inbox', (backend: Backend) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await test?.destroy();
  });

  /** A fresh inbox on the test database (through a switchable executor) and a queue on it. */
  function queueWith(options: {
    handle: (inbound: InboundMessage) => Promise<void>;
    concurrency?: number;
    maxAttempts?: number;
    /** The process the inbox records for (default: one that has died since). */
    processId?: string;
  }) {
    const sql = new SwitchableSql(test.database.sql);
    const inbox = new Inbox({ sql, clock: () => HANDLED_AT, processId: options.processId ?? DEAD_PROCESS });
    const told: { text: string; told: string }[] = [];
    const queue = new InboundQueue({
      inbox,
      handle: options.handle,
      tell: async (inbound, text) => {
        told.push({ text: textOf(inbound), told: text });
      },
      databaseReachable: () => sql.reachable(),
      logger,
      retryDelayMs: 1,
      maxRetryDelayMs: 4,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    });
    return { sql, inbox, queue, told };
  }

  const row = (inbound: InboundMessage) =>
    test.database.prisma.inboundEvent.findUnique({
      where: {
        platform_deliveryId: { platform: inbound.address.platform, deliveryId: inbound.deliveryId },
      },
    });

  it('handles one chat in order, one message at a time, and chats side by side', async () => {
    const handler = gatedHandler();
    const { queue } = queueWith({ handle: (m) => handler.handle(m), concurrency: 8 });
    const [a1, a2, b1] = [message('A', 'a1'), message('A', 'a2'), message('B', 'b1')];
    const accepted = [];
    for (const inbound of [a1, a2, b1]) accepted.push(await queue.accept(inbound));
    expect(accepted.map((acceptance) => acceptance.duplicate)).toEqual([false, false, false]);
    await handler.hasStarted('a1');
    await handler.hasStarted('b1');
    expect(handler.started).toEqual(['a1', 'b1']); // a2 waits for a1
    expect(queue.size).toBe(3);

    handler.release('b1');
    await accepted[2]?.handled;
    expect(handler.started).toEqual(['a1', 'b1']); // b1's end does not let a2 overtake a1
    expect((await row(b1))?.handledAt).toEqual(HANDLED_AT);
    expect((await row(a1))?.handledAt).toBeNull();

    handler.release('a1');
    await handler.hasStarted('a2');
    expect(handler.started).toEqual(['a1', 'b1', 'a2']);
    handler.release('a2');
    await queue.idle();
    expect(handler.finished).toEqual(['b1', 'a1', 'a2']);
    expect(queue.size).toBe(0);
    for (const inbound of [a1, a2, b1]) expect((await row(inbound))?.handledAt).toEqual(HANDLED_AT);
  });

  it('runs at most `concurrency` chats at once and settles each `handled` once it is handled', async () => {
    const handler = gatedHandler();
    const { queue } = queueWith({ handle: (m) => handler.handle(m), concurrency: 2 });
    const messages = ['c1', 'c2', 'c3', 'c4'].map((chat) => message(chat, chat));
    const handled: Promise<void>[] = [];
    for (const inbound of messages) handled.push((await queue.accept(inbound)).handled);
    let firstDone = false;
    void handled[0]?.then(() => {
      firstDone = true;
    });
    await handler.hasStarted('c1');
    await handler.hasStarted('c2');
    expect(handler.started).toEqual(['c1', 'c2']);
    expect(firstDone).toBe(false);

    handler.release('c1');
    await handled[0];
    expect(firstDone).toBe(true);
    expect((await row(messages[0] as InboundMessage))?.handledAt).toEqual(HANDLED_AT);
    await handler.hasStarted('c3');
    expect(handler.started).toEqual(['c1', 'c2', 'c3']);
    for (const chat of ['c2', 'c3']) handler.release(chat);
    await handler.hasStarted('c4');
    handler.release('c4');
    await Promise.all(handled);
    expect(handler.peak()).toBe(2);
    expect(queue.size).toBe(0);
  });

  it('accepts a redelivery as a duplicate and handles the message once', async () => {
    const handled: string[] = [];
    const { queue } = queueWith({
      handle: async (m) => {
        handled.push(m.deliveryId);
      },
    });
    const original = message('R', 'buy 1 AAPL');
    // Same platform and delivery id: what a platform's redelivery carries.
    const redelivery: InboundMessage = { ...original, messageId: 'other', receivedAt: HANDLED_AT };
    const first = await queue.accept(original);
    const second = await queue.accept(redelivery);
    expect([first.duplicate, second.duplicate]).toEqual([false, true]);
    await Promise.all([first.handled, second.handled]);
    // Once handled, a late redelivery is still a duplicate.
    const late = await queue.accept(redelivery);
    expect(late.duplicate).toBe(true);
    await late.handled;
    await queue.idle();
    expect(handled).toEqual([original.deliveryId]);
    expect(
      await test.database.prisma.inboundEvent.count({ where: { deliveryId: original.deliveryId } }),
    ).toBe(1);
    expect((await row(original))?.handledAt).toEqual(HANDLED_AT);
  });

  it('refuses a message it cannot record (InboxUnavailableError) and handles nothing', async () => {
    const handled: string[] = [];
    const { sql, queue, told } = queueWith({
      handle: async (m) => {
        handled.push(textOf(m));
      },
    });
    const refused = message('U', 'buy 1 TSLA');
    sql.down = true;
    const error = await queue.accept(refused).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InboxUnavailableError);
    expect(queue.size).toBe(0);
    await queue.idle();
    sql.down = false;
    expect(await row(refused)).toBeNull();
    expect(handled).toEqual([]);
    expect(told).toEqual([]);

    // The platform sends it again once the database is back: it is new to the inbox, and handled.
    const again = await queue.accept(refused);
    expect(again.duplicate).toBe(false);
    await again.handled;
    expect(handled).toEqual(['buy 1 TSLA']);
    expect((await row(refused))?.handledAt).toEqual(HANDLED_AT);
  });

  it('waits out failures while the database is away, tells the sender once, then handles the message', async () => {
    let calls = 0;
    let succeeded = 0;
    let sql: SwitchableSql | undefined;
    const setup = queueWith({
      // Two attempts with the database up would be the bound: the failures below must not count.
      maxAttempts: 2,
      handle: async () => {
        calls++;
        // The database comes back before the fourth attempt.
        if (calls === 4 && sql) sql.down = false;
        await sql?.query(Prisma.sql`SELECT 1`);
        succeeded++;
      },
    });
    sql = setup.sql;
    const { queue, told } = setup;
    const inbound = message('W', 'positions');
    let takeDatabaseAway: () => void = () => undefined;
    const away = new Promise<void>((resolve) => {
      takeDatabaseAway = resolve;
    });
    // Recorded while the database is up; handled only once it is away.
    const accepted = await queue.accept(inbound, { handleAfter: away });
    sql.down = true;
    takeDatabaseAway();
    await accepted.handled;
    expect(calls).toBe(4);
    expect(succeeded).toBe(1);
    expect(told).toEqual([{ text: 'positions', told: HANDLING_DELAYED_TEXT }]);
    expect((await row(inbound))?.handledAt).toEqual(HANDLED_AT);
    expect(queue.size).toBe(0);
  });

  it('gives a failing message up at once with the database up (handling is not idempotent), tells the sender, and goes on', async () => {
    const attempts: string[] = [];
    const { queue, told } = queueWith({
      maxAttempts: 3,
      handle: async (m) => {
        attempts.push(textOf(m));
        if (textOf(m) === 'boom') throw new Error('boom');
      },
    });
    const bad = message('F', 'boom');
    const after = message('F', 'after');
    const first = await queue.accept(bad);
    const second = await queue.accept(after);
    await Promise.all([first.handled, second.handled]);
    // One try of the bad one (a second would propose its card twice), then the next message.
    expect(attempts).toEqual(['boom', 'after']);
    expect(told).toEqual([{ text: 'boom', told: HANDLING_FAILED_TEXT }]);
    expect((await row(bad))?.handledAt).toEqual(HANDLED_AT);
    expect((await row(after))?.handledAt).toEqual(HANDLED_AT);
    expect(queue.size).toBe(0);
  });

  it('waits out a failure that is a database outage even while a ping answers (a restart between the two)', async () => {
    let calls = 0;
    const { queue, told } = queueWith({
      handle: async () => {
        calls++;
        if (calls === 1)
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
    });
    const inbound = message('G', 'positions');
    const accepted = await queue.accept(inbound);
    await accepted.handled;
    expect(calls).toBe(2);
    expect(told).toEqual([{ text: 'positions', told: HANDLING_DELAYED_TEXT }]);
    expect((await row(inbound))?.handledAt).toEqual(HANDLED_AT);
  });

  it('resumes unfinished rows of dead processes in id order per chat, and gives up one whose attempts reached the bound', async () => {
    const { inbox: deadInbox } = queueWith({ handle: async () => undefined, processId: DEAD_PROCESS });
    const { inbox: liveInbox } = queueWith({ handle: async () => undefined, processId: LIVE_PROCESS });
    // This process, after the restart.
    const { inbox } = queueWith({ handle: async () => undefined, processId: randomUUID() });
    const before = new Date('2026-01-05T10:00:00Z');
    const recorded: InboundMessage[] = [];
    // Left unfinished by a crash: recorded, never handled.
    for (const [chat, text] of [
      ['A', 'r-a1'],
      ['B', 'r-b1'],
      ['A', 'r-a2'],
      ['A', 'r-a3'],
      ['B', 'r-b2'],
    ] as const) {
      const inbound = message(chat, text, before);
      expect(await deadInbox.record(inbound)).toBeDefined();
      recorded.push(inbound);
    }
    // Being handled by a process that lives: not claimed.
    const recent = message('A', 'r-recent', new Date('2026-03-01T00:00:00Z'));
    expect(await liveInbox.record(recent)).toBeDefined();
    // r-b2's earlier attempts all crashed Arbion.
    const crashing = await row(recorded[4] as InboundMessage);
    if (crashing === null) throw new Error('r-b2 was not recorded');
    await test.database.prisma.inboundEvent.update({ where: { id: crashing.id }, data: { attempts: 3 } });

    const entries = await inbox.claimUnfinished([LIVE_PROCESS]);
    expect(entries.map((entry) => textOf(entry.message))).toEqual(['r-a1', 'r-b1', 'r-a2', 'r-a3', 'r-b2']);
    expect(entries.map((entry) => entry.attempts)).toEqual([1, 1, 1, 1, 3]);

    // The restarted queue: each handling yields to the database, so chats interleave.
    const log: string[] = [];
    const sql = new SwitchableSql(test.database.sql);
    const told: { text: string; told: string }[] = [];
    const queue = new InboundQueue({
      inbox,
      handle: async (m) => {
        log.push(`start ${textOf(m)}`);
        await sql.query(Prisma.sql`SELECT 1`);
        log.push(`end ${textOf(m)}`);
      },
      tell: async (m, text) => {
        told.push({ text: textOf(m), told: text });
      },
      databaseReachable: () => sql.reachable(),
      logger,
      maxAttempts: 3,
      retryDelayMs: 1,
    });
    const resumed = queue.resume(entries);
    expect(resumed).toHaveLength(5);
    // Rows held by the queue are not queued twice (a second sweep during the first).
    expect(queue.resume(entries)).toEqual([]);
    await Promise.all(resumed);

    const ofChat = (chat: string) => log.filter((line) => line.includes(`r-${chat}`));
    expect(ofChat('a')).toEqual([
      'start r-a1',
      'end r-a1',
      'start r-a2',
      'end r-a2',
      'start r-a3',
      'end r-a3',
    ]);
    expect(ofChat('b')).toEqual(['start r-b1', 'end r-b1']);
    expect(told).toEqual([{ text: 'r-b2', told: HANDLING_FAILED_TEXT }]);
    for (const inbound of recorded) expect((await row(inbound))?.handledAt).toEqual(HANDLED_AT);
    expect((await row(recent))?.handledAt).toBeNull();
    // The claim counted one more attempt on each row.
    expect((await row(recorded[0] as InboundMessage))?.attempts).toBe(2);
    expect((await row(recorded[4] as InboundMessage))?.attempts).toBe(4);
    // Finished here, so that no other claim meets it.
    await test.database.prisma.inboundEvent.updateMany({
      where: { deliveryId: recent.deliveryId },
      data: { handledAt: HANDLED_AT },
    });
  });

  it('does not handle a message again when only its handled mark failed', async () => {
    let calls = 0;
    let sql: SwitchableSql | undefined;
    const setup = queueWith({
      handle: async () => {
        calls++;
        // The handling went through; the mark that follows it fails once.
        if (sql) sql.failingExecutes = 1;
      },
    });
    sql = setup.sql;
    const { queue, told } = setup;
    const inbound = message('M', 'balance');
    const accepted = await queue.accept(inbound);
    await accepted.handled;
    expect(calls).toBe(1);
    expect(sql.failingExecutes).toBe(0); // the mark did fail once
    expect(told).toEqual([]);
    expect((await row(inbound))?.handledAt).toEqual(HANDLED_AT);
    expect(queue.size).toBe(0);
  });
});
