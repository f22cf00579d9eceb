/**
 * Secrets of the deployment itself rather than of a user: today the CDP wallet secret, which signs
 * every smart-wallet request of Arbion's one CDP project. They are sealed by the same vault as
 * users' credentials, bound to their name, and set by the operator with `arbion secrets set`
 * (never through the web page or chat). A process reads them at start-up.
 */
import type { PrismaClient } from '../db/database.js';
import { ArbionError } from '../errors.js';
import type { SecretVault, VaultContext } from './types.js';

/** The secrets an operator can store, with what each is for (shown by `arbion secrets list`). */
export const OPERATOR_SECRETS = {
  'cdp-wallet-secret': 'CDP wallet secret: signs the smart wallet requests of your CDP project',
} as const;

export type OperatorSecretName = keyof typeof OPERATOR_SECRETS;

/**
 * Vault contexts for operator secrets: no user owns them, and the user id of this context is not
 * a UUID, so no user's credential can be opened as one (nor the reverse).
 */
export const OPERATOR_CONTEXT_USER = 'operator';
export const OPERATOR_SECRET_FIELD = 'operator_secret';

export function operatorSecretContext(name: string): VaultContext {
  return { userId: OPERATOR_CONTEXT_USER, recordId: name, field: OPERATOR_SECRET_FIELD };
}

export function isOperatorSecretName(name: string): name is OperatorSecretName {
  return Object.hasOwn(OPERATOR_SECRETS, name);
}

export class UnknownOperatorSecretError extends ArbionError {
  readonly code = 'operator_secret_unknown';

  constructor(name: string) {
    const known = Object.keys(OPERATOR_SECRETS).join(', ');
    super(`unknown operator secret ${name}`, `There is no operator secret "${name}". Known: ${known}.`);
  }
}

/** What `list` shows: never the value. */
export interface OperatorSecretEntry {
  readonly name: OperatorSecretName;
  readonly description: string;
  /** When it was last set; undefined when it is not stored. */
  readonly updatedAt: Date | undefined;
}

export class OperatorSecrets {
  constructor(
    private readonly prisma: Pick<PrismaClient, 'operatorSecret'>,
    private readonly vault: SecretVault,
  ) {}

  /**
   * The secret, or undefined when it was never stored.
   * @throws VaultError when it was stored but cannot be opened with the key ring
   */
  async get(name: OperatorSecretName): Promise<string | undefined> {
    const row = await this.prisma.operatorSecret.findUnique({ where: { name } });
    if (row === null) return undefined;
    return this.vault.open(row.ciphertext, operatorSecretContext(name));
  }

  /** Stores (or replaces) a secret, sealed under the vault's current key. */
  async set(name: OperatorSecretName, value: string): Promise<void> {
    const sealed = this.vault.seal(value, operatorSecretContext(name));
    await this.prisma.operatorSecret.upsert({
      where: { name },
      create: { name, ciphertext: sealed.ciphertext, keyId: sealed.keyId },
      update: { ciphertext: sealed.ciphertext, keyId: sealed.keyId },
    });
  }

  /** Forgets a secret; false when none was stored. */
  async remove(name: OperatorSecretName): Promise<boolean> {
    const { count } = await this.prisma.operatorSecret.deleteMany({ where: { name } });
    return count > 0;
  }

  async list(): Promise<OperatorSecretEntry[]> {
    const rows = await this.prisma.operatorSecret.findMany({ select: { name: true, updatedAt: true } });
    const stored = new Map(rows.map((row) => [row.name, row.updatedAt]));
    return (Object.keys(OPERATOR_SECRETS) as OperatorSecretName[]).map((name) => ({
      name,
      description: OPERATOR_SECRETS[name],
      updatedAt: stored.get(name),
    }));
  }
}
