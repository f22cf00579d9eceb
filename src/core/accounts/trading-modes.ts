/**
 * Which account a user's orders go to: the built-in paper account, or a linked broker's account
 * after "go live on X" and its typed confirmation "confirm live X".
 *
 * Safety: going live takes two messages from the user (a request, then the confirmation within
 * five minutes), names the account and says whether real money moves; cards already shown keep
 * the account they named (execution refuses them once the trading account changed).
 */

import { AuditLog } from '../audit/audit-log.js';
import { type BrokerProvider, brokerName } from '../brokers/broker.js';
import type { PrismaClient } from '../db/database.js';
import { describeBrokerFailure } from '../intents/broker-failures.js';
import type { Logger } from '../logging/logger.js';

/** How long "confirm live X" may follow "go live on X". */
export const LIVE_CONFIRMATION_WINDOW_MS = 5 * 60_000;

export interface TradingModesDependencies {
  readonly prisma: PrismaClient;
  /** Reads the accounts a connection opens from its broker and stores them. */
  readonly syncAccounts: (connectionId: string) => Promise<unknown>;
  /** Whether orders through the connection move real money (Alpaca paper keys do not). */
  readonly realMoney: (connectionId: string) => Promise<boolean>;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

type LinkedProvider = Exclude<BrokerProvider, 'paper'>;

export class TradingModes {
  private readonly audit: AuditLog;

