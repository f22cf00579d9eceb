/**
 * Token swaps on the smart wallet: "swap 0.1 ETH to USDC on base", "convert 50 usdc into eth on
 * arbitrum with 0.5% slippage". Token names are taken as written (upper-cased); whether a network
 * has them is the wallet's answer, on the card or as a refusal.
 */
import { type SwapCommand, type SwapNetwork, swapNetworkSchema } from '../commands.js';
import { Fail } from './orders.js';
import type { Token } from './tokens.js';

export const SWAP_VERBS: ReadonlySet<string> = new Set(['swap', 'convert', 'exchange']);
const INTO: ReadonlySet<string> = new Set(['to', 'for', 'into']);
const TOKEN = /^[a-z][a-z0-9]{0,9}$/;
/** What people call the networks. */
const NETWORK_NAMES: ReadonlyMap<string, SwapNetwork> = new Map([
  ['base', 'base'],
  ['ethereum', 'ethereum'],
  ['eth', 'ethereum'],
  ['mainnet', 'ethereum'],
  ['arbitrum', 'arbitrum'],
  ['arb', 'arbitrum'],
  ['optimism', 'optimism'],
  ['op', 'optimism'],
  ['polygon', 'polygon'],
  ['matic', 'polygon'],
  ['base-sepolia', 'base-sepolia'],
  ['sepolia', 'base-sepolia'],
]);
const TRAILER: ReadonlySet<string> = new Set(['please', 'pls', 'plz', '.', '!']);

function tokenAt(tokens: readonly Token[], index: number): string | undefined {
  const token = tokens[index];
  if (token?.kind !== 'word' || !TOKEN.test(token.low)) return undefined;
  return token.low.toUpperCase();
}

/** A percentage at `index` ("1%", "0.5 %", "1 percent") as basis points, and where it ends. */
function percentAt(tokens: readonly Token[], index: number): { bps: number; next: number } | undefined {
  const number = tokens[index];
  const sign = tokens[index + 1];
  if (number?.kind !== 'number' || number.value === undefined || number.suffix) return undefined;
  if (sign?.raw !== '%' && sign?.low !== 'percent' && sign?.low !== 'pct') return undefined;
  const bps = Math.round(Number(number.value) * 100);
  return { bps, next: index + 2 };
}

/**
 * `tokens[start]` is a swap verb. A swap command, or a Fail saying what is missing.
 */
export function parseSwap(tokens: readonly Token[], start: number, fullEnd: number): SwapCommand | Fail {
  let end = fullEnd;
  while (end > start + 1 && TRAILER.has(tokens[end - 1]?.low ?? '')) end--;
  let at = start + 1;
  const amount = tokens[at];
  if (amount?.kind !== 'number' || amount.value === undefined || amount.suffix)
    return new Fail('swap how much? e.g. "swap 0.1 ETH to USDC on base"');
  if (!/[1-9]/.test(amount.value)) return new Fail('the amount to swap must be more than zero');
  at++;
  const fromToken = tokenAt(tokens, at);
  if (fromToken === undefined) return new Fail('swap which token? e.g. "swap 0.1 ETH to USDC"');
  at++;
  if (!INTO.has(tokens[at]?.low ?? '')) return new Fail('swap into which token? e.g. "swap 0.1 ETH to USDC"');
  at++;
  const toToken = tokenAt(tokens, at);
  if (toToken === undefined) return new Fail('swap into which token? e.g. "swap 0.1 ETH to USDC"');
  at++;
  if (toToken === fromToken) return new Fail('a swap needs two different tokens');
  let network: SwapNetwork | undefined;
  let slippageBps: number | undefined;
  while (at < end) {
    const word = tokens[at]?.low ?? '';
    if (word === 'on' && network === undefined) {
      const named = NETWORK_NAMES.get(tokens[at + 1]?.low ?? '');
      if (named === undefined) {
        return new Fail(`unknown network; swaps run on ${swapNetworkSchema.options.join(', ')}`);
      }
      network = named;
      at += 2;
      continue;
    }
    // "with 1% slippage", "at 0.5% slippage", "slippage 1%", "max slippage 1%"
    const lead = word === 'with' || word === 'at' || word === 'max' ? 1 : 0;
    if (slippageBps === undefined) {
      const before = tokens[at + lead]?.low === 'slippage' ? percentAt(tokens, at + lead + 1) : undefined;
      if (before !== undefined) {
        slippageBps = before.bps;
        at = before.next;
        continue;
      }
      const after = percentAt(tokens, at + lead);
      if (after !== undefined && tokens[after.next]?.low === 'slippage') {
        slippageBps = after.bps;
        at = after.next + 1;
        continue;
      }
    }
    return new Fail(`I did not understand "${tokens[at]?.raw ?? ''}" in that swap`);
  }
  if (slippageBps !== undefined && (slippageBps < 1 || slippageBps > 500))
    return new Fail('slippage must be between 0.01% and 5%');
  return {
    kind: 'swap',
    fromToken,
    toToken,
    amount: amount.value,
    ...(network === undefined ? {} : { network }),
    ...(slippageBps === undefined ? {} : { slippageBps }),
  };
}
