/**
 * Reads the configuration from the process environment and an optional .env file.
 * The process environment wins over the file, as in every twelve-factor tool.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError } from '../errors.js';
import { type Config, parseEnvironment, unknownArbionVariables } from './config.js';
import { isVariableName } from './variables.js';

export interface LoadConfigOptions {
  /** The process environment; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of a .env file, relative to `cwd`; `false` reads none. Default `.env`. */
  readonly envFile?: string | false;
  /** Folder that relative paths are resolved against; defaults to `process.cwd()`. */
  readonly cwd?: string;
}

/**
 * Loads and validates the configuration.
 * @throws ConfigError listing every problem at once
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const processEnv = options.env ?? process.env;
  const warnings: string[] = [];
  let fileValues: Record<string, string> = {};

  if (options.envFile !== false) {
    const file = path.resolve(cwd, options.envFile ?? '.env');
    if (existsSync(file)) {
      try {
        fileValues = parseDotenv(readFileSync(file));
      } catch (error) {
        throw new ConfigError([`${file}: cannot be read (${(error as Error).message})`]);
      }
      for (const name of Object.keys(fileValues)) {
        if (!isVariableName(name))
          warnings.push(`${name} in ${path.basename(file)} is not an Arbion setting; ignored`);
      }
    } else if (options.envFile !== undefined) {
      throw new ConfigError([`${file}: no such file`]);
    }
  }
  for (const name of unknownArbionVariables(Object.keys(processEnv))) {
    warnings.push(`${name} is not an Arbion setting; ignored`);
  }

  const merged: Record<string, string | undefined> = { ...fileValues };
  for (const [name, value] of Object.entries(processEnv)) {
    if (value !== undefined && isVariableName(name)) merged[name] = value;
  }

  const result = parseEnvironment(merged, { cwd, warnings });
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}
