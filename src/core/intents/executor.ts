/**
 * Executes a confirmed intent, as a short pipeline: resolve the account the card named -> re-price
 * (beyond the tolerance the user is asked again) -> re-check the risk on the account as it is now
 * -> claim (one statement: proposed -> submitting, and the order row) -> place -> apply the answer.
 * Every step before the claim can refuse; nothing reaches the broker without winning the claim.
 */
import type { Trader, TradingAccount } from '../accounts/accounts.js';
import type { AccountSnapshot, Broker } from '../brokers/broker.js';
import { contractMultiplier } from '../domain/contract-multiplier.js';
import { formatUsd } from '../domain/values.js';
import { userMessageFor } from '../errors.js';
import type { OptionContract, Quote } from '../market-data/market-data.js';
import { placeAndApply } from './broker-order-sync.js';
import type { Step } from './execution-step.js';
import { expiryFrom, type IntentContext } from './intent-context.js';
import {
  contractOf,
  hashOf,
  type IntentRow,
  optionalDec,
  placeRequest,
  quoteRequestFor,
  rowPrices,
  rowSize,
} from './intent-row.js';
import { cardUpdate, type ExecutionObserver, type IntentUpdate, refusedSentence } from './intent-updates.js';
import { explainLostConfirmation } from './lost-confirmation.js';
import { costOf, estimatePrice, quoteAt, touchOf, unitsOf } from './pricing.js';
import { recheckRisk } from './recheck.js';
import { swapOf } from './swaps.js';

/** One execution: the intent, who decided, and what the caller already loaded. */
export interface Execution {
  readonly intent: IntentRow;
  readonly actorUserId: string;
  readonly loadedTrader?: Trader;
  readonly loadedSnapshot?: Promise<AccountSnapshot>;
  readonly observer?: ExecutionObserver;
}

export async function executeIntent(context: IntentContext, execution: Execution): Promise<IntentUpdate> {
  const { intent } = execution;
  const now = context.clock();
  // The requester's Confirm, or (four-eyes) an admin's Approve of a confirmed request.
  const decision = intent.status === 'awaiting_approval' ? 'approve' : 'confirm';
  const step: Step = {
    intent,
    decision,
    approver: decision === 'approve' ? execution.actorUserId : undefined,
    stillOpen: { userId: intent.userId, expiresAt: { gt: now } },
    now,
  };
  if (hashOf(intent) !== intent.orderHash) return rejectChangedOrder(context, step);
  const trader =
    execution.loadedTrader?.userId === intent.userId
      ? execution.loadedTrader
      : await context.accounts.traderById(intent.userId);
  const resolved = await resolveAccount(context, step, trader);
  if ('kind' in resolved) return resolved;
  const { account, broker } = resolved;
  const contract = contractOf(intent);

  let quote: Quote;
  try {
    quote = await quoteAt(broker, context.market, quoteRequestFor(intent, contract));
  } catch (error) {
    const failed = await context.store.move(
      intent,
      'fail',
      { statusReason: 'no price available at execution' },
      { kind: 'system' },
    );
    context.logger.warn({ err: error, intentId: intent.id }, 'no quote at execution');
    return cardUpdate(
      failed ?? intent,
      context.clock(),
      'I could not get a fresh price, so nothing was sent. Please try again.',
    );
  }
  const requote = await requoteIfMoved(context, step, quote);
  if (requote !== undefined) return requote;

  // Risk again, on the account as it is now (another order may have filled since the card).
  const refused = await recheckRisk(context, step, {
    trader,
    account,
    broker,
    contract,
    quote,
    loadedSnapshot: earlySnapshot(execution),
  });
  if (refused !== undefined) return refused;
  return claimAndPlace(context, step, execution, { account, broker, contract });
}

/**
 * The account the card named, and only while it is still the one orders go to: "go live" or
 * "paper mode" between the card and the press must not redirect it. Swaps go to the smart wallet,
 * a strategy's orders to the strategy's own account.
 */
async function resolveAccount(
  context: IntentContext,
  step: Step,
  trader: Trader,
): Promise<{ account: TradingAccount; broker: Broker } | IntentUpdate> {
  const { intent } = step;
  const swap = swapOf(intent);
  const automated = intent.strategyId !== null || intent.source === 'alert';
  const account =
    swap !== undefined
      ? await context.accounts.walletAccount(intent.userId)
      : automated
        ? await context.accounts.automationAccount(intent.userId, intent.connectionId)
        : trader.account;
  if (account === undefined) {
    const gone =
      swap === undefined ? "the strategy's account was unlinked" : 'your smart wallet was unlinked';
    return refuseAtExecution(context, step, gone);
  }
  if (account.brokerAccountId !== intent.brokerAccountId || account.mode !== intent.mode) {
    return refuseAtExecution(
      context,
      step,
      `your trading account changed after this card was shown (orders now go to your ${account.mode === 'live' ? 'LIVE' : 'PAPER'} ${account.provider} account)`,
    );
  }
  try {
    return { account, broker: await context.brokerFor(account) };
  } catch (error) {
    return refuseAtExecution(context, step, userMessageFor(error), error);
  }
}

/**
 * Price re-check: beyond the tolerance the user must see and confirm the new price. A limit price
 * already caps what the user pays, and a swap's minimum received caps it, so those are not re-asked.
 */
