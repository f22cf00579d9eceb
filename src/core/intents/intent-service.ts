/**
 * Trade intents from proposal to fill.
 *
 * Safety invariants (DESIGN.md), and where each holds:
 * 1. No order without a confirmed intent: `placeOrder` is called only from `execute`, after the
 *    intent moved confirmed -> submitting.
 * 2. Only the requester, only once, only before expiry: `confirm` checks the user, then one
 *    conditional update `status = proposed AND expiresAt > now`; exactly one caller can win it.
 * 3. Executing twice places one order: the client order id is derived from the intent, the orders
 *    table holds it uniquely, and brokers treat it as an idempotency key.
 * 4. Risk checks run at proposal and again at execution, and fail closed.
 */
import { randomUUID } from 'node:crypto';
import {
  type AccountSnapshot,
  type Broker,
  type BrokerLookup,
  type BrokerOrder,
  BrokerRejectedError,
  type PlaceOrderRequest,
  type SwapQuote,
} from '../brokers/broker.js';
import type { Accounts, Trader, TradingAccount } from '../accounts/accounts.js';
import { AuditLog } from '../audit/audit-log.js';
import type { OrderCommand, SwapCommand } from '../conversation/commands.js';
import { Prisma, type PrismaClient, type SqlExecutor } from '../db/database.js';
import type { IntentStatus, OrderStatus } from '../db/generated/enums.js';
import { prismaExecutor } from '../db/sql.js';
import { Decimal, formatDecimal, formatUsd } from '../domain/values.js';
import { userMessageFor } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { MarketDataProvider, OptionContract, Quote, QuoteRequest } from '../market-data/market-data.js';
import { occSymbol } from '../market-data/providers/options.js';
import type { Card, ChannelAddress } from '../messages.js';
import {
  allPassed,
  firstFailure,
  notionalOf,
  type RiskCheckResult,
  type RiskInput,
  runRiskChecks,
} from '../risk/risk-checks.js';
import { describeBrokerFailure } from './broker-failures.js';
import { renderApprovalCard, renderIntentCard } from './confirmation-card.js';
import { insertIntentWithAudit } from './intent-insert.js';
import { clientOrderIdFor, orderHash } from './order-identity.js';
import { type IntentEvent, nextStatus, transition } from './state-machine.js';
import {
  DEFAULT_SLIPPAGE_BPS,
  describeSwap,
  networkLabel,
  type SwapDetails,
  swapHashPart,
  swapOf,
} from './swaps.js';

export type IntentRow = Prisma.TradeIntentGetPayload<object>;

export interface IntentSettings {
  readonly confirmationTtlSeconds: number;
  readonly priceToleranceBps: number;
}

export interface IntentServiceDependencies {
  readonly prisma: PrismaClient;
  /** Plain SQL for the writes of every order message; Prisma's raw queries otherwise. */
  readonly sql?: SqlExecutor;
  readonly market: MarketDataProvider;
  readonly accounts: Accounts;
  readonly brokerFor: BrokerLookup;
  readonly settings: IntentSettings;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

/** Who asked, and where the card goes. */
export interface ProposalContext {
  readonly userId: string;
  readonly identityId: string;
  readonly address: ChannelAddress;
  readonly requestMessageId?: string;
  readonly source?: 'chat' | 'strategy' | 'alert';
  /**
   * A strategy's or monitor's order: which one, its run, and the intent id, derived from the run
   * and the order's tag so a re-run evaluation inserts the same row (the id's uniqueness refuses
   * the second) instead of a second order.
   */
  readonly automation?: {
    readonly intentId: string;
    readonly strategyId?: string;
    readonly strategyRunId?: string;
    readonly tag: string;
  };
  /** Already loaded by the caller (saves a query); loaded here when absent. */
  readonly trader?: Trader;
  /** The trader's account snapshot, already loading (the caller started it early). */
  readonly snapshot?: Promise<AccountSnapshot>;
  /** Four-eyes: orders estimated above this need a workspace admin's approval after the Confirm. */
  readonly approvalThreshold?: Decimal;
  /** Asked in a chat others can read (later updates then go to the requester privately). */
  readonly sharedChat?: boolean;
}

export type ProposeOutcome =
  | { readonly kind: 'card'; readonly intentId: string; readonly card: Card }
  | { readonly kind: 'refused'; readonly text: string; readonly checks: readonly RiskCheckResult[] };

/** What to show after a button press or an order update. */
export type IntentUpdate = IntentNotice | IntentCardUpdate;

/** Only the presser sees this; nothing changed. */
export interface IntentNotice {
  readonly kind: 'notice';
  readonly text: string;
}

/**
 * The card changed (edit it) and, optionally, a message for the chat. Four-eyes intents also
 * carry the approval card as it looks now (posted to the chat the first time).
 */
export interface IntentCardUpdate {
  readonly kind: 'updated';
  readonly intentId: string;
  readonly card: Card;
  readonly approvalCard?: Card;
  readonly text?: string;
}

/** Hooks into an execution. */
export interface ExecutionObserver {
  /**
   * Called once the decision is made (the intent is submitting and its order row exists), before
   * the broker is called: channels show "placing the order" and remove the buttons at once.
   */
  readonly onDecided?: (update: IntentCardUpdate) => void;
}

const OPTION_MULTIPLIER = 100;

function dec(value: { toString(): string }): Decimal {
  return new Decimal(value.toString());
}

function optionalDec(value: { toString(): string } | null): Decimal | undefined {
  return value === null ? undefined : dec(value);
}

/** The option contract an intent names, if it is an option order. */
export function contractOf(row: IntentRow): OptionContract | undefined {
  if (
    row.assetClass !== 'option' ||
    !row.optionUnderlying ||
    !row.optionExpiry ||
    !row.optionRight ||
    !row.optionStrike
  ) {
    return undefined;
  }
  return {
    underlying: row.optionUnderlying,
    expiry: row.optionExpiry.toISOString().slice(0, 10),
    right: row.optionRight,
    strike: dec(row.optionStrike),
  };
}

function hashOf(row: IntentRow): string {
  const contract = contractOf(row);
  return orderHash({
    brokerAccountId: row.brokerAccountId ?? '',
    mode: row.mode,
    side: row.side,
    assetClass: row.assetClass,
    symbol: row.symbol,
    quantity: row.quantity === null ? null : dec(row.quantity).toFixed(),
    notional: row.notional === null ? null : dec(row.notional).toFixed(),
    orderType: row.orderType,
    limitPrice: row.limitPrice === null ? null : dec(row.limitPrice).toFixed(),
    stopPrice: row.stopPrice === null ? null : dec(row.stopPrice).toFixed(),
    timeInForce: row.timeInForce,
    option: contract ? occSymbol(contract) : null,
    swap: swapHashPart(swapOf(row)),
  });
}

/** What the risk checks need to know of an option order: the contract and the shares held. */
function optionRisk(
  contract: OptionContract | undefined,
  positions: readonly { readonly symbol: string; readonly quantity: Decimal }[],
  broker: Broker,
): RiskInput['option'] {
  if (contract === undefined || broker.sellsOptionsToOpen !== true) return undefined;
  const held = positions.find((position) => position.symbol === contract.underlying)?.quantity;
  return { right: contract.right, strike: contract.strike, underlyingQuantity: held ?? new Decimal(0) };
}

/** The broker status of an order, as the intent event it means. */
function eventFor(status: OrderStatus): IntentEvent | undefined {
  switch (status) {
    case 'accepted':
      return 'accept';
    case 'partially_filled':
      return 'partial_fill';
    case 'filled':
      return 'fill';
    case 'rejected':
      return 'reject';
    case 'cancelled':
      return 'cancel';
    case 'expired':
      return 'expire';
    default:
      return undefined;
  }
}

export class IntentService {
  private readonly prisma: PrismaClient;
  private readonly sql: SqlExecutor;
  private readonly audit: AuditLog;
  private readonly clock: () => Date;

