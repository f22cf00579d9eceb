/**
 * One user's Coinbase smart wallet behind the `Broker` interface: it swaps tokens, nothing else.
 *
 * A swap is one user operation: the swap transaction from a fresh CDP swap quote, preceded in the
 * same operation by an ERC-20 approval of Permit2 when the quote says the allowance is short (the
 * SDK's own `swap` refuses then), with the Permit2 signature appended as the SDK's smart-account
 * swap does. The fresh quote must still give at least the card's minimum received, or nothing is
 * sent. The user operation's hash is the order id; the order tracker follows it to complete or
 * failed.
 */
import { createHash } from 'node:crypto';
import {
  type Address,
  concat,
  encodeAbiParameters,
  encodeFunctionData,
  erc20Abi,
  formatUnits,
  type Hex,
  hashTypedData,
  numberToHex,
  parseUnits,
  size,
  type TypedDataDefinition,
} from 'viem';
import { z } from 'zod';
import {
  type AccountSnapshot,
  type Balances,
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  BrokerUnreachableError,
  type NetworkBalances,
  type PlaceOrderRequest,
  type Position,
  type SwapQuote,
  type SwapQuoteRequest,
} from '../../core/brokers/broker.js';
import { Decimal } from '../../core/domain/values.js';
import type { Logger } from '../../core/logging/logger.js';
import type { BrokerHttpHealth } from '../http/broker-http-client.js';
import { BrokerRequestRejectedError } from '../http/errors.js';
import { retryAfterMs } from '../http/retry-after.js';
import { CdpWallets, type UserWallet } from './cdp-wallets.js';
import { listTokenBalances } from './token-balances.js';
import {
  isWalletNetwork,
  tokenAt,
  tokenOn,
  tokenSymbols,
  WALLET_NETWORKS,
  type WalletNetwork,
  type WalletToken,
} from './tokens.js';

/** Networks the CDP swap API serves (base-sepolia has user operations but no swaps). */
const SWAP_NETWORKS = new Set<WalletNetwork>(['base', 'ethereum', 'arbitrum', 'optimism', 'polygon']);
/** Networks the CDP balance API serves. */
const BALANCE_NETWORKS = ['base', 'ethereum', 'base-sepolia'] as const;
const STABLECOINS = new Set(['USDC', 'USDT', 'DAI']);

/** The error shape the SDK throws for an API answer (its APIError is not exported). */
const apiErrorSchema = z.object({
  statusCode: z.number(),
  errorType: z.string(),
  errorMessage: z.string(),
});

export interface CdpWalletBrokerOptions {
  readonly wallets: CdpWallets;
  /** Whose wallet this is: the accounts are derived from the user id. */
  readonly userId: string;
  /** Where swaps run when a request names no network (chosen when linking). */
  readonly defaultNetwork: string;
  readonly logger: Logger;
  /** How a rate-limited send waits before it is sent again (tests record the waits). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => Date;
}

/** Sends refused as rate limited (429: not processed) are sent again this many times at most. */
const RATE_LIMITED_SENDS = 5;
/** The wait when a 429 does not say how long (doubled on each repeat). */
const RATE_LIMIT_WAIT_MS = 1_000;

export class CdpWalletBroker implements Broker {
  readonly provider = 'cdp_wallet' as const;
  /** A user operation is followed by the process that sent it; CDP has no lookup by our key. */
  readonly placementLookup = 'on_chain' as const;
  readonly reportsOwnFills = false;
  readonly sellsOptionsToOpen = false;
  /** User operations sent by this process, by client order id: how an unclear send is looked up. */
  private readonly sent = new Map<string, Hex>();
  private health_: {
    consecutiveFailures: number;
    lastSuccessAt?: Date;
    lastFailureAt?: Date;
    lastError?: string;
  } = { consecutiveFailures: 0 };

  constructor(private readonly options: CdpWalletBrokerOptions) {}

  /** The smart account's address: the wallet's only account. */
  async accountAddress(): Promise<string> {
    return (await this.wallet()).smart.address;
  }

  health(): BrokerHttpHealth {
    const failing = this.health_.consecutiveFailures;
    return {
      status: failing >= 3 ? 'down' : failing > 0 ? 'degraded' : 'healthy',
      circuit: 'closed',
      consecutiveFailures: failing,
      ...(this.health_.lastSuccessAt ? { lastSuccessAt: this.health_.lastSuccessAt } : {}),
      ...(this.health_.lastFailureAt ? { lastFailureAt: this.health_.lastFailureAt } : {}),
      ...(this.health_.lastError ? { lastError: this.health_.lastError } : {}),
    };
  }

