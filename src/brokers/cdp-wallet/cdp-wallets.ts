/**
 * Arbion's Coinbase Developer Platform project: one `CdpClient` for the process, and the smart
 * account (ERC-4337) of each user inside it. Coinbase holds every key: the owner of a user's smart
 * account is a CDP server account, whose private key never leaves Coinbase; we hold only the
 * project's API key and wallet secret, which authorize requests.
 *
 * One client per process is the SDK's own rule (its HTTP client is configured process-wide), so
 * the project's credentials are the operator's (CDP_API_KEY_ID, CDP_API_KEY_SECRET,
 * CDP_WALLET_SECRET), never a user's.
 */
import { createHash } from 'node:crypto';
import { CdpClient, type EvmServerAccount, type EvmSmartAccount } from '@coinbase/cdp-sdk';
import { getAuthHeaders } from '@coinbase/cdp-sdk/auth';
import type { Address } from 'viem';
import { z } from 'zod';
import type { WalletNetwork } from './tokens.js';

/** How long a direct read (`getJson`) may take. */
const READ_TIMEOUT_MS = 15_000;

/** Retries of a direct read after a network failure or a 5xx (the SDK's axios-retry default). */
const READ_RETRIES = 3;

/** CDP's documented error answer. */
const errorAnswerSchema = z.object({ errorType: z.string(), errorMessage: z.string() });

/**
 * An error answer to a direct read, shaped like the SDK's own APIError (`statusCode`, `errorType`,
 * `errorMessage`), so callers classify both alike.
 */
export class CdpApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(`CDP answered HTTP ${statusCode} (${errorType})`);
    this.name = 'CdpApiError';
  }
}

export interface CdpWalletsOptions {
  readonly apiKeyId: string;
  readonly apiKeySecret: string;
  readonly walletSecret: string;
  /** The platform API base, e.g. https://api.cdp.coinbase.com/platform. */
  readonly apiBase: string;
  /** A paymaster for every user operation; unset: the SDK's default (CDP's own on base). */
  readonly paymasterUrl: string | undefined;
}

/** A user's smart account and the server account that owns it. */
export interface UserWallet {
  readonly owner: EvmServerAccount;
  readonly smart: EvmSmartAccount;
}

/** CDP names: 2-36 characters, letters, digits and hyphens. Derived, so a re-link finds the same wallet. */
function accountName(kind: 'o' | 's', userId: string): string {
  return `arbion-${kind}-${createHash('sha256').update(`arbion-wallet:${userId}`).digest('hex').slice(0, 26)}`;
}

export class CdpWallets {
  readonly client: CdpClient;
  private readonly wallets = new Map<string, Promise<UserWallet>>();

  constructor(private readonly options: CdpWalletsOptions) {
    // The SDK otherwise reports usage and errors (with account ids) to Coinbase's analytics.
    process.env.DISABLE_CDP_USAGE_TRACKING = 'true';
    process.env.DISABLE_CDP_ERROR_REPORTING = 'true';
    this.client = new CdpClient({
      apiKeyId: options.apiKeyId,
      apiKeySecret: options.apiKeySecret,
      walletSecret: options.walletSecret,
      basePath: options.apiBase,
    });
  }

  /** The user's wallet, created at Coinbase on first use; the same accounts ever after. */
  walletOf(userId: string): Promise<UserWallet> {
    const known = this.wallets.get(userId);
    if (known !== undefined) return known;
    const loading = (async () => {
      const owner = await this.client.evm.getOrCreateAccount({ name: accountName('o', userId) });
      const smart = await this.client.evm.getOrCreateSmartAccount({ name: accountName('s', userId), owner });
      return { owner, smart };
    })();
    // A failure is not remembered: the next call asks again.
    loading.catch(() => this.wallets.delete(userId));
    this.wallets.set(userId, loading);
    return loading;
  }

  /**
   * A GET on the platform API (`path` below the base, e.g. `/v2/data/evm/...`), signed with the
   * project's key exactly as the SDK signs its requests; the answer's JSON, unread. For lists the
   * SDK would reject whole for one element it cannot convert (see token-balances.ts). Like the
   * SDK's GETs, a network failure or a 5xx is tried again up to 3 times (100, 200, 400 ms apart).
   * @throws CdpApiError for an error answer; a network failure or timeout as fetch throws it
   */
  async getJson(path: string, query: Readonly<Record<string, string | undefined>>): Promise<unknown> {
    const url = new URL(`${this.options.apiBase.replace(/\/+$/, '')}${path}`);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.getOnce(url);
      } catch (error) {
        if (attempt >= READ_RETRIES || !worthRetrying(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  private async getOnce(url: URL): Promise<unknown> {
    const headers = await getAuthHeaders({
      apiKeyId: this.options.apiKeyId,
      apiKeySecret: this.options.apiKeySecret,
      requestMethod: 'GET',
      requestHost: url.host,
      requestPath: url.pathname,
    });
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok) return body;
    const error = errorAnswerSchema.safeParse(body);
    throw new CdpApiError(
      response.status,
      error.success ? error.data.errorType : 'unknown',
      error.success ? error.data.errorMessage : `HTTP ${response.status}`,
    );
  }

  /** The paymaster a user operation on `network` uses, and whether gas is sponsored at all. */
  gasFor(network: WalletNetwork): { readonly paymasterUrl: string | undefined; readonly sponsored: boolean } {
    const paymasterUrl = this.options.paymasterUrl;
    // Without one, the SDK sponsors on base (CDP's paymaster) and base-sepolia (the testnet's).
    return {
      paymasterUrl,
      sponsored: paymasterUrl !== undefined || network === 'base' || network === 'base-sepolia',
    };
  }

  /** Addresses as the SDK types them (checked hex from our own token table or the API). */
  static address(value: string): Address {
    if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new Error(`not an EVM address: ${value}`);
    return value as Address;
  }
}

/** A network failure or a 5xx; not a refusal (4xx) or our own timeout (it already waited long). */
function worthRetrying(error: unknown): boolean {
  if (error instanceof CdpApiError) return error.statusCode >= 500;
  return !(error instanceof Error && error.name === 'TimeoutError');
}
