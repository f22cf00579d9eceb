/**
 * Who is talking, and which account they trade. The first message from a platform account
 * creates an Arbion user with a paper account (paper is the default for everyone).
 */
import { randomUUID } from 'node:crypto';
import { PaperBroker } from '../../brokers/paper/paper-broker.js';
import { Prisma, type PrismaClient } from '../db/database.js';
import type { BrokerProvider, TradingMode } from '../db/generated/enums.js';
import { type AssetClass, Decimal } from '../domain/values.js';
import type { ChannelAddress, Sender } from '../messages.js';
import type { RiskLimits } from '../risk/risk-checks.js';

export interface Identity {
  readonly userId: string;
  readonly identityId: string;
}

/** The broker account a user's orders go to. */
export interface TradingAccount {
  readonly connectionId: string;
  readonly brokerAccountId: string;
  /** The id the broker knows the account by. */
  readonly externalId: string;
  readonly provider: BrokerProvider;
  readonly mode: TradingMode;
}

/** Everything a trade needs to know about the person: loaded in one query. */
export interface Trader extends Identity {
  readonly account: TradingAccount;
  readonly limits: RiskLimits;
  /** Set when the user's kill switch is on. */
  readonly halt: { readonly reason: string } | undefined;
}

const TRADER_INCLUDE = {
  riskProfile: true,
  connections: {
    where: { status: 'active' as const },
    include: { accounts: { where: { isDefault: true } } },
  },
} satisfies Prisma.UserInclude;

type TraderUser = Prisma.UserGetPayload<{ include: typeof TRADER_INCLUDE }>;

export interface AccountDefaults {
  readonly paperStartingCash: string;
  readonly maxOrderNotional: string;
  readonly maxPositionFraction: string;
  readonly dailyLossLimit: string;
}