  constructor(private readonly deps: IntentServiceDependencies) {
    this.prisma = deps.prisma;
    this.sql = deps.sql ?? prismaExecutor(deps.prisma);
    this.audit = new AuditLog(deps.prisma);
    this.clock = deps.clock ?? (() => new Date());
  }

  // ------------------------------------------------------------------ propose

  /** Quotes, sizes and risk-checks an order; returns the confirmation card or the reason it is refused. */
  async propose(order: OrderCommand, context: ProposalContext): Promise<ProposeOutcome> {
    const trader =
      context.trader ?? (await this.deps.accounts.traderById(context.userId, context.identityId));
    const account = trader.account;
    const contract: OptionContract | undefined = order.option
      ? {
          underlying: order.option.underlying,
          expiry: order.option.expiry,
          right: order.option.right,
          strike: new Decimal(order.option.strike),
        }
      : undefined;
    const quoteRequest: QuoteRequest = contract
      ? { assetClass: 'option', contract }
      : { assetClass: order.assetClass as 'equity' | 'crypto', symbol: order.symbol };
    const brokerSymbol = contract ? occSymbol(contract) : order.symbol;

    const broker = this.deps.brokerFor(account);
    broker.catch(() => undefined); // Awaited below, through one of the two reads.
    const [quote, snapshot] = await Promise.all([
      broker.then((ready) => this.quoteAt(ready, quoteRequest)),
      context.snapshot !== undefined && context.trader !== undefined
        ? context.snapshot
        : broker.then((ready) => ready.getAccountSnapshot(account.externalId)),
    ]);
    const { balances, positions } = snapshot;
    const limits = trader.limits;
    const halt = trader.halt;
    const position = positions.find((held) => held.symbol === brokerSymbol);
    const heldQuantity = position?.quantity ?? new Decimal(0);
    const price = this.estimatePrice(order, quote);
    const multiplier = order.assetClass === 'option' ? OPTION_MULTIPLIER : 1;

    let quantity: Decimal | undefined;
    let notional: Decimal | undefined;
    if (order.quantity !== undefined) quantity = new Decimal(order.quantity);
    if (order.notional !== undefined) notional = new Decimal(order.notional);
    if (order.fractionOfPosition !== undefined) {
      const raw = heldQuantity.mul(order.fractionOfPosition);
      // Whole-share holdings sell whole shares; fractional holdings keep their precision.
      quantity = heldQuantity.isInteger()
        ? raw.floor()
        : raw.toDecimalPlaces(order.assetClass === 'crypto' ? 8 : 6, Decimal.ROUND_DOWN);
      if (heldQuantity.isZero()) {
        return this.refuse(
          order,
          context,
          account,
          quote,
          [],
          `You have no ${order.symbol} position to sell.`,
        );
      }
    }
    // The broker's increments and minimums, before the card: the card shows what will be placed.
    const ready = await broker;
    let limitPrice = order.limitPrice === undefined ? undefined : new Decimal(order.limitPrice);
    let stopPrice = order.stopPrice === undefined ? undefined : new Decimal(order.stopPrice);
    if (ready.sizeOrder !== undefined) {
      try {
        const sized = await ready.sizeOrder({
          symbol: order.symbol,
          assetClass: order.assetClass,
          side: order.side,
          orderType: order.orderType,
          quantity,
          notional,
          limitPrice,
          stopPrice,
        });
        ({ quantity, notional, limitPrice, stopPrice } = sized);
      } catch (error) {
        if (!(error instanceof BrokerRejectedError)) throw error;
        return this.refuse(
          order,
          context,
          account,
          quote,
          [],
          `I can't place that. ${error.reason}`,
          quantity,
          notional,
        );
      }
    }
    const sizedQuantity = quantity ?? (notional ?? new Decimal(0)).div(price.mul(multiplier));

    const checks = runRiskChecks({
      side: order.side,
      assetClass: order.assetClass,
      symbol: order.symbol,
      quantity: sizedQuantity,
      price,
      multiplier,
      option: optionRisk(contract, positions, ready),
      account: {
        buyingPower: balances.buyingPower,
        equity: balances.equity,
        realizedPnlToday: balances.realizedPnlToday,
        positionQuantity: heldQuantity,
        positionValue: position?.marketValue ?? heldQuantity.mul(price).mul(multiplier),
      },
      limits,
      session: this.deps.market.session(order.assetClass, this.clock()),
      tradingHalted: halt,
    });
    if (!allPassed(checks)) {
      const failure = firstFailure(checks);
      return this.refuse(
        order,
        context,
        account,
        quote,
        checks,
        `I can't place that: ${failure?.detail ?? 'a risk check failed'}.`,
        quantity,
        notional,
      );
    }

    const id = context.automation?.intentId ?? randomUUID();
    const now = this.clock();
    let estimatedCost = notionalOf({ quantity: sizedQuantity, price, multiplier }).toDecimalPlaces(2);
    // Where the broker previews (Coinbase), the card shows its total, fees included, and an order
    // it says would fail is refused here, before any card.
    if (ready.previewCost !== undefined) {
      try {
        const preview = await ready.previewCost({
          accountId: account.externalId,
          clientOrderId: clientOrderIdFor(id),
          side: order.side,
          assetClass: order.assetClass,
          symbol: brokerSymbol,
          option: contract,
          quantity,
          notional,
          orderType: order.orderType,
          limitPrice,
          stopPrice,
          timeInForce: order.timeInForce,
        });
        estimatedCost = preview.total.toDecimalPlaces(2);
      } catch (error) {
        if (!(error instanceof BrokerRejectedError)) throw error;
        return this.refuse(
          order,
          context,
          account,
          quote,
          checks,
          `I can't place that. ${error.reason}`,
          quantity,
          notional,
        );
      }
    }
    const requiresApproval =
      context.approvalThreshold !== undefined && estimatedCost.greaterThan(context.approvalThreshold);
    const dbDecimal = (value: string | undefined | null) =>
      value === undefined || value === null ? null : new Prisma.Decimal(value);
    const draft: IntentRow = {
      ...this.conversationFields(id, context, now),
      userId: context.userId,
      connectionId: account.connectionId,
      brokerAccountId: account.brokerAccountId,
      mode: account.mode,
      side: order.side,
      assetClass: order.assetClass,
      symbol: order.symbol,
      quantity: dbDecimal(quantity?.toFixed()),
      notional: dbDecimal(notional?.toFixed()),
      fractionOfPosition: dbDecimal(order.fractionOfPosition),
      orderType: order.orderType,
      limitPrice: dbDecimal(limitPrice?.toFixed()),
      stopPrice: dbDecimal(stopPrice?.toFixed()),
      timeInForce: order.timeInForce,
      optionUnderlying: contract?.underlying ?? null,
      optionExpiry: contract ? new Date(`${contract.expiry}T00:00:00Z`) : null,
      optionRight: contract?.right ?? null,
      optionStrike: dbDecimal(contract?.strike.toFixed()),
      positionEffect: order.option?.positionEffect ?? null,
      swap: null,
      quotedPrice: dbDecimal((order.side === 'buy' ? quote.ask : quote.bid).toFixed()),
      estimatedCost: dbDecimal(estimatedCost.toFixed()),
      riskChecks: checks as unknown as Prisma.JsonValue,
      requiresApproval,
    };
    const intent: IntentRow = { ...draft, orderHash: hashOf(draft) };
    // The id is ours: the intent and its audit row are one statement, in plain SQL (every order
    // message writes it).
    await this.sql.execute(
      insertIntentWithAudit(intent, {
        actorId: context.identityId,
        data: {
          symbol: order.symbol,
          side: order.side,
          quotedPrice: price.toFixed(),
          checks: checks.map((check) => check.check),
        },
      }),
    );
    return { kind: 'card', intentId: id, card: renderIntentCard(intent, { now, quoteSource: quote.source }) };
  }

