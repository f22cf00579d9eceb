/**
 * The CDP fake driven by the real `@coinbase/cdp-sdk`: accounts and smart accounts by name, token
 * balances, swap prices and quotes, swaps executed as user operations that move balances (ETH ->
 * USDC, and USDC -> ETH with approve + Permit2 in one operation), failed operations, idempotency,
 * and refusals of forged, expired or tampered credentials with no state change. The fake must
 * refuse what CDP refuses, or tests built on it prove nothing.
 *
 * The SDK configures one process-global HTTP client (CdpOpenApiClient.configure), so each test
 * builds its CdpClient after starting its fake, and the last client built is the one in use.
 */
import { randomUUID } from 'node:crypto';
import { CdpClient, type EvmServerAccount, type EvmSmartAccount } from '@coinbase/cdp-sdk';
import { getAuthHeaders } from '@coinbase/cdp-sdk/auth';
import {
  type Address,
  concat,
  encodeAbiParameters,
  erc20Abi,
  type Hex,
  hashTypedData,
  maxUint256,
  numberToHex,
  size,
  type TypedDataDefinition,
} from 'viem';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CdpTestCredentials, cdpTestCredentials } from '../fakes/cdp/credentials.js';
import {
  FakeCdp,
  type FakeToken,
  NATIVE_TOKEN,
  PERMIT2_ADDRESS,
  SETTLER_ADDRESS,
} from '../fakes/cdp/fake-cdp.js';

// The SDK otherwise posts usage and error analytics to Coinbase.
process.env['DISABLE_CDP_USAGE_TRACKING'] = 'true';
process.env['DISABLE_CDP_ERROR_REPORTING'] = 'true';

const ETH: FakeToken = { contractAddress: NATIVE_TOKEN, symbol: 'ETH', name: 'Ether', decimals: 18 };
const USDC: FakeToken = {
  contractAddress: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  symbol: 'USDC',
  name: 'USD Coin',
  decimals: 6,
};
const USDC_ADDRESS = USDC.contractAddress as Address;
const ONE_ETH = 10n ** 18n;
const ONE_USDC = 10n ** 6n;

let credentials: CdpTestCredentials;
let fake: FakeCdp;
let cdp: CdpClient;

beforeEach(async () => {
  credentials = cdpTestCredentials();
  fake = await FakeCdp.start({ credentials });
  cdp = connect();
});

afterEach(async () => {
  await fake.close();
});

/** A CdpClient against the fake; it becomes the process's active SDK configuration. */
function connect(overrides: Partial<ConstructorParameters<typeof CdpClient>[0]> = {}): CdpClient {
  return new CdpClient({
    apiKeyId: credentials.apiKeyId,
    apiKeySecret: credentials.apiKeySecret,
    walletSecret: credentials.walletSecret,
    basePath: fake.basePath,
    ...overrides,
  });
}

async function accounts(): Promise<{ owner: EvmServerAccount; smart: EvmSmartAccount }> {
  const owner = await cdp.evm.getOrCreateAccount({ name: 'arbion-owner' });
  const smart = await cdp.evm.getOrCreateSmartAccount({ name: 'arbion-smart', owner });
  return { owner, smart };
}

/** A raw request signed by the SDK's own header builder, for what the SDK would never send. */
async function rawRequest(
  method: string,
  path: string,
  options: {
    signedBody?: unknown;
    sentBody?: unknown;
    signedPath?: string;
    headers?: Record<string, string>;
  } = {},
  signal?: AbortSignal,
): Promise<{ status: number; json: unknown }> {
  const url = new URL(`${fake.basePath}${path}`);
  const headers = await getAuthHeaders({
    apiKeyId: credentials.apiKeyId,
    apiKeySecret: credentials.apiKeySecret,
    walletSecret: credentials.walletSecret,
    requestMethod: method,
    requestHost: url.host,
    requestPath: new URL(`${fake.basePath}${options.signedPath ?? path}`).pathname,
    requestBody: options.signedBody,
  });
  const sent = 'sentBody' in options ? options.sentBody : options.signedBody;
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...options.headers },
    ...(sent === undefined ? {} : { body: JSON.stringify(sent) }),
    ...(signal === undefined ? {} : { signal }),
  });
  return { status: response.status, json: (await response.json()) as unknown };
}

/** The SDK's APIError carries these; read them without depending on its class. */
function apiError(error: unknown): { statusCode: unknown; errorType: unknown } {
  const { statusCode, errorType } = error as { statusCode?: unknown; errorType?: unknown };
  return { statusCode, errorType };
}

