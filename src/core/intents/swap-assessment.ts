/**
 * A swap checked against the wallet, the same way for its card and again at its Confirm: the
 * wallet's balance of the token given up on the swap's network, less what the user's pending
 * swaps of it there will still take (pending-swaps.ts), assessed as the sale of what is given up.
 */
import type { Trader, TradingAccount } from '../accounts/accounts.js';
import {
  type Broker,
  BrokerRejectedError,
  type SwapQuote,
  type SwapQuoteRequest,
} from '../brokers/broker.js';
import { Decimal, formatDecimal } from '../domain/values.js';
import type { MarketDataProvider } from '../market-data/market-data.js';
import { allPassed, firstFailure, type RiskCheckResult } from '../risk/risk-checks.js';
import type { IntentContext } from './intent-context.js';
import { pendingSwaps, type SwapHold } from './pending-swaps.js';
import { assessOrder } from './pre-trade.js';
import { networkLabel } from './swaps.js';

/** The wallet's quote for a swap and what pending swaps already hold of the token given up there. */
export interface WalletView {
  readonly quote: SwapQuote;
  readonly held: SwapHold;
}

/**
 * Pending swaps first, then the quote with the balance (see pending-swaps.ts for why that order).
 * A refusal by the wallet (unknown token, no liquidity) is returned as its reason.
 * @throws BrokerUnreachableError when the wallet gave no answer
 */
export async function viewAtWallet(
  context: Pick<IntentContext, 'prisma' | 'logger'>,
  target: {
    readonly userId: string;
    readonly wallet: TradingAccount;
    readonly broker: Broker;
    readonly request: SwapQuoteRequest;
    /** At execution: the intent being placed, which holds nothing yet. */
    readonly excludingIntentId?: string;
  },
): Promise<WalletView | string> {
  const { broker, wallet, request } = target;
  if (broker.quoteSwap === undefined) throw new Error('the wallet broker cannot quote swaps');
  const pending = await pendingSwaps(context, {
    userId: target.userId,
    walletExternalId: wallet.externalId,
    broker,
    ...(target.excludingIntentId === undefined ? {} : { excludingIntentId: target.excludingIntentId }),
  });
  try {
    const quote = await broker.quoteSwap(request);
    return { quote, held: pending.of(quote.network, request.fromToken) };
  } catch (error) {
    if (error instanceof BrokerRejectedError) return error.reason;
    throw error;
  }
}

/** The checks of a swap, and when one fails, why in words (no "I can't": callers frame it). */
export interface SwapAssessment {
  readonly checks: RiskCheckResult[];
  readonly refusal: string | undefined;
}

/** A swap, assessed as the sale of what is given up: it spends no cash, it needs the tokens free. */
export function assessSwap(
  context: { readonly market: Pick<MarketDataProvider, 'session'>; readonly clock: () => Date },
  swap: WalletView & { readonly fromToken: string; readonly price: Decimal },
  trader: Pick<Trader, 'limits' | 'halt'>,
): SwapAssessment {
  const { quote, held, fromToken, price } = swap;
  const free = Decimal.max(quote.fromBalance.sub(held.quantity), 0);
  const checks = assessOrder(
    {
      side: 'sell',
      assetClass: 'crypto',
      symbol: fromToken,
      brokerSymbol: fromToken,
      quantity: quote.fromAmount,
      price,
    },
    {
      balances: {
        buyingPower: new Decimal(0),
        equity: quote.fromBalance.mul(price),
        realizedPnlToday: new Decimal(0),
      },
      positions: [{ symbol: fromToken, quantity: free, marketValue: free.mul(price) }],
      sellsOptionsToOpen: false,
    },
    {
      limits: trader.limits,
      session: context.market.session('crypto', context.clock()),
      halted: trader.halt,
    },
  );
  return { checks, refusal: allPassed(checks) ? undefined : refusalOf(checks, swap, free) };
}

/**
 * Why the swap is refused: the failed check, and where the tokens are short, what the wallet holds
 * and what pending swaps already hold of it.
 */
function refusalOf(
  checks: readonly RiskCheckResult[],
  swap: WalletView & { readonly fromToken: string },
  free: Decimal,
): string {
  const { quote, held, fromToken } = swap;
  const failure = firstFailure(checks);
  const detail = failure?.detail ?? 'a risk check failed';
  if (!free.lessThan(quote.fromAmount)) return detail;
  const where = networkLabel(quote.network);
  const tokens = (amount: Decimal) => `${formatDecimal(amount)} ${fromToken}`;
  if (held.swaps === 0) return `${detail}. Your wallet holds ${tokens(quote.fromBalance)} on ${where}`;
  const committed = `committed to ${held.swaps === 1 ? 'a pending swap' : `${held.swaps} pending swaps`}`;
  // The wallet service lists no balance there: the quote only said it covers this swap alone.
  const unlisted = `${tokens(held.quantity)} on ${where} is already ${committed}, and your balance there is not listed, so I can't tell whether this swap fits too; try again once ${held.swaps === 1 ? 'it completes' : 'they complete'}`;
  const holding = `Your wallet holds ${tokens(quote.fromBalance)} on ${where}, ${tokens(held.quantity)} of it already ${committed}`;
  if (failure?.check !== 'position_available') {
    return `${detail}. ${quote.fromBalanceExact ? holding : unlisted}`;
  }
  return quote.fromBalanceExact ? `only ${tokens(free)} is free. ${holding}` : unlisted;
}