  /**
   * Prices a token swap on the user's smart wallet and risk-checks it as the sale of what is given
   * up; returns the card (rate, minimum received, slippage, who pays gas) or why not.
   */
  async proposeSwap(command: SwapCommand, context: ProposalContext): Promise<ProposeOutcome> {
    const refused = async (text: string, checks: readonly RiskCheckResult[] = []) => {
      await this.audit.record({
        type: 'intent.refused',
        actorKind: 'system',
        userId: context.userId,
        data: { swap: `${command.amount} ${command.fromToken} -> ${command.toToken}`, reason: text },
      });
      return { kind: 'refused', text, checks } as const;
    };
    const [trader, wallet] = await Promise.all([
      context.trader ?? this.deps.accounts.traderById(context.userId, context.identityId),
      this.deps.accounts.walletAccount(context.userId),
    ]);
    if (wallet === undefined) {
      return refused(
        'You have no smart wallet yet. Say "link wallet" and create it on the page; then fund it and swap.',
      );
    }
    const slippageBps = command.slippageBps ?? DEFAULT_SLIPPAGE_BPS;
    const amount = new Decimal(command.amount);
    const broker = await this.deps.brokerFor(wallet);
    if (broker.quoteSwap === undefined) throw new Error('the wallet broker cannot quote swaps');
    let quote: SwapQuote;
    try {
      quote = await broker.quoteSwap({
        accountId: wallet.externalId,
        ...(command.network === undefined ? {} : { network: command.network }),
        fromToken: command.fromToken,
        toToken: command.toToken,
        fromAmount: amount,
        slippageBps,
      });
    } catch (error) {
      if (error instanceof BrokerRejectedError) {
        return refused(`I can't swap that: ${error.reason}. Nothing was sent.`);
      }
      throw error;
    }
    // The dollar value, for the limits: the market data's price of what is given up.
    const price = await this.deps.market
      .quote({ assetClass: 'crypto', symbol: command.fromToken })
      .then((usd) => usd.bid)
      .catch(() => undefined);
    if (price === undefined) {
      return refused(
        `I have no dollar price for ${command.fromToken}, so I can't check the swap against your limits. Nothing was sent.`,
      );
    }
    const checks = runRiskChecks({
      side: 'sell',
      assetClass: 'crypto',
      symbol: command.fromToken,
      quantity: quote.fromAmount,
      price,
      multiplier: 1,
      account: {
        // A swap spends no cash: what it needs is the tokens, checked as the position.
        buyingPower: new Decimal(0),
        equity: quote.fromBalance.mul(price),
        realizedPnlToday: new Decimal(0),
        positionQuantity: quote.fromBalance,
        positionValue: quote.fromBalance.mul(price),
      },
      limits: trader.limits,
      session: this.deps.market.session('crypto', this.clock()),
      tradingHalted: trader.halt,
    });
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
    const network = quote.network;
    const details: SwapDetails = {
      network,
      toToken: command.toToken,
      slippageBps,
      quotedToAmount: quote.toAmount.toFixed(),
      minToAmount: quote.minToAmount.toFixed(),
      gasSponsored: quote.gasSponsored,
    };
    const id = randomUUID();
    const now = this.clock();
    const draft: IntentRow = {
      ...this.conversationFields(id, context, now),
      userId: context.userId,
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
      estimatedCost: new Prisma.Decimal(quote.fromAmount.mul(price).toDecimalPlaces(2).toFixed()),
      riskChecks: checks as unknown as Prisma.JsonValue,
      requiresApproval:
        context.approvalThreshold !== undefined &&
        quote.fromAmount.mul(price).greaterThan(context.approvalThreshold),
    };
    const intent: IntentRow = { ...draft, orderHash: hashOf(draft) };
    await this.sql.execute(
      insertIntentWithAudit(intent, {
        actorId: context.identityId,
        data: {
          swap: `${quote.fromAmount.toFixed()} ${command.fromToken} -> ${command.toToken}`,
          network,
          minToAmount: details.minToAmount,
          checks: checks.map((check) => check.check),
        },
      }),
    );
    return { kind: 'card', intentId: id, card: renderIntentCard(intent, { now }) };
  }

