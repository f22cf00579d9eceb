/**
 * One evaluation of one strategy at one tick: snapshot, pure decision, then each action through
 * the strategy guard and the same intent path as a chat order (risk checks, card, state machine).
 *
 * Exactly once: a run is a row unique on (strategy, tick), and an order's intent id derives from
 * (strategy, tick, tag). A job re-run after a crash finds the run still `running`, decides again,
 * and meets the intents it already made instead of making new ones. One strategy has at most one
 * `running` run (a partial unique index), so evaluations of different ticks never overlap.
 */

import type { Accounts, Trader, TradingAccount } from '../../core/accounts/accounts.js';
import type { AccountSnapshot, BrokerLookup } from '../../core/brokers/broker.js';
import type { OrderCommand } from '../../core/conversation/commands.js';
import { Prisma, type PrismaClient } from '../../core/db/database.js';
import { isUniqueViolation } from '../../core/db/errors.js';
import type { Strategy, StrategyRun } from '../../core/db/generated/client.js';
import { contractMultiplier, OPTION_CONTRACT_MULTIPLIER } from '../../core/domain/contract-multiplier.js';
import { Decimal, formatUsd } from '../../core/domain/values.js';
import type { IntentService, IntentUpdate } from '../../core/intents/intent-service.js';
import type { Logger } from '../../core/logging/logger.js';
import type { ChannelAddress } from '../../core/messages.js';
import { guardStrategyOrder } from '../../core/risk/strategy-guard.js';
import { strategyKind } from '../kinds.js';
import type { ModelAdvice, ProposedOrder, StrategySnapshot } from '../strategy.js';
import { strategyIntentId } from './automation-ids.js';
import type { NoticeWriter, Outbox } from './outbox.js';
import { buildSnapshot, type SnapshotSources } from './snapshot-builder.js';

/** Intent statuses whose order counts against the strategy's daily notional. */
const SPENT = ['confirmed', 'submitting', 'submitted', 'partially_filled', 'filled'] as const;

export interface StrategyRunnerDependencies extends SnapshotSources {
  readonly prisma: PrismaClient;
  readonly accounts: Accounts;
  readonly intents: IntentService;
  readonly brokerFor: BrokerLookup;
  readonly outbox: Outbox;
  /** The AI-driven strategy's model call; absent without an LLM (the strategy then holds). */
  readonly advisor?: (snapshot: StrategySnapshot, params: unknown) => Promise<ModelAdvice | undefined>;
  /**
   * How long a `running` run holds its strategy before another tick may take it over: longer than
   * a job's retries take. Default five minutes.
   */
  readonly runLeaseMs?: number;
  /**
   * The time runs are stamped and leases are judged by. The tick is the evaluation's own time;
   * this is "now" for bookkeeping, never the database's `now()`, so tests can move it.
   */
  readonly clock: () => Date;
  readonly logger: Logger;
}

export type EvaluationOutcome =
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'evaluated'; readonly orders: number; readonly halted: boolean };

/** "the wheel on SOFI": how messages name a strategy inside a sentence. */
export function strategyName(strategy: Pick<Strategy, 'kind' | 'symbol'>): string {
  return `${strategyKind(strategy.kind).title} on ${strategy.symbol}`;
}

