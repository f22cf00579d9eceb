/**
 * A PostgreSQL cluster of a test's own, in a temporary directory on a free port of 127.0.0.1 with
 * trust authentication, that the test may stop and start at will (the machine's shared server is
 * never touched). PostgreSQL refuses to run as root: when the tests run as root, every server
 * command runs as the `postgres` user (runuser), in a directory that user owns.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './private-redis.js';
import { serviceEnv } from './service-env.js';

const run = promisify(execFile);

/** The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin), or PATH. */
function serverBinDirectory(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((entry) => existsSync(path.join(root, entry, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : path.join(root, majors[0], 'bin');
}

export class ThrowawayPostgres {
  private constructor(
    private readonly root: string,
    readonly port: number,
    private readonly bin: string | undefined,
    private readonly asUser: string | undefined,
  ) {}

  /** Creates (initdb) and starts a cluster; `url(database)` connects to it as `postgres`. */
  static async create(): Promise<ThrowawayPostgres> {
    const root = mkdtempSync(path.join(tmpdir(), 'arbion-pg-'));
    const asRoot = userInfo().uid === 0;
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(root, Number(stdout.trim()), Number(gid.trim()));
    }
    const cluster = new ThrowawayPostgres(
      root,
      await freePort(),
      serverBinDirectory(),
      asRoot ? 'postgres' : undefined,
    );
    await cluster.command('initdb', [
      '-D',
      cluster.dataDirectory,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await cluster.start();
    return cluster;
  }

  private get dataDirectory(): string {
    return path.join(this.root, 'data');
  }

  /** A connection string for `database` on this cluster. */
  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    await this.command('pg_ctl', [
      '-D',
      this.dataDirectory,
      '-l',
      path.join(this.root, 'server.log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.root} -c fsync=off -c max_connections=200`,
      'start',
    ]);
  }

  /** Stops the server: `fast` ends sessions cleanly, `immediate` is a crash (recovery on the next start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.command('pg_ctl', ['-D', this.dataDirectory, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  /** Creates a database on the running cluster, optionally as a copy of `template`. */
  async createDatabase(name: string, template?: string): Promise<string> {
    const sql = `CREATE DATABASE "${name}"${template === undefined ? '' : ` TEMPLATE "${template}"`}`;
    await this.command('psql', ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-c', sql]);
    return this.url(name);
  }

  /** Stops the server (if running) and removes every file. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Runs a server program, as the `postgres` user when we are root. */
  private async command(program: string, args: string[]): Promise<void> {
    const executable =
      this.bin !== undefined && existsSync(path.join(this.bin, program))
        ? path.join(this.bin, program)
        : program;
    const [file, argv] =
      this.asUser === undefined
        ? [executable, args]
        : ['runuser', ['-u', this.asUser, '--', executable, ...args]];
    try {
      await run(file, argv, { env: serviceEnv(), cwd: this.root, timeout: 60_000 });
    } catch (error) {
      const failure = error as Error & { stderr?: string; stdout?: string };
      throw new Error(
        `${program} ${args.join(' ')} failed: ${failure.stderr ?? ''}${failure.stdout ?? ''}${failure.message}`,
      );
    }
  }
}