async function rejection(promise: Promise<unknown>): Promise<{ statusCode: unknown; errorType: unknown }> {
  try {
    await promise;
  } catch (error) {
    return apiError(error);
  }
  throw new Error('expected a rejection');
}

/**
 * The owner's Permit2 signature, wrapped and appended to the swap calldata exactly as the SDK's
 * sendSwapOperation does (signAndWrapTypedDataForSmartAccount is not exported).
 */
async function withPermit2Signature(
  owner: EvmServerAccount,
  smart: EvmSmartAccount,
  data: Hex,
  permit2: { eip712: TypedDataDefinition },
  chainId: number,
): Promise<Hex> {
  const signature = await owner.signTypedData({
    domain: { name: 'Coinbase Smart Wallet', version: '1', chainId, verifyingContract: smart.address },
    types: { CoinbaseSmartWalletMessage: [{ name: 'hash', type: 'bytes32' }] },
    primaryType: 'CoinbaseSmartWalletMessage',
    message: { hash: hashTypedData(permit2.eip712) },
  });
  const wrapped = encodeAbiParameters(
    [
      {
        type: 'tuple',
        components: [
          { name: 'ownerIndex', type: 'uint8' },
          { name: 'signatureData', type: 'bytes' },
        ],
      },
    ],
    [{ ownerIndex: 0, signatureData: signature }],
  );
  return concat([data, numberToHex(size(wrapped), { signed: false, size: 32 }), wrapped]);
}

describe('accounts', () => {
  it('getOrCreateAccount and getOrCreateSmartAccount return the same addresses the second time', async () => {
    const first = await accounts();
    const second = await accounts();
    expect(second.owner.address).toBe(first.owner.address);
    expect(second.smart.address).toBe(first.smart.address);
    expect(first.smart.owners[0]?.address).toBe(first.owner.address);
    expect(first.owner.address).toMatch(/^0x[0-9a-fA-F]{40}$/);

    const creates = fake.requests().filter((request) => request.method === 'POST');
    expect(creates.map((request) => [request.path, request.status, request.walletAuth])).toEqual([
      ['/platform/v2/evm/accounts', 201, 'ok'],
      ['/platform/v2/evm/smart-accounts', 201, 'not-required'],
    ]);
    expect(fake.requests()[0]).toMatchObject({
      path: '/platform/v2/evm/accounts/by-name/arbion-owner',
      status: 404,
    });
  });

  it('works with an EC (ES256) API key as well as an Ed25519 one', async () => {
    const { owner } = await accounts();
    const ec = connect({ apiKeyId: credentials.ecApiKeyId, apiKeySecret: credentials.ecApiKeySecret });
    const again = await ec.evm.getAccount({ name: 'arbion-owner' });
    expect(again.address).toBe(owner.address);
    const kids = new Set(fake.requests().map((request) => request.kid));
    expect(kids).toEqual(new Set([credentials.apiKeyId, credentials.ecApiKeyId]));
  });
});

