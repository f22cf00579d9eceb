/**
 * `arbion secrets`: the operator's own secrets in the vault (today the CDP wallet secret).
 * Values are read from standard input, never from arguments, so they stay out of shell history
 * and process listings, and are never printed back.
 */
import { text } from 'node:stream/consumers';
import {
  isOperatorSecretName,
  OPERATOR_SECRETS,
  type OperatorSecretName,
  OperatorSecrets,
} from '../../core/vault/index.js';
import { CommandExit, EXIT_UNHEALTHY, type GlobalOptions } from '../context.js';
import { withVaultDatabase } from '../vault-database.js';

/** Shown after `arbion secrets --help`. */
export const SECRETS_HELP = `
Secrets:
${Object.entries(OPERATOR_SECRETS)
  .map(([name, description]) => `  ${name.padEnd(20)} ${description}`)
  .join('\n')}

Set one from a file or a pipe (the value is read from standard input):
  arbion secrets set cdp-wallet-secret < wallet-secret.txt
Restart Arbion afterwards: secrets are read at start-up.`;

/** Exit code for usage mistakes (sysexits.h EX_USAGE). */
const EXIT_USAGE = 64;

function knownName(name: string): OperatorSecretName {
  if (isOperatorSecretName(name)) return name;
  process.stderr.write(
    `There is no operator secret "${name}". Known: ${Object.keys(OPERATOR_SECRETS).join(', ')}.\n`,
  );
  throw new CommandExit(EXIT_USAGE);
}

/** The value on standard input, without the line break a file or `echo` ends with. */
async function readValue(name: string): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write(`Pipe the value in rather than typing it, e.g. arbion secrets set ${name} < file\n`);
    throw new CommandExit(EXIT_USAGE);
  }
  const value = (await text(process.stdin)).replace(/\r?\n$/, '');
  if (value.trim() === '') {
    process.stderr.write('Standard input was empty: nothing was stored.\n');
    throw new CommandExit(EXIT_USAGE);
  }
  return value;
}

export async function secretsSetCommand(options: GlobalOptions, name: string): Promise<void> {
  const secretName = knownName(name);
  const value = await readValue(secretName);
  await withVaultDatabase(options, async ({ vault, database, logger }) => {
    await new OperatorSecrets(database.prisma, vault).set(secretName, value);
    logger.info({ secret: secretName, keyId: vault.currentKeyId }, 'operator secret stored');
  });
  process.stdout.write(`Stored ${secretName} in the vault. Restart Arbion to use it.\n`);
}

export async function secretsRemoveCommand(options: GlobalOptions, name: string): Promise<void> {
  const secretName = knownName(name);
  const removed = await withVaultDatabase(options, ({ vault, database }) =>
    new OperatorSecrets(database.prisma, vault).remove(secretName),
  );
  if (!removed) {
    process.stdout.write(`${secretName} was not stored.\n`);
    throw new CommandExit(EXIT_UNHEALTHY);
  }
  process.stdout.write(`Removed ${secretName} from the vault.\n`);
}

export async function secretsListCommand(options: GlobalOptions): Promise<void> {
  const entries = await withVaultDatabase(options, ({ vault, database }) =>
    new OperatorSecrets(database.prisma, vault).list(),
  );
  for (const entry of entries) {
    const state = entry.updatedAt === undefined ? 'not set' : `set ${entry.updatedAt.toISOString()}`;
    process.stdout.write(`${entry.name.padEnd(20)} ${state.padEnd(32)} ${entry.description}\n`);
  }
}