  /** The parts of a new intent that come from the conversation, not from the order: ids, where to answer, expiry. */
  private conversationFields(id: string, context: ProposalContext, now: Date) {
    return {
      id,
      source: context.source ?? 'chat',
      strategyId: context.automation?.strategyId ?? null,
      strategyRunId: context.automation?.strategyRunId ?? null,
      strategyTag: context.automation?.tag ?? null,
      status: 'proposed',
      orderHash: '',
      clientOrderId: clientOrderIdFor(id),
      platform: context.address.platform,
      workspaceExternalId: context.address.workspaceId,
      chatId: context.address.chatId,
      threadId: context.address.threadId ?? null,
      requestMessageId: context.requestMessageId ?? null,
      cardMessageId: null,
      approvalMessageId: null,
      requesterIdentityId: context.identityId,
      sharedChat: context.sharedChat ?? false,
      approverUserId: null,
      approvedAt: null,
      expiresAt: new Date(now.getTime() + this.deps.settings.confirmationTtlSeconds * 1000),
      confirmedAt: null,
      statusReason: null,
      createdAt: now,
      updatedAt: now,
    } as const satisfies Partial<IntentRow>;
  }

  /** Records the platform id of the card, so later state changes can edit it. */
  async attachCard(intentId: string, cardMessageId: string): Promise<void> {
    await this.sql.execute(Prisma.sql`
      UPDATE trade_intents SET "cardMessageId" = ${cardMessageId}, "updatedAt" = ${this.clock()}::timestamp(3)
      WHERE id = ${intentId}::uuid`);
  }

  // ------------------------------------------------------------------ confirm / cancel / expire

  /**
   * A Confirm press. Only the requester, only while proposed, only before expiry, and only once.
   * The checks below read the intent; the decision is the conditional statement in `execute` that
   * moves it out of `proposed`, which exactly one caller can win.
   */
  /** Reads an intent (callers that know the id early start this alongside other work). */
  read(intentId: string): Promise<IntentRow | null> {
    return this.prisma.tradeIntent.findUnique({ where: { id: intentId } });
  }

  async confirm(
    intentId: string,
    actorUserId: string,
    trader?: Trader,
    prefetched?: Promise<IntentRow | null>,
    observer: ExecutionObserver = {},
  ): Promise<IntentUpdate> {
    const now = this.clock();
    // Read-only and needed for the risk re-check: load it alongside the intent.
    const snapshot =
      trader?.userId === actorUserId
        ? this.deps
            .brokerFor(trader.account)
            .then((broker) => broker.getAccountSnapshot(trader.account.externalId))
        : undefined;
    snapshot?.catch(() => undefined); // A refused confirmation never reads it.
    // A prefetched row only saves time: every decision below is re-checked by the conditional write.
    const intent = await (prefetched ?? this.read(intentId));
    if (intent === null) return { kind: 'notice', text: 'That confirmation is no longer valid.' };
    if (intent.userId !== actorUserId) {
      await this.audit.record({
        type: 'intent.confirm_refused',
        actorKind: 'user',
        actorId: actorUserId,
        intentId,
        data: { reason: 'not the requester' },
      });
      return { kind: 'notice', text: 'Only the person who asked for this order can confirm it.' };
    }
    if (intent.status !== 'proposed' || intent.expiresAt <= now)
      return this.explainLostConfirmation(intentId, now);
    if (intent.requiresApproval) return this.requestApproval(intent, now);
    return this.execute(intent, actorUserId, trader, snapshot, observer);
  }

  /**
   * Four-eyes, first half: the requester confirmed an order above the workspace threshold. It waits
   * (with a fresh deadline) for an admin other than them; nothing is placed yet.
   */
  private async requestApproval(intent: IntentRow, now: Date): Promise<IntentUpdate> {
    const stillOpen = { userId: intent.userId, expiresAt: { gt: now } };
    if (hashOf(intent) !== intent.orderHash) return this.rejectChangedOrder(intent, stillOpen);
    const waiting = await this.move(
      intent,
      'request_approval',
      {
        confirmedAt: now,
        expiresAt: new Date(now.getTime() + this.deps.settings.confirmationTtlSeconds * 1000),
      },
      'user',
      intent.userId,
      undefined,
      stillOpen,
    );
    if (waiting === undefined) return this.explainLostConfirmation(intent.id, now);
    return this.updated(
      waiting,
      'This order needs a second person: an admin must approve it before it is sent.',
    );
  }

  /**
   * Four-eyes, second half: an Approve or Decline press. Only a workspace admin (`isAdmin`, decided
   * by the caller from the workspace roles), never the requester, only while it waits, only once.
   */
  async approve(
    intentId: string,
    approverUserId: string,
    options: { readonly isAdmin: boolean; readonly decline: boolean },
    observer: ExecutionObserver = {},
  ): Promise<IntentUpdate> {
    const now = this.clock();
    const intent = await this.read(intentId);
    if (intent === null || !intent.requiresApproval)
      return { kind: 'notice', text: 'That approval is no longer valid.' };
    const refusal =
      intent.userId === approverUserId
        ? 'You cannot approve your own order: another admin must.'
        : options.isAdmin
          ? undefined
          : 'Only a workspace admin can approve or decline orders.';
    if (refusal !== undefined) {
      await this.audit.record({
        type: 'intent.approval_refused',
        actorKind: 'user',
        actorId: approverUserId,
        intentId,
        data: { reason: refusal },
      });
      return { kind: 'notice', text: refusal };
    }
    if (intent.status !== 'awaiting_approval' || intent.expiresAt <= now)
      return this.explainLostConfirmation(intentId, now);
    if (options.decline) {
      const declined = await this.move(
        intent,
        'reject',
        { statusReason: 'declined by an admin', approverUserId, approvedAt: null },
        'user',
        approverUserId,
        undefined,
        { expiresAt: { gt: now } },
      );
      if (declined === undefined) return this.explainLostConfirmation(intentId, now);
      return this.updated(declined, 'An admin declined the order. Nothing was sent.');
    }
    return this.execute(intent, approverUserId, undefined, undefined, observer);
  }

  /** A Cancel press on a card. */
  async cancel(intentId: string, actorUserId: string): Promise<IntentUpdate> {
    const intent = await this.read(intentId);
    if (intent === null) return { kind: 'notice', text: 'That confirmation is no longer valid.' };
    if (intent.userId !== actorUserId)
      return { kind: 'notice', text: 'Only the person who asked for this order can cancel it.' };
    const moved = await this.move(
      intent,
      'cancel',
      { statusReason: 'cancelled on the card' },
      'user',
      actorUserId,
    );
    if (moved === undefined) return this.explainLostConfirmation(intentId, this.clock());
    return {
      kind: 'updated',
      intentId,
      card: renderIntentCard(moved, { now: this.clock() }),
      text: 'Cancelled. Nothing was sent to the broker.',
    };
  }

