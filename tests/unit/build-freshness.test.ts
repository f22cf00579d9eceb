/**
 * `npm start` builds only when needed (scripts/build-freshness.mjs): decided from the inputs'
 * sizes and modification times against the record of the last successful build. Temporary
 * project folders with modification times set by the test; no timing.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILD_OUTPUTS,
  beginBuild,
  buildDecision,
  collectInputs,
  decideBuild,
  endBuild,
  readRecord,
} from '../../scripts/build-freshness.mjs';

const T0 = new Date('2030-01-01T00:00:00Z');
const T1 = new Date('2030-01-02T00:00:00Z');

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** Writes `text` at `relative` under `root`, modified at `at`. */
function put(root: string, relative: string, text: string, at: Date = T0): void {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  utimesSync(file, at, at);
}

/** A small project: some sources, the schema, the settings; with a build's outputs when `built`. */
function project(built = true): string {
  const root = mkdtempSync(path.join(tmpdir(), 'arbion-build-freshness-'));
  roots.push(root);
  put(root, 'src/cli/main.ts', 'export {};');
  put(root, 'src/core/values.ts', 'export const x = 1;');
  put(root, 'src/core/db/generated/client.ts', '// generated');
  put(root, 'web-linking/styles/app.css', 'body {}');
  put(root, 'prisma/schema.prisma', 'model A { id Int @id }');
  put(root, 'tsconfig.json', '{}');
  put(root, 'package.json', '{}');
  put(root, 'package-lock.json', '{}');
  put(root, 'README.md', 'not an input');
  if (built) for (const output of BUILD_OUTPUTS) put(root, output, '// built');
  return root;
}

/** A build from begin to end, as `npm run build` runs it. */
function build(root: string): void {
  beginBuild(root);
  expect(endBuild(root)).toBe(true);
}

describe('the build decision', () => {
  const files = { 'src/a.ts': '10:1000', 'src/b.ts': '20:2000' };

  it('builds when an output is missing, whatever the record says', () => {
    expect(decideBuild({ record: files, current: files, missingOutputs: ['dist/src/cli/main.js'] })).toEqual({
      build: true,
      reason: 'there is no build yet (dist/src/cli/main.js missing)',
    });
  });

  it('builds when no finished build is recorded', () => {
    expect(decideBuild({ record: undefined, current: files, missingOutputs: [] })).toEqual({
      build: true,
      reason: 'no finished build is recorded',
    });
  });

  it('skips the build when every input is as recorded', () => {
    expect(decideBuild({ record: { ...files }, current: files, missingOutputs: [] })).toEqual({
      build: false,
      reason: 'nothing changed since the last build',
    });
  });

  it('builds when a file changed, appeared or was removed, and names it', () => {
    const touched = { ...files, 'src/b.ts': '20:2001' };
    expect(decideBuild({ record: files, current: touched, missingOutputs: [] })).toEqual({
      build: true,
      reason: 'src/b.ts changed since the last build',
    });
    // An older modification time is a change too (a file copied back from elsewhere).
    const older = { ...files, 'src/a.ts': '10:999' };
    expect(decideBuild({ record: files, current: older, missingOutputs: [] }).build).toBe(true);
    const added = { ...files, 'src/c.ts': '5:3000', 'src/d.ts': '5:3000' };
    expect(decideBuild({ record: files, current: added, missingOutputs: [] }).reason).toBe(
      'src/c.ts and 1 more changed since the last build',
    );
    const removed = { 'src/a.ts': '10:1000' };
    expect(decideBuild({ record: files, current: removed, missingOutputs: [] }).reason).toBe(
      'src/b.ts was removed since the last build',
    );
  });
});

describe('the inputs of a project', () => {
  it('lists sources, the site, the schema and the settings with size and time; not the generated client', () => {
    const root = project();
    const inputs = collectInputs(root);
    expect(Object.keys(inputs).sort()).toEqual([
      'package-lock.json',
      'package.json',
      'prisma/schema.prisma',
      'src/cli/main.ts',
      'src/core/values.ts',
      'tsconfig.json',
      'web-linking/styles/app.css',
    ]);
    expect(inputs['src/core/values.ts']).toBe(`19:${T0.getTime()}`);
  });

  it('a fresh clone builds; after a build nothing is rebuilt until an input changes', () => {
    const root = project(false);
    expect(buildDecision(root)).toMatchObject({
      build: true,
      reason: expect.stringMatching(/^there is no build yet/),
    });
    for (const output of BUILD_OUTPUTS) put(root, output, '// built');
    expect(buildDecision(root)).toEqual({ build: true, reason: 'no finished build is recorded' });

    build(root);
    expect(buildDecision(root)).toEqual({ build: false, reason: 'nothing changed since the last build' });
    // Saved again without a change of content: the time alone asks for a build.
    utimesSync(path.join(root, 'prisma/schema.prisma'), T1, T1);
    expect(buildDecision(root)).toEqual({
      build: true,
      reason: 'prisma/schema.prisma changed since the last build',
    });
    build(root);
    expect(buildDecision(root).build).toBe(false);
    // Files that are not inputs, and the generated client the build writes, change nothing.
    put(root, 'README.md', 'edited', T1);
    put(root, 'src/core/db/generated/client.ts', '// generated again', T1);
    expect(buildDecision(root).build).toBe(false);
    rmSync(path.join(root, 'src/core/values.ts'));
    expect(buildDecision(root).reason).toBe('src/core/values.ts was removed since the last build');
  });

  it('a build that fails leaves no record, and a file saved during a build is built next time', () => {
    const root = project();
    build(root);
    beginBuild(root);
    // The build failed here: `end` never ran.
    expect(readRecord(root)).toBeUndefined();
    expect(buildDecision(root)).toEqual({ build: true, reason: 'no finished build is recorded' });

    beginBuild(root);
    put(root, 'src/cli/main.ts', 'export const saved = "while building";', T1);
    expect(endBuild(root)).toBe(true);
    expect(buildDecision(root)).toEqual({
      build: true,
      reason: 'src/cli/main.ts changed since the last build',
    });
    // `end` without a `begin` keeps nothing.
    expect(endBuild(root)).toBe(false);
  });
});
