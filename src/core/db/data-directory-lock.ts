/**
 * PGlite is one process's database: two processes opening the same folder would corrupt it.
 * The lock file makes the second one stop with a clear message, and tells `arbion doctor` where the
 * running instance serves HTTP so it can ask that instance instead of opening the folder itself.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { DataDirectoryLockedError } from '../errors.js';

/** What the lock file says about its holder. */
export interface LockHolder {
  readonly pid: number;
  readonly startedAt: string;
  /** Base URL of the holder's web server, once it listens. */
  readonly url?: string;
}

/** Whether a process with this pid runs on this host (signal 0 touches nothing). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the lock; undefined when there is none or its holder is gone. */
export function readLock(lockPath: string): LockHolder | undefined {
  let holder: LockHolder;
  try {
    holder = JSON.parse(readFileSync(lockPath, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
  return typeof holder.pid === 'number' && isAlive(holder.pid) ? holder : undefined;
}

export class DataDirectoryLock {
  private holder: LockHolder;
  private released = false;

  private constructor(
    readonly lockPath: string,
    holder: LockHolder,
  ) {
    this.holder = holder;
  }

  /**
   * Takes the lock for `directory`, replacing a stale one left by a crashed process.
   * @throws DataDirectoryLockedError when a live process holds it
   */
  static acquire(directory: string): DataDirectoryLock {
    mkdirSync(directory, { recursive: true });
    const lockPath = `${directory}.lock`;
    const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx', 0o600);
        writeSync(fd, JSON.stringify(holder));
        closeSync(fd);
        return new DataDirectoryLock(lockPath, holder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const current = readLock(lockPath);
        if (current !== undefined) throw new DataDirectoryLockedError(directory, current.pid, current.url);
        rmSync(lockPath, { force: true });
      }
    }
    throw new DataDirectoryLockedError(directory, -1, undefined);
  }

  /** Records where this process serves HTTP, for `arbion doctor`. */
  advertise(url: string): void {
    if (this.released) return;
    this.holder = { ...this.holder, url };
    writeFileSync(this.lockPath, JSON.stringify(this.holder), { mode: 0o600 });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const current = readLock(this.lockPath);
    if (current?.pid === process.pid) rmSync(this.lockPath, { force: true });
  }
}
