/**
 * A human view of the effective configuration, with secrets masked. Used by `arbion doctor`.
 */
import type { Config } from './config.js';
import { type VariableGroup, type VariableName, variableNames, variables } from './variables.js';

/** One row of the effective configuration. */
export interface ConfigurationRow {
  readonly name: VariableName;
  readonly group: VariableGroup;
  /** Masked when secret; `(unset)` when not set and without default. */
  readonly shown: string;
  /** True when the value came from the table's default. */
  readonly isDefault: boolean;
}

/** Masks a secret: says it is set and how long it is, shows nothing of it. */
export function maskSecret(value: string): string {
  return `set (${value.length} characters, hidden)`;
}

function show(name: VariableName, value: unknown): string {
  if (name === 'ARBION_ENCRYPTION_KEYS' && Array.isArray(value)) {
    const ids = value.map((key: { id: string }) => key.id);
    return `${ids.length} key(s): ${ids.join(', ')} (material hidden)`;
  }
  if ((name === 'DATABASE_URL' || name === 'REDIS_URL') && typeof value === 'string') {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.toString();
  }
  const text = String(value);
  return variables[name].secret ? maskSecret(text) : text;
}

/** Every variable with its effective value, secrets masked. */
export function describeConfiguration(config: Config): ConfigurationRow[] {
  return variableNames.map((name) => {
    const value = config.environment[name];
    const explicitlySet = config.explicitVariables.has(name);
    return {
      name,
      group: variables[name].group,
      shown: value === undefined ? '(unset)' : show(name, value),
      isDefault: !explicitlySet && value !== undefined,
    };
  });
}