  /** Expires every proposal past its deadline (a timeout counts as "no"). Returns the cards to edit. */
  async expireDue(): Promise<{ intent: IntentRow; update: IntentUpdate }[]> {
    const now = this.clock();
    const due = await this.prisma.tradeIntent.findMany({
      where: { status: { in: ['proposed', 'awaiting_approval'] }, expiresAt: { lte: now } },
      take: 500,
    });
    const expired: { intent: IntentRow; update: IntentUpdate }[] = [];
    for (const intent of due) {
      const reason = intent.status === 'awaiting_approval' ? 'not approved in time' : 'not confirmed in time';
      const moved = await this.move(intent, 'expire', { statusReason: reason }, 'system');
      if (moved) expired.push({ intent: moved, update: { ...this.updated(moved), text: undefined } });
    }
    return expired;
  }

  // ------------------------------------------------------------------ execution

  /**
   * Executes a proposed intent the requester just confirmed: hash, price tolerance and risk checks,
   * then one statement that moves it proposed -> confirmed -> submitting (still only if proposed, by
   * this user, before expiry) and creates the order row; then the broker.
   */
  private async execute(
    intent: IntentRow,
    actorUserId: string,
    loadedTrader?: Trader,
    loadedSnapshot?: Promise<AccountSnapshot>,
    observer: ExecutionObserver = {},
  ): Promise<IntentUpdate> {
    const now = this.clock();
    // The requester's Confirm, or (four-eyes) an admin's Approve of a confirmed request.
    const decision: IntentEvent = intent.status === 'awaiting_approval' ? 'approve' : 'confirm';
    const approver = decision === 'approve' ? actorUserId : undefined;
    const stillOpen = { userId: intent.userId, expiresAt: { gt: now } };
    if (hashOf(intent) !== intent.orderHash) return this.rejectChangedOrder(intent, stillOpen);
    const trader =
      loadedTrader?.userId === intent.userId
        ? loadedTrader
        : await this.deps.accounts.traderById(intent.userId);
    const swap = swapOf(intent);
    // Swaps go to the smart wallet whatever account orders go to; a strategy's orders go to the
    // strategy's own account (its paper or live connection, chosen when it was created).
    const automated = intent.strategyId !== null || intent.source === 'alert';
    const account =
      swap !== undefined
        ? await this.deps.accounts.walletAccount(intent.userId)
        : automated
          ? await this.deps.accounts.automationAccount(intent.userId, intent.connectionId)
          : trader.account;
    if (account === undefined) {
      const gone =
        swap === undefined ? "the strategy's account was unlinked" : 'your smart wallet was unlinked';
      return this.refuseAtExecution(intent, decision, stillOpen, gone);
    }
    // The order goes to the account the card named, and only while it is still the one orders go
    // to: "go live" or "paper mode" between the card and the press must not redirect it.
    if (account.brokerAccountId !== intent.brokerAccountId || account.mode !== intent.mode) {
      return this.refuseAtExecution(
        intent,
        decision,
        stillOpen,
        `your trading account changed after this card was shown (orders now go to your ${account.mode === 'live' ? 'LIVE' : 'PAPER'} ${account.provider} account)`,
      );
    }
    let broker: Broker;
    try {
      broker = await this.deps.brokerFor(account);
    } catch (error) {
      return this.refuseAtExecution(intent, decision, stillOpen, userMessageFor(error), error);
    }
    const contract = contractOf(intent);
    const quoteRequest: QuoteRequest = contract
      ? { assetClass: 'option', contract }
      : { assetClass: intent.assetClass as 'equity' | 'crypto', symbol: intent.symbol };

    let quote: Quote;
    try {
      quote = await this.quoteAt(broker, quoteRequest);
    } catch (error) {
      const failed = await this.move(
        intent,
        'fail',
        { statusReason: 'no price available at execution' },
        'system',
      );
      this.deps.logger.warn({ err: error, intentId: intent.id }, 'no quote at execution');
      return this.updated(
        failed ?? intent,
        'I could not get a fresh price, so nothing was sent. Please try again.',
      );
    }

    // Price re-check: beyond the tolerance the user must see and confirm the new price. A limit
    // price already caps what the user pays, so limit orders are not re-asked.
    const quoted = optionalDec(intent.quotedPrice);
    const fresh = this.estimatePriceForRow(intent, quote);
    const touch = intent.side === 'buy' ? quote.ask : quote.bid;
    // A swap's minimum received caps it: the wallet refuses a fresh quote below the card's.
    const capped = intent.orderType === 'limit' || intent.orderType === 'stop_limit' || swap !== undefined;
    if (!capped && quoted !== undefined && !quoted.isZero()) {
      const movedBps = touch.sub(quoted).abs().div(quoted).mul(10_000);
      if (movedBps.greaterThan(this.deps.settings.priceToleranceBps)) {
        const multiplier = intent.assetClass === 'option' ? OPTION_MULTIPLIER : 1;
        const quantity =
          optionalDec(intent.quantity) ??
          (optionalDec(intent.notional) ?? new Decimal(0)).div(fresh.mul(multiplier));
        // confirm + requote, applied together: the intent stays proposed with the new price.
        const requoted = await this.moveThrough(
          intent,
          [decision, 'requote'],
          {
            quotedPrice: touch.toFixed(),
            estimatedCost: quantity.mul(fresh).mul(multiplier).toDecimalPlaces(2).toFixed(),
            expiresAt: new Date(now.getTime() + this.deps.settings.confirmationTtlSeconds * 1000),
            confirmedAt: null,
            approverUserId: null,
            statusReason: `price moved from ${formatUsd(quoted)} to ${formatUsd(touch)}`,
          },
          stillOpen,
        );
        if (requoted === undefined) return this.explainLostConfirmation(intent.id, now);
        return this.updated(
          requoted ?? intent,
          `The price moved from ${formatUsd(quoted)} to ${formatUsd(touch)} (more than ${this.deps.settings.priceToleranceBps / 100}%). Nothing was sent: confirm again at the new price, or cancel.`,
        );
      }
    }

    // Risk again, on the account as it is now (another order may have filled since the card).
    let snapshot: AccountSnapshot;
    try {
      snapshot =
        // The caller's early read is of the trading account; a swap's account is the wallet.
        loadedSnapshot !== undefined &&
        loadedTrader?.userId === intent.userId &&
        swap === undefined &&
        !automated
          ? await loadedSnapshot
          : await broker.getAccountSnapshot(account.externalId);
    } catch (error) {
      // Nothing moved: the card stays open and a later press tries again.
      this.deps.logger.warn({ err: error, intentId: intent.id }, 'could not read the account at execution');
      return {
        kind: 'notice',
        text: `${describeBrokerFailure(error, account.provider)} I could not re-check your account, so nothing was sent. Press Confirm again in a moment, or Cancel.`,
      };
    }
    const { balances, positions } = snapshot;
    const limits = trader.limits;
    const halt = trader.halt;
    const brokerSymbol = contract ? occSymbol(contract) : intent.symbol;
    const position = positions.find((held) => held.symbol === brokerSymbol);
    const multiplier = intent.assetClass === 'option' ? OPTION_MULTIPLIER : 1;
    const quantity =
      optionalDec(intent.quantity) ??
      (optionalDec(intent.notional) ?? new Decimal(0)).div(fresh.mul(multiplier));
    const checks = runRiskChecks({
      side: intent.side,
      assetClass: intent.assetClass,
      symbol: intent.symbol,
      quantity,
      price: fresh,
      multiplier,
      option: optionRisk(contract, positions, broker),
      account: {
        buyingPower: balances.buyingPower,
        equity: balances.equity,
        realizedPnlToday: balances.realizedPnlToday,
        positionQuantity: position?.quantity ?? new Decimal(0),
        positionValue: position?.marketValue ?? new Decimal(0),
      },
      limits,
      session: this.deps.market.session(intent.assetClass, now),
      tradingHalted: halt,
    });
    if (!allPassed(checks)) {
      const detail = firstFailure(checks)?.detail ?? 'a risk check failed';
      const rejected = await this.moveThrough(
        intent,
        [decision, 'reject'],
        {
          confirmedAt: intent.confirmedAt ?? now,
          approverUserId: approver ?? null,
          statusReason: detail,
          riskChecks: checks as unknown as Prisma.InputJsonValue,
        },
        stillOpen,
      );
      if (rejected === undefined) return this.explainLostConfirmation(intent.id, now);
      return this.updated(rejected ?? intent, `Refused at execution: ${detail}. Nothing was sent.`);
    }

    // confirmed -> submitting and the order row, together: the unique client order id makes a
    // second execution fail here instead of at the broker.
    const request: PlaceOrderRequest = {
      accountId: account.externalId,
      clientOrderId: intent.clientOrderId,
      side: intent.side,
      assetClass: intent.assetClass,
      symbol: brokerSymbol,
      option: contract,
      quantity: optionalDec(intent.quantity),
      notional: optionalDec(intent.notional),
      orderType: intent.orderType,
      limitPrice: optionalDec(intent.limitPrice),
      stopPrice: optionalDec(intent.stopPrice),
      timeInForce: intent.timeInForce,
      ...(swap === undefined
        ? {}
        : {
            swap: {
              network: swap.network,
              toToken: swap.toToken,
              slippageBps: swap.slippageBps,
              minToAmount: new Decimal(swap.minToAmount),
            },
          }),
    };
    // The decision, in one statement: only a proposed intent of this user, before its expiry, moves
    // to submitting (through confirmed), and its order row is created with it. Of concurrent
    // confirmations exactly one matches; the unique client order id backs this up.
    const submitting = transition(transition(intent.status, decision), 'submit');
    const confirmedAt = intent.confirmedAt ?? now;
    const inserted = await this.prisma.$queryRaw<{ id: string }[]>`
      WITH moved AS (
        UPDATE trade_intents SET status = ${submitting}::"IntentStatus", "confirmedAt" = ${confirmedAt},
          "approverUserId" = ${approver ?? null}::uuid, "approvedAt" = ${approver === undefined ? null : now},
          "updatedAt" = ${now}
        WHERE id = ${intent.id}::uuid AND status = ${intent.status}::"IntentStatus"
          AND "userId" = ${intent.userId}::uuid AND "expiresAt" > ${now}
          AND (${approver ?? null}::uuid IS NULL OR "userId" <> ${approver ?? null}::uuid)
          -- A strategy's order only while the strategy runs: "stop everything" wins any race.
          AND ("strategyId" IS NULL OR EXISTS (SELECT 1 FROM strategies
            WHERE strategies.id = trade_intents."strategyId" AND strategies.status = 'active'))
        RETURNING *
      )
      INSERT INTO orders (id, "intentId", "connectionId", "brokerAccountId", provider, "clientOrderId", status,
        side, "assetClass", symbol, "brokerSymbol", quantity, notional, "orderType", "limitPrice", "stopPrice",
        "timeInForce", "submittedAt", "createdAt", "updatedAt")
      SELECT gen_random_uuid(), moved.id, ${account.connectionId}::uuid, ${account.brokerAccountId}::uuid,
        ${account.provider}::"BrokerProvider", moved."clientOrderId", 'pending', moved.side, moved."assetClass",
        moved.symbol, ${brokerSymbol}, moved.quantity, moved.notional, moved."orderType", moved."limitPrice",
        moved."stopPrice", moved."timeInForce", ${now}, ${now}, ${now}
      FROM moved
      RETURNING id::text AS id`;
    const orderId = inserted[0]?.id;
    if (orderId === undefined) return this.explainLostConfirmation(intent.id, now);
    // The audit rows do not gate the placement: write them alongside it.
    const audited = Promise.all([
      this.audit.record({
        type: decision === 'approve' ? 'intent.approved' : 'intent.confirmed',
        actorKind: 'user',
        actorId: actorUserId,
        userId: intent.userId,
        intentId: intent.id,
      }),
      this.audit.record({
        type: 'intent.submitting',
        actorKind: 'system',
        userId: intent.userId,
        intentId: intent.id,
        orderId,
        data: { clientOrderId: intent.clientOrderId },
      }),
    ]);
    const decided: IntentRow = {
      ...intent,
      status: submitting,
      confirmedAt,
      approverUserId: approver ?? null,
      approvedAt: approver === undefined ? null : now,
    };
    observer.onDecided?.(this.updated(decided));
    try {
      return await this.placeAndApply(broker, request, decided, orderId, account);
    } finally {
      await audited;
    }
  }

