/**
 * Where the project's own files are, whether we run from src/ (tests) or dist/src/ (built).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  let directory = start;
  for (;;) {
    const manifest = path.join(directory, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'arbion') return directory;
    }
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`Cannot find Arbion's package.json above ${start}`);
    directory = parent;
  }
}

/** The folder holding Arbion's package.json. */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

/** prisma/schema.prisma */
export const prismaSchemaPath = path.join(projectRoot, 'prisma', 'schema.prisma');

/** prisma/migrations, in Prisma's layout. */
export const migrationsDirectory = path.join(projectRoot, 'prisma', 'migrations');

/** The product version, from package.json. */
export const productVersion = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;
