/**
 * The process registry on both databases: a process is live while it beats; one silent for
 * STALE_AFTER_MS, or whose pid is gone on this host, or (embedded database) any other at all, is
 * forgotten, so the work it held is taken over; a process taken for dead that beats again comes back.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../../src/core/db/database.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { ProcessRegistry, STALE_AFTER_MS } from '../../src/core/processes/process-registry.js';
import { type Backend, backends, createTestDatabase, type TestDatabase } from '../support/databases.js';

const logger = createLogger({
  level: 'silent',
  format: 'json',
  secretValues: [],
  destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
});
const START = new Date('2026-11-24T15:00:00Z');

describe.each(backends)('the process registry on %s PostgreSQL', (backend: Backend) => {
  let test: TestDatabase;
  let now = START;
  const registries: ProcessRegistry[] = [];

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(async () => {
    for (const registry of registries) await registry.deregister();
    await test?.destroy();
  });

  function registry(options: { exclusive?: boolean; pidRunning?: (pid: number) => boolean } = {}) {
    const created = new ProcessRegistry({
      sql: test.database.sql,
      clock: () => now,
      logger,
      exclusive: options.exclusive ?? false,
      pidRunning: options.pidRunning ?? (() => true),
    });
    registries.push(created);
    return created;
  }

  async function registered(): Promise<string[]> {
    const rows = await test.database.sql.query<{ id: string }>(
      Prisma.sql`SELECT id::text AS id FROM arbion_processes ORDER BY id`,
    );
    return rows.map((row) => row.id).sort();
  }

  it('keeps a process that beats, forgets one that fell silent, and takes back one that beats again', async () => {
    const a = registry();
    const b = registry();
    await a.register();
    await b.register();
    expect([...(await a.live())].sort()).toEqual([a.id, b.id].sort());

    // b goes silent; a beats on. Just before the limit b is still alive.
    now = new Date(START.getTime() + STALE_AFTER_MS);
    await a.beat();
    expect(await a.live()).toContain(b.id);
    now = new Date(START.getTime() + STALE_AFTER_MS + 1);
    await a.beat();
    expect(await a.live()).toEqual([a.id]);
    expect(await registered()).toEqual([a.id]);

    // b was only paused: its next beat registers it again.
    await b.beat();
    expect([...(await a.live())].sort()).toEqual([a.id, b.id].sort());
    await b.deregister();
    expect(await registered()).toEqual([a.id]);
    await a.deregister();
  });

  it('forgets at once a process of this host whose pid is gone', async () => {
    now = START;
    const gone = registry();
    await gone.register();
    const survivor = registry({ pidRunning: (pid) => pid !== process.pid });
    await survivor.register();
    // Both rows carry this test's pid: to the survivor that pid is gone, so the other is dead,
    // with no wait for its heartbeat to go stale; itself it always counts as live.
    expect(await survivor.live()).toEqual([survivor.id]);
    expect(await registered()).toEqual([survivor.id]);
    await survivor.deregister();
  });

  it('on the embedded database (one process at a time), a process that registers is alone', async () => {
    now = START;
    const earlier = registry();
    await earlier.register();
    const alone = registry({ exclusive: true });
    await alone.register();
    expect(await registered()).toEqual([alone.id]);
    expect(await alone.live()).toEqual([alone.id]);
    await alone.deregister();
  });
});