  private async placeAndApply(
    broker: Broker,
    request: PlaceOrderRequest,
    intent: IntentRow,
    orderId: string,
    account: TradingAccount,
  ): Promise<IntentUpdate> {
    let brokerOrder: BrokerOrder;
    try {
      brokerOrder = await broker.placeOrder(request);
    } catch (error) {
      if (error instanceof BrokerRejectedError) {
        await this.prisma.order.update({
          where: { clientOrderId: intent.clientOrderId },
          data: { status: 'rejected', rejectReason: error.reason },
        });
        const current = await this.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
        const rejected = await this.move(current, 'reject', { statusReason: error.reason }, 'broker');
        return this.updated(rejected ?? current, `The broker rejected the order: ${error.reason}.`);
      }
      // No usable answer: the order may exist. Look it up by client order id; never resend blindly.
      this.deps.logger.warn(
        { err: error, intentId: intent.id, clientOrderId: intent.clientOrderId },
        'ambiguous order placement; reconciling',
      );
      const found = await broker
        .findOrderByClientOrderId(account.externalId, intent.clientOrderId)
        .catch(() => undefined);
      if (found === undefined) {
        await this.prisma.tradeIntent.update({
          where: { id: intent.id },
          data: { statusReason: 'awaiting reconciliation with the broker', updatedAt: this.clock() },
        });
        const current = await this.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
        return this.updated(
          current,
          'The broker did not answer clearly. I am checking whether the order went through and will not send it twice.',
        );
      }
      brokerOrder = found;
    }
    return this.applyBrokerOrder(brokerOrder, { intent, orderId });
  }

