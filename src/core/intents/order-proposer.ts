/**
 * A chat or strategy order becomes a card: quote and account read together, the quantity resolved
 * ("half my TSLA"), sized to the broker's increments, assessed, previewed where the broker can,
 * and stored as a proposed intent. Any refusal is audited and said; nothing is stored for it.
 */
import { randomUUID } from 'node:crypto';
import type { TradingAccount } from '../accounts/accounts.js';
import {
  type AccountSnapshot,
  type Broker,
  BrokerRejectedError,
  type OrderPreview,
  timeInForceAt,
} from '../brokers/broker.js';
import type { OrderCommand } from '../conversation/commands.js';
import { Prisma } from '../db/database.js';
import { contractMultiplier } from '../domain/contract-multiplier.js';
import { Decimal, type TimeInForce } from '../domain/values.js';
import type { OptionContract, Quote } from '../market-data/market-data.js';
import type { RiskCheckResult } from '../risk/risk-checks.js';
import { allPassed, firstFailure } from '../risk/risk-checks.js';
import { renderIntentCard } from './confirmation-card.js';
import type { IntentContext } from './intent-context.js';
import { brokerSymbolFor, hashOf, type IntentRow, quoteRequestFor } from './intent-row.js';
import { expiryProblem, inferredPositionEffect } from './option-listing.js';
import { clientOrderIdFor } from './order-identity.js';
import { assessOrder } from './pre-trade.js';
import { estimatedCost, estimatePrice, quoteAt, touchOf, unitsOf } from './pricing.js';
import { conversationFields, type ProposalContext, type ProposeOutcome } from './proposal.js';

/** An order's size as the user gave it, then as the broker will take it. */
interface Size {
  quantity?: Decimal;
  notional?: Decimal;
  limitPrice?: Decimal;
  stopPrice?: Decimal;
}

/** Everything a refusal is audited with. */
interface Refusal {
  readonly order: OrderCommand;
  readonly proposal: ProposalContext;
  readonly account: TradingAccount;
  /** Absent when the order was refused before it was quoted. */
  readonly quote?: Quote;
}

export async function proposeOrder(
  context: IntentContext,
  order: OrderCommand,
  proposal: ProposalContext,
): Promise<ProposeOutcome> {
  const trader = proposal.trader ?? (await context.accounts.traderById(proposal.userId, proposal.identityId));
  const account = trader.account;
  const contract = contractOfCommand(order);
  const brokerSymbol = brokerSymbolFor(order.symbol, contract);
  if (contract !== undefined) {
    // A contract that does not trade (a Monday expiry, a past one) is refused before it is quoted.
    const unlisted = await checkContract(context, proposal, account, { contract, brokerSymbol });
    if (unlisted !== undefined) return refuse(context, { order, proposal, account }, [], unlisted);
  }

  const { broker, quote, snapshot } = await readQuoteAndAccount(context, proposal, account, {
    order,
    contract,
  });
  const refusal: Refusal = { order, proposal, account, quote };
  const held = snapshot.positions.find((position) => position.symbol === brokerSymbol)?.quantity;
  const requested = requestedSize(order, held ?? new Decimal(0));
  if (requested === 'nothing held')
    return refuse(context, refusal, [], `You have no ${order.symbol} position to sell.`);

  // The broker's increments and minimums, before the card: the card shows what will be placed.
  const sized = await sizeAtBroker(broker, order, requested);
  if (typeof sized === 'string') return refuse(context, refusal, [], sized, requested);

  const multiplier = contractMultiplier(order.assetClass);
  const price = estimatePrice({ side: order.side, ...prices(order) }, quote);
  const units = unitsOf(sized, price, multiplier);
  const checks = assessOrder(
    {
      side: order.side,
      assetClass: order.assetClass,
      symbol: order.symbol,
      brokerSymbol,
      quantity: units,
      price,
      contract,
    },
    accountToAssess(snapshot, broker),
    {
      limits: trader.limits,
      session: context.market.session(order.assetClass, context.clock()),
      halted: trader.halt,
    },
  );
  if (!allPassed(checks)) {
    const detail = firstFailure(checks)?.detail ?? 'a risk check failed';
    return refuse(context, refusal, checks, `I can't place that: ${detail}.`, sized);
  }

  const id = proposal.automation?.intentId ?? randomUUID();
  // The card shows the time in force the broker will apply, and the intent is placed with it.
  const timeInForce = await timeInForceAt(broker, order);
  const preview = await previewOf(broker, order, { id, account, brokerSymbol, contract, sized, timeInForce });
  if (typeof preview === 'string') return refuse(context, refusal, checks, preview, sized);
  const now = context.clock();
  const cost = estimatedCost({ side: order.side, ...sized }, { units, price, multiplier }, preview);
  const draft: IntentRow = {
    ...conversationFields(context, id, proposal, now),
    ...orderColumns({ ...order, timeInForce }, sized, contract, held ?? new Decimal(0)),
    ...accountColumns(account),
    userId: proposal.userId,
    quotedPrice: new Prisma.Decimal(touchOf(order.side, quote).toFixed()),
    estimatedCost: new Prisma.Decimal(cost.toFixed()),
    riskChecks: checks as unknown as Prisma.JsonValue,
    requiresApproval: needsApproval(proposal, cost),
  };
  const intent = await context.store.insert(
    { ...draft, orderHash: hashOf(draft) },
    {
      actorId: proposal.identityId,
      data: {
        symbol: order.symbol,
        side: order.side,
        quotedPrice: price.toFixed(),
        checks: checks.map((check) => check.check),
      },
    },
  );
  return { kind: 'card', intentId: id, card: renderIntentCard(intent, { now, quoteSource: quote.source }) };
}