  constructor(private readonly deps: TradingModesDependencies) {
    this.audit = new AuditLog(deps.prisma);
  }

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /** "go live on X": checks the link and its account, and says what confirming would do. */
  async requestLive(userId: string, provider: BrokerProvider | undefined): Promise<string> {
    if (provider === 'paper') return this.usePaper(userId);
    const linked = await this.deps.prisma.brokerConnection.findMany({
      where: { userId, provider: { not: 'paper' }, status: { not: 'revoked' } },
      orderBy: { createdAt: 'desc' },
    });
    const candidates = provider === undefined ? linked : linked.filter((row) => row.provider === provider);
    if (candidates.length === 0) {
      const which = provider === undefined ? 'broker' : brokerName(provider);
      return `Live trading needs a linked ${which} account, and none is linked yet: say "link" to link one. You are still on your current account; nothing was changed.`;
    }
    if (candidates.length > 1 && provider === undefined) {
      const names = [...new Set(candidates.map((row) => row.provider))];
      return `Which broker? Say ${names.map((name) => `"go live on ${name}"`).join(' or ')}. Nothing was changed.`;
    }
    const connection = candidates[0];
    if (connection === undefined) throw new Error('unreachable: a candidate exists');
    const name = brokerName(connection.provider);
    if (connection.status !== 'active') {
      return `Your ${name} link ${connection.status === 'needs_reauth' ? 'needs a new sign-in' : `is ${connection.status}`}: say "link" to fix it first. Nothing was changed.`;
    }
    let account: { displayNumber: string | null } | undefined;
    let realMoney: boolean;
    try {
      account = await this.defaultAccount(connection.id);
      if (account === undefined) {
        await this.deps.syncAccounts(connection.id);
        account = await this.defaultAccount(connection.id);
      }
      realMoney = await this.deps.realMoney(connection.id);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, userId, connectionId: connection.id },
        'could not prepare going live',
      );
      return `${describeBrokerFailure(error)} I could not read your ${name} accounts, so nothing was changed. Try again in a minute.`;
    }
    if (account === undefined) {
      return `${name} lists no open account for this sign-in, so there is nothing to trade on. Nothing was changed.`;
    }
    await this.deps.prisma.brokerConnection.update({
      where: { id: connection.id },
      data: { liveRequestedAt: this.now() },
    });
    const number = account.displayNumber ? ` ••${account.displayNumber}` : '';
    const what = realMoney
      ? `Going live sends the orders you confirm to your ${name} account${number} with REAL money.`
      : `Your ${name} keys are for its paper environment: the orders you confirm would go to ${name}'s simulated account${number} (no real money).`;
    return `${what} Every order still shows a card for you to confirm.\nTo switch, reply within 5 minutes: confirm live ${connection.provider}`;
  }

  /** "confirm live X": within the window after the request, orders go to that account from now on. */
  async confirmLive(userId: string, provider: LinkedProvider): Promise<string> {
    const now = this.now();
    const name = brokerName(provider);
    const connection = await this.deps.prisma.brokerConnection.findFirst({
      where: {
        userId,
        provider,
        status: 'active',
        liveRequestedAt: { gt: new Date(now.getTime() - LIVE_CONFIRMATION_WINDOW_MS) },
      },
      include: { accounts: { where: { isDefault: true }, take: 1 } },
    });
    const account = connection?.accounts[0];
    if (connection === null || account === undefined) {
      return `There is no request to go live on ${name} waiting (they last 5 minutes). Say "go live on ${provider}" first. Nothing was changed.`;
    }
    let realMoney: boolean;
    try {
      realMoney = await this.deps.realMoney(connection.id);
    } catch (error) {
      return `${describeBrokerFailure(error)} Nothing was changed.`;
    }
    const mode = realMoney ? 'live' : 'paper';
    // Claim the request (only once), switch the account, and put any other live link back to paper.
    const switched = await this.deps.prisma.$transaction(async (tx) => {
      const claimed = await tx.brokerConnection.updateMany({
        where: { id: connection.id, status: 'active', liveRequestedAt: connection.liveRequestedAt },
        data: { liveRequestedAt: null, mode, liveEnabledAt: realMoney ? now : null },
      });
      if (claimed.count === 0) return false;
      await tx.brokerConnection.updateMany({
        where: { userId, id: { not: connection.id }, mode: 'live' },
        data: { mode: 'paper', liveEnabledAt: null },
      });
      await tx.user.update({ where: { id: userId }, data: { tradingAccountId: account.id } });
      return true;
    });
    if (!switched)
      return `That request to go live on ${name} was already answered. Nothing more was changed.`;
    await this.audit.record({
      type: realMoney ? 'trading.live_enabled' : 'trading.account_switched',
      actorKind: 'user',
      actorId: userId,
      userId,
      data: { connectionId: connection.id, brokerAccountId: account.id, provider, mode },
    });
    this.deps.logger.info(
      { userId, connectionId: connection.id, provider, mode },
      'trading account switched',
    );
    const number = account.displayNumber ? ` ••${account.displayNumber}` : '';
    return realMoney
      ? `LIVE: your orders now go to ${name} account${number} with real money, after you confirm each one. Say "paper mode" to switch back.`
      : `Your orders now go to ${name}'s paper account${number} (no real money). Say "paper mode" to go back to the built-in paper account.`;
  }

  /** "paper mode": orders go to the built-in paper account; live links go back to paper. */
  async usePaper(userId: string): Promise<string> {
    const wasLive = await this.deps.prisma.$transaction(async (tx) => {
      const live = await tx.brokerConnection.updateMany({
        where: { userId, mode: 'live' },
        data: { mode: 'paper', liveEnabledAt: null, liveRequestedAt: null },
      });
      const user = await tx.user.updateMany({
        where: { id: userId, tradingAccountId: { not: null } },
        data: { tradingAccountId: null },
      });
      return live.count > 0 || user.count > 0;
    });
    if (wasLive) {
      await this.audit.record({ type: 'trading.paper_mode', actorKind: 'user', actorId: userId, userId });
      return 'Back on your paper account: orders use simulated money. Your linked brokers stay linked.';
    }
    return 'You are on your paper account: orders use simulated money.';
  }

  private async defaultAccount(connectionId: string) {
    return (
      (await this.deps.prisma.brokerAccount.findFirst({
        where: { connectionId, isDefault: true },
        select: { id: true, displayNumber: true },
      })) ?? undefined
    );
  }
}