/** The same at the start of a sentence: "The wheel on SOFI". */
export function strategyTitle(strategy: Pick<Strategy, 'kind' | 'symbol'>): string {
  const name = strategyName(strategy);
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

export function strategyAddress(
  strategy: Pick<Strategy, 'platform' | 'workspaceExternalId' | 'chatId'>,
): ChannelAddress {
  return { platform: strategy.platform, workspaceId: strategy.workspaceExternalId, chatId: strategy.chatId };
}

/**
 * What an order commits, for the auto limits: its cost, or for a put sold to open the cash that
 * secures it (strike x 100 x contracts), not the premium received.
 */
export function orderNotional(order: ProposedOrder, price: Decimal): Decimal {
  if (order.option === undefined) return order.quantity.mul(price);
  if (order.side === 'sell' && order.positionEffect === 'open' && order.option.right === 'put')
    return order.quantity.mul(order.option.strike).mul(OPTION_CONTRACT_MULTIPLIER);
  return order.quantity.mul(price).mul(OPTION_CONTRACT_MULTIPLIER);
}

function orderCommandOf(order: ProposedOrder): OrderCommand {
  const base = {
    kind: 'order' as const,
    side: order.side,
    assetClass: order.assetClass,
    quantity: order.quantity.toFixed(),
    orderType: order.orderType,
    timeInForce: order.timeInForce,
    ...(order.limitPrice === undefined ? {} : { limitPrice: order.limitPrice.toFixed() }),
  };
  if (order.option === undefined) return { ...base, symbol: order.symbol };
  return {
    ...base,
    symbol: order.option.underlying,
    option: {
      underlying: order.option.underlying,
      expiry: order.option.expiry,
      right: order.option.right,
      strike: order.option.strike.toFixed(),
      ...(order.positionEffect === undefined ? {} : { positionEffect: order.positionEffect }),
    },
  };
}

/**
 * A decision's reason inside our sentence: without the strategy's own "Wheel: " label (the
 * message names the strategy already) and without its final period.
 */
export function plainReason(reason: string): string {
  return reason.replace(/^[A-Z][A-Za-z -]{0,24}: /, '').replace(/[.\s]+$/, '');
}

function describeUpdate(update: IntentUpdate): string | undefined {
  return update.kind === 'notice' ? update.text : update.text;
}

export class StrategyRunner {
  constructor(private readonly deps: StrategyRunnerDependencies) {}

  /** Evaluates `strategyId` for `tick`; at most once per (strategy, tick) however often it is called. */
  async evaluate(strategyId: string, tick: Date): Promise<EvaluationOutcome> {
    const { prisma } = this.deps;
    const strategy = await prisma.strategy.findUnique({ where: { id: strategyId } });
    if (strategy === null) return { kind: 'skipped', reason: 'gone' };
    if (strategy.status !== 'active') {
      await this.closeInterruptedRun(strategy, tick);
      return { kind: 'skipped', reason: strategy.status };
    }
    if (strategy.executionMode === 'auto' && strategy.limitsConfirmedAt === null)
      return { kind: 'skipped', reason: 'auto limits not confirmed' };

    const run = await this.claim(strategyId, tick);
    if (run === undefined) return { kind: 'skipped', reason: 'another evaluation of it is running' };
    if (run.status !== 'running') return { kind: 'skipped', reason: 'already evaluated' };
    const log = this.deps.logger.child({ strategyId, userId: strategy.userId, runId: run.id });
    try {
      const outcome = await this.run(strategy, run.id, tick, log);
      return outcome;
    } catch (error) {
      // The run stays `running`: the job's retry evaluates the same tick again.
      log.warn({ err: error }, 'strategy evaluation failed');
      throw error;
    }
  }

  /**
   * The run of (strategy, tick). Undefined while a run of another tick is `running`: the partial
   * unique index refuses a second one. A run past the lease was abandoned (its job gave up or its
   * worker is gone for good): it is marked failed so the strategy is not held forever.
   */
  private async claim(strategyId: string, tick: Date): Promise<StrategyRun | undefined> {
    const { prisma } = this.deps;
    const upsert = () =>
      prisma.strategyRun.upsert({
        where: { strategyId_tick: { strategyId, tick } },
        create: { strategyId, tick, startedAt: this.deps.clock() },
        update: {},
      });
    try {
      return await upsert();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    const now = this.deps.clock();
    const { count } = await prisma.strategyRun.updateMany({
      where: {
        strategyId,
        status: 'running',
        tick: { not: tick },
        startedAt: { lt: new Date(now.getTime() - (this.deps.runLeaseMs ?? 5 * 60_000)) },
      },
      data: { status: 'failed', finishedAt: now, error: 'abandoned: no evaluation finished it' },
    });
    if (count === 0) return undefined;
    try {
      return await upsert();
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
  }

  /**
   * A strategy paused, stopped or halted while a run of this tick was interrupted: the run is
   * closed (so it does not hold the strategy). A halt is told with the halt itself (one
   * transaction); telling it here again finds its key written and adds nothing, unless the run
   * was left by a version that told halts afterwards.
   */
  private async closeInterruptedRun(strategy: Strategy, tick: Date): Promise<void> {
    const { prisma } = this.deps;
    const open = await prisma.strategyRun.findUnique({
      where: { strategyId_tick: { strategyId: strategy.id, tick } },
      select: { id: true, status: true },
    });
    if (open?.status !== 'running') return;
    if (strategy.status === 'halted')
      await this.tellHalt(
        this.deps.outbox,
        strategy,
        open.id,
        strategy.haltReason ?? 'a risk limit was reached',
      );
    await prisma.strategyRun.updateMany({
      where: { id: open.id, status: 'running' },
      data: {
        status: 'skipped',
        finishedAt: this.deps.clock(),
        decision: { strategyStatus: strategy.status },
      },
    });
  }

  private async run(strategy: Strategy, runId: string, tick: Date, log: Logger): Promise<EvaluationOutcome> {
    const { prisma } = this.deps;
    const definition = strategyKind(strategy.kind);
    const address = strategyAddress(strategy);
    const title = strategyTitle(strategy);
    if (definition.actsOnlyInSession) {
      const assetClass =
        this.deps.symbols.get(strategy.symbol)?.assetClass === 'crypto' ? 'crypto' : 'equity';
      if (!this.deps.market.session(assetClass, tick).open) {
        await prisma.strategyRun.update({
          where: { id: runId },
          data: { status: 'skipped', finishedAt: this.deps.clock(), decision: { sessionOpen: false } },
        });
        return { kind: 'skipped', reason: 'market closed' };
      }
    }
    const parsedParams = definition.paramsSchema.safeParse(strategy.params);
    if (!parsedParams.success) {
      await this.halt(
        strategy,
        runId,
        `its settings are no longer valid (${parsedParams.error.issues[0]?.message ?? 'invalid'})`,
      );
      return { kind: 'evaluated', orders: 0, halted: true };
    }
    const params = parsedParams.data;
    const storedState = definition.stateSchema.safeParse(strategy.state);
    const state = storedState.success ? storedState.data : definition.initialState(params);

    const account = await this.deps.accounts.automationAccount(strategy.userId, strategy.connectionId);
    if (account === undefined || account.status !== 'active') {
      await this.halt(
        strategy,
        runId,
        account === undefined
          ? 'the account it trades on was unlinked'
          : `the ${account.provider} link needs attention (${account.status}); say "link" to fix it`,
      );
      return { kind: 'evaluated', orders: 0, halted: true };
    }
    const broker = await this.deps.brokerFor(account);
    const built = await buildSnapshot(this.deps, strategy, definition, { trading: account, broker }, tick);
    let snapshot = built.snapshot;
    if (strategy.kind === 'ai_driven' && this.deps.advisor !== undefined && snapshot.session.open) {
      const advice = await this.deps.advisor(snapshot, params);
      if (advice !== undefined) snapshot = { ...snapshot, advice };
    }
    const decision = definition.decide(params, state, snapshot);
    const equity = built.account.balances.equity;
    const peakEquity = Decimal.max(equity, new Decimal(strategy.peakEquity?.toString() ?? equity));
    // Limits and the card's addressee matter only when there is an order: most runs have none.
    let trader: (Trader & { readonly account: TradingAccount }) | undefined;
    const traderForOrders = async () => {
      trader ??= {
        ...(await this.deps.accounts.traderById(strategy.userId, await this.identityOf(strategy))),
        account,
      };
      return trader;
    };

    let orders = 0;
    let halted = false;
    for (const action of decision.actions) {
      if (action.kind === 'notify') {
        await this.deps.outbox.say(address, `${title}: ${action.text}`, `${runId}:${action.text}`);
      } else if (action.kind === 'halt') {
        await this.halt(strategy, runId, action.reason);
        halted = true;
        break;
      } else {
        const placed = await this.order(strategy, runId, tick, action.order, action.reason, {
          trader: await traderForOrders(),
          snapshot,
          account: built.account,
          equity,
          peakEquity,
          accountExposure: built.account.positions.reduce(
            (sum, position) =>
              sum.plus(
                (position.marketValue ?? position.quantity.mul(position.averageCost))
                  .abs()
                  .mul(position.marketValue === undefined ? contractMultiplier(position.assetClass) : 1),
              ),
            new Decimal(0),
          ),
          log,
        });
        if (placed === 'halted') {
          halted = true;
          break;
        }
        if (placed === 'proposed') orders++;
      }
    }
    const summary = {
      price: snapshot.quote.last.toFixed(),
      sessionOpen: snapshot.session.open,
      actions: decision.actions.map((action) =>
        action.kind === 'order'
          ? {
              kind: 'order',
              tag: action.order.tag,
              side: action.order.side,
              symbol: action.order.symbol,
              quantity: action.order.quantity.toFixed(),
              reason: action.reason,
            }
          : action,
      ),
    };
    // The run's end and the strategy's new state in one statement (every evaluation writes it). A
    // run that finishes after a later tick's (it was abandoned, then woke) does not move state back.
    const finishedAt = this.deps.clock();
    await prisma.$executeRaw(Prisma.sql`
      WITH run AS (
        UPDATE strategy_runs SET status = 'succeeded'::"StrategyRunStatus", "finishedAt" = ${finishedAt},
          decision = ${JSON.stringify(summary)}::jsonb
        WHERE id = ${runId}::uuid
        RETURNING "strategyId"
      )
      UPDATE strategies SET state = ${JSON.stringify(decision.state ?? {})}::jsonb, "lastRunAt" = ${tick},
        "peakEquity" = GREATEST(COALESCE(strategies."peakEquity", 0), ${peakEquity.toFixed()}::numeric),
        "updatedAt" = ${finishedAt}
      FROM run WHERE strategies.id = run."strategyId"
        AND (strategies."lastRunAt" IS NULL OR strategies."lastRunAt" <= ${tick})`);
    log.debug({ orders, halted }, 'strategy evaluated');
    return { kind: 'evaluated', orders, halted };
  }

  /** The identity cards are addressed to: the user's identity on the strategy's platform. */
  private async identityOf(strategy: Strategy): Promise<string> {
    const identity = await this.deps.prisma.channelIdentity.findFirst({
      where: { userId: strategy.userId, platform: strategy.platform },
      orderBy: { createdAt: 'asc' },
      select: { id: true },
    });
    return identity?.id ?? '';
  }

  private async order(
    strategy: Strategy,
    runId: string,
    tick: Date,
    order: ProposedOrder,
    reason: string,
    context: {
      readonly trader: Trader & { readonly account: TradingAccount };
      readonly snapshot: StrategySnapshot;
      readonly equity: Decimal;
      readonly peakEquity: Decimal;
      /** Value of everything the account holds: all strategies' positions and the user's own. */
      readonly accountExposure: Decimal;
      /** The strategy's account as the snapshot read it. */
      readonly account: AccountSnapshot;
      readonly log: Logger;
    },
  ): Promise<'proposed' | 'skipped' | 'halted'> {
    const { prisma, intents, outbox } = this.deps;
    const address = strategyAddress(strategy);
    const title = strategyTitle(strategy);
    const intentId = strategyIntentId(strategy.id, tick, order.tag);
    const existing = await prisma.tradeIntent.findUnique({
      where: { id: intentId },
      select: { status: true },
    });
    // A re-run of this tick whose intent went on (confirmed, cancelled...): nothing left to do.
    if (existing !== null && existing.status !== 'proposed') return 'skipped';
    // The kill switch (or a pause) may have come while this evaluation ran: within one tick.
    const current = await prisma.strategy.findUnique({
      where: { id: strategy.id },
      select: { status: true },
    });
    if (current?.status !== 'active') return 'skipped';

    const price = order.limitPrice ?? context.snapshot.quote.last;
    const held =
      context.snapshot.positions.find((position) => position.symbol === order.symbol)?.quantity ??
      new Decimal(0);
    const signed = order.side === 'buy' ? order.quantity : order.quantity.neg();
    const spent = await prisma.tradeIntent.aggregate({
      where: {
        strategyId: strategy.id,
        status: { in: [...SPENT] },
        createdAt: { gte: new Date(tick.getTime() - 24 * 3_600_000) },
      },
      _sum: { estimatedCost: true },
    });
    const exposure = context.snapshot.positions.reduce(
      (sum, position) =>
        sum.plus(
          position.quantity.abs().mul(position.averageCost).mul(contractMultiplier(position.assetClass)),
        ),
      new Decimal(0),
    );
    const limit = (value: { toString(): string } | null) =>
      value === null ? null : new Decimal(value.toString());
    const guard = guardStrategyOrder({
      executionMode: strategy.executionMode,
      orderNotional: orderNotional(order, price),
      positionBefore: held,
      positionAfter: held.plus(signed),
      limits: {
        maxNotionalPerOrder: limit(strategy.maxNotionalPerOrder),
        maxNotionalPerDay: limit(strategy.maxNotionalPerDay),
        maxPosition: limit(strategy.maxPosition),
        maxDrawdown: limit(strategy.maxDrawdown),
      },
      notionalUsedToday: new Decimal(spent._sum.estimatedCost?.toString() ?? '0'),
      equity: context.equity,
      peakEquity: context.peakEquity,
      realizedPnlToday: context.snapshot.account.realizedPnlToday,
      dailyLossLimit: context.trader.limits.dailyLossLimit,
      exposure: {
        strategy: exposure,
        // One strategy may hold what one position may: the user's max position share of equity.
        strategyCap: context.equity.mul(context.trader.limits.maxPositionFraction),
        user: context.accountExposure,
        // Automation never borrows: everything the account holds stays within its equity.
        userCap: context.equity,
      },
    });
    if (guard.verdict === 'halt') {
      await this.halt(strategy, runId, guard.reasons[0] ?? 'a risk limit was reached');
      return 'halted';
    }
    if (guard.verdict === 'refuse') {
      if (existing !== null) return 'skipped';
      await outbox.say(
        address,
        `${title}: I did not propose ${order.side} ${order.quantity.toFixed()} ${order.symbol}: ${guard.reasons[0] ?? 'a risk limit'}.`,
        `refuse:${strategy.id}:${order.tag}:${tick.toISOString().slice(0, 10)}`,
      );
      return 'skipped';
    }
    if (existing !== null) {
      // A re-run of this tick: the intent was made, then the run was interrupted. The guard's
      // verdict, taken again, finishes it: auto confirms (only a `proposed` intent can be claimed),
      // ask sends the card again (its delivery is keyed by the intent, so it is sent once).
      if (guard.verdict === 'auto') await this.confirmAuto(strategy, intentId, title, reason, context.log);
      else await outbox.card(address, intentId, this.cardText(strategy, title, reason, guard.reasons[0]));
      return 'skipped';
    }
    const outcome = await intents.propose(orderCommandOf(order), {
      userId: strategy.userId,
      identityId: context.trader.identityId,
      address,
      source: 'strategy',
      trader: context.trader,
      // The account as this evaluation read it: the card's checks need no second read.
      snapshot: Promise.resolve(context.account),
      automation: { intentId, strategyId: strategy.id, strategyRunId: runId, tag: order.tag },
    });
    if (outcome.kind === 'refused') {
      // The same refusal is said once a day, not every minute.
      await outbox.say(
        address,
        `${title} wanted to ${order.side} ${order.quantity.toFixed()} ${order.symbol} (${plainReason(reason)}). ${outcome.text}`,
        `refused:${strategy.id}:${order.tag}:${tick.toISOString().slice(0, 10)}`,
      );
      return 'skipped';
    }
    context.log.info({ intentId, tag: order.tag, verdict: guard.verdict }, 'strategy proposed an order');
    if (guard.verdict === 'auto') {
      await this.confirmAuto(strategy, intentId, title, reason, context.log);
    } else {
      await outbox.card(address, intentId, this.cardText(strategy, title, reason, guard.reasons[0]));
    }
    return 'proposed';
  }

  /** The sentence above a strategy's card: why it wants the order, and why it asks. */
  private cardText(strategy: Strategy, title: string, reason: string, beyond: string | undefined): string {
    return strategy.executionMode === 'auto'
      ? `${title}: ${plainReason(reason)}. This one is beyond your auto limits (${beyond ?? ''}), so it needs your Confirm.`
      : `${title}: ${plainReason(reason)}.`;
  }

  /** Auto mode: the strategy's confirmed limits stand in for the button. */
  private async confirmAuto(
    strategy: Strategy,
    intentId: string,
    title: string,
    reason: string,
    log: Logger,
  ): Promise<void> {
    const update = await this.deps.intents.confirm(intentId, strategy.userId);
    const text = describeUpdate(update);
    log.info({ intentId }, 'strategy order confirmed within its auto limits');
    await this.deps.outbox.say(
      strategyAddress(strategy),
      `${title} (auto): ${plainReason(reason)}.${text === undefined ? '' : ` ${text}`}`,
      `auto:${intentId}`,
    );
  }

  /**
   * Stops the strategy for a risk rule or a broken account, tells the user why, and ends the run:
   * one transaction, so a crash leaves either all three or none (the retry halts it then).
   */
  private async halt(strategy: Strategy, runId: string, reason: string): Promise<void> {
    await this.deps.outbox.transaction(async (tx, told) => {
      const { count } = await tx.strategy.updateMany({
        where: { id: strategy.id, status: 'active' },
        data: { status: 'halted', haltReason: reason },
      });
      if (count === 1) await this.tellHalt(told, strategy, runId, reason);
      await tx.strategyRun.update({
        where: { id: runId },
        data: { status: 'succeeded', finishedAt: this.deps.clock(), decision: { halted: reason } },
      });
    });
  }

  private async tellHalt(
    told: NoticeWriter,
    strategy: Strategy,
    runId: string,
    reason: string,
  ): Promise<void> {
    await told.say(
      strategyAddress(strategy),
      `${strategyTitle(strategy)} is halted: ${plainReason(reason)}. Say "resume ${strategy.symbol}" when you want it to run again.`,
      `halt:${strategy.id}:${runId}`,
    );
  }
}

/** For messages: "$1,234.00". */
export function money(value: Decimal): string {
  return formatUsd(value);
}
