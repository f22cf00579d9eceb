#!/usr/bin/env node
/**
 * `npm start`: builds only when the build's inputs changed since the last successful build (or
 * there is none: a fresh clone builds), then runs `arbion start` in this same process, so signals
 * reach Arbion directly. `npm run build` always builds.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildDecision } from './build-freshness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const decision = buildDecision(root);
if (decision.build) {
  console.log(`Building Arbion first: ${decision.reason}.`);
  // Through the npm that runs us when there is one (npm_execpath), else the npm on the PATH.
  const npmCli = process.env.npm_execpath;
  const result = npmCli?.endsWith('.js')
    ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], {
        cwd: root,
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error('The build failed; Arbion was not started.');
    process.exit(result.status ?? 1);
  }
} else {
  console.log(`Starting the existing build: ${decision.reason} (\`npm run build\` rebuilds).`);
}

const arbion = path.join(root, 'bin', 'arbion.js');
// As if run as `arbion start <arguments given to npm start>`.
process.argv = [process.argv[0] ?? process.execPath, arbion, 'start', ...process.argv.slice(2)];
await import(pathToFileURL(arbion).href);
