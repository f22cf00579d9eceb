/**
 * The intent store, the only writer of an intent's status, on both databases: a move happens only
 * from where the intent is and only when the table allows it, with its audit rows and the injected
 * clock's time; of concurrent claims exactly one creates the order row.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prismaExecutor } from '../../src/core/db/sql.js';
import { IntentStore } from '../../src/core/intents/intent-store.js';
import { ADDRESS, createHarness, type Harness } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

const PROCESS = randomUUID();

describe.each(backends)('the intent store on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;
  let store: IntentStore;

  beforeAll(async () => {
    h = await createHarness(backend);
    const prisma = h.test.database.prisma;
    store = new IntentStore(prisma, prismaExecutor(prisma), () => h.clock.now, PROCESS);
  });
  afterAll(async () => {
    await h?.destroy();
  });

  async function proposed(user: string) {
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: user, displayName: user });
    const outcome = await h.arbion.intents.propose(h.order({ side: 'buy', symbol: 'AAPL', quantity: '1' }), {
      ...who,
      address: ADDRESS,
    });
    if (outcome.kind !== 'card') throw new Error(outcome.text);
    return { intent: await store.readOrThrow(outcome.intentId), userId: who.userId };
  }

  it('moves only along the table, and stamps the move with the injected clock', async () => {
    const { intent } = await proposed('ann');
    // `fill` is not a move out of `proposed`: nothing is written.
    expect(await store.move(intent, 'fill', {}, { kind: 'broker' })).toBeUndefined();
    expect((await store.readOrThrow(intent.id)).status).toBe('proposed');

    const later = new Date(h.clock.now.getTime() + 42_000);
    const storeLater = new IntentStore(
      h.test.database.prisma,
      prismaExecutor(h.test.database.prisma),
      () => later,
      PROCESS,
    );
    const cancelled = await storeLater.move(
      intent,
      'cancel',
      { statusReason: 'test' },
      { kind: 'user', id: 'x' },
    );
    expect(cancelled?.status).toBe('cancelled');
    expect(cancelled?.updatedAt.toISOString()).toBe(later.toISOString());
    // Held by the process that moved it, until the user is told.
    expect(cancelled?.heldBy).toBe(PROCESS);
    expect(cancelled?.tellPending).toBe(true);
    const audit = await h.test.database.prisma.auditEvent.findFirstOrThrow({
      where: { intentId: intent.id, type: 'intent.cancelled' },
    });
    expect(audit.data).toEqual({ from: 'proposed', event: 'cancel' });
  });

  it('refuses a move from where the intent no longer is: of two racing moves one wins', async () => {
    const { intent } = await proposed('bob');
    const [cancel, expire] = await Promise.all([
      store.move(intent, 'cancel', {}, { kind: 'user' }),
      store.move(intent, 'expire', {}, { kind: 'system' }),
    ]);
    expect([cancel, expire].filter((moved) => moved !== undefined)).toHaveLength(1);
    const stored = await store.readOrThrow(intent.id);
    expect(['cancelled', 'expired']).toContain(stored.status);
    expect(
      await h.test.database.prisma.auditEvent.count({
        where: { intentId: intent.id, type: { in: ['intent.cancelled', 'intent.expired'] } },
      }),
    ).toBe(1);
  });

  it('moves through several events in one write, with an audit row per step', async () => {
    const { intent } = await proposed('cem');
    const rejected = await store.moveThrough(intent, ['confirm', 'reject'], { statusReason: 'test' }, {});
    expect(rejected?.status).toBe('rejected');
    const types = await h.test.database.prisma.auditEvent.findMany({
      where: { intentId: intent.id, type: { in: ['intent.confirmed', 'intent.rejected'] } },
      select: { type: true },
    });
    expect(types.map((row) => row.type).sort()).toEqual(['intent.confirmed', 'intent.rejected']);
    // From where it started it is gone: a second attempt changes nothing.
    expect(await store.moveThrough(intent, ['confirm', 'reject'], {}, {})).toBeUndefined();
  });

  it('lets exactly one of ten concurrent claims create the order row, never after the expiry', async () => {
    const { intent, userId } = await proposed('dan');
    const account = await h.arbion.accounts.tradingAccount(userId);
    const claim = () =>
      store.claimForPlacement({
        intent,
        decision: 'confirm',
        approver: undefined,
        account,
        brokerSymbol: 'AAPL',
        actorUserId: userId,
        now: h.clock.now,
      });
    const claims = await Promise.all(Array.from({ length: 10 }, claim));
    expect(claims.filter((won) => won !== undefined)).toHaveLength(1);
    expect(await h.test.database.prisma.order.count({ where: { intentId: intent.id } })).toBe(1);
    // The decision's audit rows commit with the claim: once, by the winner only.
    const audited = await h.test.database.prisma.auditEvent.findMany({
      where: { intentId: intent.id, type: { in: ['intent.confirmed', 'intent.submitting'] } },
      orderBy: { type: 'asc' },
    });
    expect(audited.map((row) => [row.type, row.actorKind, row.actorId])).toEqual([
      ['intent.confirmed', 'user', userId],
      ['intent.submitting', 'system', null],
    ]);
    expect(audited[1]?.orderId).toBe(claims.find((won) => won !== undefined)?.orderId);
    expect(audited[1]?.data).toEqual({ clientOrderId: intent.clientOrderId });
    expect((await store.readOrThrow(intent.id)).status).toBe('submitting');

    const late = await proposed('eve');
    const expired = await store.claimForPlacement({
      intent: late.intent,
      decision: 'confirm',
      approver: undefined,
      account: await h.arbion.accounts.tradingAccount(late.userId),
      brokerSymbol: 'AAPL',
      actorUserId: late.userId,
      now: new Date(late.intent.expiresAt.getTime() + 1),
    });
    expect(expired).toBeUndefined();
    expect(await h.test.database.prisma.order.count({ where: { intentId: late.intent.id } })).toBe(0);
    expect(
      await h.test.database.prisma.auditEvent.count({
        where: { intentId: late.intent.id, type: { in: ['intent.confirmed', 'intent.submitting'] } },
      }),
    ).toBe(0);
  });
});
