/**
 * Ports belong to the core; adapters depend on the core, never the reverse. biome's
 * noRestrictedImports (biome.json) stops a forbidden import in the editor and in `npm run lint`;
 * this test resolves every import of every file under src/core, at any depth, so a path that the
 * lint patterns do not spell out cannot slip through either.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const core = join(root, 'src/core');
const FORBIDDEN = ['src/brokers', 'src/channels', 'src/strategies', 'src/runtime', 'src/cli', 'web-linking'];
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function forbiddenImports(file: string, text: string): string[] {
  return [...text.matchAll(IMPORT)]
    .map((match) => match[1] ?? '')
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(root, resolve(dirname(file), specifier)))
    .filter((target) => FORBIDDEN.some((dir) => target === dir || target.startsWith(`${dir}/`)))
    .map((target) => `${relative(root, file)} -> ${target}`);
}

describe('the core boundary', () => {
  it('finds a forbidden import when there is one (the check is not vacuous)', () => {
    const file = join(core, 'a/b/c/d/deep.ts');
    expect(
      forbiddenImports(file, "import { x } from '../../../../../brokers/paper/paper-broker.js';"),
    ).toEqual(['src/core/a/b/c/d/deep.ts -> src/brokers/paper/paper-broker.js']);
    expect(
      forbiddenImports(file, "const m = await import('../../../../../../web-linking/app.js');"),
    ).toHaveLength(1);
    expect(forbiddenImports(file, "import type { Broker } from '../../../../brokers/broker.js';")).toEqual(
      [],
    );
  });

  it('no file under src/core imports src/brokers, channels, strategies, runtime, cli or web-linking', () => {
    const files = sources(core);
    expect(files.length).toBeGreaterThan(50);
    const violations = files.flatMap((file) => forbiddenImports(file, readFileSync(file, 'utf8')));
    expect(violations).toEqual([]);
  });
});
