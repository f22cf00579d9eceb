/**
 * `arbion doctor`: the effective configuration with secrets hidden, live checks of the database and
 * Redis, and what each channel, broker and the LLM still need. Exit 0 when healthy.
 *
 * The embedded database belongs to one process at a time: when a running Arbion holds it, doctor
 * asks that instance's /healthz instead of opening the folder.
 */
import { existsSync } from 'node:fs';
import type { HealthReport } from '../../../web-linking/routes/health.js';
import type { Config } from '../../core/config/config.js';
import { describeConfiguration } from '../../core/config/describe.js';
import { readLock } from '../../core/db/data-directory-lock.js';
import { openDatabase } from '../../core/db/database.js';
import { ArbionError } from '../../core/errors.js';
import {
  type BrokerConnectionHealth,
  type CheckResult,
  checkDatabase,
  checkRedis,
  type DatabaseHealth,
  summarizeBrokerConnections,
} from '../../core/health/checks.js';
import { type Readiness, readiness } from '../../core/health/readiness.js';
import { productVersion } from '../../core/paths.js';
import { CommandExit, EXIT_UNHEALTHY, type GlobalOptions, loadContext } from '../context.js';

export interface DoctorReport {
  readonly version: string;
  readonly healthy: boolean;
  readonly setup: 'embedded' | 'server';
  readonly configuration: ReturnType<typeof describeConfiguration>;
  readonly warnings: readonly string[];
  readonly database: CheckResult & {
    readonly description: string;
    readonly source: 'direct' | 'running instance' | 'not created';
  };
  readonly redis: CheckResult & { readonly configured: boolean };
  readonly readiness: readonly Readiness[];
  /** Linked brokers' health as last seen; undefined when the database could not be read. */
  readonly brokerConnections: readonly BrokerConnectionHealth[] | undefined;
}

type DatabaseCheck = DoctorReport['database'] & {
  readonly brokers?: readonly BrokerConnectionHealth[];
};

async function databaseCheck(config: Config): Promise<DatabaseCheck> {
  if (config.database.kind === 'embedded') {
    const directory = config.database.directory;
    const holder = readLock(`${directory}.lock`);
    if (holder !== undefined) {
      const description = `embedded PostgreSQL in ${directory}`;
      if (holder.url === undefined) {
        return {
          ok: false,
          source: 'running instance',
          description,
          detail: `in use by Arbion pid ${holder.pid}, still starting`,
        };
      }
      try {
        const response = await fetch(`${holder.url}/healthz`, { signal: AbortSignal.timeout(5000) });
        const report = (await response.json()) as HealthReport;
        return {
          ok: report.database.ok,
          source: 'running instance',
          description,
          detail: `${report.database.detail} (asked the running Arbion, pid ${holder.pid}, at ${holder.url})`,
          ...(report.brokers && { brokers: report.brokers }),
        };
      } catch (error) {
        return {
          ok: false,
          source: 'running instance',
          description,
          detail: `in use by Arbion pid ${holder.pid}, which does not answer at ${holder.url}/healthz: ${(error as Error).message}`,
        };
      }
    }
    if (!existsSync(directory)) {
      return {
        ok: true,
        source: 'not created',
        description: `embedded PostgreSQL in ${directory}`,
        detail: 'not created yet: `arbion start` creates it and applies the migrations',
      };
    }
  }

  let health: DatabaseHealth;
  let brokers: BrokerConnectionHealth[] | undefined;
  try {
    const database = await openDatabase(config.database);
    try {
      health = await checkDatabase(database);
      // A schema not migrated yet has no connections table to read.
      if (health.ok && health.pendingMigrations.length === 0)
        brokers = await summarizeBrokerConnections(database.prisma).catch(() => undefined);
    } finally {
      await database.close();
    }
  } catch (error) {
    const description =
      config.database.kind === 'embedded'
        ? `embedded PostgreSQL in ${config.database.directory}`
        : 'PostgreSQL server';
    return {
      ok: false,
      source: 'direct',
      description,
      detail: error instanceof ArbionError ? error.message : String(error),
    };
  }
  // Embedded: `arbion start` applies pending migrations itself, so pending is fine there.
  const ok = health.ok && (config.database.kind === 'embedded' || health.pendingMigrations.length === 0);
  const detail =
    config.database.kind === 'server' && health.pendingMigrations.length > 0
      ? `${health.detail}; run \`arbion migrate\``
      : health.detail;
  return { ok, source: 'direct', description: health.description, detail, ...(brokers && { brokers }) };
}

