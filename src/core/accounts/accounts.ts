/**
 * Who is talking, and which account they trade. The first message from a platform account
 * creates an Arbion user with a paper account (paper is the default for everyone).
 */
import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient, type SqlExecutor } from '../db/database.js';
import type { BrokerProvider, ConnectionStatus, TradingMode } from '../db/generated/enums.js';
import { prismaExecutor } from '../db/sql.js';
import { type AssetClass, Decimal } from '../domain/values.js';
import type { ChannelAddress, Sender } from '../messages.js';
import type { RiskLimits } from '../risk/risk-checks.js';
import type { PaperAccounts } from './paper-accounts.js';

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
  /** Whether the connection can trade now; a live link that needs a new sign-in is not `active`. */
  readonly status: ConnectionStatus;
}

/** Everything a trade needs to know about the person: loaded in one query. */
export interface Trader extends Identity {
  readonly account: TradingAccount;
  readonly limits: RiskLimits;
  /** Set when the user's kill switch is on. */
  readonly halt: { readonly reason: string } | undefined;
}

/** One flat row per trader: user, limits, and the account their orders go to. */
interface TraderRow {
  identityId: string;
  userId: string;
  tradingHaltedAt: Date | null;
  tradingHaltReason: string | null;
  maxOrderNotional: string | null;
  maxPositionFraction: string | null;
  dailyLossLimit: string | null;
  allowedAssetClasses: AssetClass[] | null;
  connectionId: string | null;
  provider: BrokerProvider | null;
  mode: TradingMode | null;
  status: ConnectionStatus | null;
  brokerAccountId: string | null;
  externalId: string | null;
}

// A plain SQL row instead of Prisma's nested JSON: this query is on every message's path.
const TRADER_COLUMNS = Prisma.sql`u.id::text AS "userId", u."tradingHaltedAt", u."tradingHaltReason",
  rp."maxOrderNotional"::text AS "maxOrderNotional", rp."maxPositionFraction"::text AS "maxPositionFraction",
  rp."dailyLossLimit"::text AS "dailyLossLimit", rp."allowedAssetClasses"::text[] AS "allowedAssetClasses",
  ta."connectionId", ta.provider, ta.mode, ta.status, ta."brokerAccountId", ta."externalId"`;
/**
 * The trading account: the one chosen by "go live on X" (users.tradingAccountId), else the
 * built-in paper account. A chosen account whose link broke is still returned, with its status,
 * so that orders are refused with the reason instead of landing silently on paper.
 */
const TRADER_JOINS = Prisma.sql`LEFT JOIN risk_profiles rp ON rp."userId" = u.id
  LEFT JOIN LATERAL (
    SELECT bc.id::text AS "connectionId", bc.provider::text AS provider, bc.mode::text AS mode,
      bc.status::text AS status, ba.id::text AS "brokerAccountId", ba."externalId"
    FROM broker_accounts ba JOIN broker_connections bc ON bc.id = ba."connectionId"
    WHERE bc."userId" = u.id AND (ba.id = u."tradingAccountId"
      OR (u."tradingAccountId" IS NULL AND bc.provider = 'paper' AND bc.status = 'active' AND ba."isDefault"))
    ORDER BY ba."createdAt" LIMIT 1
  ) ta ON true`;
const TRADER_ORDER = Prisma.sql`LIMIT 1`;

/** The trader row of a platform account. */
function traderOfIdentity(address: ChannelAddress, sender: Sender): Prisma.Sql {
  return Prisma.sql`
    SELECT ci.id::text AS "identityId", ${TRADER_COLUMNS}
    FROM channel_identities ci
    JOIN users u ON u.id = ci."userId"
    ${TRADER_JOINS}
    WHERE ci.platform = ${address.platform}::"Platform" AND ci."platformWorkspaceId" = ${address.workspaceId}
      AND ci."platformUserId" = ${sender.platformUserId}
    ${TRADER_ORDER}`;
}

export interface AccountDefaults {
  readonly paperStartingCash: string;
  readonly maxOrderNotional: string;
  readonly maxPositionFraction: string;
  readonly dailyLossLimit: string;
  /** Providers whose accounts are token wallets (where swaps go); given by the broker adapters. */
  readonly walletProviders: readonly BrokerProvider[];
}

