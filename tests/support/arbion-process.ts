/**
 * One life of a real `arbion start` for fault tests: started with a clean environment, its JSON log
 * kept (and copied to DURABILITY_LOG_DIR when set), its listening URL read from the "Arbion is
 * running at" line, and ended either by SIGKILL (a crash) or SIGTERM (a clean stop).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { arbionBinary, cleanEnv } from './cli.js';

/** Where process logs are copied, when the developer asked to keep them. */
const logDirectory = process.env.DURABILITY_LOG_DIR;

/** What every fault test's `arbion start` runs with: no console, a free port, JSON logs. */
export const quietStartEnv = { ARBION_CONSOLE: 'off', PORT: '0', LOG_FORMAT: 'json' } as const;

export interface ArbionProcessOptions {
  /** A name for this life in logs and failure reports ("webhook-embedded life 3"). */
  readonly label: string;
  readonly cwd: string;
  /** Added to quietStartEnv (which it may override). */
  readonly env: Record<string, string>;
  /** How long `ready()` waits for the running line (default 60 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Runs the process as if on another machine: in a UTS namespace of its own with this hostname
   * (`unshare --uts`, root only; see `canRunAsOtherHost`). Arbion tells a dead process on its own
   * host by its pid; one on another host only by its missed heartbeats.
   */
  readonly hostname?: string;
}

/** Whether `hostname` can be used here (unshare --uts works: we are root, or user namespaces are on). */
export function canRunAsOtherHost(): boolean {
  const probe = spawnSync('unshare', ['--uts', 'true'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

export class ArbionProcess {
  readonly label: string;
  private readonly child: ChildProcess;
  private output = '';
  private readonly exited: Promise<number | null>;
  private readonly logFile: string | undefined;
  private url: string | undefined;
  /** When the process was spawned (ms, monotonic enough for durations). */
  readonly spawnedAt = Date.now();
  /** Milliseconds from spawn to the running line (after `ready()`). */
  readyMs: number | undefined;

  private constructor(private readonly options: ArbionProcessOptions) {
    this.label = options.label;
    this.logFile =
      logDirectory === undefined
        ? undefined
        : path.join(logDirectory, `${options.label.replace(/[^A-Za-z0-9_-]+/g, '-')}.log`);
    if (this.logFile !== undefined) mkdirSync(path.dirname(this.logFile), { recursive: true });
    const command: [string, string[]] =
      options.hostname === undefined
        ? [process.execPath, [arbionBinary, 'start']]
        : // sh sets the namespace's hostname, then execs node: the pid stays the one we signal.
          [
            'unshare',
            [
              '--uts',
              'sh',
              '-c',
              'hostname "$0" && exec "$@"',
              options.hostname,
              process.execPath,
              arbionBinary,
              'start',
            ],
          ];
    this.child = spawn(command[0], command[1], {
      cwd: options.cwd,
      env: cleanEnv({ ...quietStartEnv, ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output += text;
      if (this.logFile !== undefined) appendFileSync(this.logFile, text);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Spawns `arbion start`; `ready()` waits until it listens. */
  static spawn(options: ArbionProcessOptions): ArbionProcess {
    return new ArbionProcess(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Still running (not yet exited). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process printed so far (JSON lines). */
  log(): string {
    return this.output;
  }

  /** The log lines parsed, skipping anything that is not JSON. */
  entries(): Record<string, unknown>[] {
    return this.output.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Resolves with the base URL once "Arbion is running at http://..." is logged; throws on exit or timeout. */
  async ready(): Promise<string> {
    await this.waitForLog(/Arbion is running at (http:\/\/127\.0\.0\.1:\d+)/, this.options.readyTimeoutMs);
    const match = /Arbion is running at (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output);
    this.url = match?.[1];
    this.readyMs = Date.now() - this.spawnedAt;
    if (this.url === undefined) throw new Error(`${this.label}: no URL in the running line`);
    return this.url;
  }

  /** The base URL (after `ready()`). */
  get baseUrl(): string {
    if (this.url === undefined) throw new Error(`${this.label} is not ready`);
    return this.url;
  }

  /** Waits until `pattern` appears in the log; throws with the log tail on exit or after `timeoutMs`. */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.alive) throw new Error(`${this.label} exited before ${pattern}\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.label}: no ${pattern} in ${timeoutMs} ms\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGKILL: the process gets no chance to finish anything. Resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and the exit code; SIGKILL after `timeoutMs` (then the code is null). */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (!this.alive) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last `lines` lines of the log, for failure messages. */
  tail(lines = 40): string {
    return this.output.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Log lines at warn level or above (pino levels 40+), as compact text, for reports. */
  problems(): string[] {
    return this.entries()
      .filter((entry) => typeof entry.level === 'number' && entry.level >= 40)
      .map((entry) => JSON.stringify(entry).slice(0, 600));
  }
}
