#!/usr/bin/env node
/**
 * Whether `npm start` must build first. A build records what its inputs looked like when it began
 * (every source, the linking site, the Prisma schema, the TypeScript and npm settings: path, size
 * and modification time) and keeps that record only if it succeeds (`dist/.build-inputs.json`).
 * `npm start` builds when there is no such record, when an output is missing, or when any input
 * differs from it (changed, added or removed); otherwise it starts at once.
 *
 * The record is taken before the build runs, so a file saved while the build was running is seen
 * as changed next time. `npm run build` always builds (and writes the record).
 *
 *   node scripts/build-freshness.mjs begin   forget the last record, note the inputs now (build start)
 *   node scripts/build-freshness.mjs end     keep the noted inputs as the record (the build succeeded)
 *   node scripts/build-freshness.mjs check   say whether a build is needed (exit 0: no, 1: yes)
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the build reads, relative to the project root. */
export const BUILD_INPUTS = Object.freeze({
  directories: ['src', 'web-linking', 'bench'],
  files: [
    'prisma/schema.prisma',
    'tsconfig.json',
    'tsconfig.build.json',
    'package.json',
    'package-lock.json',
    'scripts/build-web.mjs',
    'scripts/prisma-generate.mjs',
  ],
  /** Written by the build itself (`npm run generate`), from the schema listed above. */
  skip: ['src/core/db/generated'],
});

/** What a finished build leaves; one missing means there is no usable build. */
export const BUILD_OUTPUTS = Object.freeze([
  'dist/src/cli/main.js',
  'dist/static/app.css',
  'dist/static/app.js',
]);

/** The record of the inputs of the last build that succeeded. */
export const RECORD_PATH = 'dist/.build-inputs.json';
/** The inputs of the build running now, kept as the record once it succeeds. */
const PENDING_PATH = 'dist/.build-inputs.pending.json';
const RECORD_VERSION = 1;

/**
 * Every input file under `root` as "relative/path" -> "size:mtimeMs". A listed file or folder that
 * does not exist is left out (its later appearance is a change).
 */
export function collectInputs(root, inputs = BUILD_INPUTS) {
  const skipped = new Set(inputs.skip.map((entry) => path.normalize(entry)));
  const files = {};
  const note = (relative, stats) => {
    files[relative.split(path.sep).join('/')] = `${stats.size}:${stats.mtimeMs}`;
  };
  const walk = (relative) => {
    if (skipped.has(path.normalize(relative))) return;
    let entries;
    try {
      entries = readdirSync(path.join(root, relative), { withFileTypes: true });
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) note(child, statSync(path.join(root, child)));
    }
  };
  for (const directory of inputs.directories) walk(directory);
  for (const file of inputs.files) {
    try {
      note(file, statSync(path.join(root, file)));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
  }
  return files;
}

/** Names a list of paths for a sentence: "src/a.ts", "src/a.ts and 2 more". */
function some(paths) {
  const [first] = paths;
  return paths.length === 1 ? first : `${first} and ${paths.length - 1} more`;
}

/**
 * The decision, from facts alone: `record` is the last successful build's inputs (undefined when
 * there is none), `current` the inputs now, `missingOutputs` the build outputs not found.
 * Returns whether to build and why (a sentence fragment for the user).
 */
export function decideBuild({ record, current, missingOutputs }) {
  if (missingOutputs.length > 0)
    return { build: true, reason: `there is no build yet (${some(missingOutputs)} missing)` };
  if (record === undefined) return { build: true, reason: 'no finished build is recorded' };
  const changed = Object.keys(current)
    .filter((file) => record[file] !== current[file])
    .sort();
  const removed = Object.keys(record)
    .filter((file) => !(file in current))
    .sort();
  if (changed.length > 0) return { build: true, reason: `${some(changed)} changed since the last build` };
  if (removed.length > 0) return { build: true, reason: `${some(removed)} was removed since the last build` };
  return { build: false, reason: 'nothing changed since the last build' };
}

/** The last successful build's inputs, or undefined (none, or unreadable: then build). */
export function readRecord(root) {
  try {
    const record = JSON.parse(readFileSync(path.join(root, RECORD_PATH), 'utf8'));
    if (record?.version !== RECORD_VERSION || typeof record.files !== 'object' || record.files === null)
      return undefined;
    return record.files;
  } catch {
    return undefined;
  }
}

/** Whether the project at `root` needs a build before it starts, and why. */
export function buildDecision(root) {
  return decideBuild({
    record: readRecord(root),
    current: collectInputs(root),
    missingOutputs: BUILD_OUTPUTS.filter((output) => !existsSync(path.join(root, output))),
  });
}

/** A build begins: the old record goes (a failed build must not look finished), the inputs are noted. */
export function beginBuild(root) {
  rmSync(path.join(root, RECORD_PATH), { force: true });
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  const pending = { version: RECORD_VERSION, files: collectInputs(root) };
  writeFileSync(path.join(root, PENDING_PATH), JSON.stringify(pending));
}

/** The build succeeded: what it began from becomes the record. */
export function endBuild(root) {
  const pending = path.join(root, PENDING_PATH);
  if (!existsSync(pending)) return false;
  renameSync(pending, path.join(root, RECORD_PATH));
  return true;
}

const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const command = process.argv[2];
  if (command === 'begin') beginBuild(root);
  else if (command === 'end') {
    if (!endBuild(root))
      console.warn('build-freshness: no build was begun; the next `npm start` builds again.');
  } else if (command === 'check') {
    const decision = buildDecision(root);
    console.log(
      decision.build ? `A build is needed: ${decision.reason}.` : `Up to date: ${decision.reason}.`,
    );
    process.exitCode = decision.build ? 1 : 0;
  } else {
    console.error('usage: node scripts/build-freshness.mjs begin|end|check');
    process.exitCode = 2;
  }
}
