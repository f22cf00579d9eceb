/**
 * Request shapes the CDP fake accepts, after coinbaseDeveloperPlatformAPIs.schemas.ts in
 * @coinbase/cdp-sdk 1.57.0 (patterns and enums as the OpenAPI spec gives them). Anything else is a
 * 400 invalid_request, as CDP answers.
 */
import { z } from 'zod';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,34}[A-Za-z0-9]$/;

export const address = z.string().regex(ADDRESS, 'not a 0x-prefixed 20-byte address');
export const accountName = z.string().regex(ACCOUNT_NAME, 'names are 2-36 letters, digits and hyphens');
const atomicAmount = z.string().regex(/^\d+$/, 'not an integer amount');
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'not 0x-prefixed hex');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'not 32 bytes of hex');

/** EvmUserOperationNetwork. */
export const USER_OPERATION_NETWORKS = [
  'base-sepolia',
  'base',
  'arbitrum',
  'optimism',
  'zora',
  'polygon',
  'bnb',
  'avalanche',
  'ethereum',
  'ethereum-sepolia',
] as const;
/** EvmSwapsNetwork. */
export const SWAP_NETWORKS = ['base', 'ethereum', 'arbitrum', 'optimism', 'polygon'] as const;
/** ListEvmTokenBalancesNetwork. */
export const TOKEN_BALANCE_NETWORKS = ['base', 'base-sepolia', 'ethereum'] as const;

export const CHAIN_IDS: Readonly<Record<string, number>> = {
  base: 8453,
  'base-sepolia': 84532,
  ethereum: 1,
  'ethereum-sepolia': 11155111,
  arbitrum: 42161,
  optimism: 10,
  zora: 7777777,
  polygon: 137,
  bnb: 56,
  avalanche: 43114,
};

export const createEvmAccountBody = z.object({
  name: accountName.optional(),
  accountPolicy: z.uuid().optional(),
});

export const createEvmSmartAccountBody = z.object({
  owners: z.array(address).min(1).max(2),
  name: accountName.optional(),
});

export const signEvmHashBody = z.object({ hash: bytes32 });

export const eip712MessageBody = z.object({
  domain: z.object({
    name: z.string().optional(),
    version: z.string().optional(),
    chainId: z.number().int().optional(),
    verifyingContract: address.optional(),
    salt: bytes32.optional(),
  }),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.string().min(1),
  message: z.record(z.string(), z.unknown()),
});

export const evmCall = z.object({
  to: address,
  value: atomicAmount,
  data: hex,
  overrideGasLimit: atomicAmount.optional(),
});
export type EvmCall = z.infer<typeof evmCall>;

export const prepareUserOperationBody = z.object({
  network: z.enum(USER_OPERATION_NETWORKS),
  calls: z.array(evmCall).min(1),
  paymasterUrl: z
    .string()
    .regex(/^https?:\/\/.*$/)
    .min(11)
    .max(2048)
    .optional(),
  paymasterContext: z.record(z.string(), z.unknown()).optional(),
  dataSuffix: z
    .string()
    .regex(/^0x[0-9a-fA-F]+$/)
    .optional(),
});

export const sendUserOperationBody = z.object({
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'not a 65-byte signature'),
});

/** Shared by GET /v2/evm/swaps/quote (query strings) and POST /v2/evm/swaps (JSON). */
const swapFields = {
  network: z.string(),
  toToken: address,
  fromToken: address,
  fromAmount: atomicAmount,
  taker: address,
  signerAddress: address.optional(),
  gasPrice: atomicAmount.optional(),
};

export const swapQuoteBody = z.object({
  ...swapFields,
  slippageBps: z.number().int().min(0).max(10_000).optional(),
});

export const swapPriceQuery = z.object({
  ...swapFields,
  slippageBps: z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(0).max(10_000))
    .optional(),
});

export type SwapRequest = z.infer<typeof swapQuoteBody>;

export const tokenBalancesQuery = z.object({
  pageSize: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(100)).optional(),
  pageToken: z.string().optional(),
});
