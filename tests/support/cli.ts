/**
 * Runs the built `arbion` binary as a user would, with a clean environment: nothing from the
 * developer's shell leaks into the command.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/core/paths.js';

export const arbionBinary = path.join(projectRoot, 'bin', 'arbion.js');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** PATH and HOME, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...extra };
}

/** Runs `arbion <args>` to completion; `stdin` is written and closed (empty by default). */
export function runArbion(
  args: string[],
  options: { env?: Record<string, string>; cwd: string; stdin?: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [arbionBinary, ...args], {
      cwd: options.cwd,
      env: cleanEnv(options.env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** A running `arbion start`: its output so far, a way to wait for a line, and a clean stop. */
export interface RunningArbion {
  readonly stdin: NodeJS.WritableStream;
  stdout(): string;
  stderr(): string;
  /** Waits (up to 45 s) until `pattern` appears on stdout (or on either stream with `both`). */
  waitFor(pattern: RegExp, where?: 'stdout' | 'both'): Promise<void>;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** Sends `signal` (as a terminal's Ctrl-C or a supervisor would); does not wait. */
  signal(signal: NodeJS.Signals): void;
}

/** Starts `arbion start` (or another serving command) in `cwd` with a clean environment plus `env`. */
export function startArbion(
  cwd: string,
  env: Record<string, string>,
  command: 'start' | 'web' = 'start',
): RunningArbion {
  const child = spawn(process.execPath, [arbionBinary, command], { cwd, env: cleanEnv(env) });
  let stdout = '';
  let stderr = '';
  // Waiters are checked on every chunk: a line is seen the moment it arrives, as a supervisor
  // reading the output would see it.
  const waiters = new Set<() => void>();
  const arrived = () => {
    for (const check of waiters) check();
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    arrived();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    arrived();
  });
  let ended = false;
  // 'close': after the output is read to its end ('exit' may come before the last lines). A
  // process ended by a signal has no exit code: say which signal, for the failure message.
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => {
      if (signal) stderr += `\n[ended by ${signal}]\n`;
      ended = true;
      arrived();
      resolve(code);
    }),
  );
  return {
    stdin: child.stdin,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor(pattern, where = 'stdout') {
      return new Promise<void>((resolve, reject) => {
        const done = () => {
          waiters.delete(check);
          clearTimeout(timer);
        };
        const check = () => {
          if (pattern.test(where === 'both' ? stdout + stderr : stdout)) {
            done();
            resolve();
          } else if (ended) {
            done();
            reject(new Error(`ended before ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`never saw ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        }, 45_000);
        waiters.add(check);
        check();
      });
    },
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
    signal(signal) {
      child.kill(signal);
    },
  };
}
