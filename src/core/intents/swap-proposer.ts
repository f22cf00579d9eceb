/**
 * A token swap on the user's smart wallet becomes a card: quoted by the wallet, assessed as the
 * sale of what is given up (valued by the market data) against what is free of it once the user's
 * pending swaps are counted (swap-assessment.ts), and stored as a proposed intent with the rate,
 * the minimum received, the slippage and who pays gas.
 */
import { randomUUID } from 'node:crypto';
import type { TradingAccount } from '../accounts/accounts.js';
import type { SwapQuote } from '../brokers/broker.js';
import type { SwapCommand } from '../conversation/commands.js';
import { Prisma } from '../db/database.js';
import { Decimal } from '../domain/values.js';
import type { RiskCheckResult } from '../risk/risk-checks.js';
import { renderIntentCard } from './confirmation-card.js';
import type { IntentContext } from './intent-context.js';
import { hashOf, type IntentRow } from './intent-row.js';
import { conversationFields, type ProposalContext, type ProposeOutcome } from './proposal.js';
import { assessSwap, viewAtWallet } from './swap-assessment.js';
import { DEFAULT_SLIPPAGE_BPS, type SwapDetails } from './swaps.js';

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
  const viewed = await viewAtWallet(context, {
    userId: proposal.userId,
    wallet,
    broker: await context.brokerFor(wallet),
    request: {
      accountId: wallet.externalId,
      ...(command.network === undefined ? {} : { network: command.network }),
      fromToken: command.fromToken,
      toToken: command.toToken,
      fromAmount: new Decimal(command.amount),
      slippageBps,
    },
  });
  if (typeof viewed === 'string') return refused(`I can't swap that: ${viewed}. Nothing was sent.`);
  const { quote } = viewed;
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
  const { checks, refusal } = assessSwap(context, { ...viewed, fromToken: command.fromToken, price }, trader);
  if (refusal !== undefined) return refused(`I can't swap that: ${refusal}. Nothing was sent.`, checks);
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
