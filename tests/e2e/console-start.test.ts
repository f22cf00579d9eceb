/**
 * `arbion start` with the console chat, as a person uses it: the built binary, lines on stdin,
 * answers on stdout, Ctrl-D (end of input) stops it. Crypto trades around the clock, so this does
 * not depend on when the test runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arbionBinary } from '../support/cli.js';

describe('arbion start with the console chat', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-console-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('buys crypto on the paper account through a confirmation and stops on end of input', async () => {
    const child = spawn(process.execPath, [arbionBinary, 'start'], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        ARBION_CONSOLE: 'on',
        PORT: '0',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const waitFor = async (pattern: RegExp) => {
      const deadline = Date.now() + 45_000;
      while (!pattern.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`never saw ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    await waitFor(/console chat on your PAPER account/);
    child.stdin.write('buy 0.01 btc\n');
    await waitFor(/type \[confirm\] or \[cancel\]/);
    expect(stdout).toContain('PAPER ─ Buy BTC?');
    child.stdin.write('confirm\n');
    await waitFor(/Filled \(PAPER\): bought 0\.01 BTC at \$[\d,]+\.\d\d\./);
    child.stdin.write('positions\n');
    await waitFor(/0\.01 BTC at \$[\d,]+\.\d\d avg/);
    child.stdin.end();
    expect(await exited).toBe(0);
    // Logs went to the data folder, not into the chat.
    expect(stderr).toContain(`Logs: ${path.join(cwd, 'data', 'arbion.log')}`);
    expect(stdout).not.toContain('"level"');
  });
});
