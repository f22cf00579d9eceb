/**
 * How a user gets a Coinbase smart wallet: no keys to paste. Arbion's CDP project creates (or, after
 * a re-link, finds again) the user's smart account when the link is made; Coinbase holds its keys.
 * The form asks only which network swaps use when a message names none.
 */
import { z } from 'zod';
import type { Config } from '../../core/config/config.js';
import type { KeyCredentials, KeyTestResult, LinkableProvider } from '../../core/linking/providers.js';
import { WALLET_NETWORKS } from './tokens.js';

/** The networks a swap can default to (base-sepolia has no swaps at CDP). */
const DEFAULT_NETWORKS = WALLET_NETWORKS.filter((network) => network !== 'base-sepolia');

const formSchema = z.object({
  network: z.enum(DEFAULT_NETWORKS, { error: 'Choose a network.' }),
});

export function cdpWalletLinking(config: Config): LinkableProvider {
  const base = {
    id: 'cdp_wallet' as const,
    name: 'Coinbase smart wallet',
    description:
      'An on-chain smart account (ERC-4337) created for you at Coinbase, which holds its keys: swap tokens from chat.',
  };
  if (config.brokers.cdp === undefined) {
    return { ...base, linking: undefined, unavailableReason: 'Not set up on this server (CDP_API_KEY_ID).' };
  }
  return {
    ...base,
    linking: {
      kind: 'keys',
      fields: [
        {
          name: 'network',
          label: 'Network for swaps',
          kind: 'select',
          options: DEFAULT_NETWORKS.map((network) => ({ value: network, label: network })),
          help: 'Used when a swap names no network ("swap 0.1 ETH to USDC"). Fund the wallet on it before swapping.',
        },
      ],
      schema: formSchema,
      // Nothing to try: the account is created with Arbion's own CDP credentials when the link is made.
      async test(): Promise<KeyTestResult> {
        return { ok: true, detail: 'Your smart wallet will be created at Coinbase.' };
      },
      mask(credentials: KeyCredentials): string {
        return `swaps on ${credentials.network ?? 'base'}`;
      },
    },
  };
}
