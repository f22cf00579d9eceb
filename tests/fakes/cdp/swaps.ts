/**
 * The swap desk behind the CDP fake: rates set by the test, price estimates and firm quotes shaped
 * as CDP's GetSwapPriceResponse / CreateSwapQuoteResponse, and the quotes it issued so a user
 * operation can execute them.
 *
 * A quote's transaction calls a settler contract with calldata naming the quote; for an ERC-20
 * fromToken it also carries Permit2 EIP-712 typed data, whose signature the SDK appends to the
 * calldata (32-byte length, then the smart-wallet-wrapped signature). Amounts are atomic units:
 * `toAmount = floor(fromAmount · rate · 10^(toDecimals − fromDecimals))` less the protocol fee,
 * `minToAmount = floor(toAmount · (1 − slippageBps / 10000))`.
 */
import { randomBytes } from 'node:crypto';
import { Decimal } from 'decimal.js';
import {
  encodeFunctionData,
  getAddress,
  type Hex,
  hashTypedData,
  parseAbi,
  type TypedDataDefinition,
} from 'viem';
import { invalidRequest } from './errors.js';
import { type Books, type Ledger, NATIVE_TOKEN, PERMIT2_ADDRESS } from './ledger.js';
import { CHAIN_IDS, SWAP_NETWORKS, type SwapRequest } from './schemas.js';

/** 0x's AllowanceHolder, where CDP swap transactions go (and the Permit2 spender). */
export const SETTLER_ADDRESS = '0x0000000000001fF3684f28c67538d4D072C22734';
const SETTLER_ABI = parseAbi(['function execute(bytes32 quoteId)']);

/** Wide enough for 1e18-unit amounts times any rate; ROUND_DOWN because a DEX never rounds up. */
const Exact = Decimal.clone({ precision: 120, rounding: Decimal.ROUND_DOWN });

export const DEFAULT_SLIPPAGE_BPS = 100;
const SWAP_GAS = 300_000n;

export interface Permit2Approval {
  readonly hash: Hex;
  readonly eip712: {
    readonly domain: { name: string; chainId: number; verifyingContract: string };
    readonly types: Record<string, { name: string; type: string }[]>;
    readonly primaryType: 'PermitTransferFrom';
    readonly message: {
      permitted: { token: string; amount: string };
      spender: string;
      nonce: string;
      deadline: string;
    };
  };
}

export interface IssuedQuote {
  readonly id: Hex;
  readonly network: string;
  readonly fromToken: string;
  readonly toToken: string;
  readonly fromAmount: bigint;
  readonly toAmount: bigint;
  readonly minToAmount: bigint;
  readonly taker: string;
  readonly data: Hex;
  /** Unix seconds after which the settler refuses the quote. */
  readonly deadline: number;
  readonly permit2: Permit2Approval | undefined;
}

export function isNative(token: string): boolean {
  return token.toLowerCase() === NATIVE_TOKEN.toLowerCase();
}

