/**
 * A token swap on the user's smart wallet becomes a card: quoted by the wallet, assessed as the
 * sale of what is given up (valued by the market data), and stored as a proposed intent with the
 * rate, the minimum received, the slippage and who pays gas.
 */
import { randomUUID } from 'node:crypto';
import type { Trader, TradingAccount } from '../accounts/accounts.js';
import { BrokerRejectedError, type SwapQuote } from '../brokers/broker.js';
import type { SwapCommand } from '../conversation/commands.js';
import { Prisma } from '../db/database.js';
import { Decimal, formatDecimal } from '../domain/values.js';
import { allPassed, firstFailure, type RiskCheckResult } from '../risk/risk-checks.js';
import { renderIntentCard } from './confirmation-card.js';
import type { IntentContext } from './intent-context.js';
import { hashOf, type IntentRow } from './intent-row.js';
import { assessOrder } from './pre-trade.js';
import { conversationFields, type ProposalContext, type ProposeOutcome } from './proposal.js';
import { DEFAULT_SLIPPAGE_BPS, networkLabel, type SwapDetails } from './swaps.js';

export async function proposeSwap(
  context: IntentContext,
  command: SwapCommand,
  proposal: ProposalContext,
): Promise<ProposeOutcome> {
  const refused = async (text: string, checks: readonly RiskCheckResult[] = []) => {
    await context.store.audit.record({
      type: 'intent.refused',
      actorKind: 'system',
      userId: proposal.userId,
      data: { swap: `${command.amount} ${command.fromToken} -> ${command.toToken}`, reason: text },
    });
    return { kind: 'refused', text, checks } as const;
  };
  const [trader, wallet] = await Promise.all([
    proposal.trader ?? context.accounts.traderById(proposal.userId, proposal.identityId),
    context.accounts.walletAccount(proposal.userId),
  ]);
  if (wallet === undefined) {
    return refused(
      'You have no smart wallet yet. Say "link wallet" and create it on the page; then fund it and swap.',
    );
  }
  const slippageBps = command.slippageBps ?? DEFAULT_SLIPPAGE_BPS;
  const quote = await quoteAtWallet(context, wallet, command, slippageBps);
  if (typeof quote === 'string') return refused(quote);
  // The dollar value, for the limits: the market data's price of what is given up.
  const price = await context.market
    .quote({ assetClass: 'crypto', symbol: command.fromToken })
    .then((usd) => usd.bid)
    .catch(() => undefined);
  if (price === undefined) {
    return refused(
      `I have no dollar price for ${command.fromToken}, so I can't check the swap against your limits. Nothing was sent.`,
    );
  }
  const checks = assessSwap(context, quote, command.fromToken, price, trader);
  if (!allPassed(checks)) {
    const failure = firstFailure(checks);
    const short = quote.fromBalance.lessThan(quote.fromAmount)
      ? ` Your wallet holds ${formatDecimal(quote.fromBalance)} ${command.fromToken} on ${networkLabel(quote.network)}.`
      : '';
    return refused(
      `I can't swap that: ${failure?.detail ?? 'a risk check failed'}.${short} Nothing was sent.`,
      checks,
    );
  }
  const details: SwapDetails = {
    network: quote.network,
    toToken: command.toToken,
    slippageBps,
    quotedToAmount: quote.toAmount.toFixed(),
    minToAmount: quote.minToAmount.toFixed(),
    gasSponsored: quote.gasSponsored,
  };
  const id = randomUUID();
  const now = context.clock();
  const draft = swapRow(context, { id, now, proposal, wallet, command, quote, price, details, checks });
  const intent = await context.store.insert(
    { ...draft, orderHash: hashOf(draft) },
    {
      actorId: proposal.identityId,
      data: {
        swap: `${quote.fromAmount.toFixed()} ${command.fromToken} -> ${command.toToken}`,
        network: quote.network,
        minToAmount: details.minToAmount,
        checks: checks.map((check) => check.check),
      },
    },
  );
  return { kind: 'card', intentId: id, card: renderIntentCard(intent, { now }) };
}

/** A swap, assessed as the sale of what is given up: it spends no cash, it needs the tokens. */
function assessSwap(
  context: IntentContext,
  quote: SwapQuote,
  fromToken: string,
  price: Decimal,
  trader: Pick<Trader, 'limits' | 'halt'>,
): RiskCheckResult[] {
  const held = quote.fromBalance.mul(price);
  return assessOrder(
    {
      side: 'sell',
      assetClass: 'crypto',
      symbol: fromToken,
      brokerSymbol: fromToken,
      quantity: quote.fromAmount,
      price,
    },
    {
      balances: { buyingPower: new Decimal(0), equity: held, realizedPnlToday: new Decimal(0) },
      positions: [{ symbol: fromToken, quantity: quote.fromBalance, marketValue: held }],
      sellsOptionsToOpen: false,
    },
    {
      limits: trader.limits,
      session: context.market.session('crypto', context.clock()),
      halted: trader.halt,
    },
  );
}

/** The wallet's quote for the swap, or why there is none (a refusal says what it said). */
async function quoteAtWallet(
  context: IntentContext,
  wallet: TradingAccount,
  command: SwapCommand,
  slippageBps: number,
): Promise<SwapQuote | string> {
  const broker = await context.brokerFor(wallet);
  if (broker.quoteSwap === undefined) throw new Error('the wallet broker cannot quote swaps');
  try {
    return await broker.quoteSwap({
      accountId: wallet.externalId,
      ...(command.network === undefined ? {} : { network: command.network }),
      fromToken: command.fromToken,
      toToken: command.toToken,
      fromAmount: new Decimal(command.amount),
      slippageBps,
    });
  } catch (error) {
    if (error instanceof BrokerRejectedError) return `I can't swap that: ${error.reason}. Nothing was sent.`;
    throw error;
  }
}

/** The intent row of a swap card: the sale of what is given up, at the market data's dollar price. */
function swapRow(
  context: IntentContext,
  swap: {
    id: string;
    now: Date;
    proposal: ProposalContext;
    wallet: TradingAccount;
    command: SwapCommand;
    quote: SwapQuote;
    price: Decimal;
    details: SwapDetails;
    checks: readonly RiskCheckResult[];
  },
): IntentRow {
  const { id, now, proposal, wallet, command, quote, price, details, checks } = swap;
  const value = quote.fromAmount.mul(price);
  return {
    ...conversationFields(context, id, proposal, now),
    userId: proposal.userId,
    connectionId: wallet.connectionId,
    brokerAccountId: wallet.brokerAccountId,
    mode: wallet.mode,
    side: 'sell',
    assetClass: 'crypto',
    symbol: command.fromToken,
    quantity: new Prisma.Decimal(quote.fromAmount.toFixed()),
    notional: null,
    fractionOfPosition: null,
    orderType: 'market',
    limitPrice: null,
    stopPrice: null,
    timeInForce: 'ioc',
    optionUnderlying: null,
    optionExpiry: null,
    optionRight: null,
    optionStrike: null,
    positionEffect: null,
    swap: details,
    quotedPrice: new Prisma.Decimal(price.toFixed()),
    estimatedCost: new Prisma.Decimal(value.toDecimalPlaces(2).toFixed()),
    riskChecks: checks as unknown as Prisma.JsonValue,
    requiresApproval:
      proposal.approvalThreshold !== undefined && value.greaterThan(proposal.approvalThreshold),
  };
}
