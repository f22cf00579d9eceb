/**
 * The Arbion processes working on one database, each registered for as long as it beats. Work in
 * flight is marked with the id of the process doing it (an inbox row's `handlerId`, an intent's
 * `heldBy`); work whose process is no longer registered is nobody's, and any process takes it
 * over at once. A process is found dead when it has not beaten for `STALE_AFTER_MS`, or at once
 * when it ran on this host and its pid is gone (a SIGKILL and a restart on the same machine), or
 * when the database is the embedded one (one process at a time: whoever opened it last is alone).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isAlive } from '../db/data-directory-lock.js';
import { Prisma, type SqlExecutor } from '../db/database.js';
import type { Logger } from '../logging/logger.js';

/** How often a process beats. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A process silent this long is dead (three beats missed). */
export const STALE_AFTER_MS = 15_000;

export interface ProcessRegistryOptions {
  readonly sql: SqlExecutor;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** Only one process can use the database at a time (embedded): every other row is a dead one. */
  readonly exclusive: boolean;
  /** Whether a pid runs on this host (tests replace it); default: signal 0. */
  readonly pidRunning?: (pid: number) => boolean;
}

export class ProcessRegistry {
  /** This process's id: what its work in flight is marked with. */
  readonly id = randomUUID();
  private readonly host = hostname();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProcessRegistryOptions) {}

  /** Registers this process (and, on the embedded database, forgets every other), then beats. */
  async register(): Promise<void> {
    const now = this.options.clock();
    if (this.options.exclusive)
      await this.options.sql.execute(Prisma.sql`DELETE FROM arbion_processes WHERE id <> ${this.id}::uuid`);
    await this.insert(now);
    this.timer = setInterval(() => {
      this.beat().catch((error: unknown) =>
        // A database outage: the beat after it catches up (the process is stale only after 15 s).
        this.options.logger.warn({ err: error, processId: this.id }, 'could not record a heartbeat'),
      );
    }, HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** One beat. A process declared dead meanwhile (paused, cut off) registers again, and says so. */
  async beat(): Promise<void> {
    const now = this.options.clock();
    const beaten = await this.options.sql.query<{ id: string }>(Prisma.sql`
      UPDATE arbion_processes SET "heartbeatAt" = ${now}::timestamp(3) WHERE id = ${this.id}::uuid
      RETURNING id::text AS id`);
    if (beaten.length > 0) return;
    this.options.logger.warn(
      { processId: this.id },
      'this process was taken for dead (no heartbeat for too long); its work in flight may have been taken over',
    );
    await this.insert(now);
  }

  /** Stops beating and deregisters: what is left unfinished is taken over by the others at once. */
  async deregister(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.options.sql.execute(Prisma.sql`DELETE FROM arbion_processes WHERE id = ${this.id}::uuid`);
  }

  /**
   * Forgets the dead processes and returns the ids of the live ones, this one always among them:
   * work marked with any other id (or none) is to be taken over.
   */
  async live(): Promise<readonly string[]> {
    const now = this.options.clock();
    const staleBefore = new Date(now.getTime() - STALE_AFTER_MS);
    const rows = await this.options.sql.query<{ id: string; host: string; pid: number; stale: boolean }>(
      Prisma.sql`
        SELECT id::text AS id, host, pid, "heartbeatAt" < ${staleBefore}::timestamp(3) AS stale
        FROM arbion_processes`,
    );
    const pidRunning = this.options.pidRunning ?? isAlive;
    const others = rows.filter((row) => row.id !== this.id);
    // Gone for sure: nothing can bring them back. Stale ones are deleted only while still stale
    // (a paused process that beats again in between stays).
    const gone = others.filter(
      (row) => this.options.exclusive || (row.host === this.host && !pidRunning(row.pid)),
    );
    const stale = others.filter((row) => row.stale && !gone.includes(row));
    if (gone.length + stale.length > 0) {
      await this.options.sql.execute(Prisma.sql`
        DELETE FROM arbion_processes
        WHERE id = ANY(${gone.map((row) => row.id)}::uuid[])
          OR (id = ANY(${stale.map((row) => row.id)}::uuid[]) AND "heartbeatAt" < ${staleBefore}::timestamp(3))`);
      this.options.logger.info(
        { processIds: [...gone, ...stale].map((row) => row.id) },
        'processes found dead; their unfinished work is taken over',
      );
    }
    const alive = others.filter((row) => !gone.includes(row) && !stale.includes(row));
    return [this.id, ...alive.map((row) => row.id)];
  }

  private async insert(now: Date): Promise<void> {
    await this.options.sql.execute(Prisma.sql`
      INSERT INTO arbion_processes (id, host, pid, "startedAt", "heartbeatAt")
      VALUES (${this.id}::uuid, ${this.host}, ${process.pid}, ${now}::timestamp(3), ${now}::timestamp(3))
      ON CONFLICT (id) DO UPDATE SET "heartbeatAt" = EXCLUDED."heartbeatAt"`);
  }
}