export class Accounts {
  private readonly sql: SqlExecutor;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly defaults: AccountDefaults,
    /** Opens each new user's paper account (the paper broker implements it). */
    private readonly paperAccounts: PaperAccounts,
    /** Plain SQL for the trader lookup on every message; Prisma's raw queries otherwise. */
    sql?: SqlExecutor,
  ) {
    this.sql = sql ?? prismaExecutor(prisma);
  }

  /**
   * The trader behind a platform account, with account, limits and kill switch, in one query.
   * @param create make the user (with a paper account) on first contact; otherwise undefined
   */
  async trader(
    address: ChannelAddress,
    sender: Sender,
    options: { create: boolean },
  ): Promise<Trader | undefined> {
    const rows = await this.sql.query<TraderRow>(traderOfIdentity(address, sender));
    const row = rows[0];
    if (row !== undefined) return this.rowToTrader(row);
    if (!options.create) return undefined;
    const created = await this.identify(address, sender);
    return this.traderById(created.userId, created.identityId);
  }

  /**
   * `trader` (never creating one) in the same statement as other work, usually the audit row of
   * the message (`receivedAuditCte`): one round trip for both.
   */
  async traderAlong(address: ChannelAddress, sender: Sender, ctes: Prisma.Sql): Promise<Trader | undefined> {
    // No identity yet: the lateral join leaves every trader column null.
    type Row = TraderRow | { [Column in keyof TraderRow]: null };
    const rows = await this.sql.query<Row>(Prisma.sql`
      WITH ${ctes}
      SELECT t.*
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (${traderOfIdentity(address, sender)}) AS t ON true`);
    const row = rows[0];
    if (row === undefined) throw new Error('the trader lookup returned no row');
    return row.userId === null ? undefined : this.rowToTrader(row);
  }

  /** The trader by user id (confirmations, strategies). */
  async traderById(userId: string, identityId = ''): Promise<Trader> {
    const rows = await this.sql.query<TraderRow>(Prisma.sql`
      SELECT ${identityId}::text AS "identityId", ${TRADER_COLUMNS}
      FROM users u
      ${TRADER_JOINS}
      WHERE u.id = ${userId}::uuid
      ${TRADER_ORDER}`);
    const row = rows[0];
    if (row === undefined) throw new Error(`no user ${userId}`);
    return this.rowToTrader(row);
  }

  private rowToTrader(row: TraderRow): Trader {
    if (
      row.connectionId === null ||
      row.brokerAccountId === null ||
      row.externalId === null ||
      row.provider === null ||
      row.mode === null ||
      row.status === null
    ) {
      throw new Error(`user ${row.userId} has no active default account`);
    }
    const pick = (value: string | null, fallback: string) => new Decimal(value ?? fallback);
    return {
      userId: row.userId,
      identityId: row.identityId,
      account: {
        connectionId: row.connectionId,
        brokerAccountId: row.brokerAccountId,
        externalId: row.externalId,
        provider: row.provider,
        mode: row.mode,
        status: row.status,
      },
      limits: {
        maxOrderNotional: pick(row.maxOrderNotional, this.defaults.maxOrderNotional),
        maxPositionFraction: pick(row.maxPositionFraction, this.defaults.maxPositionFraction),
        dailyLossLimit: pick(row.dailyLossLimit, this.defaults.dailyLossLimit),
        allowedAssetClasses: row.allowedAssetClasses ?? ['equity', 'option', 'crypto'],
      },
      halt: row.tradingHaltedAt ? { reason: row.tradingHaltReason ?? 'kill switch' } : undefined,
    };
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
        await this.paperAccounts.open(tx, {
          ledgerId,
          brokerAccountId: account.id,
          startingCash: this.defaults.paperStartingCash,
        });
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
    return (await this.traderById(userId)).account;
  }

  /**
   * The account a strategy or monitor trades on: the default account of one of the user's
   * connections (the paper connection for paper strategies), whatever account chat orders go to
   * now. Undefined when the connection is gone or is not the user's.
   */
  async automationAccount(userId: string, connectionId: string | null): Promise<TradingAccount | undefined> {
    const account = await this.prisma.brokerAccount.findFirst({
      where:
        connectionId === null
          ? { connection: { userId, provider: 'paper', status: 'active' } }
          : { connectionId, connection: { userId } },
      orderBy: [{ isDefault: 'desc' }, { createdAt: 'asc' }],
      select: {
        id: true,
        externalId: true,
        connection: { select: { id: true, status: true, provider: true, mode: true } },
      },
    });
    if (account === null) return undefined;
    return {
      connectionId: account.connection.id,
      brokerAccountId: account.id,
      externalId: account.externalId,
      provider: account.connection.provider,
      mode: account.connection.mode,
      status: account.connection.status,
    };
  }

  /**
   * The user's token wallet (a provider of `walletProviders`), where swaps go whatever account
   * orders go to; undefined when no wallet is linked. Swaps move real tokens, so the mode is live.
   */
  async walletAccount(userId: string): Promise<TradingAccount | undefined> {
    const account = await this.prisma.brokerAccount.findFirst({
      where: {
        connection: {
          userId,
          provider: { in: [...this.defaults.walletProviders] },
          status: { in: ['active', 'needs_reauth', 'error'] },
        },
      },
      orderBy: [{ isDefault: 'desc' }, { createdAt: 'asc' }],
      select: {
        id: true,
        externalId: true,
        connection: { select: { id: true, status: true, provider: true } },
      },
    });
    if (account === null) return undefined;
    return {
      connectionId: account.connection.id,
      brokerAccountId: account.id,
      externalId: account.externalId,
      provider: account.connection.provider,
      mode: 'live',
      status: account.connection.status,
    };
  }
}
