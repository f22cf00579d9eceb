/**
 * Token swaps as trade intents. A swap is stored as the sale of what is given up (`symbol`,
 * `quantity`, side sell, crypto) plus the `swap` column below, so it shares the intent's state
 * machine, exactly-once confirmation, audit trail and fill tracking with orders. This file holds
 * what is swap-specific: the stored details, the card's lines and the outcome sentences.
 */
import { z } from 'zod';
import type { Prisma } from '../db/database.js';
import { Decimal, formatDecimal, formatUsd } from '../domain/values.js';
import type { CardField } from '../messages.js';

type IntentRow = Prisma.TradeIntentGetPayload<object>;

/** Default slippage when the user names none: 1%. */
export const DEFAULT_SLIPPAGE_BPS = 100;

const NETWORK_LABEL: Readonly<Record<string, string>> = {
  base: 'Base',
  ethereum: 'Ethereum',
  arbitrum: 'Arbitrum',
  optimism: 'Optimism',
  polygon: 'Polygon',
  'base-sepolia': 'Base Sepolia (testnet)',
};

const decimalString = z.string().regex(/^\d+(\.\d+)?$/);

/** The `swap` column of a trade intent: what the card showed and the confirmation covers. */
export const swapDetailsSchema = z.object({
  network: z.string().min(1),
  toToken: z.string().min(1),
  slippageBps: z.number().int().min(1).max(10_000),
  /** Received at the quoted rate. */
  quotedToAmount: decimalString,
  /** Received at worst: execution refuses a fresh quote below this. */
  minToAmount: decimalString,
  gasSponsored: z.boolean(),
});
export type SwapDetails = z.infer<typeof swapDetailsSchema>;

/** The swap an intent is, or undefined for an order. */
export function swapOf(intent: Pick<IntentRow, 'swap'>): SwapDetails | undefined {
  if (intent.swap === null) return undefined;
  return swapDetailsSchema.parse(intent.swap);
}

/** What a confirmation of a swap covers, beyond the order fields: canonical text for the hash. */
export function swapHashPart(swap: SwapDetails | undefined): string | null {
  if (swap === undefined) return null;
  return JSON.stringify([swap.network, swap.toToken, swap.slippageBps, swap.minToAmount]);
}

export function networkLabel(network: string): string {
  return NETWORK_LABEL[network] ?? network;
}

/** "1 ETH = 2,985.1 USDC" */
function rateOf(intent: IntentRow, swap: SwapDetails): string {
  const given = new Decimal(intent.quantity?.toString() ?? '0');
  if (given.isZero()) return '?';
  const rate = new Decimal(swap.quotedToAmount).div(given);
  const shown = rate.greaterThanOrEqualTo(1) ? rate.toDecimalPlaces(4) : rate.toSignificantDigits(6);
  return `1 ${intent.symbol} = ${formatDecimal(shown)} ${swap.toToken}`;
}

/** The card's lines for a swap. */
export function swapCardFields(intent: IntentRow, swap: SwapDetails): CardField[] {
  const given = formatDecimal(intent.quantity?.toString() ?? '0');
  const fields: CardField[] = [
    {
      label: 'Swap',
      value: `${given} ${intent.symbol} → ${swap.toToken} on ${networkLabel(swap.network)}`,
    },
    { label: 'Rate', value: rateOf(intent, swap) },
    { label: 'You receive', value: `≈ ${formatDecimal(swap.quotedToAmount)} ${swap.toToken}` },
    {
      label: 'Minimum received',
      value: `${formatDecimal(swap.minToAmount)} ${swap.toToken} (slippage ${formatDecimal(new Decimal(swap.slippageBps).div(100))}%)`,
    },
    {
      label: 'Gas',
      value: swap.gasSponsored
        ? 'Sponsored: you pay no gas'
        : `Paid by your wallet, in ${networkLabel(swap.network)}'s native token`,
    },
  ];
  if (intent.estimatedCost !== null)
    fields.push({ label: 'Value', value: `≈ ${formatUsd(intent.estimatedCost.toString())}` });
  fields.push({ label: 'Account', value: 'Smart wallet (real tokens)' });
  return fields;
}

/** The chat sentence for a swap's state at the wallet. */
export function describeSwap(
  status: IntentRow['status'],
  intent: IntentRow,
  swap: SwapDetails,
  outcome: { readonly received?: Decimal; readonly reason?: string; readonly reference?: string },
): string {
  const given = `${formatDecimal(intent.quantity?.toString() ?? '0')} ${intent.symbol}`;
  const where = networkLabel(swap.network);
  switch (status) {
    case 'filled': {
      const received =
        outcome.received === undefined
          ? `at least ${formatDecimal(swap.minToAmount)} ${swap.toToken}`
          : `${formatDecimal(outcome.received)} ${swap.toToken}`;
      return `Swap complete on ${where}: ${given} for ${received}.`;
    }
    case 'submitted':
    case 'partially_filled':
      return `Swap sent on ${where}: ${given} → ${swap.toToken}. I will tell you when it completes.`;
    case 'rejected':
      return `The swap failed: ${outcome.reason ?? 'no reason given'}. Your ${intent.symbol} stayed in your wallet.`;
    default:
      return `Swap ${status.replace('_', ' ')}.`;
  }
}