describe('token balances and swap prices', () => {
  it('lists the balances the test set, page by page', async () => {
    const { smart } = await accounts();
    fake.setBalance('base', smart.address, ETH, (2n * ONE_ETH).toString());
    fake.setBalance('base', smart.address, USDC, (150n * ONE_USDC).toString());

    const all = await cdp.evm.listTokenBalances({ address: smart.address, network: 'base' });
    expect(all.balances).toEqual([
      {
        token: { network: 'base', symbol: 'ETH', name: 'Ether', contractAddress: NATIVE_TOKEN },
        amount: { amount: 2n * ONE_ETH, decimals: 18 },
      },
      {
        token: { network: 'base', symbol: 'USDC', name: 'USD Coin', contractAddress: USDC.contractAddress },
        amount: { amount: 150n * ONE_USDC, decimals: 6 },
      },
    ]);
    const first = await cdp.evm.listTokenBalances({ address: smart.address, network: 'base', pageSize: 1 });
    expect(first.balances.map((balance) => balance.token.symbol)).toEqual(['ETH']);
    expect(first.nextPageToken).toBeDefined();
    const second = await cdp.evm.listTokenBalances({
      address: smart.address,
      network: 'base',
      pageSize: 1,
      ...(first.nextPageToken === undefined ? {} : { pageToken: first.nextPageToken }),
    });
    expect(second.balances.map((balance) => balance.token.symbol)).toEqual(['USDC']);
    expect(second.nextPageToken).toBeUndefined();
    const other = await cdp.evm.listTokenBalances({ address: smart.address, network: 'ethereum' });
    expect(other.balances).toEqual([]);
  });

  it('prices and quotes swaps at the rate the test set, with slippage, issues and Permit2 data', async () => {
    const { smart } = await accounts();
    fake.setBalance('base', smart.address, ETH, ONE_ETH.toString());
    fake.setBalance('base', smart.address, USDC, (10n * ONE_USDC).toString());
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000');
    fake.setRate('base', USDC.contractAddress, NATIVE_TOKEN, '0.0004');

    const price = await cdp.evm.getSwapPrice({
      network: 'base',
      fromToken: NATIVE_TOKEN,
      toToken: USDC_ADDRESS,
      fromAmount: ONE_ETH / 10n,
      taker: smart.address,
    });
    expect(price).toMatchObject({
      liquidityAvailable: true,
      fromAmount: ONE_ETH / 10n,
      toAmount: 300n * ONE_USDC,
      minToAmount: 297n * ONE_USDC, // default slippage 100 bps
      issues: { simulationIncomplete: false },
      fees: { gasFee: { token: NATIVE_TOKEN } },
    });

    const quote = await cdp.evm.createSwapQuote({
      network: 'base',
      fromToken: NATIVE_TOKEN,
      toToken: USDC_ADDRESS,
      fromAmount: ONE_ETH / 10n,
      taker: smart.address,
      slippageBps: 50,
    });
    if (!quote.liquidityAvailable) throw new Error('expected liquidity');
    expect(quote.minToAmount).toBe(2985n * 10n ** 5n);
    expect(quote.transaction).toMatchObject({ to: SETTLER_ADDRESS, value: ONE_ETH / 10n });
    expect(quote.permit2).toBeUndefined();

    // Selling USDC needs a Permit2 allowance and more USDC than the taker holds.
    const erc20 = await cdp.evm.createSwapQuote({
      network: 'base',
      fromToken: USDC_ADDRESS,
      toToken: NATIVE_TOKEN,
      fromAmount: 100n * ONE_USDC,
      taker: smart.address,
    });
    if (!erc20.liquidityAvailable) throw new Error('expected liquidity');
    expect(erc20.toAmount).toBe((4n * ONE_ETH) / 100n);
    expect(erc20.issues.allowance).toEqual({ currentAllowance: 0n, spender: PERMIT2_ADDRESS });
    expect(erc20.issues.balance).toEqual({
      token: USDC.contractAddress,
      currentBalance: 10n * ONE_USDC,
      requiredBalance: 100n * ONE_USDC,
    });
    expect(erc20.issues.simulationIncomplete).toBe(true);
    expect(erc20.permit2?.eip712.primaryType).toBe('PermitTransferFrom');
    expect(erc20.permit2?.eip712.domain).toMatchObject({ chainId: 8453, verifyingContract: PERMIT2_ADDRESS });

    const unknownPair = await cdp.evm.getSwapPrice({
      network: 'base',
      fromToken: USDC_ADDRESS,
      toToken: '0x4200000000000000000000000000000000000006',
      fromAmount: ONE_USDC,
      taker: smart.address,
    });
    expect(unknownPair).toEqual({ liquidityAvailable: false });

    const unsupported = await rejection(
      cdp.evm.createSwapQuote({
        network: 'base-sepolia' as 'base',
        fromToken: NATIVE_TOKEN,
        toToken: USDC_ADDRESS,
        fromAmount: ONE_ETH,
        taker: smart.address,
      }),
    );
    expect(unsupported).toEqual({ statusCode: 400, errorType: 'invalid_request' });
  });
});