export class Accounts {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly defaults: AccountDefaults,
  ) {}

  /**
   * The trader behind a platform account, with account, limits and kill switch, in one query.
   * @param create make the user (with a paper account) on first contact; otherwise undefined
   */
  async trader(
    address: ChannelAddress,
    sender: Sender,
    options: { create: boolean },
  ): Promise<Trader | undefined> {
    const key = {
      platform: address.platform,
      platformWorkspaceId: address.workspaceId,
      platformUserId: sender.platformUserId,
    };
    const identity = await this.prisma.channelIdentity.findUnique({
      relationLoadStrategy: 'join',
      where: { platform_platformWorkspaceId_platformUserId: key },
      include: { user: { include: TRADER_INCLUDE } },
    });
    if (identity !== null) return this.toTrader(identity.user, identity.id);
    if (!options.create) return undefined;
    const created = await this.identify(address, sender);
    return this.traderById(created.userId, created.identityId);
  }

  /** The trader by user id (confirmations, strategies). */
  async traderById(userId: string, identityId = ''): Promise<Trader> {
    const user = await this.prisma.user.findUniqueOrThrow({
      relationLoadStrategy: 'join',
      where: { id: userId },
      include: TRADER_INCLUDE,
    });
    return this.toTrader(user, identityId);
  }

  private toTrader(user: TraderUser, identityId: string): Trader {
    const accounts = user.connections
      .flatMap((connection) => connection.accounts.map((account) => ({ account, connection })))
      .sort((a, b) => a.account.createdAt.getTime() - b.account.createdAt.getTime());
    const chosen = accounts[0];
    if (chosen === undefined) throw new Error(`user ${user.id} has no active default account`);
    const profile = user.riskProfile;
    const pick = (value: { toString(): string } | null | undefined, fallback: string) =>
      new Decimal(value ? value.toString() : fallback);
    return {
      userId: user.id,
      identityId,
      account: {
        connectionId: chosen.connection.id,
        brokerAccountId: chosen.account.id,
        externalId: chosen.account.externalId,
        provider: chosen.connection.provider,
        mode: chosen.connection.mode,
      },
      limits: {
        maxOrderNotional: pick(profile?.maxOrderNotional, this.defaults.maxOrderNotional),
        maxPositionFraction: pick(profile?.maxPositionFraction, this.defaults.maxPositionFraction),
        dailyLossLimit: pick(profile?.dailyLossLimit, this.defaults.dailyLossLimit),
        allowedAssetClasses: (profile?.allowedAssetClasses ?? ['equity', 'option', 'crypto']) as AssetClass[],
      },
      halt: user.tradingHaltedAt ? { reason: user.tradingHaltReason ?? 'kill switch' } : undefined,
    };
  }

  /** The user behind a platform account, without creating one. */
  async find(address: ChannelAddress, sender: Sender): Promise<Identity | undefined> {
    const identity = await this.prisma.channelIdentity.findUnique({
      where: {
        platform_platformWorkspaceId_platformUserId: {
          platform: address.platform,
          platformWorkspaceId: address.workspaceId,
          platformUserId: sender.platformUserId,
        },
      },
      select: { id: true, userId: true },
    });
    return identity === null ? undefined : { userId: identity.userId, identityId: identity.id };
  }

  /** The user behind a platform account, created with a paper account on first contact. */
  async identify(address: ChannelAddress, sender: Sender): Promise<Identity> {
    const key = {
      platform: address.platform,
      platformWorkspaceId: address.workspaceId,
      platformUserId: sender.platformUserId,
    };
    const existing = await this.prisma.channelIdentity.findUnique({
      where: { platform_platformWorkspaceId_platformUserId: key },
      select: { id: true, userId: true },
    });
    if (existing !== null) return { userId: existing.userId, identityId: existing.id };
    try {
      return await this.prisma.$transaction(async (tx) => {
        const user = await tx.user.create({ data: { displayName: sender.displayName } });
        const identity = await tx.channelIdentity.create({
          data: { ...key, userId: user.id, displayName: sender.displayName },
        });
        const connection = await tx.brokerConnection.create({
          data: {
            userId: user.id,
            provider: 'paper',
            mode: 'paper',
            status: 'active',
            healthStatus: 'healthy',
            label: 'Paper account',
          },
        });
        const ledgerId = randomUUID();
        const account = await tx.brokerAccount.create({
          data: {
            connectionId: connection.id,
            externalId: ledgerId,
            displayNumber: `PAPER-${ledgerId.slice(0, 4).toUpperCase()}`,
            isDefault: true,
            accountType: 'paper',
          },
        });
        await PaperBroker.openAccount(tx, ledgerId, account.id, this.defaults.paperStartingCash);
        await tx.auditEvent.create({
          data: {
            type: 'user.created',
            actorKind: 'system',
            userId: user.id,
            data: { platform: address.platform, paperCash: this.defaults.paperStartingCash },
          },
        });
        return { userId: user.id, identityId: identity.id };
      });
    } catch (error) {
      // Two first messages at once: the other one created the user.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        const winner = await this.prisma.channelIdentity.findUniqueOrThrow({
          where: { platform_platformWorkspaceId_platformUserId: key },
        });
        return { userId: winner.userId, identityId: winner.id };
      }
      throw error;
    }
  }

  /** The user's default account: their default broker account on an active connection. */
  async tradingAccount(userId: string): Promise<TradingAccount> {
    const account = await this.prisma.brokerAccount.findFirst({
      where: { isDefault: true, connection: { userId, status: 'active' } },
      include: { connection: true },
      orderBy: { createdAt: 'asc' },
    });
    if (account === null) throw new Error(`user ${userId} has no active default account`);
    return {
      connectionId: account.connectionId,
      brokerAccountId: account.id,
      externalId: account.externalId,
      provider: account.connection.provider,
      mode: account.connection.mode,
    };
  }

  /** The user's limits: their risk profile where set, the configured defaults elsewhere. */
  async riskLimits(userId: string): Promise<RiskLimits> {
    const profile = await this.prisma.riskProfile.findUnique({ where: { userId } });
    const pick = (value: { toString(): string } | null | undefined, fallback: string) =>
      new Decimal(value ? value.toString() : fallback);
    return {
      maxOrderNotional: pick(profile?.maxOrderNotional, this.defaults.maxOrderNotional),
      maxPositionFraction: pick(profile?.maxPositionFraction, this.defaults.maxPositionFraction),
      dailyLossLimit: pick(profile?.dailyLossLimit, this.defaults.dailyLossLimit),
      allowedAssetClasses: (profile?.allowedAssetClasses ?? ['equity', 'option', 'crypto']) as AssetClass[],
    };
  }

  async tradingHalt(userId: string): Promise<{ reason: string } | undefined> {
    const user = await this.prisma.user.findUnique({
      where: { id: userId },
      select: { tradingHaltedAt: true, tradingHaltReason: true },
    });
    return user?.tradingHaltedAt ? { reason: user.tradingHaltReason ?? 'kill switch' } : undefined;
  }
}