async function requoteIfMoved(
  context: IntentContext,
  step: Step,
  quote: Quote,
): Promise<IntentUpdate | undefined> {
  const { intent, now } = step;
  const quoted = optionalDec(intent.quotedPrice);
  const capped =
    intent.orderType === 'limit' || intent.orderType === 'stop_limit' || swapOf(intent) !== undefined;
  if (capped || quoted === undefined || quoted.isZero()) return undefined;
  const touch = touchOf(intent.side, quote);
  const movedBps = touch.sub(quoted).abs().div(quoted).mul(10_000);
  if (!movedBps.greaterThan(context.settings.priceToleranceBps)) return undefined;
  const fresh = estimatePrice(rowPrices(intent), quote);
  const multiplier = contractMultiplier(intent.assetClass);
  const quantity = unitsOf(rowSize(intent), fresh, multiplier);
  // confirm + requote, applied together: the intent stays proposed with the new price.
  const requoted = await context.store.moveThrough(
    intent,
    [step.decision, 'requote'],
    {
      quotedPrice: touch.toFixed(),
      estimatedCost: costOf(quantity, fresh, multiplier).toFixed(),
      expiresAt: expiryFrom(context, now),
      confirmedAt: null,
      approverUserId: null,
      statusReason: `price moved from ${formatUsd(quoted)} to ${formatUsd(touch)}`,
    },
    step.stillOpen,
  );
  if (requoted === undefined) return explainLostConfirmation(context, intent.id, now);
  return cardUpdate(
    requoted,
    context.clock(),
    `The price moved from ${formatUsd(quoted)} to ${formatUsd(touch)} (more than ${context.settings.priceToleranceBps / 100}%). Nothing was sent: confirm again at the new price, or cancel.`,
  );
}

/** The caller's early read of the account, when it is of the account this intent goes to. */
function earlySnapshot(execution: Execution): Promise<AccountSnapshot> | undefined {
  const { intent } = execution;
  const automated = intent.strategyId !== null || intent.source === 'alert';
  // The caller's early read is of the trading account; a swap's account is the wallet.
  return execution.loadedTrader?.userId === intent.userId && swapOf(intent) === undefined && !automated
    ? execution.loadedSnapshot
    : undefined;
}

/** confirmed -> submitting and the order row, together; then the broker. */
async function claimAndPlace(
  context: IntentContext,
  step: Step,
  execution: Execution,
  target: { account: TradingAccount; broker: Broker; contract: OptionContract | undefined },
): Promise<IntentUpdate> {
  const { intent } = step;
  const request = placeRequest(intent, target.account, target.contract);
  // Marked as running here before the claim commits: a background pass never resumes it meanwhile.
  context.placing.enter(intent.id);
  try {
    return await claimThenPlace(context, step, execution, { ...target, request });
  } finally {
    context.placing.leave(intent.id);
  }
}

async function claimThenPlace(
  context: IntentContext,
  step: Step,
  execution: Execution,
  target: {
    account: TradingAccount;
    broker: Broker;
    contract: OptionContract | undefined;
    request: ReturnType<typeof placeRequest>;
  },
): Promise<IntentUpdate> {
  const { intent, now } = step;
  const { approver } = step;
  const { request } = target;
  const claimed = await context.store.claimForPlacement({
    intent,
    decision: step.decision,
    approver,
    account: target.account,
    brokerSymbol: request.symbol,
    actorUserId: execution.actorUserId,
    now,
  });
  if (claimed === undefined) return explainLostConfirmation(context, intent.id, now);
  const { orderId } = claimed;
  const decided: IntentRow = {
    ...intent,
    status: claimed.submitting,
    confirmedAt: claimed.confirmedAt,
    approverUserId: approver ?? null,
    approvedAt: approver === undefined ? null : now,
  };
  execution.observer?.onDecided?.(cardUpdate(decided, context.clock()));
  return placeAndApply(context, {
    broker: target.broker,
    request,
    intent: decided,
    orderId,
    account: target.account,
  });
}

/** Confirmed, then refused before anything was sent (the account changed or cannot trade). */
async function refuseAtExecution(
  context: IntentContext,
  step: Step,
  reason: string,
  error?: unknown,
): Promise<IntentUpdate> {
  const { intent } = step;
  if (error !== undefined)
    context.logger.warn({ err: error, intentId: intent.id }, 'refused at execution: no broker');
  const rejected = await context.store.moveThrough(
    intent,
    [step.decision, 'reject'],
    { statusReason: reason },
    step.stillOpen,
  );
  if (rejected === undefined) return explainLostConfirmation(context, intent.id, context.clock());
  return cardUpdate(rejected, context.clock(), refusedSentence(reason));
}

/** The stored order no longer matches the hash shown on the card: refuse it, send nothing. */
export async function rejectChangedOrder(
  context: IntentContext,
  step: Pick<Step, 'intent' | 'stillOpen'>,
): Promise<IntentUpdate> {
  const failed = await context.store.move(
    step.intent,
    'reject',
    { statusReason: 'the order changed after it was shown' },
    { kind: 'system' },
    step.stillOpen,
  );
  return cardUpdate(
    failed ?? step.intent,
    context.clock(),
    'Refused: the order is not the one you confirmed. Nothing was sent.',
  );
}
