/**
 * `arbion keys rotate`: re-encrypt every stored secret with the first key of the vault key ring.
 */
import { type RotationResult, rotateVault } from '../../core/vault/index.js';
import { CommandExit, EXIT_UNHEALTHY, type GlobalOptions } from '../context.js';
import { plural } from '../database.js';
import { withVaultDatabase } from '../vault-database.js';

/** Shown after `arbion keys rotate --help`. */
export const KEYS_ROTATE_HELP = `
How to rotate the vault key:
  1. Generate a key:  openssl rand -base64 32
  2. Put it FIRST in ARBION_ENCRYPTION_KEYS and keep the old keys after it, e.g.
       ARBION_ENCRYPTION_KEYS=k2:<new key>,k1:<old key>
     and restart every Arbion process: new secrets are sealed with k2, old ones still open with k1.
  3. Run \`arbion keys rotate\`: every stored secret is re-encrypted with k2.
  4. Only when it reports no failures, remove k1 from ARBION_ENCRYPTION_KEYS.
Safe to run again, and alongside running Arbion processes on a PostgreSQL server (the embedded
database must be stopped first).
Exit code 1 when a secret could not be opened (its row id is logged; it was left unchanged).`;

/** The sentence the command prints, e.g. "Re-encrypted 3 secrets with key k2; 1 already used it." */
export function describeRotation(result: RotationResult, keyId: string): string {
  const lines = [
    `Re-encrypted ${plural(result.reencrypted, 'secret')} with key ${keyId}; ${result.alreadyCurrent} already used it.`,
  ];
  if (result.failed > 0)
    lines.push(
      `${plural(result.failed, 'secret')} could not be opened with any key of the ring and ${
        result.failed === 1 ? 'was' : 'were'
      } left unchanged (row ids are in the log). Keep the old keys until this is resolved.`,
    );
  return `${lines.join('\n')}\n`;
}

export async function keysRotateCommand(options: GlobalOptions): Promise<void> {
  const { result, keyId } = await withVaultDatabase(options, async ({ vault, database, logger }) => {
    try {
      return {
        result: await rotateVault({ prisma: database.prisma, vault, logger }),
        keyId: vault.currentKeyId,
      };
    } catch (error) {
      process.stderr.write(`Key rotation stopped: ${(error as Error).message}\n`);
      throw new CommandExit(EXIT_UNHEALTHY);
    }
  });
  process.stdout.write(describeRotation(result, keyId));
  if (result.failed > 0) throw new CommandExit(EXIT_UNHEALTHY);
}
