/**
 * Prisma's own schema engine, in its WebAssembly build, driven through a Prisma driver adapter.
 *
 * The native engine binary is a download and fails offline; the WebAssembly build ships on npm.
 * Its package entry imports a .wasm file, which Node cannot import, so we instantiate it by hand.
 * wasm-bindgen keeps the instance in module state: one instance per process serves every engine.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

export type { SchemaEngine } from '@prisma/schema-engine-wasm';

// @types/node 20 does not declare the WebAssembly global; this is the part we use.
type WasmExports = Record<string, unknown>;
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: WasmExports } }>;
};

/** The part of the wasm-bindgen glue module we use. */
interface SchemaEngineBindings {
  __wbg_set_wasm(exports: WasmExports): void;
  SchemaEngine: {
    new: (
      options: { datamodels: [string, string][] | undefined },
      log: (message: string) => void,
      adapter: object,
    ) => Promise<SchemaEngine>;
  };
}

let bindings: Promise<SchemaEngineBindings> | undefined;

async function loadBindings(): Promise<SchemaEngineBindings> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const glue = (await import(
    '@prisma/schema-engine-wasm/schema_engine_bg'
  )) as unknown as SchemaEngineBindings;
  const bytes = await readFile(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

/** A schema file as the engine takes it. */
export interface SchemaFile {
  readonly path: string;
  readonly content: string;
}

/**
 * Starts a schema engine on the database behind `adapterFactory`.
 * @param log receives the engine's JSON log lines (debug material)
 */
export async function startSchemaEngine(
  schema: SchemaFile,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  log: (line: string) => void = () => {},
): Promise<SchemaEngine> {
  bindings ??= loadBindings();
  const glue = await bindings;
  return glue.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    log,
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
}