  // ------------------------------------------------------------------ swaps

  async quoteSwap(request: SwapQuoteRequest): Promise<SwapQuote> {
    const { network, from, to, fromAmount } = this.resolve(request);
    const wallet = await this.wallet();
    const price = await this.call('swap price', () =>
      this.options.wallets.client.evm.getSwapPrice({
        network: network as 'base',
        fromToken: from.address,
        toToken: to.address,
        fromAmount,
        taker: wallet.smart.address,
        signerAddress: wallet.owner.address,
        slippageBps: request.slippageBps,
      }),
    );
    if (!price.liquidityAvailable) {
      throw new BrokerRejectedError(
        this.provider,
        `there is not enough liquidity to swap ${from.symbol} to ${to.symbol} on ${network} right now`,
      );
    }
    const shortBalance = price.issues.balance?.currentBalance;
    // Listed networks: the balance itself. Elsewhere the swap price says only that it covers the swap.
    const listed =
      shortBalance === undefined
        ? await this.tokensOn(wallet, network).then((tokens) =>
            tokens === undefined
              ? undefined
              : (tokens.find((token) => token.symbol === from.symbol)?.quantity ?? new Decimal(0)),
          )
        : units(shortBalance, from.decimals);
    return {
      network,
      fromAmount: units(price.fromAmount, from.decimals),
      toAmount: units(price.toAmount, to.decimals),
      minToAmount: units(price.minToAmount, to.decimals),
      fromBalance: listed ?? request.fromAmount,
      fromBalanceExact: listed !== undefined,
      gasSponsored: this.options.wallets.gasFor(network).sponsored,
    };
  }

  async placeOrder(request: PlaceOrderRequest): Promise<BrokerOrder> {
    // Placed before by this process: the same operation, never a second one.
    const already = this.sent.get(request.clientOrderId);
    if (already !== undefined) return this.orderOf(request.clientOrderId, request, already, 'broadcast');
    const swap = request.swap;
    if (swap === undefined || request.quantity === undefined) {
      throw new BrokerRejectedError(
        this.provider,
        'the smart wallet only swaps tokens; orders go to your trading account',
      );
    }
    const { network, from, to, fromAmount } = this.resolve({
      accountId: request.accountId,
      network: swap.network,
      fromToken: request.symbol,
      toToken: swap.toToken,
      fromAmount: request.quantity,
      slippageBps: swap.slippageBps,
    });
    const wallet = await this.wallet();
    const { client } = this.options.wallets;
    // Before sending anything, nothing is placed: every failure up to the send is a refusal.
    const quote = await this.call('swap quote', () =>
      client.evm.createSwapQuote({
        network: network as 'base',
        fromToken: from.address,
        toToken: to.address,
        fromAmount,
        taker: wallet.smart.address,
        signerAddress: wallet.owner.address,
        slippageBps: swap.slippageBps,
        idempotencyKey: idempotencyKey(request.clientOrderId, 'quote'),
      }),
    );
    if (!quote.liquidityAvailable) {
      throw new BrokerRejectedError(
        this.provider,
        `there is no liquidity for ${from.symbol} to ${to.symbol} now`,
      );
    }
    if (quote.issues.balance !== undefined) {
      const held = units(quote.issues.balance.currentBalance, from.decimals);
      throw new BrokerRejectedError(
        this.provider,
        `your wallet holds only ${held.toFixed()} ${from.symbol} on ${network}`,
      );
    }
    const minimum = units(quote.minToAmount, to.decimals);
    if (minimum.lessThan(swap.minToAmount)) {
      throw new BrokerRejectedError(
        this.provider,
        `the rate moved: you would now receive at least ${minimum.toFixed()} ${to.symbol}, below the ${swap.minToAmount.toFixed()} the card promised`,
      );
    }
    if (quote.transaction === undefined) {
      throw new BrokerRejectedError(this.provider, 'Coinbase returned no swap transaction');
    }
    let swapData = quote.transaction.data;
    if (quote.permit2?.eip712 !== undefined) {
      const signature = await this.call('permit2 signature', () =>
        this.signForSmartAccount(wallet, quote.permit2?.eip712 as TypedDataDefinition, request.clientOrderId),
      );
      // Permit2 swaps carry the signature's length and the signature after the calldata.
      swapData = concat([swapData, numberToHex(size(signature), { signed: false, size: 32 }), signature]);
    }
    const calls: { to: Address; data: Hex; value: bigint }[] = [];
    if (quote.issues.allowance !== undefined) {
      calls.push({
        to: from.address,
        data: encodeFunctionData({
          abi: erc20Abi,
          functionName: 'approve',
          args: [quote.issues.allowance.spender, fromAmount],
        }),
        value: 0n,
      });
    }
    calls.push({ to: quote.transaction.to, data: swapData, value: quote.transaction.value });
    const gas = this.options.wallets.gasFor(network);
    const sent = await this.send(request.clientOrderId, () =>
      client.evm.sendUserOperation({
        smartAccount: wallet.smart,
        network: network as 'base',
        calls,
        ...(gas.paymasterUrl === undefined ? {} : { paymasterUrl: gas.paymasterUrl }),
        idempotencyKey: idempotencyKey(request.clientOrderId, 'send'),
      }),
    );
    this.sent.set(request.clientOrderId, sent.userOpHash);
    this.options.logger.info(
      { clientOrderId: request.clientOrderId, userOpHash: sent.userOpHash, network, calls: calls.length },
      'swap sent as a user operation',
    );
    return this.orderOf(request.clientOrderId, request, sent.userOpHash, 'broadcast');
  }

