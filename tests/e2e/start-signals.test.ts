/**
 * Stopping `arbion start` as people and supervisors do: the built binary, a real process, real
 * signals. Ctrl-C stops it cleanly (work drained, jobs stopped, server and database closed, the
 * data directory's lock released) with exit code 0, also when the one Ctrl-C arrives twice (the
 * terminal and npm both send it); the same data directory then starts again at once.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startArbion } from '../support/cli.js';

const BANNER = /console chat on your PAPER account/;

describe('arbion start on SIGINT and SIGTERM', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-signals-'));
  const lock = path.join(cwd, 'data', 'postgres.lock');
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('Ctrl-C in the console stops cleanly with exit 0 and no lock left; the same data starts again', async () => {
    const first = startArbion(cwd, { ARBION_CONSOLE: 'on', PORT: '0' });
    await first.waitFor(BANNER);
    expect(existsSync(lock)).toBe(true);
    // One Ctrl-C under `npm start`: the terminal's SIGINT and npm's forwarded copy.
    first.signal('SIGINT');
    first.signal('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('Stopping Arbion (press Ctrl-C again to exit at once)...');
    expect(first.stdout().trimEnd().endsWith('Arbion stopped.')).toBe(true);
    expect(existsSync(lock)).toBe(false);
    const log = readFileSync(path.join(cwd, 'data', 'arbion.log'), 'utf8');
    expect(log).toContain('"msg":"shutting down"');
    expect(log).toContain('"msg":"stopped"');
    expect(log).not.toContain('second signal');

    // The data directory is free: a second start opens it and answers.
    const second = startArbion(cwd, { ARBION_CONSOLE: 'on', PORT: '0' });
    await second.waitFor(BANNER);
    second.stdin.write('positions\n');
    await second.waitFor(/No open positions/);
    second.signal('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.stdout().trimEnd().endsWith('Arbion stopped.')).toBe(true);
    expect(existsSync(lock)).toBe(false);
    // Two starts of a whole product: generous on a busy machine.
  }, 180_000);

  it('without the console (a service), SIGTERM logs the shutdown on stdout and exits 0', async () => {
    const service = startArbion(cwd, { ARBION_CONSOLE: 'off', PORT: '0', LOG_FORMAT: 'json' });
    await service.waitFor(/Arbion is running at/);
    service.signal('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(service.stdout()).toMatch(/"signal":"SIGTERM","msg":"shutting down"/);
    expect(service.stdout()).toContain('"msg":"stopped"');
    expect(existsSync(lock)).toBe(false);
  }, 120_000);
});
