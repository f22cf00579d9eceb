/**
 * `arbion parse` as users run it: the built binary, the real symbol directory, no database and no
 * configuration (a clean environment in an empty folder).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { commandSchema } from '../../src/core/conversation/commands.js';
import { projectRoot } from '../../src/core/paths.js';
import { type RunResult, runArbion } from '../support/cli.js';

const binary = path.join(projectRoot, 'bin', 'arbion.js');
const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-parse-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd };

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function run(args: string[], stdin?: string): Promise<RunResult> {
  return runArbion(args, { cwd, stdin });
}

describe('arbion parse', () => {
  it('prints one JSON command for an argument', async () => {
    const result = await run(['parse', 'buy 10 AAPL']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toStrictEqual({
      kind: 'order',
      side: 'buy',
      symbol: 'AAPL',
      assetClass: 'equity',
      quantity: '10',
      orderType: 'market',
      timeInForce: 'day',
    });
  });

  it('joins unquoted words into one message', async () => {
    const result = await run(['parse', 'sell', 'half', 'my', 'TSLA']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      kind: 'order',
      symbol: 'TSLA',
      fractionOfPosition: '0.5',
    });
  });

  it('reads one message per stdin line, skipping empty lines', async () => {
    const input = [
      'buy $500 of BTC',
      '',
      'how much is TSLA?',
      '   ',
      "don't buy AAPL",
      'cancel all orders',
    ].join('\n');
    const result = await run(['parse'], `${input}\n`);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toStrictEqual([
      {
        kind: 'order',
        side: 'buy',
        symbol: 'BTC',
        assetClass: 'crypto',
        notional: '500',
        orderType: 'market',
        timeInForce: 'gtc',
      },
      { kind: 'query', query: 'quote', symbol: 'TSLA' },
      { kind: 'unknown', reason: 'a negation, not an order' },
      { kind: 'action', action: 'cancel', target: 'all' },
    ]);
    for (const line of lines) expect(commandSchema.safeParse(line).success).toBe(true);
  });

  it('answers each line as it arrives instead of waiting for the end of input', async () => {
    const child = spawn(process.execPath, [binary, 'parse'], { cwd, env });
    const output = createInterface({ input: child.stdout });
    const received: unknown[] = [];
    const nextLine = (): Promise<unknown> =>
      new Promise((resolve) => output.once('line', (line) => resolve(JSON.parse(line) as unknown)));
    child.stdin.write('balance\n');
    received.push(await nextLine());
    child.stdin.write('positions\n');
    received.push(await nextLine());
    child.stdin.end();
    await new Promise((resolve) => child.on('close', resolve));
    expect(received).toStrictEqual([
      { kind: 'query', query: 'balance' },
      { kind: 'query', query: 'positions' },
    ]);
  });
});