describe('swaps as user operations', () => {
  it('swaps ETH for USDC with the quote’s transaction and moves the balances', async () => {
    const { smart } = await accounts();
    fake.setBalance('base', smart.address, ETH, (2n * ONE_ETH).toString());
    fake.setBalance('base', smart.address, USDC, '0');
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000');
    const quote = await cdp.evm.createSwapQuote({
      network: 'base',
      fromToken: NATIVE_TOKEN,
      toToken: USDC_ADDRESS,
      fromAmount: ONE_ETH / 10n,
      taker: smart.address,
    });
    if (!quote.liquidityAvailable || quote.transaction === undefined) throw new Error('expected a quote');

    const sent = await cdp.evm.sendUserOperation({
      smartAccount: smart,
      network: 'base',
      calls: [{ to: quote.transaction.to, data: quote.transaction.data, value: quote.transaction.value }],
    });
    expect(sent.status).toBe('broadcast');
    const landed = await cdp.evm.waitForUserOperation({
      smartAccountAddress: smart.address,
      userOpHash: sent.userOpHash,
    });
    expect(landed.status).toBe('complete');
    if (landed.status !== 'complete') return;
    expect(landed.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);

    expect(fake.balance('base', smart.address, NATIVE_TOKEN)).toBe(`${(19n * ONE_ETH) / 10n}`);
    expect(fake.balance('base', smart.address, USDC.contractAddress)).toBe(`${300n * ONE_USDC}`);
    // On base the SDK names CDP's paymaster, found through the active-token lookup.
    const [operation] = fake.userOperations();
    expect(operation).toMatchObject({
      status: 'complete',
      network: 'base',
      sponsored: true,
      paymasterUrl: fake.cdpPaymasterUrl('base', credentials.apiKeyId),
    });
    expect(fake.requests().find((request) => request.path === '/apikeys/v1/tokens/active')).toMatchObject({
      status: 200,
      auth: 'ok',
    });
    const userOperation = await cdp.evm.getUserOperation({
      smartAccount: smart,
      userOpHash: sent.userOpHash,
    });
    expect(userOperation.status).toBe('complete');
  });

  it('swaps USDC for ETH in one operation that approves Permit2 and carries the Permit2 signature', async () => {
    const { owner, smart } = await accounts();
    fake.setBalance('base', smart.address, USDC, (500n * ONE_USDC).toString());
    fake.setRate('base', USDC.contractAddress, NATIVE_TOKEN, '0.0004');
    const quote = await cdp.evm.createSwapQuote({
      network: 'base',
      fromToken: USDC_ADDRESS,
      toToken: NATIVE_TOKEN,
      fromAmount: 100n * ONE_USDC,
      taker: smart.address,
      signerAddress: owner.address,
    });
    if (!quote.liquidityAvailable || quote.transaction === undefined || quote.permit2 === undefined) {
      throw new Error('expected an ERC-20 quote');
    }
    expect(quote.issues.allowance?.spender).toBe(PERMIT2_ADDRESS);
    const data = await withPermit2Signature(
      owner,
      smart,
      quote.transaction.data,
      quote.permit2 as { eip712: TypedDataDefinition },
      8453,
    );

    const sent = await cdp.evm.sendUserOperation({
      smartAccount: smart,
      network: 'base',
      calls: [
        { to: USDC_ADDRESS, abi: erc20Abi, functionName: 'approve', args: [PERMIT2_ADDRESS, maxUint256] },
        { to: quote.transaction.to, data, value: 0n },
      ],
    });
    const landed = await cdp.evm.waitForUserOperation({
      smartAccountAddress: smart.address,
      userOpHash: sent.userOpHash,
    });
    expect(landed.status).toBe('complete');
    expect(fake.balance('base', smart.address, USDC.contractAddress)).toBe(`${400n * ONE_USDC}`);
    expect(fake.balance('base', smart.address, NATIVE_TOKEN)).toBe(`${(4n * ONE_ETH) / 100n}`);
    expect(fake.allowance('base', smart.address, USDC.contractAddress)).toBe(maxUint256.toString());
    expect(fake.userOperations()).toHaveLength(1);

    // With the allowance in place, the SDK's own swap path (quote, Permit2 signing, one operation) works too.
    const swapped = await smart.swap({
      network: 'base',
      fromToken: USDC_ADDRESS,
      toToken: NATIVE_TOKEN,
      fromAmount: 50n * ONE_USDC,
      slippageBps: 100,
    });
    const second = await cdp.evm.waitForUserOperation({
      smartAccountAddress: smart.address,
      userOpHash: swapped.userOpHash,
    });
    expect(second.status).toBe('complete');
    expect(fake.balance('base', smart.address, USDC.contractAddress)).toBe(`${350n * ONE_USDC}`);
    expect(fake.balance('base', smart.address, NATIVE_TOKEN)).toBe(`${(6n * ONE_ETH) / 100n}`);

    // The same signed Permit2 cannot be executed twice: its nonce is spent.
    const replay = await cdp.evm.sendUserOperation({
      smartAccount: smart,
      network: 'base',
      calls: [{ to: quote.transaction.to, data, value: 0n }],
    });
    const replayed = await cdp.evm.waitForUserOperation({
      smartAccountAddress: smart.address,
      userOpHash: replay.userOpHash,
    });
    expect(replayed.status).toBe('failed');
    expect(fake.userOperations().at(-1)?.failureReason).toMatch(/nonce already used/);
    expect(fake.balance('base', smart.address, USDC.contractAddress)).toBe(`${350n * ONE_USDC}`);
  });

  it('reports injected failures and operations that cannot execute as failed, moving nothing', async () => {
    const { owner, smart } = await accounts();
    fake.setBalance('base', smart.address, ETH, (ONE_ETH / 2n).toString());
    fake.setBalance('base', smart.address, USDC, (100n * ONE_USDC).toString());
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000');
    fake.setRate('base', USDC.contractAddress, NATIVE_TOKEN, '0.0004');
    const swapEth = async (fromAmount: bigint) => {
      const quote = await cdp.evm.createSwapQuote({
        network: 'base',
        fromToken: NATIVE_TOKEN,
        toToken: USDC_ADDRESS,
        fromAmount,
        taker: smart.address,
      });
      if (!quote.liquidityAvailable || quote.transaction === undefined) throw new Error('expected a quote');
      const sent = await cdp.evm.sendUserOperation({
        smartAccount: smart,
        network: 'base',
        calls: [{ to: quote.transaction.to, data: quote.transaction.data, value: quote.transaction.value }],
      });
      return cdp.evm.waitForUserOperation({
        smartAccountAddress: smart.address,
        userOpHash: sent.userOpHash,
      });
    };

    fake.failNextUserOperation('AA23 reverted');
    expect((await swapEth(ONE_ETH / 10n)).status).toBe('failed');
    expect(fake.userOperations()[0]?.failureReason).toBe('AA23 reverted');

    // More ETH than the account holds.
    expect((await swapEth(ONE_ETH)).status).toBe('failed');
    expect(fake.userOperations()[1]?.failureReason).toMatch(/insufficient balance/);

    // An ERC-20 swap without a Permit2 allowance reverts at execution.
    const quote = await cdp.evm.createSwapQuote({
      network: 'base',
      fromToken: USDC_ADDRESS,
      toToken: NATIVE_TOKEN,
      fromAmount: 10n * ONE_USDC,
      taker: smart.address,
    });
    if (!quote.liquidityAvailable || quote.transaction === undefined || quote.permit2 === undefined) {
      throw new Error('expected an ERC-20 quote');
    }
    const data = await withPermit2Signature(
      owner,
      smart,
      quote.transaction.data,
      quote.permit2 as { eip712: TypedDataDefinition },
      8453,
    );
    const sent = await cdp.evm.sendUserOperation({
      smartAccount: smart,
      network: 'base',
      calls: [{ to: quote.transaction.to, data, value: 0n }],
    });
    const landed = await cdp.evm.waitForUserOperation({
      smartAccountAddress: smart.address,
      userOpHash: sent.userOpHash,
    });
    expect(landed.status).toBe('failed');
    expect(fake.userOperations()[2]?.failureReason).toMatch(/Permit2 allowance 0 </);

    // Approved, but the Permit2 signature is not the owner's: the whole operation reverts, approve included.
    const intruder = await cdp.evm.createAccount({ name: 'intruder' });
    const forged = await withPermit2Signature(
      intruder,
      smart,
      quote.transaction.data,
      quote.permit2 as { eip712: TypedDataDefinition },
      8453,
    );
    const forgedSent = await cdp.evm.sendUserOperation({
      smartAccount: smart,
      network: 'base',
      calls: [
        { to: USDC_ADDRESS, abi: erc20Abi, functionName: 'approve', args: [PERMIT2_ADDRESS, maxUint256] },
        { to: quote.transaction.to, data: forged, value: 0n },
      ],
    });
    const forgedLanded = await cdp.evm.waitForUserOperation({
      smartAccountAddress: smart.address,
      userOpHash: forgedSent.userOpHash,
    });
    expect(forgedLanded.status).toBe('failed');
    expect(fake.userOperations()[3]?.failureReason).toMatch(/call 1: Permit2 signature is not the owner/);
    expect(fake.allowance('base', smart.address, USDC.contractAddress)).toBe('0');

    expect(fake.balance('base', smart.address, NATIVE_TOKEN)).toBe(`${ONE_ETH / 2n}`);
    expect(fake.balance('base', smart.address, USDC.contractAddress)).toBe(`${100n * ONE_USDC}`);
  });

  it('executes at the rate current when the operation lands, within the quote’s slippage and deadline', async () => {
    const { smart } = await accounts();
    fake.setBalance('base', smart.address, ETH, ONE_ETH.toString());
    expect(() => fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000')).toThrow(/register/);
    fake.addToken('base', USDC);
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000');
    const quoteAndSend = async () => {
      const quote = await cdp.evm.createSwapQuote({
        network: 'base',
        fromToken: NATIVE_TOKEN,
        toToken: USDC_ADDRESS,
        fromAmount: ONE_ETH / 10n,
        taker: smart.address,
        slippageBps: 100,
      });
      if (!quote.liquidityAvailable || quote.transaction === undefined) throw new Error('expected a quote');
      const sent = await cdp.evm.sendUserOperation({
        smartAccount: smart,
        network: 'base',
        calls: [{ to: quote.transaction.to, data: quote.transaction.data, value: quote.transaction.value }],
      });
      return () =>
        cdp.evm.waitForUserOperation({ smartAccountAddress: smart.address, userOpHash: sent.userOpHash });
    };

    // The price drops 0.5 % before the operation lands: within 1 % slippage, at the new price.
    const withinSlippage = await quoteAndSend();
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '2985');
    expect((await withinSlippage()).status).toBe('complete');
    expect(fake.balance('base', smart.address, USDC.contractAddress)).toBe(`${2985n * 10n ** 5n}`);

    // It drops 2 %: below minToAmount, the swap reverts.
    const beyondSlippage = await quoteAndSend();
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '2925.3');
    expect((await beyondSlippage()).status).toBe('failed');
    expect(fake.userOperations()[1]?.failureReason).toMatch(/below minToAmount/);

    // A quote past its deadline reverts.
    fake.setQuoteLifetimeSeconds(-1);
    const expired = await quoteAndSend();
    expect((await expired()).status).toBe('failed');
    expect(fake.userOperations()[2]?.failureReason).toMatch(/quote expired/);
    expect(fake.balance('base', smart.address, NATIVE_TOKEN)).toBe(`${(9n * ONE_ETH) / 10n}`);
  });

  it('lands operations only when the test settles them, if told to wait', async () => {
    const { smart } = await accounts();
    fake.setBalance('base-sepolia', smart.address, ETH, ONE_ETH.toString());
    fake.settleAfterPolls = Number.POSITIVE_INFINITY;
    const recipient = '0x1111111111111111111111111111111111111111';
    const sent = await cdp.evm.sendUserOperation({
      smartAccount: smart,
      network: 'base-sepolia',
      calls: [{ to: recipient, value: ONE_ETH / 4n, data: '0x' }],
    });
    expect(
      (await cdp.evm.getUserOperation({ smartAccount: smart, userOpHash: sent.userOpHash })).status,
    ).toBe('broadcast');
    expect(await fake.settle()).toBe(1);
    expect(
      (await cdp.evm.getUserOperation({ smartAccount: smart, userOpHash: sent.userOpHash })).status,
    ).toBe('complete');
    expect(fake.balance('base-sepolia', recipient, NATIVE_TOKEN)).toBe(`${ONE_ETH / 4n}`);
    // base-sepolia is sponsored without a paymaster URL; the SDK names none there.
    expect(fake.userOperations()[0]).toMatchObject({ paymasterUrl: undefined, sponsored: true });
  });

  it('refuses to send an operation signed by someone other than the owner', async () => {
    const { smart } = await accounts();
    const intruder = await cdp.evm.createAccount({ name: 'intruder' });
    fake.setBalance('base-sepolia', smart.address, ETH, ONE_ETH.toString());
    const refused = await rejection(
      cdp.evm.sendUserOperation({
        smartAccount: { ...smart, owners: [intruder] },
        network: 'base-sepolia',
        calls: [{ to: intruder.address, value: ONE_ETH, data: '0x' }],
      }),
    );
    expect(refused).toEqual({ statusCode: 400, errorType: 'invalid_signature' });
    expect(fake.userOperations().map((operation) => operation.status)).toEqual(['pending']);
    expect(fake.balance('base-sepolia', smart.address, NATIVE_TOKEN)).toBe(ONE_ETH.toString());
  });
});

