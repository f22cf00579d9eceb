/**
 * The tokens swaps can name, per network: contract address and decimals. A short list on purpose:
 * a symbol maps to exactly one well-known contract, so "USDC" can never mean a look-alike token.
 * The native token is the 0xEeee… placeholder the swap API uses.
 */
import type { Address } from 'viem';

export const NATIVE_TOKEN: Address = '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE';

export const WALLET_NETWORKS = [
  'base',
  'ethereum',
  'arbitrum',
  'optimism',
  'polygon',
  'base-sepolia',
] as const;
export type WalletNetwork = (typeof WALLET_NETWORKS)[number];

export interface WalletToken {
  readonly symbol: string;
  readonly address: Address;
  readonly decimals: number;
}

type TokenTable = Readonly<Record<string, Omit<WalletToken, 'symbol'>>>;

const ETH = { address: NATIVE_TOKEN, decimals: 18 };

const TOKENS: Readonly<Record<WalletNetwork, TokenTable>> = {
  base: {
    ETH,
    WETH: { address: '0x4200000000000000000000000000000000000006', decimals: 18 },
    USDC: { address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6 },
    DAI: { address: '0x50c5725949A6F0c72E6C4a641F24049A917DB0Cb', decimals: 18 },
    CBBTC: { address: '0xcbB7C0000aB88B473b1f5aFd9ef808440eed33Bf', decimals: 8 },
  },
  ethereum: {
    ETH,
    WETH: { address: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2', decimals: 18 },
    USDC: { address: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', decimals: 6 },
    USDT: { address: '0xdAC17F958D2ee523a2206206994597C13D831ec7', decimals: 6 },
    DAI: { address: '0x6B175474E89094C44Da98b954EedeAC495271d0F', decimals: 18 },
  },
  arbitrum: {
    ETH,
    WETH: { address: '0x82aF49447D8a07e3bd95BD0d56f35241523fBab1', decimals: 18 },
    USDC: { address: '0xaf88d065e77c8cC2239327C5EDb3A432268e5831', decimals: 6 },
    USDT: { address: '0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9', decimals: 6 },
  },
  optimism: {
    ETH,
    WETH: { address: '0x4200000000000000000000000000000000000006', decimals: 18 },
    USDC: { address: '0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85', decimals: 6 },
    USDT: { address: '0x94b008aA00579c1307B0EF2c499aD98a8ce58e58', decimals: 6 },
  },
  polygon: {
    POL: { address: NATIVE_TOKEN, decimals: 18 },
    WETH: { address: '0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619', decimals: 18 },
    USDC: { address: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359', decimals: 6 },
    USDT: { address: '0xc2132D05D31c914a87C6611C10748AEb04B58e8F', decimals: 6 },
  },
  'base-sepolia': {
    ETH,
    WETH: { address: '0x4200000000000000000000000000000000000006', decimals: 18 },
    USDC: { address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6 },
  },
};

export function isWalletNetwork(network: string): network is WalletNetwork {
  return (WALLET_NETWORKS as readonly string[]).includes(network);
}

/** The token a symbol names on a network, or undefined when we do not list it there. */
export function tokenOn(network: WalletNetwork, symbol: string): WalletToken | undefined {
  const entry = TOKENS[network][symbol.toUpperCase()];
  return entry === undefined ? undefined : { symbol: symbol.toUpperCase(), ...entry };
}

/** The listed token at a contract address on a network (balances name tokens by address). */
export function tokenAt(network: WalletNetwork, address: string): WalletToken | undefined {
  const wanted = address.toLowerCase();
  for (const [symbol, entry] of Object.entries(TOKENS[network])) {
    if (entry.address.toLowerCase() === wanted) return { symbol, ...entry };
  }
  return undefined;
}

/** "ETH, WETH, USDC" for a refusal that says what can be swapped. */
export function tokenSymbols(network: WalletNetwork): string {
  return Object.keys(TOKENS[network]).join(', ');
}