export async function buildDoctorReport(config: Config): Promise<DoctorReport> {
  const [database, redis] = await Promise.all([
    databaseCheck(config),
    config.redis
      ? checkRedis(config.redis.url).then((result) => ({ ...result, configured: true }))
      : Promise.resolve({
          ok: true,
          configured: false,
          detail: 'not configured: background jobs run in-process (set REDIS_URL to scale out)',
        }),
  ]);
  const { brokers, ...databaseResult } = database;
  return {
    version: productVersion,
    healthy: database.ok && redis.ok,
    setup: config.database.kind,
    configuration: describeConfiguration(config),
    warnings: config.warnings,
    database: databaseResult,
    redis,
    readiness: readiness(config),
    brokerConnections: brokers,
  };
}

function formatReport(report: DoctorReport): string {
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  const lines = [`Arbion ${report.version} doctor`, '', 'Configuration (secrets hidden):'];
  let group = '';
  for (const row of report.configuration) {
    if (row.group !== group) {
      group = row.group;
      lines.push(`  [${group}]`);
    }
    lines.push(`    ${row.name.padEnd(30)} ${row.shown}${row.isDefault ? '  (default)' : ''}`);
  }
  if (report.warnings.length > 0) {
    lines.push('', 'Warnings:', ...report.warnings.map((warning) => `  ! ${warning}`));
  }
  lines.push(
    '',
    'Checks:',
    `  ${mark(report.database.ok)} database   ${report.database.description}: ${report.database.detail}`,
    `  ${mark(report.redis.ok)} redis      ${report.redis.detail}`,
  );
  for (const kind of ['channel', 'broker', 'llm'] as const) {
    lines.push('', `${kind === 'llm' ? 'Language model' : `${kind[0]?.toUpperCase()}${kind.slice(1)}s`}:`);
    for (const item of report.readiness.filter((entry) => entry.kind === kind)) {
      lines.push(`  ${item.configured ? '✓' : '-'} ${item.name.padEnd(11)}${item.note}`);
    }
  }
  lines.push('', 'Linked broker connections (health as last seen):');
  if (report.brokerConnections === undefined) lines.push('  - not read (the database could not be read)');
  else if (report.brokerConnections.length === 0) lines.push('  - none linked yet');
  for (const group of report.brokerConnections ?? []) {
    const sign = group.status === 'active' && group.health === 'healthy' ? '✓' : '!';
    const seen = group.lastCheckedAt === undefined ? 'never checked' : `last checked ${group.lastCheckedAt}`;
    lines.push(
      `  ${sign} ${group.provider.padEnd(11)}${group.connections} ${group.status.replace('_', ' ')}, ${group.health} (${seen})`,
    );
  }
  lines.push(
    '',
    report.healthy ? `Healthy (${report.setup} setup).` : `Not healthy (${report.setup} setup): see ✗ above.`,
  );
  return `${lines.join('\n')}\n`;
}

export async function doctorCommand(options: GlobalOptions, flags: { json?: boolean }): Promise<void> {
  const { config } = loadContext(options, { logTo: 'stderr', reportWarnings: false });
  const report = await buildDoctorReport(config);
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  if (!report.healthy) throw new CommandExit(EXIT_UNHEALTHY);
}
