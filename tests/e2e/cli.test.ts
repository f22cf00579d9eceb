/**
 * The `arbion` command as a user runs it: the built binary, real processes, a temporary data
 * directory and, for the server case, a fresh database on the PostgreSQL server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/core/paths.js';
import { arbionBinary, cleanEnv, type RunResult, runArbion } from '../support/cli.js';
import { createDatabase, dropDatabase, uniqueDatabaseName } from '../support/postgres-server.js';

const binary = arbionBinary;

function run(args: string[], env: Record<string, string>, cwd: string): Promise<RunResult> {
  return runArbion(args, { env, cwd });
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

/** Starts `arbion start` and resolves once it says where it listens. */
function start(env: Record<string, string>, cwd: string): Promise<Started> {
  const child = spawn(process.execPath, [binary, 'start'], {
    cwd,
    env: cleanEnv({ PORT: '0', LOG_FORMAT: 'json', ...env }),
  });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start did not report readiness:\n${stderr}`)), 50_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      if (typeof line.msg === 'string' && line.msg.startsWith('Arbion is running at')) {
        clearTimeout(timer);
        resolve({ child, url: String(line.url), lines, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(`start exited with ${code} before it was ready:\n${stderr}\n${JSON.stringify(lines)}`),
      );
    });
  });
}

describe('arbion on the embedded defaults', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-cli-'));
  let running: Started;

  beforeAll(async () => {
    running = await start({}, cwd);
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  it('creates the embedded database in ./data and applies the migrations', () => {
    const migrated = running.lines.find((line) => line.msg === 'migrations applied');
    expect(migrated?.database).toBe(`embedded PostgreSQL in ${path.join(cwd, 'data', 'postgres')}`);
    expect(migrated?.applied).toEqual(expect.arrayContaining([expect.stringMatching(/^\d{14}_init$/)]));
    expect(existsSync(path.join(cwd, 'data', 'postgres', 'PG_VERSION'))).toBe(true);
  });

  it('serves /healthz with the database state', async () => {
    const response = await fetch(`${running.url}/healthz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      database: { kind: string; pendingMigrations: string[] };
    };
    expect(body.status).toBe('ok');
    expect(body.database.kind).toBe('embedded');
    expect(body.database.pendingMigrations).toEqual([]);
  });

  it('doctor reports a healthy embedded setup by asking the running instance', async () => {
    const result = await run(['doctor'], {}, cwd);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Healthy (embedded setup).');
    expect(result.stdout).toContain('migrations up to date');
    expect(result.stdout).toContain(`asked the running Arbion, pid ${running.child.pid}`);
    expect(result.stdout).toMatch(/✓ paper\s+always available/);
  });

  it('doctor --json prints one JSON report', async () => {
    const result = await run(['doctor', '--json'], {}, cwd);
    const report = JSON.parse(result.stdout) as {
      healthy: boolean;
      setup: string;
      database: { source: string };
    };
    expect(report).toMatchObject({
      healthy: true,
      setup: 'embedded',
      database: { source: 'running instance' },
    });
  });

  it('a second process on the same data directory is refused with a clear message', async () => {
    const result = await run(['migrate'], {}, cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`in use by another Arbion process (pid ${running.child.pid}`);
  });

  it('stops cleanly on SIGTERM and releases the data directory', async () => {
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(existsSync(path.join(cwd, 'data', 'postgres.lock'))).toBe(false);
    const status = await run(['migrate', 'status'], {}, cwd);
    expect(status.stdout).toContain('Pending: none');
    expect(status.stdout).toContain('Schema: matches prisma/schema.prisma');
    expect(status.code).toBe(0);
  });
});

describe('arbion with a broken configuration', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-cli-bad-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it.each(['start', 'doctor', 'migrate'])(
    '%s prints every problem at once and exits 78 without touching anything',
    async (command) => {
      writeFileSync(
        path.join(cwd, '.env'),
        [
          'PORT=http',
          'REDIS_URL=localhost',
          'SLACK_BOT_TOKEN=xoxb-123',
          'OPENAI_API_KEY=sk-should-never-be-printed-1234',
        ].join('\n'),
      );
      const result = await run([command], { CONFIRMATION_TTL_SECONDS: '1' }, cwd);
      expect(result.code).toBe(78);
      expect(result.stderr).toContain('Invalid configuration (4 problems)');
      for (const name of ['PORT', 'REDIS_URL', 'SLACK_SIGNING_SECRET', 'CONFIRMATION_TTL_SECONDS']) {
        expect(result.stderr).toContain(`  - ${name}:`);
      }
      expect(result.stderr + result.stdout).not.toContain('sk-should-never-be-printed');
      expect(existsSync(path.join(cwd, 'data'))).toBe(false);
    },
  );
});

describe('arbion on a PostgreSQL server', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-cli-server-'));
  const name = uniqueDatabaseName('arbion_cli');
  let url: string;

  beforeAll(async () => {
    url = await createDatabase(name);
  });
  afterAll(async () => {
    await dropDatabase(name);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('start refuses an outdated schema, migrate fixes it, then start and doctor are healthy', async () => {
    const refused = await run(['start'], { DATABASE_URL: url, PORT: '0', LOG_FORMAT: 'json' }, cwd);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('run `arbion migrate` first');

    const unhealthy = await run(['doctor'], { DATABASE_URL: url }, cwd);
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stdout).toMatch(/✗ database\s+PostgreSQL server/);

    const migrated = await run(['migrate'], { DATABASE_URL: url }, cwd);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/Applied \d+ migration\(s\)/);

    const running = await start({ DATABASE_URL: url }, cwd);
    try {
      const doctor = await run(['doctor'], { DATABASE_URL: url, REDIS_URL: 'redis://127.0.0.1:6379' }, cwd);
      expect(doctor.stdout).toMatch(/✓ redis\s+reachable/);
      expect(doctor.stdout).toContain('Healthy (server setup).');
      expect(doctor.code).toBe(0);
    } finally {
      running.child.kill('SIGINT');
      expect(await running.exited).toBe(0);
    }
    // A server database keeps no data here; only the development vault key file is generated.
    expect(readdirSync(path.join(cwd, 'data'))).toEqual(['vault.key']);
    expect(statSync(path.join(cwd, 'data', 'vault.key')).mode & 0o777).toBe(0o600);
  });

  it('doctor says so when Redis is configured but down', async () => {
    const result = await run(['doctor'], { DATABASE_URL: url, REDIS_URL: 'redis://127.0.0.1:1' }, cwd);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ redis\s+not reachable/);
  });

  it('never prints the database password', async () => {
    const withPassword = new URL(url);
    withPassword.password = 'pw-that-must-stay-hidden';
    const result = await run(['doctor'], { DATABASE_URL: withPassword.toString() }, cwd);
    expect(result.stdout + result.stderr).not.toContain('pw-that-must-stay-hidden');
    expect(result.stdout).toContain(':***@');
  });
});

describe('bin/arbion.js', () => {
  it('prints help listing the subcommands', async () => {
    const result = await run(['--help'], {}, projectRoot);
    expect(result.code).toBe(0);
    for (const command of ['start', 'migrate', 'doctor']) expect(result.stdout).toContain(command);
    expect(readFileSync(binary, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });
});
