/**
 * The re-check before a confirmed intent is claimed: the risk checks again, on the account as it
 * is now (another order may have filled, or a swap landed, since the card). An order is assessed
 * on the account's snapshot; a swap on its network's balance less what the user's other pending
 * swaps hold there (swap-assessment.ts), as its card was. A refusal rejects the intent and says
 * why; an account that cannot be read leaves the card open for another press.
 */
import type { Trader, TradingAccount } from '../accounts/accounts.js';
import type { AccountSnapshot, Broker } from '../brokers/broker.js';
import type { Prisma } from '../db/database.js';
import { isDatabaseOutage } from '../db/outage.js';
import { contractMultiplier } from '../domain/contract-multiplier.js';
import { Decimal } from '../domain/values.js';
import type { OptionContract, Quote } from '../market-data/market-data.js';
import { allPassed, firstFailure, type RiskCheckResult } from '../risk/risk-checks.js';
import { describeBrokerFailure } from './broker-failures.js';
import type { Step } from './execution-step.js';
import type { IntentContext } from './intent-context.js';
import { brokerSymbolFor, rowPrices, rowSize } from './intent-row.js';
import { cardUpdate, type IntentUpdate, notice } from './intent-updates.js';
import { explainLostConfirmation } from './lost-confirmation.js';
import { assessOrder } from './pre-trade.js';
import { estimatePrice, unitsOf } from './pricing.js';
import { assessSwap, viewAtWallet } from './swap-assessment.js';
import { swapOf } from './swaps.js';

/** What the re-check reads: the account the card named, its broker, and the fresh price. */
export interface RecheckInput {
  readonly trader: Trader;
  readonly account: TradingAccount;
  readonly broker: Broker;
  readonly contract: OptionContract | undefined;
  readonly quote: Quote;
  /** The caller's early read of this account, when it has one (orders only). */
  readonly loadedSnapshot?: Promise<AccountSnapshot> | undefined;
}

/** Undefined when every check passes; else what the user is shown (the intent rejected, or a notice). */
export async function recheckRisk(
  context: IntentContext,
  step: Step,
  read: RecheckInput,
): Promise<IntentUpdate | undefined> {
  let refusal: Refusal | undefined;
  try {
    refusal =
      swapOf(step.intent) === undefined
        ? await recheckOrder(context, step, read)
        : await recheckSwap(context, step, read);
  } catch (error) {
    // The database is away (the paper account is ours): the press is waited out and handled again.
    if (isDatabaseOutage(error)) throw error;
    // Nothing moved: the card stays open and a later press tries again.
    context.logger.warn({ err: error, intentId: step.intent.id }, 'could not read the account at execution');
    return notice(
      `${describeBrokerFailure(error)} I could not re-check your account, so nothing was sent. Press Confirm again in a moment, or Cancel.`,
    );
  }
  return refusal === undefined ? undefined : rejectOnRecheck(context, step, refusal);
}

interface Refusal {
  readonly detail: string;
  readonly checks: readonly RiskCheckResult[];
}

async function recheckOrder(
  context: IntentContext,
  step: Step,
  read: RecheckInput,
): Promise<Refusal | undefined> {
  const { intent, now } = step;
  const snapshot = await (read.loadedSnapshot ?? read.broker.getAccountSnapshot(read.account.externalId));
  const fresh = estimatePrice(rowPrices(intent), read.quote);
  const checks = assessOrder(
    {
      side: intent.side,
      assetClass: intent.assetClass,
      symbol: intent.symbol,
      brokerSymbol: brokerSymbolFor(intent.symbol, read.contract),
      quantity: unitsOf(rowSize(intent), fresh, contractMultiplier(intent.assetClass)),
      price: fresh,
      contract: read.contract,
    },
    { ...snapshot, sellsOptionsToOpen: read.broker.sellsOptionsToOpen },
    {
      limits: read.trader.limits,
      session: context.market.session(intent.assetClass, now),
      halted: read.trader.halt,
    },
  );
  if (allPassed(checks)) return undefined;
  return { detail: firstFailure(checks)?.detail ?? 'a risk check failed', checks };
}

/** The swap as its card was checked, on the wallet now, leaving out the swap itself. */
async function recheckSwap(
  context: IntentContext,
  step: Step,
  read: RecheckInput,
): Promise<Refusal | undefined> {
  const { intent } = step;
  const swap = swapOf(intent);
  if (swap === undefined) throw new Error(`intent ${intent.id} is not a swap`);
  const viewed = await viewAtWallet(context, {
    userId: intent.userId,
    wallet: read.account,
    broker: read.broker,
    request: {
      accountId: read.account.externalId,
      network: swap.network,
      fromToken: intent.symbol,
      toToken: swap.toToken,
      fromAmount: new Decimal(intent.quantity?.toString() ?? '0'),
      slippageBps: swap.slippageBps,
    },
    excludingIntentId: intent.id,
  });
  if (typeof viewed === 'string') return { detail: viewed, checks: [] };
  const price = estimatePrice(rowPrices(intent), read.quote);
  const { checks, refusal } = assessSwap(
    context,
    { ...viewed, fromToken: intent.symbol, price },
    read.trader,
  );
  return refusal === undefined ? undefined : { detail: refusal, checks };
}

async function rejectOnRecheck(context: IntentContext, step: Step, refusal: Refusal): Promise<IntentUpdate> {
  const { intent, now } = step;
  const rejected = await context.store.moveThrough(
    intent,
    [step.decision, 'reject'],
    {
      confirmedAt: intent.confirmedAt ?? now,
      approverUserId: step.approver ?? null,
      statusReason: refusal.detail,
      // A refusal by the wallet itself ran no checks: the card's stay on the row.
      ...(refusal.checks.length === 0
        ? {}
        : { riskChecks: refusal.checks as unknown as Prisma.InputJsonValue }),
    },
    step.stillOpen,
  );
  if (rejected === undefined) return explainLostConfirmation(context, intent.id, now);
  return cardUpdate(rejected, context.clock(), `Refused at execution: ${refusal.detail}. Nothing was sent.`);
}
