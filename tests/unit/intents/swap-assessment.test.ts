import { describe, expect, it } from 'vitest';
import type { Trader } from '../../../src/core/accounts/accounts.js';
import type { SwapQuote } from '../../../src/core/brokers/broker.js';
import { Decimal } from '../../../src/core/domain/values.js';
import type { SwapHold } from '../../../src/core/intents/pending-swaps.js';
import { assessSwap } from '../../../src/core/intents/swap-assessment.js';

const d = (value: string | number) => new Decimal(value);
const context = {
  market: { session: () => ({ open: true, description: 'crypto trades around the clock' }) },
  clock: () => new Date('2026-11-24T15:00:00Z'),
};
const trader: Pick<Trader, 'limits' | 'halt'> = {
  limits: {
    maxOrderNotional: d(25_000),
    maxPositionFraction: d('0.25'),
    dailyLossLimit: d(2_000),
    allowedAssetClasses: ['crypto'],
  },
  halt: undefined,
};
const quote = (fromAmount: string, fromBalance: string, exact = true): SwapQuote => ({
  network: 'base',
  fromAmount: d(fromAmount),
  toAmount: d(fromAmount).mul(3000),
  minToAmount: d(fromAmount).mul(2970),
  fromBalance: d(fromBalance),
  fromBalanceExact: exact,
  gasSponsored: true,
});
const held = (quantity: string, swaps: number): SwapHold => ({
  network: 'base',
  token: 'ETH',
  quantity: d(quantity),
  swaps,
});
const assess = (q: SwapQuote, h: SwapHold, who: Pick<Trader, 'limits' | 'halt'> = trader) =>
  assessSwap(context, { quote: q, held: h, fromToken: 'ETH', price: d(3000) }, who);

describe('a swap against what is free of the token on its network', () => {
  it('passes within what pending swaps leave free, and refuses beyond it naming them', () => {
    expect(assess(quote('0.2', '1'), held('0.8', 1)).refusal).toBeUndefined();
    const refused = assess(quote('0.7', '1'), held('0.4', 2));
    expect(refused.refusal).toBe(
      'only 0.6 ETH is free. Your wallet holds 1 ETH on Base, 0.4 ETH of it already committed to 2 pending swaps',
    );
    expect(refused.checks.find((check) => !check.passed)?.check).toBe('position_available');
  });

  it('keeps the failed check first and adds what the wallet holds when the tokens are short too', () => {
    const halted = { ...trader, halt: { reason: 'stop everything' } };
    expect(assess(quote('0.5', '1'), held('0.8', 1), halted).refusal).toBe(
      'trading is halted for your account (stop everything); nothing new is placed until it is lifted. Your wallet holds 1 ETH on Base, 0.8 ETH of it already committed to a pending swap',
    );
    // Not short: the failed check alone.
    expect(assess(quote('0.1', '1'), held('0', 0), halted).refusal).toMatch(/^trading is halted/);
  });

  it('refuses where the balance is only a bound and a swap of the token is pending there', () => {
    // The quote says only that the balance covers this swap: not whether it covers the pending one too.
    expect(assess(quote('0.5', '0.5', false), held('0.8', 1)).refusal).toBe(
      "0.8 ETH on Base is already committed to a pending swap, and your balance there is not listed, so I can't tell whether this swap fits too; try again once it completes",
    );
    expect(assess(quote('0.5', '0.5', false), held('0', 0)).refusal).toBeUndefined();
  });
});
