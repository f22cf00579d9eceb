/**
 * The data model behaves the same on the PostgreSQL server and on embedded PGlite: exact decimals,
 * the uniqueness rules the product relies on, cascades, and (embedded) persistence across restarts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, Prisma } from '../../src/core/db/database.js';
import { Migrator } from '../../src/core/db/migrations/migrator.js';
import { DataDirectoryLockedError } from '../../src/core/errors.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

describe.each(backends)('data model on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await test?.destroy();
  });

  it('stores money and quantities exactly (38 digits, 18 after the point)', async () => {
    const { prisma } = test.database;
    const user = await prisma.user.create({ data: {} });
    const connection = await prisma.brokerConnection.create({
      data: { userId: user.id, provider: 'paper', status: 'active' },
    });
    const account = await prisma.brokerAccount.create({
      data: { connectionId: connection.id, externalId: 'paper-1' },
    });
    const cash = '12345678901234567890.123456789012345678';
    const paper = await prisma.paperAccount.create({
      data: { brokerAccountId: account.id, cash, startingCash: '100000' },
    });
    const loaded = await prisma.paperAccount.findUniqueOrThrow({ where: { id: paper.id } });
    expect(loaded.cash.toFixed()).toBe(cash);
    // 0.1 + 0.2 in the database is 0.3, not 0.30000000000000004.
    const updated = await prisma.paperAccount.update({
      where: { id: paper.id },
      data: { realizedPnl: { increment: '0.1' } },
    });
    const again = await prisma.paperAccount.update({
      where: { id: updated.id },
      data: { realizedPnl: { increment: '0.2' } },
    });
    expect(again.realizedPnl.toFixed()).toBe('0.3');
    expect(again.realizedPnl).toBeInstanceOf(Prisma.Decimal);
  });

  it('maps one platform account to exactly one user', async () => {
    const { prisma } = test.database;
    const [alice, bob] = await Promise.all([
      prisma.user.create({ data: {} }),
      prisma.user.create({ data: {} }),
    ]);
    const identity = { platform: 'slack' as const, platformWorkspaceId: 'T1', platformUserId: 'U1' };
    await prisma.channelIdentity.create({ data: { ...identity, userId: alice.id } });
    const duplicate = await prisma.channelIdentity
      .create({ data: { ...identity, userId: bob.id } })
      .catch((error: unknown) => error);
    expect(isUniqueViolation(duplicate)).toBe(true);
    // The same Slack user id in another workspace is another person.
    await prisma.channelIdentity.create({ data: { ...identity, platformWorkspaceId: 'T2', userId: bob.id } });
    // Telegram has no workspace: the empty default still makes the triple unique.
    await prisma.channelIdentity.create({
      data: { platform: 'telegram', platformUserId: '42', userId: alice.id },
    });
    const second = await prisma.channelIdentity
      .create({ data: { platform: 'telegram', platformUserId: '42', userId: bob.id } })
      .catch((error: unknown) => error);
    expect(isUniqueViolation(second)).toBe(true);
  });

  it('records an inbound delivery once', async () => {
    const { prisma } = test.database;
    const event = (platform: 'telegram' | 'slack') => ({
      platform,
      deliveryId: '1001',
      chatKey: `${platform}:chat`,
      message: {},
      receivedAt: new Date('2026-11-24T15:00:00Z'),
    });
    await prisma.inboundEvent.create({ data: event('telegram') });
    const again = await prisma.inboundEvent
      .create({ data: event('telegram') })
      .catch((error: unknown) => error);
    expect(isUniqueViolation(again)).toBe(true);
    await prisma.inboundEvent.create({ data: event('slack') });
    expect(await prisma.inboundEvent.count({ where: { deliveryId: '1001' } })).toBe(2);
  });

  it('gives each intent one client order id and keeps the intent state on the row', async () => {
    const { prisma } = test.database;
    const user = await prisma.user.create({ data: {} });
    const base = {
      userId: user.id,
      side: 'buy' as const,
      assetClass: 'equity' as const,
      symbol: 'AAPL',
      quantity: '10',
      orderType: 'market' as const,
      orderHash: 'h'.repeat(64),
      platform: 'console' as const,
      chatId: 'console',
      expiresAt: new Date(Date.now() + 120_000),
    };
    const intent = await prisma.tradeIntent.create({ data: { ...base, clientOrderId: 'ARB0001' } });
    expect(intent.status).toBe('proposed');
    expect(intent.mode).toBe('paper');
    const clash = await prisma.tradeIntent
      .create({ data: { ...base, clientOrderId: 'ARB0001' } })
      .catch((error: unknown) => error);
    expect(isUniqueViolation(clash)).toBe(true);

    // "First answer wins" is one conditional update whose count is 1 exactly once.
    const first = await prisma.tradeIntent.updateMany({
      where: { id: intent.id, status: 'proposed' },
      data: { status: 'confirmed' },
    });
    const second = await prisma.tradeIntent.updateMany({
      where: { id: intent.id, status: 'proposed' },
      data: { status: 'confirmed' },
    });
    expect([first.count, second.count]).toEqual([1, 0]);
  });

  it('erases a user with everything they own, but keeps the audit trail', async () => {
    const { prisma } = test.database;
    const user = await prisma.user.create({
      data: {
        identities: { create: { platform: 'discord', platformUserId: 'D-erase' } },
        connections: {
          create: { provider: 'schwab', credentialCiphertext: Buffer.from([1, 2, 3]), credentialKeyId: 'k1' },
        },
        riskProfile: { create: { maxOrderNotional: '5000', allowedAssetClasses: ['equity'] } },
      },
    });
    const event = await prisma.auditEvent.create({
      data: { type: 'user.created', actorKind: 'system', userId: user.id },
    });
    await prisma.user.delete({ where: { id: user.id } });
    expect(await prisma.channelIdentity.count({ where: { userId: user.id } })).toBe(0);
    expect(await prisma.brokerConnection.count({ where: { userId: user.id } })).toBe(0);
    expect(await prisma.riskProfile.count({ where: { userId: user.id } })).toBe(0);
    const kept = await prisma.auditEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(kept.userId).toBeNull();
    expect(typeof kept.id).toBe('bigint');
  });
});

describe('embedded PostgreSQL data directory', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'arbion-embedded-'));
  const directory = path.join(root, 'postgres');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps data across a restart and refuses a second opener while open', async () => {
    const first = await openDatabase({ kind: 'embedded', directory });
    const migrator = await Migrator.open(first.adapterFactory);
    await migrator.apply();
    migrator.dispose();
    const user = await first.prisma.user.create({ data: { displayName: 'persisted' } });

    const second = await openDatabase({ kind: 'embedded', directory }).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(DataDirectoryLockedError);
    expect((second as DataDirectoryLockedError).holderPid).toBe(process.pid);

    await first.close();
    expect(existsSync(`${directory}.lock`)).toBe(false);

    const reopened = await openDatabase({ kind: 'embedded', directory });
    try {
      const found = await reopened.prisma.user.findUnique({ where: { id: user.id } });
      expect(found?.displayName).toBe('persisted');
    } finally {
      await reopened.close();
    }
  });
});
