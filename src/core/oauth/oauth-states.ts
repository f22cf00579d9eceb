/**
 * Sign-ins in flight, over the oauth_states table. The state sent to the provider is 256 random
 * bits; only its SHA-256 is stored, so a database reader cannot finish someone's sign-in. The
 * secret that must survive the round trip (a PKCE verifier, an OAuth 1.0a request token and its
 * secret) is sealed with the vault, bound to the state row.
 *
 * A state is good once, for ten minutes, for the browser session and provider that began it:
 * consuming it is one conditional UPDATE, so two callbacks racing with the same state cannot both
 * win.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';
import type { BrokerProvider, OAuthFlow } from '../db/generated/enums.js';
import type { SecretVault, VaultContext } from '../vault/types.js';
import { OAuthStateError } from './errors.js';

export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;

/** Vault field of the secret sealed in a state row. */
const SECRET_FIELD = 'oauth_secret';

/** What a state stands for, as returned once by {@link OAuthStates.consume}. */
export interface ConsumedOAuthState {
  readonly id: string;
  readonly userId: string;
  readonly redirectUri: string | undefined;
  readonly secret: string | undefined;
}

export interface BeginOAuthState {
  readonly flow: OAuthFlow;
  readonly provider: BrokerProvider;
  readonly userId: string;
  /** The linking page's browser session: only it may finish this sign-in. */
  readonly webSessionId: string;
  readonly redirectUri?: string;
  /** Sealed with the vault; never stored in clear. */
  readonly secret?: string;
}

/** SHA-256 (hex) of a state: the only form in which a state is stored. */
export function hashOAuthState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

export class OAuthStates {
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      readonly prisma: PrismaClient;
      readonly vault: SecretVault;
      readonly now?: () => Date;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Records a new sign-in in flight; the returned state goes to the provider and nowhere else. */
  async begin(input: BeginOAuthState): Promise<{ state: string; id: string; expiresAt: Date }> {
    const state = randomBytes(32).toString('base64url');
    // The id is the vault's record id, so it must exist before the secret is sealed.
    const id = randomUUID();
    const createdAt = this.now();
    const expiresAt = new Date(createdAt.getTime() + OAUTH_STATE_TTL_MS);
    const sealed =
      input.secret === undefined
        ? undefined
        : this.deps.vault.seal(input.secret, secretContext(input.userId, id));
    await this.deps.prisma.oAuthState.create({
      data: {
        id,
        stateHash: hashOAuthState(state),
        flow: input.flow,
        provider: input.provider,
        userId: input.userId,
        webSessionId: input.webSessionId,
        redirectUri: input.redirectUri ?? null,
        secretCiphertext: sealed?.ciphertext ?? null,
        secretKeyId: sealed?.keyId ?? null,
        expiresAt,
        createdAt,
      },
    });
    return { state, id, expiresAt };
  }

  /**
   * Spends a state: succeeds once, before expiry, for the session and provider that began it.
   * @throws OAuthStateError with the reason otherwise (nothing is spent by a refused attempt)
   */
  async consume(input: {
    readonly state: string;
    readonly webSessionId: string;
    readonly provider: BrokerProvider;
  }): Promise<ConsumedOAuthState> {
    const stateHash = hashOAuthState(input.state);
    const now = this.now();
    const [row] = await this.deps.prisma.oAuthState.updateManyAndReturn({
      where: {
        stateHash,
        provider: input.provider,
        webSessionId: input.webSessionId,
        consumedAt: null,
        expiresAt: { gt: now },
      },
      data: { consumedAt: now },
    });
    if (row === undefined) throw new OAuthStateError(await this.whyRefused(stateHash, input, now));
    const secret =
      row.secretCiphertext === null
        ? undefined
        : this.deps.vault.open(row.secretCiphertext, secretContext(row.userId, row.id));
    return { id: row.id, userId: row.userId, redirectUri: row.redirectUri ?? undefined, secret };
  }

  /** Tells a refused state's reason; a state of another provider is as unknown as a made-up one. */
  private async whyRefused(
    stateHash: string,
    input: { readonly webSessionId: string; readonly provider: BrokerProvider },
    now: Date,
  ): Promise<OAuthStateError['reason']> {
    const row = await this.deps.prisma.oAuthState.findUnique({ where: { stateHash } });
    if (row === null || row.provider !== input.provider) return 'unknown';
    if (row.webSessionId !== input.webSessionId) return 'wrong_session';
    if (row.consumedAt !== null) return 'used';
    if (row.expiresAt.getTime() <= now.getTime()) return 'expired';
    // It matched nothing a moment ago, but does now: only a concurrent consume can explain that.
    return 'used';
  }
}

function secretContext(userId: string, stateId: string): VaultContext {
  return { userId, recordId: stateId, field: SECRET_FIELD };
}
