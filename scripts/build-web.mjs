#!/usr/bin/env node
/**
 * Builds the linking site's static files into dist/static/: the Tailwind stylesheet (compiled
 * offline from the npm package, no CDN) and the small vanilla script, copied as is.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDirectory = path.join(root, 'dist', 'static');
mkdirSync(outDirectory, { recursive: true });

const tailwind = path.join(
  root,
  'node_modules',
  '.bin',
  process.platform === 'win32' ? 'tailwindcss.cmd' : 'tailwindcss',
);
const result = spawnSync(
  tailwind,
  [
    '-c',
    path.join(root, 'web-linking', 'tailwind.config.cjs'),
    '-i',
    path.join(root, 'web-linking', 'styles', 'app.css'),
    '-o',
    path.join(outDirectory, 'app.css'),
    '--minify',
  ],
  { stdio: 'inherit', cwd: root },
);
if (result.error) throw result.error;
if (result.status !== 0) {
  console.error(`tailwindcss failed with exit code ${result.status}`);
  process.exit(result.status ?? 1);
}

copyFileSync(path.join(root, 'web-linking', 'static', 'app.js'), path.join(outDirectory, 'app.js'));
console.log(`Built ${path.relative(root, outDirectory)}/app.css and app.js`);