  /**
   * The user operation's send. A 429 was not processed: sent again after the wait it asks for
   * (bounded). A refusal (4xx) sent nothing. Anything else may have reached the network, and so
   * may a refusal of the idempotency key (an earlier send under it exists): outcome unknown.
   */
  private async send(clientOrderId: string, operation: () => Promise<{ userOpHash: Hex }>) {
    for (let attempt = 1; ; attempt++) {
      try {
        const sent = await operation();
        this.succeeded();
        return sent;
      } catch (error) {
        this.failed(error);
        const wait = rateLimitWaitMs(error, attempt, this.options.clock?.() ?? new Date());
        if (wait !== undefined && attempt < RATE_LIMITED_SENDS) {
          this.options.logger.warn(
            { clientOrderId, attempt, waitMs: wait },
            'wallet send rate limited; waiting',
          );
          await (this.options.sleep ?? defaultSleep)(wait);
          continue;
        }
        const refusal = refusalOf(error);
        if (refusal !== undefined && !refusal.keyUsedBefore)
          throw new BrokerRequestRejectedError(this.provider, refusal.reason, refusal.status);
        throw new BrokerUnreachableError(
          this.provider,
          'the wallet service gave no clear answer to the swap',
          {
            cause: error,
          },
        );
      }
    }
  }

  async getOrder(accountId: string, brokerOrderId: string): Promise<BrokerOrder | undefined> {
    if (!/^0x[0-9a-fA-F]{64}$/.test(brokerOrderId)) return undefined;
    const operation = await this.call('user operation', () =>
      this.options.wallets.client.evm.getUserOperation({
        smartAccount: CdpWallets.address(accountId),
        userOpHash: brokerOrderId as Hex,
      }),
    );
    const clientOrderId = [...this.sent].find(([, hash]) => hash === brokerOrderId)?.[0] ?? '';
    return this.orderOf(clientOrderId, undefined, brokerOrderId as Hex, operation.status);
  }

  async findOrderByClientOrderId(accountId: string, clientOrderId: string): Promise<BrokerOrder | undefined> {
    const hash = this.sent.get(clientOrderId);
    if (hash === undefined) return undefined;
    const order = await this.getOrder(accountId, hash);
    return order === undefined ? undefined : { ...order, clientOrderId };
  }

  /** Only user operations this process sent can be found: CDP has no lookup by our key. */
  reconcilePlacement(request: PlaceOrderRequest): Promise<BrokerOrder | undefined> {
    return this.findOrderByClientOrderId(request.accountId, request.clientOrderId);
  }

  async cancelOrder(): Promise<BrokerOrder> {
    throw new BrokerRejectedError(this.provider, 'a swap sent to the network cannot be cancelled');
  }

  async listOpenOrders(): Promise<BrokerOrder[]> {
    return [];
  }

  // ------------------------------------------------------------------ holdings

  async getPositions(): Promise<Position[]> {
    const wallet = await this.wallet();
    const held = new Map<string, Decimal>();
    // Testnet tokens are not holdings.
    const networks = BALANCE_NETWORKS.filter((network) => network !== 'base-sepolia');
    const lists = await Promise.all(networks.map((network) => this.tokensOn(wallet, network)));
    for (const { symbol, quantity } of lists.flatMap((tokens) => tokens ?? [])) {
      held.set(symbol, (held.get(symbol) ?? new Decimal(0)).add(quantity));
    }
    return [...held].map(([symbol, quantity]) => ({
      symbol,
      assetClass: 'crypto' as const,
      quantity,
      averageCost: new Decimal(0),
      marketPrice: STABLECOINS.has(symbol) ? new Decimal(1) : undefined,
      marketValue: STABLECOINS.has(symbol) ? quantity : undefined,
      unrealizedPnl: undefined,
      realizedPnl: new Decimal(0),
    }));
  }

