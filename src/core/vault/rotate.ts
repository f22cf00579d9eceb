/**
 * Key rotation: re-seals every stored secret under the vault's current key, so the keys after it
 * in the ring can be dropped.
 *
 * Each row is updated only if it still holds exactly the ciphertext and key id that were read
 * (an optimistic check), so a secret written concurrently (a fresh OAuth token, a re-link) is never
 * overwritten with the older one. A row that changed is read again and re-examined.
 */
import type { PrismaClient } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { VaultError } from './envelope.js';
import { OPERATOR_CONTEXT_USER, OPERATOR_SECRET_FIELD } from './operator-secrets.js';
import type { SealedSecret, VaultContext } from './types.js';
import type { Vault } from './vault.js';

export interface RotationResult {
  /** Secrets now sealed with the current key that were not before. */
  readonly reencrypted: number;
  /** Secrets that already were. */
  readonly alreadyCurrent: number;
  /** Secrets that could not be opened with any key of the ring (or kept changing); left as they were. */
  readonly failed: number;
}

/** One stored secret as rotation sees it. */
interface SecretRow {
  readonly id: string;
  readonly userId: string;
  readonly ciphertext: Uint8Array<ArrayBuffer>;
  readonly keyId: string | null;
}

/** A table column that holds vault ciphertexts, with the two queries rotation needs. */
interface SecretColumn {
  /** For logs: `broker_connections.credentialCiphertext`. */
  readonly name: string;
  /** The VaultContext field the secrets were sealed for. */
  readonly field: string;
  /** Up to `take` rows with a ciphertext and an id greater than `afterId`, by id. */
  page(afterId: string | undefined, take: number): Promise<SecretRow[]>;
  /** One row again, or undefined when it is gone or no longer holds a ciphertext. */
  reload(id: string): Promise<SecretRow | undefined>;
  /** Replaces the secret if the row still holds `expected`; false when it changed meanwhile. */
  replace(expected: SecretRow, sealed: SealedSecret): Promise<boolean>;
}

const PAGE_SIZE = 200;
/** How often one row is re-examined after a concurrent change before it counts as failed. */
const MAX_ATTEMPTS = 3;

type RotationPrisma = Pick<PrismaClient, 'brokerConnection' | 'oAuthState' | 'operatorSecret'>;

function brokerCredentials(prisma: RotationPrisma): SecretColumn {
  const select = { id: true, userId: true, credentialCiphertext: true, credentialKeyId: true } as const;
  const toRow = (row: {
    id: string;
    userId: string;
    credentialCiphertext: Uint8Array<ArrayBuffer> | null;
    credentialKeyId: string | null;
  }): SecretRow | undefined =>
    row.credentialCiphertext === null
      ? undefined
      : { id: row.id, userId: row.userId, ciphertext: row.credentialCiphertext, keyId: row.credentialKeyId };
  return {
    name: 'broker_connections.credentialCiphertext',
    field: 'credentials',
    async page(afterId, take) {
      const rows = await prisma.brokerConnection.findMany({
        where: {
          credentialCiphertext: { not: null },
          ...(afterId === undefined ? {} : { id: { gt: afterId } }),
        },
        orderBy: { id: 'asc' },
        take,
        select,
      });
      return rows.flatMap((row) => toRow(row) ?? []);
    },
    async reload(id) {
      const row = await prisma.brokerConnection.findUnique({ where: { id }, select });
      return row === null ? undefined : toRow(row);
    },
    async replace(expected, sealed) {
      const { count } = await prisma.brokerConnection.updateMany({
        where: {
          id: expected.id,
          credentialKeyId: expected.keyId,
          credentialCiphertext: { equals: expected.ciphertext },
        },
        data: { credentialCiphertext: sealed.ciphertext, credentialKeyId: sealed.keyId },
      });
      return count === 1;
    },
  };
}