/** Why an option contract cannot be ordered (see `expiryProblem`); undefined when it can. */
async function checkContract(
  context: IntentContext,
  proposal: ProposalContext,
  account: TradingAccount,
  option: { contract: OptionContract; brokerSymbol: string },
): Promise<string | undefined> {
  const broker = await context.brokerFor(account);
  const problem = await expiryProblem(option.contract, {
    broker,
    now: context.clock(),
    // Only asked when the expiry is not listed: a contract held (say from an old order) exists.
    held: async () => {
      const snapshot = await (proposal.snapshot ?? broker.getAccountSnapshot(account.externalId));
      return snapshot.positions.some(
        (position) => position.symbol === option.brokerSymbol && !position.quantity.isZero(),
      );
    },
  });
  return problem === undefined ? undefined : `${problem} Nothing was sent.`;
}

/** The quote and the account, read together (the caller may have started the account read). */
async function readQuoteAndAccount(
  context: IntentContext,
  proposal: ProposalContext,
  account: TradingAccount,
  instrument: { order: OrderCommand; contract: OptionContract | undefined },
): Promise<{ broker: Broker; quote: Quote; snapshot: AccountSnapshot }> {
  const broker = context.brokerFor(account);
  broker.catch(() => undefined); // Awaited below, through one of the two reads.
  const [quote, snapshot] = await Promise.all([
    broker.then((ready) =>
      quoteAt(ready, context.market, quoteRequestFor(instrument.order, instrument.contract)),
    ),
    proposal.snapshot !== undefined && proposal.trader !== undefined
      ? proposal.snapshot
      : broker.then((ready) => ready.getAccountSnapshot(account.externalId)),
  ]);
  return { broker: await broker, quote, snapshot };
}

function contractOfCommand(order: OrderCommand): OptionContract | undefined {
  return order.option
    ? {
        underlying: order.option.underlying,
        expiry: order.option.expiry,
        right: order.option.right,
        strike: new Decimal(order.option.strike),
      }
    : undefined;
}

function prices(order: OrderCommand): { limitPrice?: Decimal; stopPrice?: Decimal } {
  return {
    ...(order.limitPrice === undefined ? {} : { limitPrice: new Decimal(order.limitPrice) }),
    ...(order.stopPrice === undefined ? {} : { stopPrice: new Decimal(order.stopPrice) }),
  };
}

/** The size the user asked for; a share of a position ("sell half") becomes a quantity of it. */
function requestedSize(order: OrderCommand, heldQuantity: Decimal): Size | 'nothing held' {
  const size: Size = {
    ...prices(order),
    ...(order.quantity === undefined ? {} : { quantity: new Decimal(order.quantity) }),
    ...(order.notional === undefined ? {} : { notional: new Decimal(order.notional) }),
  };
  if (order.fractionOfPosition === undefined) return size;
  if (heldQuantity.isZero()) return 'nothing held';
  const raw = heldQuantity.mul(order.fractionOfPosition);
  // Whole-share holdings sell whole shares; fractional holdings keep their precision.
  const quantity = heldQuantity.isInteger()
    ? raw.floor()
    : raw.toDecimalPlaces(order.assetClass === 'crypto' ? 8 : 6, Decimal.ROUND_DOWN);
  return { ...size, quantity };
}