  async walletBalances(): Promise<readonly NetworkBalances[]> {
    const wallet = await this.wallet();
    return Promise.all(
      WALLET_NETWORKS.map(async (network) => ({ network, tokens: await this.tokensOn(wallet, network) })),
    );
  }

  async getBalances(): Promise<Balances> {
    return balancesOf(await this.getPositions());
  }

  async getAccountSnapshot(): Promise<AccountSnapshot> {
    const positions = await this.getPositions();
    return { balances: balancesOf(positions), positions };
  }

  // ------------------------------------------------------------------ internals

  private wallet(): Promise<UserWallet> {
    return this.call('wallet', () => this.options.wallets.walletOf(this.options.userId));
  }

  private resolve(request: SwapQuoteRequest): {
    network: WalletNetwork;
    from: WalletToken;
    to: WalletToken;
    fromAmount: bigint;
  } {
    const network = request.network ?? this.options.defaultNetwork;
    if (!isWalletNetwork(network)) throw new BrokerRejectedError(this.provider, `unknown network ${network}`);
    if (!SWAP_NETWORKS.has(network)) {
      throw new BrokerRejectedError(this.provider, `Coinbase offers no swaps on ${network}`);
    }
    const from = tokenOn(network, request.fromToken);
    const to = tokenOn(network, request.toToken);
    for (const [symbol, token] of [
      [request.fromToken, from],
      [request.toToken, to],
    ] as const) {
      if (token === undefined) {
        throw new BrokerRejectedError(
          this.provider,
          `${symbol} is not a token I swap on ${network} (I swap ${tokenSymbols(network)})`,
        );
      }
    }
    if (from === undefined || to === undefined) throw new Error('unreachable');
    const places = request.fromAmount.decimalPlaces();
    if (places > from.decimals) {
      throw new BrokerRejectedError(
        this.provider,
        `${from.symbol} has at most ${from.decimals} decimal places`,
      );
    }
    return { network, from, to, fromAmount: parseUnits(request.fromAmount.toFixed(), from.decimals) };
  }

  /**
   * The listed tokens the wallet holds on a network; undefined where CDP lists no balances. A
   * listed balance we cannot read is skipped and logged (token-balances.ts).
   */
  private async tokensOn(
    wallet: UserWallet,
    network: WalletNetwork,
  ): Promise<{ symbol: string; quantity: Decimal }[] | undefined> {
    const listed = BALANCE_NETWORKS.find((candidate) => candidate === network);
    if (listed === undefined) return undefined;
    const balances = await this.call('balances', () =>
      listTokenBalances(
        this.options.wallets,
        { address: wallet.smart.address, network: listed },
        this.options.logger,
      ),
    );
    // Tokens we do not swap, and zero balances (CDP lists tokens once held), are not holdings.
    return balances.flatMap(({ contractAddress, quantity }) => {
      const token = tokenAt(network, contractAddress);
      return token === undefined || quantity.isZero() ? [] : [{ symbol: token.symbol, quantity }];
    });
  }

