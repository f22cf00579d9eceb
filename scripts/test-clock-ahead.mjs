#!/usr/bin/env node
/**
 * Runs every test file that pins a date (an ISO date literal or the harness's MARKET_OPEN) again
 * with the process clock moved a year ahead, through Debian's libfaketime. Arbion's decisions must
 * take their time from the injected clock, never the wall clock: a leak (`new Date()`, `Date.now()`
 * or SQL `now()` beside an injected time) makes one of these files fail here long before the
 * calendar catches up with a test's fixed dates.
 *
 * Only Node processes are shifted: the real services the tests start (redis-server) are spawned
 * without the shim (tests/support/private-redis.ts), and the shared PostgreSQL keeps real time.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const OFFSET_DAYS = 365;
const DATE_PINNED = /\b20\d\d-[01]\d-[0-3]\d\b|\bMARKET_OPEN\b/;

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function fail(message) {
  console.error(`test:clock-ahead: ${message}`);
  process.exit(1);
}

const faketime = process.env.FAKETIME_BIN ?? 'faketime';
const shift = [faketime, '-f', `+${OFFSET_DAYS}d`];
// Timers and timeouts keep real monotonic time; only the calendar moves.
const env = { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1' };

// The shim must really move Node's clock, or this run would prove nothing.
const probe = spawnSync(
  shift[0],
  [...shift.slice(1), process.execPath, '-e', 'process.stdout.write(String(Date.now()))'],
  {
    env,
    encoding: 'utf8',
  },
);
if (probe.error !== undefined || probe.status !== 0)
  fail(
    `'${faketime}' did not run (${probe.error?.message ?? probe.stderr.trim()}): apt-get install -y faketime (bash .ci/run does it)`,
  );
const movedDays = (Number(probe.stdout) - Date.now()) / 86_400_000;
if (!(movedDays > OFFSET_DAYS - 2 && movedDays < OFFSET_DAYS + 2))
  fail(`faketime moved the clock by ${movedDays.toFixed(1)} days, not ${OFFSET_DAYS}`);

const files = testFiles(join(root, 'tests'))
  .filter((path) => DATE_PINNED.test(readFileSync(path, 'utf8')))
  .map((path) => relative(root, path))
  .sort();
if (files.length === 0) fail('no test file pins a date; the pattern is out of date');
console.log(`test:clock-ahead: ${files.length} date-pinned test files, clock +${OFFSET_DAYS} days`);

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  shift[0],
  [
    ...shift.slice(1),
    process.execPath,
    vitest,
    'run',
    '--outputFile.json=test-results/vitest-clock-ahead.json',
    ...files,
  ],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(run.status ?? 1);