function oauthSecrets(prisma: RotationPrisma): SecretColumn {
  const select = { id: true, userId: true, secretCiphertext: true, secretKeyId: true } as const;
  const toRow = (row: {
    id: string;
    userId: string;
    secretCiphertext: Uint8Array<ArrayBuffer> | null;
    secretKeyId: string | null;
  }): SecretRow | undefined =>
    row.secretCiphertext === null
      ? undefined
      : { id: row.id, userId: row.userId, ciphertext: row.secretCiphertext, keyId: row.secretKeyId };
  return {
    name: 'oauth_states.secretCiphertext',
    field: 'oauth_secret',
    async page(afterId, take) {
      const rows = await prisma.oAuthState.findMany({
        where: { secretCiphertext: { not: null }, ...(afterId === undefined ? {} : { id: { gt: afterId } }) },
        orderBy: { id: 'asc' },
        take,
        select,
      });
      return rows.flatMap((row) => toRow(row) ?? []);
    },
    async reload(id) {
      const row = await prisma.oAuthState.findUnique({ where: { id }, select });
      return row === null ? undefined : toRow(row);
    },
    async replace(expected, sealed) {
      const { count } = await prisma.oAuthState.updateMany({
        where: {
          id: expected.id,
          secretKeyId: expected.keyId,
          secretCiphertext: { equals: expected.ciphertext },
        },
        data: { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId },
      });
      return count === 1;
    },
  };
}

function operatorSecrets(prisma: RotationPrisma): SecretColumn {
  const toRow = (row: { name: string; ciphertext: Uint8Array<ArrayBuffer>; keyId: string }): SecretRow => ({
    id: row.name,
    userId: OPERATOR_CONTEXT_USER,
    ciphertext: row.ciphertext,
    keyId: row.keyId,
  });
  return {
    name: 'operator_secrets.ciphertext',
    field: OPERATOR_SECRET_FIELD,
    async page(afterId, take) {
      const rows = await prisma.operatorSecret.findMany({
        where: afterId === undefined ? {} : { name: { gt: afterId } },
        orderBy: { name: 'asc' },
        take,
      });
      return rows.map(toRow);
    },
    async reload(id) {
      const row = await prisma.operatorSecret.findUnique({ where: { name: id } });
      return row === null ? undefined : toRow(row);
    },
    async replace(expected, sealed) {
      const { count } = await prisma.operatorSecret.updateMany({
        where: {
          name: expected.id,
          keyId: expected.keyId ?? '',
          ciphertext: { equals: expected.ciphertext },
        },
        data: { ciphertext: sealed.ciphertext, keyId: sealed.keyId },
      });
      return count === 1;
    },
  };
}

type Outcome = 'reencrypted' | 'alreadyCurrent' | 'failed' | 'gone';

/** Brings one row to the current key, re-reading it when a concurrent writer got there first. */
async function rotateRow(
  column: SecretColumn,
  first: SecretRow,
  vault: Vault,
  logger: Logger,
): Promise<Outcome> {
  let row: SecretRow | undefined = first;
  for (let attempt = 1; row !== undefined && attempt <= MAX_ATTEMPTS; attempt++) {
    const context: VaultContext = { userId: row.userId, recordId: row.id, field: column.field };
    let sealed: SealedSecret;
    try {
      // The header is the truth; the key id column only mirrors it. Both must name the current key.
      if (row.keyId === vault.currentKeyId && vault.keyIdOf(row.ciphertext) === vault.currentKeyId)
        return 'alreadyCurrent';
      sealed = vault.rewrap(row.ciphertext, context);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      logger.error(
        { column: column.name, id: row.id, keyId: row.keyId, reason: error.reason },
        'cannot open this stored secret with any key of the ring; left unchanged',
      );
      return 'failed';
    }
    if (await column.replace(row, sealed)) return 'reencrypted';
    row = await column.reload(row.id);
  }
  if (row === undefined) return 'gone';
  logger.error(
    { column: column.name, id: row.id },
    'this stored secret kept changing during rotation; left as is',
  );
  return 'failed';
}

/**
 * Re-seals every vault ciphertext in the database under `vault.currentKeyId`: broker connection
 * credentials, OAuth state secrets and the operator's secrets. Never logs content, only table, row id and key ids.
 */
export async function rotateVault({
  prisma,
  vault,
  logger,
}: {
  prisma: RotationPrisma;
  vault: Vault;
  logger: Logger;
}): Promise<RotationResult> {
  const counts = { reencrypted: 0, alreadyCurrent: 0, failed: 0 };
  for (const column of [brokerCredentials(prisma), oauthSecrets(prisma), operatorSecrets(prisma)]) {
    let afterId: string | undefined;
    for (;;) {
      const rows = await column.page(afterId, PAGE_SIZE);
      for (const row of rows) {
        const outcome = await rotateRow(column, row, vault, logger);
        if (outcome !== 'gone') counts[outcome] += 1;
      }
      if (rows.length < PAGE_SIZE) break;
      afterId = rows.at(-1)?.id;
    }
  }
  logger.info({ keyId: vault.currentKeyId, ...counts }, 'vault rotation finished');
  return counts;
}