export class SwapDesk {
  /** Protocol fee taken from the output, in basis points (CDP charges none by default). */
  protocolFeeBps = 0;
  /** The gas price quoted when the request names none, in wei. */
  gasPrice = 10_000_000n;
  /** How long a firm quote stays executable. */
  quoteLifetimeSeconds = 120;
  private readonly rates = new Map<string, Decimal>();
  private readonly quotes = new Map<Hex, IssuedQuote>();
  /** Permit2 nonces already spent, per network and owner: a signed permit works once. */
  private readonly spentNonces = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly blockNumber: () => bigint,
  ) {}

  /** 1 whole `from` token buys `rate` whole `to` tokens; `undefined` removes the pair. */
  setRate(network: string, fromToken: string, toToken: string, rate: string | undefined): void {
    const pair = pairKey(network, fromToken, toToken);
    if (rate === undefined) {
      this.rates.delete(pair);
      return;
    }
    const value = new Exact(rate);
    if (!value.isFinite() || value.lte(0)) throw new Error(`rate must be positive: ${rate}`);
    this.rates.set(pair, value);
  }

  /** GET /v2/evm/swaps/quote. */
  price(request: SwapRequest): Record<string, unknown> {
    const terms = this.terms(request);
    if (terms === undefined) return { liquidityAvailable: false };
    const gasPrice = request.gasPrice === undefined ? this.gasPrice : BigInt(request.gasPrice);
    return {
      ...this.common(request, terms, gasPrice),
      gas: SWAP_GAS.toString(),
      gasPrice: gasPrice.toString(),
    };
  }

  /** POST /v2/evm/swaps. */
  quote(request: SwapRequest, now: Date): Record<string, unknown> {
    const terms = this.terms(request);
    if (terms === undefined) return { liquidityAvailable: false };
    const gasPrice = request.gasPrice === undefined ? this.gasPrice : BigInt(request.gasPrice);
    const id = `0x${randomBytes(32).toString('hex')}` as Hex;
    const data = encodeFunctionData({ abi: SETTLER_ABI, functionName: 'execute', args: [id] });
    const deadline = Math.floor(now.getTime() / 1000) + this.quoteLifetimeSeconds;
    const fromAmount = BigInt(request.fromAmount);
    const permit2 = isNative(request.fromToken)
      ? undefined
      : permit2Approval(request.network, request.fromToken, fromAmount, deadline);
    this.quotes.set(data.toLowerCase() as Hex, {
      id,
      network: request.network,
      fromToken: getAddress(request.fromToken),
      toToken: getAddress(request.toToken),
      fromAmount,
      toAmount: terms.toAmount,
      minToAmount: terms.minToAmount,
      taker: getAddress(request.taker),
      data,
      deadline,
      permit2,
    });
    return {
      ...this.common(request, terms, gasPrice),
      transaction: {
        to: SETTLER_ADDRESS,
        data,
        value: isNative(request.fromToken) ? fromAmount.toString() : '0',
        gas: SWAP_GAS.toString(),
        gasPrice: gasPrice.toString(),
      },
      permit2: permit2 ?? null,
    };
  }

  /** The issued quote whose calldata starts `data` (the SDK may append a Permit2 signature). */
  findQuote(data: string): IssuedQuote | undefined {
    const lower = data.toLowerCase();
    // execute(bytes32) calldata is 4 + 32 bytes: 2 + 72 hex characters.
    return this.quotes.get(lower.slice(0, 74) as Hex);
  }

  /** What `fromAmount` buys at the current rate, after the protocol fee; undefined without liquidity. */
  output(network: string, fromToken: string, toToken: string, fromAmount: bigint): bigint | undefined {
    return this.amounts(network, fromToken, toToken, fromAmount)?.net;
  }

  nonceSpent(network: string, owner: string, nonce: string): boolean {
    return this.spentNonces.has(nonceKey(network, owner, nonce));
  }

  /** A signed permit works once: executing it spends its nonce. */
  spendNonce(network: string, owner: string, nonce: string): void {
    this.spentNonces.add(nonceKey(network, owner, nonce));
  }

  private terms(request: SwapRequest): { toAmount: bigint; minToAmount: bigint; fee: bigint } | undefined {
    if (!(SWAP_NETWORKS as readonly string[]).includes(request.network)) {
      throw invalidRequest(`swaps are not supported on network ${request.network}`);
    }
    if (request.fromToken.toLowerCase() === request.toToken.toLowerCase()) {
      throw invalidRequest('fromToken and toToken must differ');
    }
    const fromAmount = BigInt(request.fromAmount);
    if (fromAmount === 0n) throw invalidRequest('fromAmount must be positive');
    const amounts = this.amounts(request.network, request.fromToken, request.toToken, fromAmount);
    if (amounts === undefined || amounts.net === 0n) return undefined;
    const slippage = BigInt(request.slippageBps ?? DEFAULT_SLIPPAGE_BPS);
    return {
      toAmount: amounts.net,
      minToAmount: (amounts.net * (10_000n - slippage)) / 10_000n,
      fee: amounts.fee,
    };
  }

  private amounts(
    network: string,
    fromToken: string,
    toToken: string,
    fromAmount: bigint,
  ): { net: bigint; fee: bigint } | undefined {
    const rate = this.rates.get(pairKey(network, fromToken, toToken));
    const from = this.ledger.token(network, fromToken);
    const to = this.ledger.token(network, toToken);
    if (rate === undefined || from === undefined || to === undefined) return undefined;
    const gross = BigInt(
      new Exact(fromAmount.toString())
        .mul(rate)
        .mul(Exact.pow(10, to.decimals - from.decimals))
        .floor()
        .toFixed(0),
    );
    const fee = (gross * BigInt(this.protocolFeeBps)) / 10_000n;
    return { net: gross - fee, fee };
  }

  private common(
    request: SwapRequest,
    terms: { toAmount: bigint; minToAmount: bigint; fee: bigint },
    gasPrice: bigint,
  ): Record<string, unknown> {
    const books: Books = this.ledger;
    const fromAmount = BigInt(request.fromAmount);
    const balance = books.balance(request.network, request.taker, request.fromToken);
    const allowance = isNative(request.fromToken)
      ? undefined
      : books.allowance(request.network, request.taker, request.fromToken, PERMIT2_ADDRESS);
    return {
      blockNumber: this.blockNumber().toString(),
      toAmount: terms.toAmount.toString(),
      toToken: getAddress(request.toToken),
      fees: {
        gasFee: { amount: (SWAP_GAS * gasPrice).toString(), token: NATIVE_TOKEN },
        protocolFee:
          terms.fee === 0n ? null : { amount: terms.fee.toString(), token: getAddress(request.toToken) },
      },
      issues: {
        allowance:
          allowance !== undefined && allowance < fromAmount
            ? { currentAllowance: allowance.toString(), spender: PERMIT2_ADDRESS }
            : null,
        balance:
          balance < fromAmount
            ? {
                token: getAddress(request.fromToken),
                currentBalance: balance.toString(),
                requiredBalance: fromAmount.toString(),
              }
            : null,
        // CDP cannot simulate a swap the taker cannot pay for.
        simulationIncomplete: balance < fromAmount,
      },
      liquidityAvailable: true,
      minToAmount: terms.minToAmount.toString(),
      fromAmount: fromAmount.toString(),
      fromToken: getAddress(request.fromToken),
    };
  }
}

