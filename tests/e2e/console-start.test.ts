/**
 * `arbion start` with the console chat, as a person uses it: the built binary, lines on stdin,
 * answers on stdout, Ctrl-D (end of input) stops it. Crypto trades around the clock, so this does
 * not depend on when the test runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startArbion } from '../support/cli.js';

describe('arbion start with the console chat', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-console-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('buys crypto on the paper account through a confirmation and stops on end of input', async () => {
    const arbion = startArbion(cwd, { ARBION_CONSOLE: 'on', PORT: '0' });
    await arbion.waitFor(/console chat on your PAPER account/);
    arbion.stdin.write('buy 0.01 btc\n');
    await arbion.waitFor(/type \[confirm #1\] or \[cancel #1\]/);
    expect(arbion.stdout()).toContain('PAPER ─ Card #1 · Buy BTC?');
    arbion.stdin.write('confirm\n');
    await arbion.waitFor(/Filled \(PAPER\): bought 0\.01 BTC at \$[\d,]+\.\d\d\./);
    arbion.stdin.write('positions\n');
    await arbion.waitFor(/0\.01 BTC at \$[\d,]+\.\d\d avg/);
    arbion.stdin.end();
    expect(await arbion.exited).toBe(0);
    // Logs went to the data folder, not into the chat.
    expect(arbion.stderr()).toContain(`Logs: ${path.join(cwd, 'data', 'arbion.log')}`);
    expect(arbion.stdout()).not.toContain('"level"');
  });
});