  /**
   * Applies what a broker says about an order (placement answer, poll, resting fill) to our order
   * and intent rows. Returns the card update and a message for the chat, or undefined when unknown.
   */
  async applyBrokerOrder(
    brokerOrder: BrokerOrder,
    known?: { readonly intent: IntentRow; readonly orderId: string },
  ): Promise<IntentUpdate> {
    const orderData = {
      brokerOrderId: brokerOrder.brokerOrderId,
      status: brokerOrder.status,
      filledQuantity: brokerOrder.filledQuantity.toFixed(),
      averageFillPrice: brokerOrder.averageFillPrice?.toFixed() ?? null,
      rejectReason: brokerOrder.rejectReason ?? null,
      lastCheckedAt: this.clock(),
    };
    let orderId: string;
    let intent: IntentRow;
    let orderWrite: Promise<unknown>;
    if (known !== undefined) {
      // Right after placement we hold both rows: the three writes below are independent.
      orderId = known.orderId;
      intent = known.intent;
      orderWrite = this.prisma.order.update({
        where: { id: orderId },
        data: orderData,
        select: { id: true },
      });
    } else {
      const [order] = await this.prisma.order.updateManyAndReturn({
        where: { clientOrderId: brokerOrder.clientOrderId },
        data: orderData,
      });
      if (order === undefined) throw new Error(`no order with client order id ${brokerOrder.clientOrderId}`);
      orderId = order.id;
      intent = await this.prisma.tradeIntent.findUniqueOrThrow({ where: { id: order.intentId } });
      orderWrite = Promise.resolve();
    }
    const fillsWrite =
      brokerOrder.fills.length > 0
        ? this.prisma.fill.createMany({
            data: brokerOrder.fills.map((fill) => ({
              orderId,
              brokerFillId: fill.id,
              quantity: fill.quantity.toFixed(),
              price: fill.price.toFixed(),
              fee: fill.fee.toFixed(),
              filledAt: fill.at,
            })),
            skipDuplicates: true,
          })
        : Promise.resolve();
    const event = eventFor(brokerOrder.status);
    const intentWrite =
      event === undefined
        ? Promise.resolve(undefined)
        : this.move(
            intent,
            event,
            { statusReason: brokerOrder.rejectReason ?? null },
            'broker',
            undefined,
            orderId,
          );
    const [, , moved] = await Promise.all([orderWrite, fillsWrite, intentWrite]);
    const current = moved ?? intent;
    return this.updated(current, this.describeOrder(current.status, brokerOrder, current));
  }

  /**
   * A placement whose outcome stayed unknown and that the broker does not show after looking for
   * a while: the order row is closed as not placed, the intent fails, and the user is told.
   */
  async abandonPlacement(orderId: string, text: string): Promise<IntentUpdate | undefined> {
    const [order] = await this.prisma.order.updateManyAndReturn({
      where: { id: orderId, status: 'pending', brokerOrderId: null },
      data: { status: 'rejected', rejectReason: 'not found at the broker', lastCheckedAt: this.clock() },
    });
    if (order === undefined) return undefined;
    const intent = await this.prisma.tradeIntent.findUniqueOrThrow({ where: { id: order.intentId } });
    const failed = await this.move(
      intent,
      'fail',
      { statusReason: 'not found at the broker after an unclear answer' },
      'system',
      undefined,
      orderId,
    );
    return this.updated(failed ?? intent, text);
  }

  // ------------------------------------------------------------------ helpers

  /** Applies one state machine event as a conditional update; undefined when someone else moved it first. */
  private async move(
    intent: IntentRow,
    event: IntentEvent,
    data: Prisma.TradeIntentUncheckedUpdateManyInput,
    actorKind: 'user' | 'system' | 'broker',
    actorId?: string,
    orderId?: string,
    extraWhere: Prisma.TradeIntentWhereInput = {},
  ): Promise<IntentRow | undefined> {
    const next = nextStatus(intent.status, event);
    // Brokers repeat themselves (polls, redeliveries): an event that is not legal now changes nothing.
    if (next === undefined) return undefined;
    const [moved] = await this.prisma.tradeIntent.updateManyAndReturn({
      where: { ...extraWhere, id: intent.id, status: intent.status },
      // updatedAt from the injected clock: strategies' cool-downs read it (never the wall clock).
      data: { ...data, status: next, updatedAt: this.clock() },
    });
    if (moved === undefined) return undefined;
    await this.audit.record({
      type: `intent.${next}`,
      actorKind,
      actorId,
      userId: intent.userId,
      intentId: intent.id,
      orderId,
      data: { from: intent.status, event },
    });
    return moved;
  }

  /**
   * Applies several events of the table as one conditional update (e.g. confirm then reject), with
   * an audit row per step. Undefined when the intent was no longer where it started.
   */
  private async moveThrough(
    intent: IntentRow,
    events: readonly IntentEvent[],
    data: Prisma.TradeIntentUncheckedUpdateManyInput,
    extraWhere: Prisma.TradeIntentWhereInput,
  ): Promise<IntentRow | undefined> {
    const steps: { from: IntentStatus; event: IntentEvent; to: IntentStatus }[] = [];
    let status = intent.status;
    for (const event of events) {
      const to = transition(status, event);
      steps.push({ from: status, event, to });
      status = to;
    }
    const [moved] = await this.prisma.tradeIntent.updateManyAndReturn({
      where: { ...extraWhere, id: intent.id, status: intent.status },
      data: { ...data, status, updatedAt: this.clock() },
    });
    if (moved === undefined) return undefined;
    for (const step of steps) {
      await this.audit.record({
        type: `intent.${step.to}`,
        actorKind: step.event === 'confirm' || step.event === 'approve' ? 'user' : 'system',
        userId: intent.userId,
        intentId: intent.id,
        data: { from: step.from, event: step.event },
      });
    }
    return moved;
  }