describe('idempotency', () => {
  it('replays the first answer to the same request under the same key, and refuses a different one', async () => {
    const key = randomUUID();
    const first = await cdp.evm.createAccount({ name: 'keyed', idempotencyKey: key });
    const again = await cdp.evm.createAccount({ name: 'keyed', idempotencyKey: key });
    expect(again.address).toBe(first.address);
    expect(
      fake
        .requests()
        .filter((request) => request.idempotencyKey === key)
        .map((r) => r.replayed),
    ).toEqual([false, true]);
    const other = await rejection(cdp.evm.createAccount({ name: 'other', idempotencyKey: key }));
    expect(other).toEqual({ statusCode: 422, errorType: 'idempotency_error' });
    expect(await rejection(cdp.evm.getAccount({ name: 'other' }))).toMatchObject({ statusCode: 404 });
  });

  it('executes a user operation once when its send is repeated with the same key', async () => {
    const { owner, smart } = await accounts();
    fake.setBalance('base-sepolia', smart.address, ETH, ONE_ETH.toString());
    const recipient = '0x2222222222222222222222222222222222222222';
    const key = randomUUID();
    // The send is processed, but its answer is lost.
    fake.failNext(/\/send$/, 502, undefined, { afterProcessing: true });
    const lost = await rejection(
      cdp.evm.sendUserOperation({
        smartAccount: smart,
        network: 'base-sepolia',
        calls: [{ to: recipient, value: ONE_ETH / 10n, data: '0x' }],
        idempotencyKey: key,
      }),
    );
    expect(lost.statusCode).toBe(502);
    const [operation] = fake.userOperations();
    if (operation === undefined) throw new Error('expected an operation');
    expect(operation.status).toBe('broadcast');

    // Resending the very same request (same signature: ECDSA signing is deterministic) replays the answer.
    const signature = await owner.sign({ hash: operation.userOpHash });
    const path = `/v2/evm/smart-accounts/${smart.address}/user-operations/${operation.userOpHash}/send`;
    const replay = await rawRequest('POST', path, {
      signedBody: { signature },
      headers: { 'X-Idempotency-Key': key },
    });
    expect(replay).toMatchObject({
      status: 200,
      json: { status: 'broadcast', userOpHash: operation.userOpHash },
    });
    expect(fake.requests().at(-1)).toMatchObject({ replayed: true, status: 200 });

    // The SDK's sendUserOperation prepares a new operation each time: the same key on that new
    // send is a different request, which CDP refuses.
    const retried = await rejection(
      cdp.evm.sendUserOperation({
        smartAccount: smart,
        network: 'base-sepolia',
        calls: [{ to: recipient, value: ONE_ETH / 10n, data: '0x' }],
        idempotencyKey: key,
      }),
    );
    expect(retried).toEqual({ statusCode: 422, errorType: 'idempotency_error' });

    await cdp.evm.waitForUserOperation({
      smartAccountAddress: smart.address,
      userOpHash: operation.userOpHash,
    });
    expect(fake.userOperations().map((op) => op.status)).toEqual(['complete', 'pending']);
    expect(fake.balance('base-sepolia', recipient, NATIVE_TOKEN)).toBe(`${ONE_ETH / 10n}`);
  });
});

