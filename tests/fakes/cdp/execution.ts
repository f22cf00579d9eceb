/**
 * Executes a user operation's calls against a ledger draft, as the chain would: every call must
 * succeed or the whole operation reverts. The fake understands ERC-20 `approve`/`transfer`
 * (decoded with viem's erc20Abi), plain value transfers (`data: 0x`) and the swap transactions its
 * swap desk issued; any other calldata reverts, so a test cannot pass on calls nothing checked.
 *
 * A swap executes at the rate current at execution (reverting below the quote's `minToAmount`),
 * only before the quote's deadline, only from the quote's taker, and for an ERC-20 fromToken only
 * with a Permit2 allowance and the owner's signature of the quote's Permit2 typed data, wrapped as
 * the Coinbase Smart Wallet expects (the SDK's signAndWrapTypedDataForSmartAccount) and appended
 * to the calldata as sendSwapOperation does.
 */
import {
  type Address,
  decodeAbiParameters,
  decodeFunctionData,
  erc20Abi,
  type Hex,
  hashTypedData,
  isAddressEqual,
  maxUint256,
  recoverAddress,
  size,
} from 'viem';
import { type Books, NATIVE_TOKEN, PERMIT2_ADDRESS } from './ledger.js';
import { CHAIN_IDS, type EvmCall } from './schemas.js';
import { type IssuedQuote, isNative, SETTLER_ADDRESS, type SwapDesk } from './swaps.js';

export interface ExecutionContext {
  readonly books: Books;
  readonly desk: SwapDesk;
  readonly network: string;
  /** The smart account sending the calls. */
  readonly sender: Address;
  readonly owners: readonly Address[];
  readonly now: Date;
}

/** Done when the operation commits (Permit2 nonces are spent only if the operation lands). */
export type Effect = () => void;

export class Revert extends Error {}

const SIGNATURE_WRAPPER = [
  {
    type: 'tuple',
    name: 'SignatureWrapper',
    components: [
      { name: 'ownerIndex', type: 'uint8' },
      { name: 'signatureData', type: 'bytes' },
    ],
  },
] as const;

/** Runs the calls; throws Revert with the reason when one fails. */
export async function executeCalls(context: ExecutionContext, calls: readonly EvmCall[]): Promise<Effect[]> {
  const effects: Effect[] = [];
  const nonces = new Set<string>();
  for (const [index, call] of calls.entries()) {
    try {
      if (isAddressEqual(call.to as Address, SETTLER_ADDRESS)) {
        await swap(context, call, effects, nonces);
      } else if (call.data === '0x') {
        move(context, NATIVE_TOKEN, context.sender, call.to, BigInt(call.value));
      } else {
        tokenCall(context, call);
      }
    } catch (error) {
      if (error instanceof Revert) throw new Revert(`call ${index}: ${error.message}`);
      throw error;
    }
  }
  return effects;
}

function move(context: ExecutionContext, token: string, from: string, to: string, amount: bigint): void {
  if (amount === 0n) return;
  const { books, network } = context;
  const balance = books.balance(network, from, token);
  if (balance < amount) throw new Revert(`insufficient balance of ${token}: ${balance} < ${amount}`);
  books.setBalance(network, from, token, balance - amount);
  books.setBalance(network, to, token, books.balance(network, to, token) + amount);
}

function tokenCall(context: ExecutionContext, call: EvmCall): void {
  let decoded: ReturnType<typeof decodeFunctionData<typeof erc20Abi>>;
  try {
    decoded = decodeFunctionData({ abi: erc20Abi, data: call.data as Hex });
  } catch {
    throw new Revert(`the fake does not understand calldata ${call.data.slice(0, 10)} to ${call.to}`);
  }
  if (BigInt(call.value) !== 0n) throw new Revert('ERC-20 functions are not payable');
  if (decoded.functionName === 'approve') {
    const [spender, amount] = decoded.args;
    context.books.setAllowance(context.network, context.sender, call.to, spender, amount);
    return;
  }
  if (decoded.functionName === 'transfer') {
    const [recipient, amount] = decoded.args;
    move(context, call.to, context.sender, recipient, amount);
    return;
  }
  throw new Revert(`the fake does not execute ERC-20 ${decoded.functionName}`);
}

