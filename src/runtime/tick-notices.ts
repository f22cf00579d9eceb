/**
 * What the automation tick tells users besides strategy decisions: paper option expiries as they
 * settle, and after the close a daily summary per user. Both are keyed deliveries on the outbox,
 * so a repeated tick tells nothing twice.
 */
import type { PaperBroker } from '../brokers/paper/paper-broker.js';
import type { SettlementEvent } from '../brokers/paper/settlement.js';
import type { Prisma, PrismaClient } from '../core/db/database.js';
import { formatDecimal, formatUsd } from '../core/domain/values.js';
import { contractLabel } from '../core/intents/instrument-label.js';
import { newYorkInstant, newYorkTime } from '../core/market-data/providers/us-market-calendar.js';
import type { ChannelAddress } from '../core/messages.js';
import type { Outbox } from '../strategies/runtime/outbox.js';
import { strategyTitle } from '../strategies/runtime/strategy-runner.js';

export interface TickNoticeDependencies {
  readonly prisma: PrismaClient;
  readonly paper: Pick<PaperBroker, 'settleExpirations'>;
  readonly outbox: Outbox;
}

/** The tick's notices, in order: expiries first, then (after the close) the daily summaries. */
export function tickNotices(deps: TickNoticeDependencies): (at: Date) => Promise<void> {
  const summarized = { day: '' };
  return async (at) => {
    await settlePaperExpiries(deps, at);
    await dailySummaries(deps, summarized, at);
  };
}

const SETTLEMENT_WORDS: Readonly<Record<SettlementEvent['outcome'], string>> = {
  assigned: 'was assigned',
  called_away: 'was exercised: your shares were called away',
  exercised: 'was exercised',
  expired: 'expired worthless',
  cash_settled: 'was settled in cash at its intrinsic value',
};

export function describeSettlement(event: SettlementEvent): string {
  const { contract } = event;
  const name = contractLabel(contract);
  const shares = event.shares.isZero()
    ? ''
    : ` ${event.shares.isPositive() ? 'Bought' : 'Delivered'} ${formatDecimal(event.shares.abs())} shares at ${formatUsd(event.price)}.`;
  return `Paper: your ${formatDecimal(event.contracts.abs())} ${name} ${SETTLEMENT_WORDS[event.outcome]} (${contract.underlying} at ${formatUsd(event.underlyingPrice)}).${shares} Cash ${event.cashChange.isNegative() ? '' : '+'}${formatUsd(event.cashChange)}.`;
}

/**
 * Paper option expiries, told in the chat of the user's strategy on that underlying (or last
 * order's). Each notice is written by the settlement's own transaction: a crash cannot leave a
 * settled position untold.
 */
async function settlePaperExpiries(deps: TickNoticeDependencies, at: Date): Promise<void> {
  const told = deps.outbox.deferred();
  try {
    await deps.paper.settleExpirations(at, async (tx, event) => {
      const address = await settlementChat(tx, event);
      if (address === undefined) return;
      await told
        .within(tx)
        .say(address, describeSettlement(event), `settled:${event.accountId}:${event.symbol}`);
    });
  } finally {
    // Those settled before a failure are committed: they are told now, not after the grace.
    await told.send();
  }
}

async function settlementChat(
  tx: Prisma.TransactionClient,
  event: SettlementEvent,
): Promise<ChannelAddress | undefined> {
  const where =
    (await tx.strategy.findFirst({
      where: { userId: event.userId, symbol: event.contract.underlying },
      orderBy: { updatedAt: 'desc' },
      select: { platform: true, workspaceExternalId: true, chatId: true },
    })) ??
    (await tx.tradeIntent.findFirst({
      where: { userId: event.userId },
      orderBy: { createdAt: 'desc' },
      select: { platform: true, workspaceExternalId: true, chatId: true },
    }));
  return where === null
    ? undefined
    : { platform: where.platform, workspaceId: where.workspaceExternalId, chatId: where.chatId };
}

/**
 * After the close (16:15 New York), once a day per user: what each running strategy did today.
 * The message key names the user and the day, so the ticks after it add nothing.
 */
async function dailySummaries(
  deps: TickNoticeDependencies,
  summarized: { day: string },
  at: Date,
): Promise<void> {
  const { prisma, outbox } = deps;
  const local = newYorkTime(at);
  if (local.hour * 60 + local.minute < 16 * 60 + 15 || local.date === summarized.day) return;
  summarized.day = local.date;
  const since = newYorkInstant(local.date, 0, 0);
  const running = await prisma.strategy.findMany({
    where: { status: { in: ['active', 'paused', 'halted'] } },
    orderBy: { createdAt: 'asc' },
  });
  const byUser = new Map<string, typeof running>();
  for (const strategy of running)
    byUser.set(strategy.userId, [...(byUser.get(strategy.userId) ?? []), strategy]);
  for (const [userId, strategies] of byUser) {
    const lines = [`Daily summary, ${local.date}:`];
    for (const strategy of strategies) {
      const intents = await prisma.tradeIntent.groupBy({
        by: ['status'],
        where: { strategyId: strategy.id, createdAt: { gte: since } },
        _count: { _all: true },
      });
      const total = intents.reduce((sum, group) => sum + group._count._all, 0);
      const filled = intents.find((group) => group.status === 'filled')?._count._all ?? 0;
      const state = strategy.status === 'halted' ? `halted (${strategy.haltReason ?? ''})` : strategy.status;
      lines.push(
        `  ${strategyTitle(strategy)}: ${state}; ${total === 0 ? 'no orders today' : `${total} order${total === 1 ? '' : 's'} today, ${filled} filled`}.`,
      );
    }
    const first = strategies[0];
    if (first === undefined) continue;
    await outbox.say(
      { platform: first.platform, workspaceId: first.workspaceExternalId, chatId: first.chatId },
      lines.join('\n'),
      `summary:${userId}:${local.date}`,
    );
  }
}
