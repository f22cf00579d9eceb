/**
 * Live checks of the services Arbion depends on. Each answers within a few seconds and never throws.
 */
import type { Database, PrismaClient } from '../db/database.js';
import type { BrokerProvider, ConnectionStatus, HealthStatus } from '../db/generated/enums.js';
import { Migrator } from '../db/migrations/migrator.js';

export interface CheckResult {
  readonly ok: boolean;
  /** One line for a person. */
  readonly detail: string;
}

export interface DatabaseHealth extends CheckResult {
  readonly kind: 'server' | 'embedded';
  readonly description: string;
  readonly pendingMigrations: readonly string[];
}

/**
 * Pings the database and reads its migration history.
 * @param openMigrator an engine the caller already has open (it stays open); else one is started
 */
export async function checkDatabase(database: Database, openMigrator?: Migrator): Promise<DatabaseHealth> {
  const base = { kind: database.kind, description: database.description };
  try {
    await database.ping();
  } catch (error) {
    return { ...base, ok: false, detail: (error as Error).message, pendingMigrations: [] };
  }
  let owned: Migrator | undefined;
  try {
    if (openMigrator === undefined) owned = await Migrator.open(database.adapterFactory);
    const migrator = openMigrator ?? owned;
    if (migrator === undefined) throw new Error('no schema engine');
    const status = await migrator.status();
    const problems = [
      status.failed.length > 0 ? `failed migrations: ${status.failed.join(', ')}` : '',
      status.unknown.length > 0 ? `unknown migrations in the database: ${status.unknown.join(', ')}` : '',
      status.edited.length > 0 ? `applied migrations edited since: ${status.edited.join(', ')}` : '',
    ].filter(Boolean);
    const applied = status.committed.length - status.pending.length;
    const detail =
      problems.length > 0
        ? problems.join('; ')
        : status.pending.length > 0
          ? `reachable; ${status.pending.length} migration(s) pending: ${status.pending.join(', ')}`
          : `reachable; migrations up to date (${applied} applied)`;
    return { ...base, ok: problems.length === 0, detail, pendingMigrations: status.pending };
  } catch (error) {
    return { ...base, ok: false, detail: (error as Error).message, pendingMigrations: [] };
  } finally {
    owned?.dispose();
  }
}

/** Connects to Redis, sends PING, disconnects. */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<CheckResult> {
  // Imported only when Redis is configured: a server without it never loads the client.
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const answer = await client.ping();
    return {
      ok: answer === 'PONG',
      detail: answer === 'PONG' ? 'reachable (PING answered)' : `unexpected answer ${answer}`,
    };
  } catch (error) {
    return { ok: false, detail: `not reachable: ${(error as Error).message}` };
  } finally {
    client.disconnect();
  }
}

/** The linked brokers' connections by broker, status and health (no user is named). */
export interface BrokerConnectionHealth {
  readonly provider: BrokerProvider;
  readonly status: ConnectionStatus;
  readonly health: HealthStatus;
  readonly connections: number;
  /** The latest health observation among them. */
  readonly lastCheckedAt: string | undefined;
}

/**
 * Linked brokers as the background work and the linking page last saw them. A broker that is
 * down is reported, not counted as our own ill health: users are told in chat when it matters.
 */
export async function summarizeBrokerConnections(prisma: PrismaClient): Promise<BrokerConnectionHealth[]> {
  const groups = await prisma.brokerConnection.groupBy({
    by: ['provider', 'status', 'healthStatus'],
    where: { provider: { not: 'paper' }, status: { not: 'revoked' } },
    _count: { _all: true },
    _max: { lastHealthCheckAt: true },
    orderBy: [{ provider: 'asc' }, { status: 'asc' }, { healthStatus: 'asc' }],
  });
  return groups.map((group) => ({
    provider: group.provider,
    status: group.status,
    health: group.healthStatus,
    connections: group._count._all,
    lastCheckedAt: group._max.lastHealthCheckAt?.toISOString(),
  }));
}