describe('authentication', () => {
  it('refuses a bearer from an unknown key or forged with another key, changing nothing', async () => {
    const other = cdpTestCredentials();
    const unknown = connect({ apiKeyId: other.apiKeyId, apiKeySecret: other.apiKeySecret });
    expect(await rejection(unknown.evm.createAccount({ name: 'forged' }))).toEqual({
      statusCode: 401,
      errorType: 'unauthorized',
    });
    const forged = connect({ apiKeySecret: other.apiKeySecret });
    expect(await rejection(forged.evm.createAccount({ name: 'forged' }))).toEqual({
      statusCode: 401,
      errorType: 'unauthorized',
    });
    expect(fake.requests().map((request) => [request.status, request.problem])).toEqual([
      [401, 'unknown kid'],
      [401, 'signature verification failed'],
    ]);
    cdp = connect();
    expect(await rejection(cdp.evm.getAccount({ name: 'forged' }))).toMatchObject({ statusCode: 404 });
  });

  it('refuses an expired JWT', async () => {
    await cdp.evm.createAccount({ name: 'before' });
    // Ten minutes on: the SDK's two-minute JWTs are stale by the fake's clock.
    fake.now = () => new Date(Date.now() + 10 * 60_000);
    expect(await rejection(cdp.evm.createAccount({ name: 'after' }))).toEqual({
      statusCode: 401,
      errorType: 'unauthorized',
    });
    expect(fake.requests().at(-1)?.problem).toMatch(/"exp" claim timestamp check failed/);
    fake.now = () => new Date();
    expect(await rejection(cdp.evm.getAccount({ name: 'after' }))).toMatchObject({ statusCode: 404 });
  });

  it('refuses X-Wallet-Auth from another wallet secret, for a tampered body, or missing', async () => {
    const other = cdpTestCredentials();
    const wrongSecret = connect({ walletSecret: other.walletSecret });
    expect(await rejection(wrongSecret.evm.createAccount({ name: 'wrong-secret' }))).toEqual({
      statusCode: 401,
      errorType: 'unauthorized',
    });
    expect(fake.requests().at(-1)).toMatchObject({ auth: 'ok', walletAuth: 'rejected', status: 401 });

    const tampered = await rawRequest('POST', '/v2/evm/accounts', {
      signedBody: { name: 'honest' },
      sentBody: { name: 'tampered' },
    });
    expect(tampered).toMatchObject({ status: 401, json: { errorType: 'unauthorized' } });
    expect(fake.requests().at(-1)?.problem).toMatch(/reqHash/);

    const missing = await rawRequest('POST', '/v2/evm/accounts', {
      signedBody: { name: 'no-wallet-token' },
      headers: { 'X-Wallet-Auth': '' },
    });
    expect(missing.status).toBe(401);
    expect(fake.requests().at(-1)?.problem).toBe('no X-Wallet-Auth');

    // 90 s on, the bearer (two-minute lifetime) still passes but the wallet token (one minute) does not.
    cdp = connect();
    fake.now = () => new Date(Date.now() + 90_000);
    expect(await rejection(cdp.evm.createAccount({ name: 'stale-wallet-token' }))).toMatchObject({
      statusCode: 401,
    });
    expect(fake.requests().at(-1)).toMatchObject({ auth: 'ok', walletAuth: 'rejected' });
    expect(fake.requests().at(-1)?.problem).toMatch(/iat/);
    fake.now = () => new Date();

    const elsewhere = await rawRequest('GET', '/v2/evm/accounts/by-name/someone', {
      signedPath: '/v2/evm/accounts/by-name/someone-else',
    });
    expect(elsewhere.status).toBe(401);
    expect(fake.requests().at(-1)?.problem).toMatch(/do not name/);

    cdp = connect();
    for (const name of ['wrong-secret', 'honest', 'tampered', 'no-wallet-token', 'stale-wallet-token']) {
      expect(await rejection(cdp.evm.getAccount({ name }))).toMatchObject({ statusCode: 404 });
    }
  });
});