function nonceKey(network: string, owner: string, nonce: string): string {
  return `${network}|${owner.toLowerCase()}|${nonce}`;
}

function pairKey(network: string, fromToken: string, toToken: string): string {
  return `${network}|${fromToken.toLowerCase()}|${toToken.toLowerCase()}`;
}

function permit2Approval(network: string, token: string, amount: bigint, deadline: number): Permit2Approval {
  const eip712: Permit2Approval['eip712'] = {
    domain: { name: 'Permit2', chainId: CHAIN_IDS[network] ?? 1, verifyingContract: PERMIT2_ADDRESS },
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ],
      PermitTransferFrom: [
        { name: 'permitted', type: 'TokenPermissions' },
        { name: 'spender', type: 'address' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
      ],
      TokenPermissions: [
        { name: 'token', type: 'address' },
        { name: 'amount', type: 'uint256' },
      ],
    },
    primaryType: 'PermitTransferFrom',
    message: {
      permitted: { token: getAddress(token), amount: amount.toString() },
      spender: SETTLER_ADDRESS,
      nonce: BigInt(`0x${randomBytes(31).toString('hex')}`).toString(),
      deadline: deadline.toString(),
    },
  };
  return { hash: hashTypedData(eip712 as unknown as TypedDataDefinition), eip712 };
}
