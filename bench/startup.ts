/**
 * Start-up time and idle memory of the built product, `node bin/arbion.js start` as a service
 * (stdin from /dev/null, so no console; a free port; a clean environment plus its settings), on
 * both databases:
 * - server: a fresh throwaway database on the PostgreSQL server, migrated by `arbion migrate`;
 * - embedded: a fresh ARBION_DATA_DIR, migrated by `arbion migrate`.
 * Each is started once unmeasured (the vault key file is made, the files are in the page cache),
 * then BENCH_STARTUP_RUNS times (3) measured, the two kinds taking turns: every measured start is a
 * warm start of an up-to-date database.
 *
 * Ready: from spawn until GET /healthz answers 200 (asked again 20 ms after each other answer).
 * Idle RSS: VmRSS from /proc/<pid>/status, read every 10 s after ready; the reading at
 * BENCH_IDLE_SECONDS (30) is the idle RSS. Then SIGTERM, and the exit is awaited. MB are MiB.
 * Reported: each run, and the medians. About 4 minutes with the defaults.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchServerUrl, createServerDatabase } from './support.js';

export interface StartupRun {
  /** Spawn -> first 200 from /healthz, seconds. */
  readonly readySeconds: number;
  /** VmRSS in MiB at each 10 s after ready (10 s, 20 s, 30 s with the defaults). */
  readonly rssMb: readonly number[];
  /** The exit code after SIGTERM (0 for a clean stop). */
  readonly exitCode: number | null;
}

export interface StartupResult {
  readonly runs: readonly StartupRun[];
  readonly readySecondsMedian: number;
  /** Median of the runs' last reading (BENCH_IDLE_SECONDS after ready). */
  readonly idleRssMbMedian: number;
}

export interface StartupOptions {
  /** Measured starts per database (default 3). */
  readonly runs?: number;
  /** Seconds idle before the idle RSS reading (default 30). */
  readonly idleSeconds?: number;
  /** Admin URL of the PostgreSQL server (see `benchServerUrl`). */
  readonly serverUrl?: string;
}

const STOP_GRACE_MS = 30_000;
const READY_TIMEOUT_MS = 120_000;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A spawned `arbion` command: the child, its exit, and its last output lines for errors. */
interface Spawned {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly tail: () => string;
}

function spawnArbion(args: readonly string[], env: Record<string, string>, cwd: string): Spawned {
  const bin = path.resolve('bin/arbion.js');
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    // Nothing from the bench's environment (DATABASE_URL, REDIS_URL, ...) leaks into the product.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, exited, tail: () => lines.join('\n') };
}

async function migrate(env: Record<string, string>, cwd: string): Promise<void> {
  const run = spawnArbion(['migrate'], env, cwd);
  const code = await run.exited;
  if (code !== 0) throw new Error(`arbion migrate exited with ${code}:\n${run.tail()}`);
}

/** Until /healthz answers 200; fails if the process ends first. */
async function untilHealthy(url: string, run: Spawned): Promise<void> {
  let ended = false;
  void run.exited.then(() => {
    ended = true;
  });
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status;
      },
      () => 0, // not listening yet
    );
    if (status === 200) return;
    if (ended) throw new Error(`arbion start ended before it was ready:\n${run.tail()}`);
    if (performance.now() > deadline) throw new Error(`arbion start not ready in time:\n${run.tail()}`);
    await sleep(20);
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kilobytes === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kilobytes) / 1024;
}

async function stop(run: Spawned): Promise<number | null> {
  run.child.kill('SIGTERM');
  const outcome = await Promise.race([run.exited, sleep(STOP_GRACE_MS).then(() => 'late' as const)]);
  if (outcome !== 'late') return outcome;
  run.child.kill('SIGKILL');
  await run.exited;
  throw new Error(`arbion start did not stop within ${STOP_GRACE_MS / 1000} s of SIGTERM:\n${run.tail()}`);
}

/** One start: ready time, then (when `idleSeconds` > 0) RSS readings every 10 s, then a stop. */
async function startOnce(env: Record<string, string>, cwd: string, idleSeconds: number): Promise<StartupRun> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const run = spawnArbion(['start'], { ...env, HOST: '127.0.0.1', PORT: String(port) }, cwd);
  const pid = run.child.pid;
  try {
    if (pid === undefined) throw new Error('could not start arbion');
    await untilHealthy(url, run);
    const readyAt = performance.now();
    const rss: number[] = [];
    for (let at = 10; at <= idleSeconds; at += 10) {
      await sleep(Math.max(0, readyAt + at * 1000 - performance.now()));
      rss.push(rssMb(pid));
    }
    return { readySeconds: (readyAt - spawnedAt) / 1000, rssMb: rss, exitCode: await stop(run) };
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  }
}

function summarize(runs: readonly StartupRun[]): StartupResult {
  return {
    runs,
    readySecondsMedian: median(runs.map((run) => run.readySeconds)),
    idleRssMbMedian: median(runs.map((run) => run.rssMb.at(-1) ?? Number.NaN)),
  };
}

export async function runStartupBench(
  options: StartupOptions = {},
): Promise<{ server: StartupResult; embedded: StartupResult }> {
  const runs = options.runs ?? 3;
  const idleSeconds = options.idleSeconds ?? 30;
  const root = mkdtempSync(path.join(tmpdir(), 'arbion-bench-startup-'));
  const database = await createServerDatabase(benchServerUrl(options.serverUrl), 'arbion-bench-startup');
  try {
    const kinds = {
      server: { ARBION_DATA_DIR: path.join(root, 'server-data'), DATABASE_URL: database.url },
      embedded: { ARBION_DATA_DIR: path.join(root, 'embedded-data') },
    };
    const measured: Record<keyof typeof kinds, StartupRun[]> = { server: [], embedded: [] };
    for (const env of Object.values(kinds)) {
      await migrate(env, root);
      await startOnce(env, root, 0);
    }
    for (let run = 0; run < runs; run++) {
      for (const [kind, env] of Object.entries(kinds) as [keyof typeof kinds, Record<string, string>][]) {
        const result = await startOnce(env, root, idleSeconds);
        measured[kind].push(result);
        console.log(
          `  start ${run + 1}/${runs} (${kind}): ready in ${result.readySeconds.toFixed(2)} s, RSS ${result.rssMb.map((mb) => mb.toFixed(0)).join(' / ')} MB`,
        );
      }
    }
    return { server: summarize(measured.server), embedded: summarize(measured.embedded) };
  } finally {
    await database.drop();
    rmSync(root, { recursive: true, force: true });
  }
}