/** The size rounded to what the broker takes, or why it takes none of it. */
async function sizeAtBroker(broker: Broker, order: OrderCommand, size: Size): Promise<Size | string> {
  if (broker.sizeOrder === undefined) return size;
  try {
    return await broker.sizeOrder({
      symbol: order.symbol,
      assetClass: order.assetClass,
      side: order.side,
      orderType: order.orderType,
      quantity: size.quantity,
      notional: size.notional,
      limitPrice: size.limitPrice,
      stopPrice: size.stopPrice,
    });
  } catch (error) {
    if (!(error instanceof BrokerRejectedError)) throw error;
    return `I can't place that. ${error.reason}`;
  }
}

/**
 * Where the broker previews (Coinbase), the card's estimate uses its total and fees, and an order
 * it says would fail is refused here, before any card. Undefined: no preview, estimate it ourselves.
 */
async function previewOf(
  broker: Broker,
  order: OrderCommand,
  draft: {
    id: string;
    account: TradingAccount;
    brokerSymbol: string;
    contract: OptionContract | undefined;
    sized: Size;
    timeInForce: TimeInForce;
  },
): Promise<OrderPreview | string | undefined> {
  if (broker.previewCost === undefined) return undefined;
  try {
    return await broker.previewCost({
      accountId: draft.account.externalId,
      clientOrderId: clientOrderIdFor(draft.id),
      side: order.side,
      assetClass: order.assetClass,
      symbol: draft.brokerSymbol,
      option: draft.contract,
      quantity: draft.sized.quantity,
      notional: draft.sized.notional,
      orderType: order.orderType,
      limitPrice: draft.sized.limitPrice,
      stopPrice: draft.sized.stopPrice,
      timeInForce: draft.timeInForce,
    });
  } catch (error) {
    if (!(error instanceof BrokerRejectedError)) throw error;
    return `I can't place that. ${error.reason}`;
  }
}

function accountToAssess(snapshot: AccountSnapshot, broker: Broker) {
  return { ...snapshot, sellsOptionsToOpen: broker.sellsOptionsToOpen };
}

/** Where the order goes: the account the card names, and whether it is paper or live. */
function accountColumns(account: TradingAccount) {
  return {
    connectionId: account.connectionId,
    brokerAccountId: account.brokerAccountId,
    mode: account.mode,
  } as const satisfies Partial<IntentRow>;
}

function needsApproval(proposal: ProposalContext, cost: Decimal): boolean {
  return proposal.approvalThreshold !== undefined && cost.greaterThan(proposal.approvalThreshold);
}

/** The order's own columns of the intent row, as the broker will take it. */
function orderColumns(order: OrderCommand, sized: Size, contract: OptionContract | undefined, held: Decimal) {
  const column = (value: Decimal | string | undefined) =>
    value === undefined ? null : new Prisma.Decimal(typeof value === 'string' ? value : value.toFixed());
  return {
    side: order.side,
    assetClass: order.assetClass,
    symbol: order.symbol,
    quantity: column(sized.quantity),
    notional: column(sized.notional),
    fractionOfPosition: column(order.fractionOfPosition),
    orderType: order.orderType,
    limitPrice: column(sized.limitPrice),
    stopPrice: column(sized.stopPrice),
    timeInForce: order.timeInForce,
    optionUnderlying: contract?.underlying ?? null,
    optionExpiry: contract ? new Date(`${contract.expiry}T00:00:00Z`) : null,
    optionRight: contract?.right ?? null,
    optionStrike: column(contract?.strike),
    // The card says "to open" or "to close" even when the user did not.
    positionEffect:
      order.option?.positionEffect ??
      (contract === undefined ? undefined : inferredPositionEffect(order.side, held, sized.quantity)) ??
      null,
    swap: null,
  } as const satisfies Partial<IntentRow>;
}

async function refuse(
  context: IntentContext,
  refusal: Refusal,
  checks: readonly RiskCheckResult[],
  text: string,
  size?: Size,
): Promise<ProposeOutcome> {
  await context.store.audit.record({
    type: 'intent.refused',
    actorKind: 'system',
    userId: refusal.proposal.userId,
    data: {
      symbol: refusal.order.symbol,
      side: refusal.order.side,
      quantity: size?.quantity?.toFixed() ?? null,
      notional: size?.notional?.toFixed() ?? null,
      price: refusal.quote?.last.toFixed() ?? null,
      account: refusal.account.brokerAccountId,
      failed: checks.filter((check) => !check.passed).map((check) => check.check),
      reason: text,
    },
  });
  return { kind: 'refused', text, checks };
}