  /**
   * The owner's signature of typed data, in the form the Coinbase Smart Wallet contract checks:
   * over the replay-safe wrapper of the data's hash, wrapped with the owner's index.
   */
  private async signForSmartAccount(
    wallet: UserWallet,
    typedData: TypedDataDefinition,
    clientOrderId: string,
  ): Promise<Hex> {
    const chainId = BigInt((typedData.domain as { chainId?: number | bigint } | undefined)?.chainId ?? 1);
    const signed = await this.options.wallets.client.evm.signTypedData({
      address: wallet.owner.address,
      domain: {
        name: 'Coinbase Smart Wallet',
        version: '1',
        chainId: Number(chainId),
        verifyingContract: wallet.smart.address,
      },
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' },
          { name: 'verifyingContract', type: 'address' },
        ],
        CoinbaseSmartWalletMessage: [{ name: 'hash', type: 'bytes32' }],
      },
      primaryType: 'CoinbaseSmartWalletMessage',
      message: { hash: hashTypedData(typedData) },
      idempotencyKey: idempotencyKey(clientOrderId, 'permit2'),
    });
    return encodeAbiParameters(
      [
        {
          type: 'tuple',
          components: [
            { name: 'ownerIndex', type: 'uint8' },
            { name: 'signatureData', type: 'bytes' },
          ],
        },
      ],
      [{ ownerIndex: 0, signatureData: signed.signature }],
    );
  }

  private orderOf(
    clientOrderId: string,
    request: PlaceOrderRequest | undefined,
    userOpHash: Hex,
    status: string,
  ): BrokerOrder {
    const done = status === 'complete';
    const failed = status === 'failed' || status === 'dropped';
    return {
      brokerOrderId: userOpHash,
      clientOrderId,
      status: done ? 'filled' : failed ? 'rejected' : 'accepted',
      symbol: request?.symbol ?? '',
      side: 'sell',
      orderType: 'market',
      quantity: request?.quantity,
      notional: undefined,
      limitPrice: undefined,
      stopPrice: undefined,
      // The amount given up is known from our order row; the wallet reports only the outcome.
      filledQuantity: done && request?.quantity !== undefined ? request.quantity : new Decimal(0),
      averageFillPrice: undefined,
      rejectReason: failed
        ? status === 'dropped'
          ? 'the network dropped the operation before it was included'
          : 'the operation failed on chain (nothing was swapped)'
        : undefined,
      fills: [],
      createdAt: new Date(),
    };
  }

  /** Runs one SDK call, keeping health; refusals become BrokerRejectedError, the rest unreachable. */
  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.succeeded();
      return result;
    } catch (error) {
      if (error instanceof BrokerRejectedError || error instanceof BrokerUnreachableError) throw error;
      this.failed(error);
      const refusal = refusalOf(error);
      if (refusal !== undefined)
        throw new BrokerRequestRejectedError(this.provider, refusal.reason, refusal.status);
      throw new BrokerUnreachableError(this.provider, `the wallet service did not answer (${what})`, {
        cause: error,
      });
    }
  }

  private succeeded(): void {
    this.health_ = { ...this.health_, consecutiveFailures: 0, lastSuccessAt: new Date() };
  }

  private failed(error: unknown): void {
    const refusal = refusalOf(error);
    // A refusal is an answer: the service is up.
    if (refusal !== undefined && refusal.status < 500) return;
    this.health_ = {
      ...this.health_,
      consecutiveFailures: this.health_.consecutiveFailures + 1,
      lastFailureAt: new Date(),
      lastError: refusal === undefined ? 'no answer' : `HTTP ${refusal.status}`,
    };
  }
}

/** An API refusal (4xx) with its message; undefined for 5xx, timeouts and the like. */
function refusalOf(error: unknown): { status: number; reason: string; keyUsedBefore: boolean } | undefined {
  const parsed = apiErrorSchema.safeParse(error);
  // Below 400: no answer at all (the SDK reports a network failure as status 0).
  if (!parsed.success || parsed.data.statusCode < 400) return undefined;
  if (parsed.data.statusCode >= 500 || parsed.data.statusCode === 429) return undefined;
  const { statusCode, errorMessage, errorType } = parsed.data;
  const keyUsedBefore = errorType === 'idempotency_error';
  // The credentials are the operator's, not the user's: nothing the user can fix by linking again.
  if (statusCode === 401 || statusCode === 403) {
    return {
      status: statusCode,
      reason:
        "Coinbase's wallet service refused this server's credentials (the operator must check the CDP API key)",
      keyUsedBefore,
    };
  }
  return { status: statusCode, reason: errorMessage.replace(/\.+$/, ''), keyUsedBefore };
}

/** Retry-After of a 429 as the SDK passes it on (its cause's response), else a doubling wait. */
const rateLimitedSchema = z.object({
  statusCode: z.literal(429),
  cause: z
    .object({ response: z.object({ headers: z.record(z.string(), z.unknown()) }).optional() })
    .optional(),
});

function rateLimitWaitMs(error: unknown, attempt: number, now: Date): number | undefined {
  const parsed = rateLimitedSchema.safeParse(error);
  if (!parsed.success) return undefined;
  const header = parsed.data.cause?.response?.headers['retry-after'];
  const asked = typeof header === 'string' ? retryAfterMs(header, now) : undefined;
  return asked ?? RATE_LIMIT_WAIT_MS * 2 ** (attempt - 1);
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Deterministic per order and step: a repeated request replays instead of acting twice. */
function idempotencyKey(clientOrderId: string, step: string): string {
  const hex = createHash('sha256').update(`arbion-cdp:${clientOrderId}:${step}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function units(amount: bigint | string, decimals: number): Decimal {
  return new Decimal(formatUnits(BigInt(amount), decimals));
}

function balancesOf(positions: readonly Position[]): Balances {
  const cash = positions
    .filter((position) => STABLECOINS.has(position.symbol))
    .reduce((sum, position) => sum.add(position.quantity), new Decimal(0));
  return { cash, buyingPower: cash, equity: cash, realizedPnlToday: new Decimal(0), currency: 'USD' };
}
