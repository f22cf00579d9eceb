/**
 * The plain-SQL executor of the hot path agrees with Prisma on both backends: timestamps are UTC
 * whatever the process time zone, numerics keep every digit, named statements run again and again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../../src/core/db/database.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const EXPECTED = [
  '123456789012345678.123456789012345678',
  '123456789012345679.123456789012345678',
  '123456789012345680.123456789012345678',
];

describe.each(backends)('plain SQL on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;
  const savedZone = process.env.TZ;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await test?.destroy();
  });
  afterEach(() => {
    process.env.TZ = savedZone;
  });

  it('writes and reads timestamps as UTC in a process far from UTC', async () => {
    process.env.TZ = 'America/Los_Angeles';
    const at = new Date('2026-11-24T15:00:00.123Z');
    const sql = test.database.sql;
    await sql.execute(Prisma.sql`
      INSERT INTO inbound_events (platform, "deliveryId", "chatKey", message, "receivedAt")
      VALUES (${'console'}::"Platform", ${`tz-${backend}`}, ${'console'}, ${'{}'}::jsonb, ${at})`);
    const viaPrisma = await test.database.prisma.inboundEvent.findUniqueOrThrow({
      where: { platform_deliveryId: { platform: 'console', deliveryId: `tz-${backend}` } },
    });
    expect(viaPrisma.receivedAt.toISOString()).toBe(at.toISOString());
    const [row] = await sql.query<{ receivedAt: Date }>(Prisma.sql`
      SELECT "receivedAt" FROM inbound_events WHERE "deliveryId" = ${`tz-${backend}`}`);
    expect(row?.receivedAt.toISOString()).toBe(at.toISOString());
  });

  it('keeps every digit of a numeric cast to text, and repeats a named statement', async () => {
    const sql = test.database.sql;
    for (let round = 0; round < 3; round++) {
      const [row] = await sql.query<{ value: string }>(
        Prisma.sql`SELECT (${'123456789012345678.123456789012345678'}::numeric(38,18) + ${round}::int)::text AS value`,
      );
      expect(row?.value).toBe(EXPECTED[round]);
    }
  });

  it('counts changed rows', async () => {
    const changed = await test.database.sql.execute(Prisma.sql`
      UPDATE inbound_events SET "receivedAt" = ${new Date('2026-01-01T00:00:00Z')}
      WHERE "deliveryId" LIKE ${'tz-%'}`);
    expect(changed).toBe(1);
  });
});
