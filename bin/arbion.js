#!/usr/bin/env node
// Runs the compiled CLI. `npm run build` (run by `npm start`) produces dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('arbion is not built yet: run `npm run build` (npm start does it for you).\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv);
if (code !== 0) process.exitCode = code;
