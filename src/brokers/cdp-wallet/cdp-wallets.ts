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
import type { Address } from 'viem';
import type { WalletNetwork } from './tokens.js';

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