async function swap(
  context: ExecutionContext,
  call: EvmCall,
  effects: Effect[],
  nonces: Set<string>,
): Promise<void> {
  const { books, desk, network, sender } = context;
  const quote = desk.findQuote(call.data);
  if (quote === undefined) throw new Revert('swap calldata was not issued by a quote');
  if (quote.network !== network) throw new Revert(`quote is for ${quote.network}, not ${network}`);
  if (!isAddressEqual(quote.taker as Address, sender)) throw new Revert('quote was made for another taker');
  if (Math.floor(context.now.getTime() / 1000) > quote.deadline) throw new Revert('quote expired');
  if (isNative(quote.fromToken)) {
    if (BigInt(call.value) !== quote.fromAmount) throw new Revert('value differs from the quoted fromAmount');
  } else {
    if (BigInt(call.value) !== 0n) throw new Revert('an ERC-20 swap sends no value');
    await checkPermit2(context, quote, call.data as Hex);
    const nonce = quote.permit2?.eip712.message.nonce ?? '';
    if (nonces.has(nonce) || desk.nonceSpent(network, sender, nonce)) {
      throw new Revert('Permit2 nonce already used');
    }
    nonces.add(nonce);
    effects.push(() => desk.spendNonce(network, sender, nonce));
    const allowance = books.allowance(network, sender, quote.fromToken, PERMIT2_ADDRESS);
    if (allowance < quote.fromAmount) {
      throw new Revert(`Permit2 allowance ${allowance} < ${quote.fromAmount}`);
    }
    if (allowance !== maxUint256) {
      books.setAllowance(network, sender, quote.fromToken, PERMIT2_ADDRESS, allowance - quote.fromAmount);
    }
  }
  const output = desk.output(network, quote.fromToken, quote.toToken, quote.fromAmount);
  if (output === undefined) throw new Revert('no liquidity for the pair');
  if (output < quote.minToAmount) throw new Revert(`output ${output} below minToAmount ${quote.minToAmount}`);
  const fromBalance = books.balance(network, sender, quote.fromToken);
  if (fromBalance < quote.fromAmount) {
    throw new Revert(`insufficient balance of ${quote.fromToken}: ${fromBalance} < ${quote.fromAmount}`);
  }
  books.setBalance(network, sender, quote.fromToken, fromBalance - quote.fromAmount);
  books.setBalance(network, sender, quote.toToken, books.balance(network, sender, quote.toToken) + output);
}

/** The calldata must end in a 32-byte length and the wrapped owner signature of the Permit2 data. */
async function checkPermit2(context: ExecutionContext, quote: IssuedQuote, data: Hex): Promise<void> {
  if (quote.permit2 === undefined) throw new Revert('quote has no Permit2 data');
  const suffix = data.slice(quote.data.length);
  if (suffix.length < 64) throw new Revert('no Permit2 signature appended');
  const length = BigInt(`0x${suffix.slice(0, 64)}`);
  const wrapped = `0x${suffix.slice(64)}` as Hex;
  if (BigInt(size(wrapped)) !== length) throw new Revert('Permit2 signature length does not match');
  let ownerIndex: number;
  let signatureData: Hex;
  try {
    [{ ownerIndex, signatureData }] = decodeAbiParameters(SIGNATURE_WRAPPER, wrapped);
  } catch {
    throw new Revert('Permit2 signature is not a SignatureWrapper');
  }
  const owner = context.owners[ownerIndex];
  if (owner === undefined) throw new Revert(`no owner at index ${ownerIndex}`);
  if (size(signatureData) !== 65) throw new Revert('Permit2 signature is not 65 bytes');
  // The Coinbase Smart Wallet checks owner signatures over its replay-safe hash of the message.
  const digest = hashTypedData({
    domain: {
      name: 'Coinbase Smart Wallet',
      version: '1',
      chainId: CHAIN_IDS[context.network] ?? 1,
      verifyingContract: context.sender,
    },
    types: { CoinbaseSmartWalletMessage: [{ name: 'hash', type: 'bytes32' }] },
    primaryType: 'CoinbaseSmartWalletMessage',
    message: { hash: quote.permit2.hash },
  });
  let signer: Address;
  try {
    signer = await recoverAddress({ hash: digest, signature: signatureData });
  } catch {
    throw new Revert('Permit2 signature does not recover');
  }
  if (!isAddressEqual(signer, owner)) throw new Revert('Permit2 signature is not the owner’s');
}