describe('failure injection', () => {
  it('fails the next matching requests; the SDK retries a failed GET by itself', async () => {
    const { smart } = await accounts();
    fake.failNext(/\/token-balances\//, 503);
    const balances = await cdp.evm.listTokenBalances({ address: smart.address, network: 'base' });
    expect(balances.balances).toEqual([]);
    const statuses = fake
      .requests()
      .filter((request) => request.path.includes('/token-balances/'))
      .map((request) => request.status);
    expect(statuses).toEqual([503, 200]);

    fake.addToken('base', USDC);
    fake.setRate('base', NATIVE_TOKEN, USDC.contractAddress, '3000');
    fake.failNext(/\/v2\/evm\/swaps$/, 500);
    const failed = await rejection(
      cdp.evm.createSwapQuote({
        network: 'base',
        fromToken: NATIVE_TOKEN,
        toToken: USDC_ADDRESS,
        fromAmount: ONE_ETH,
        taker: smart.address,
      }),
    );
    expect(failed.statusCode).toBe(500);
  });

  it('can process a request and never answer it', async () => {
    fake.hangNext(/\/v2\/evm\/accounts$/, { afterProcessing: true });
    const abort = new AbortController();
    const pending = rawRequest('POST', '/v2/evm/accounts', { signedBody: { name: 'hung' } }, abort.signal);
    await vi.waitFor(() => expect(fake.requests().at(-1)).toMatchObject({ status: 0 }), { timeout: 10_000 });
    abort.abort();
    await expect(pending).rejects.toThrow();
    const account = await cdp.evm.getAccount({ name: 'hung' });
    expect(account.address).toMatch(/^0x/);
  });
});
