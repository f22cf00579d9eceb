/**
 * A migrated embedded database (PGlite data directory) made once per test file by the real
 * `arbion migrate`, and copied into each test's ARBION_DATA_DIR: a first `arbion start` then skips
 * several seconds of migrations, which matters when a test starts dozens of processes.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runArbion } from './cli.js';

let template: Promise<string> | undefined;

/** The data directory of a freshly migrated embedded database (made on first use). */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'arbion-embedded-template-'));
    const result = await runArbion(['migrate'], {
      cwd: root,
      env: { ARBION_DATA_DIR: path.join(root, 'data') },
    });
    if (result.code !== 0)
      throw new Error(`arbion migrate failed (${result.code}):\n${result.stdout}${result.stderr}`);
    return path.join(root, 'data');
  })();
  return template;
}

/** Fills `dataDirectory` (an ARBION_DATA_DIR) with a copy of the migrated embedded database. */
export async function seedEmbeddedData(dataDirectory: string): Promise<void> {
  cpSync(await migratedTemplate(), dataDirectory, { recursive: true });
}

/** Removes the template (call once the test file is done). */
export async function removeEmbeddedTemplate(): Promise<void> {
  if (template === undefined) return;
  const directory = await template.catch(() => undefined);
  template = undefined;
  if (directory !== undefined) rmSync(path.dirname(directory), { recursive: true, force: true });
}