  /** Confirmed, then refused before anything was sent (the account changed or cannot trade). */
  private async refuseAtExecution(
    intent: IntentRow,
    decision: IntentEvent,
    stillOpen: Prisma.TradeIntentWhereInput,
    reason: string,
    error?: unknown,
  ): Promise<IntentUpdate> {
    if (error !== undefined)
      this.deps.logger.warn({ err: error, intentId: intent.id }, 'refused at execution: no broker');
    const rejected = await this.moveThrough(
      intent,
      [decision, 'reject'],
      { statusReason: reason },
      stillOpen,
    );
    if (rejected === undefined) return this.explainLostConfirmation(intent.id, this.clock());
    const sentence = reason.endsWith('.') ? reason : `Refused: ${reason}.`;
    return this.updated(
      rejected,
      sentence.includes('Nothing was sent') ? sentence : `${sentence} Nothing was sent.`,
    );
  }

  /** The stored order no longer matches the hash shown on the card: refuse it, send nothing. */
  private async rejectChangedOrder(
    intent: IntentRow,
    stillOpen: Prisma.TradeIntentWhereInput,
  ): Promise<IntentUpdate> {
    const failed = await this.move(
      intent,
      'reject',
      { statusReason: 'the order changed after it was shown' },
      'system',
      undefined,
      undefined,
      stillOpen,
    );
    return this.updated(
      failed ?? intent,
      'Refused: the order is not the one you confirmed. Nothing was sent.',
    );
  }

  private async explainLostConfirmation(intentId: string, now: Date): Promise<IntentUpdate> {
    const current = await this.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
    if (current.status === 'proposed' && current.strategyId !== null) {
      const strategy = await this.prisma.strategy.findUnique({
        where: { id: current.strategyId },
        select: { status: true },
      });
      if (strategy !== null && strategy.status !== 'active') {
        const cancelled = await this.move(
          current,
          'cancel',
          { statusReason: `its strategy is ${strategy.status}` },
          'system',
        );
        return this.updated(
          cancelled ?? current,
          `Not placed: the strategy that proposed it is ${strategy.status}.`,
        );
      }
    }
    if (
      (current.status === 'proposed' || current.status === 'awaiting_approval') &&
      current.expiresAt <= now
    ) {
      const expired = await this.move(current, 'expire', { statusReason: 'not confirmed in time' }, 'system');
      return this.updated(
        expired ?? current,
        'This confirmation expired, so the order was not placed. Ask again for a fresh quote.',
      );
    }
    const words: Partial<Record<IntentStatus, string>> = {
      awaiting_approval: 'is already confirmed and waiting for an admin',
      confirmed: 'is already confirmed',
      submitting: 'is already being placed',
      submitted: 'was already placed',
      partially_filled: 'was already placed',
      filled: 'was already filled',
      cancelled: 'was cancelled',
      expired: 'expired',
      rejected: 'was refused',
      failed: 'failed',
    };
    return {
      kind: 'notice',
      text: `This order ${words[current.status] ?? `is ${current.status}`}; nothing more was done.`,
    };
  }

  private updated(intent: IntentRow, text?: string): IntentCardUpdate {
    const now = this.clock();
    return {
      kind: 'updated',
      intentId: intent.id,
      card: renderIntentCard(intent, { now }),
      // Four-eyes: the approval card exists from the requester's Confirm on.
      ...(intent.requiresApproval && intent.confirmedAt !== null
        ? { approvalCard: renderApprovalCard(intent, { now }) }
        : {}),
      text,
    };
  }

  private describeOrder(status: IntentStatus, order: BrokerOrder, intent: IntentRow): string {
    const swap = swapOf(intent);
    if (swap !== undefined) {
      return describeSwap(status, intent, swap, {
        // A wallet reports what a completed swap received as its fill's quantity x price.
        received:
          order.fills[0] === undefined ? undefined : order.fills[0].quantity.mul(order.fills[0].price),
        reason: order.rejectReason,
      });
    }
    const what = `${intent.side === 'buy' ? 'bought' : 'sold'} ${formatDecimal(order.filledQuantity)} ${intent.symbol}`;
    const mode = intent.mode === 'live' ? 'LIVE' : 'PAPER';
    switch (status) {
      case 'filled':
        return `Filled (${mode}): ${what} at ${formatUsd(order.averageFillPrice ?? 0)}.`;
      case 'partially_filled':
        return `Partially filled (${mode}): ${what} so far at ${formatUsd(order.averageFillPrice ?? 0)}.`;
      case 'submitted':
        return `Order placed (${mode}) and working at the broker: ${intent.side} ${formatDecimal(order.quantity ?? order.notional ?? 0)} ${intent.symbol}.`;
      case 'rejected':
        return `The broker rejected the order: ${order.rejectReason ?? 'no reason given'}.`;
      case 'cancelled':
        return `Order cancelled (${mode}): ${intent.side} ${intent.symbol}.`;
      case 'expired':
        return `Order expired unfilled (${mode}): ${intent.side} ${intent.symbol}.`;
      default:
        return `Order ${status.replace('_', ' ')}.`;
    }
  }

  /** The broker's own quote where it has one, else the market data's. */
  private async quoteAt(broker: Broker, request: QuoteRequest): Promise<Quote> {
    return (await broker.quote?.(request)) ?? this.deps.market.quote(request);
  }

  /** The price an order is expected to trade at: the touch for market orders, the limit otherwise. */
  private estimatePrice(order: OrderCommand, quote: Quote): Decimal {
    const touch = order.side === 'buy' ? quote.ask : quote.bid;
    if (order.limitPrice !== undefined) {
      // A marketable limit trades at the touch; a resting one at its limit.
      const limit = new Decimal(order.limitPrice);
      return order.side === 'buy' ? Decimal.min(limit, touch) : Decimal.max(limit, touch);
    }
    if (order.stopPrice !== undefined) return new Decimal(order.stopPrice);
    return touch;
  }

  private estimatePriceForRow(intent: IntentRow, quote: Quote): Decimal {
    return this.estimatePrice(
      {
        kind: 'order',
        side: intent.side,
        symbol: intent.symbol,
        assetClass: intent.assetClass,
        orderType: intent.orderType,
        timeInForce: intent.timeInForce,
        limitPrice: intent.limitPrice?.toString(),
        stopPrice: intent.stopPrice?.toString(),
        quantity: '1',
      },
      quote,
    );
  }

  private async refuse(
    order: OrderCommand,
    context: ProposalContext,
    account: TradingAccount,
    quote: Quote,
    checks: readonly RiskCheckResult[],
    text: string,
    quantity?: Decimal,
    notional?: Decimal,
  ): Promise<ProposeOutcome> {
    await this.audit.record({
      type: 'intent.refused',
      actorKind: 'system',
      userId: context.userId,
      data: {
        symbol: order.symbol,
        side: order.side,
        quantity: quantity?.toFixed() ?? null,
        notional: notional?.toFixed() ?? null,
        price: quote.last.toFixed(),
        account: account.brokerAccountId,
        failed: checks.filter((check) => !check.passed).map((check) => check.check),
        reason: text,
      },
    });
    return { kind: 'refused', text, checks };
  }
}
