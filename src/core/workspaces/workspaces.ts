/**
 * Team trading: a workspace (Slack team, Discord guild) and the roles of its members.
 *
 * - viewer: asks quotes, balances, positions; cannot propose or confirm orders.
 * - trader: trades on their own account.
 * - admin: trades, manages roles, sets the four-eyes threshold, approves others' large orders.
 *
 * The first member of a workspace becomes its admin (whoever installs the bot); later members are
 * viewers until an admin grants more. A role the platform itself vouches for (Discord guild roles,
 * mapped by configuration) takes precedence over the stored one.
 */
import { Prisma, type PrismaClient, type SqlExecutor } from '../db/database.js';
import type { Platform, WorkspaceRole } from '../db/generated/enums.js';
import { prismaExecutor } from '../db/sql.js';
import { Decimal } from '../domain/values.js';
import type { ChannelAddress, Sender } from '../messages.js';

export type { WorkspaceRole };

/** A member as the core sees them in one message's workspace. */
export interface Membership {
  /** Our id of the workspace. */
  readonly workspaceId: string;
  readonly role: WorkspaceRole;
  /** Where the role came from: the platform (Discord roles) or our table. */
  readonly roleSource: 'platform' | 'stored';
  /** Orders above this notional need an admin's approval; undefined: never. */
  readonly approvalThreshold: Decimal | undefined;
}

interface MembershipRow {
  workspaceId: string;
  role: WorkspaceRole;
  approvalThreshold: string | null;
}

/** What each role may do. */
export const ROLE_RIGHTS = {
  viewer: { trade: false, manage: false },
  trader: { trade: true, manage: false },
  admin: { trade: true, manage: true },
} as const satisfies Record<WorkspaceRole, { trade: boolean; manage: boolean }>;

export class Workspaces {
  private readonly sql: SqlExecutor;

  constructor(
    private readonly prisma: PrismaClient,
    /** Plain SQL for the membership read on every workspace message; Prisma's raw queries otherwise. */
    sql?: SqlExecutor,
  ) {
    this.sql = sql ?? prismaExecutor(prisma);
  }

  /**
   * The sender's membership in the workspace the message came from, creating the workspace and the
   * membership on first contact (one statement). Undefined where the platform has no workspace.
   */
  async membership(address: ChannelAddress, userId: string, sender: Sender): Promise<Membership | undefined> {
    if (address.workspaceId === '') return undefined;
    // Almost every message comes from a known member: read first, write only on first contact
    // (an upsert would rewrite and lock the workspace row on every message).
    const known = await this.sql.query<MembershipRow>(Prisma.sql`
      SELECT w.id::text AS "workspaceId", m.role, w."approvalThreshold"::text AS "approvalThreshold"
      FROM workspaces w
      JOIN workspace_members m ON m."workspaceId" = w.id AND m."userId" = ${userId}::uuid
      WHERE w.platform = ${address.platform}::"Platform" AND w."externalId" = ${address.workspaceId}`);
    const row = known[0] ?? (await this.join(address, userId));
    return {
      workspaceId: row.workspaceId,
      role: sender.platformRole ?? row.role,
      roleSource: sender.platformRole === undefined ? 'stored' : 'platform',
      approvalThreshold: row.approvalThreshold === null ? undefined : new Decimal(row.approvalThreshold),
    };
  }

  /** First contact: the workspace and the membership, created in one statement. */
  private async join(address: ChannelAddress, userId: string): Promise<MembershipRow> {
    // The first member of a workspace is its admin; everyone after starts as a viewer. The CTEs
    // see the table as it was before this statement, so the count is of earlier members.
    const rows = await this.sql.query<MembershipRow>(Prisma.sql`
      WITH ws AS (
        INSERT INTO workspaces (id, platform, "externalId", "createdAt", "updatedAt")
        VALUES (gen_random_uuid(), ${address.platform}::"Platform", ${address.workspaceId}, now(), now())
        ON CONFLICT (platform, "externalId") DO UPDATE SET "updatedAt" = workspaces."updatedAt"
        RETURNING id, "approvalThreshold"
      ), member AS (
        INSERT INTO workspace_members ("workspaceId", "userId", role, "createdAt", "updatedAt")
        SELECT ws.id, ${userId}::uuid,
          CASE WHEN EXISTS (SELECT 1 FROM workspace_members m WHERE m."workspaceId" = ws.id)
            THEN 'viewer'::"WorkspaceRole" ELSE 'admin'::"WorkspaceRole" END,
          now(), now()
        FROM ws
        ON CONFLICT ("workspaceId", "userId") DO UPDATE SET "updatedAt" = workspace_members."updatedAt"
        RETURNING role
      )
      SELECT ws.id::text AS "workspaceId", member.role, ws."approvalThreshold"::text AS "approvalThreshold"
      FROM ws, member`);
    const row = rows[0];
    if (row === undefined) throw new Error('workspace membership was not recorded');
    return row;
  }

  /**
   * Sets a member's role, by their platform user id. The member must have talked to the bot in
   * this workspace before (so we know them). Returns false when they have not.
   */
  async setRole(
    workspaceId: string,
    platform: Platform,
    externalWorkspaceId: string,
    platformUserId: string,
    role: WorkspaceRole,
  ): Promise<boolean> {
    const updated = await this.prisma.$executeRaw`
      UPDATE workspace_members m SET role = ${role}::"WorkspaceRole", "updatedAt" = now()
      FROM channel_identities ci
      WHERE m."workspaceId" = ${workspaceId}::uuid AND m."userId" = ci."userId"
        AND ci.platform = ${platform}::"Platform" AND ci."platformWorkspaceId" = ${externalWorkspaceId}
        AND ci."platformUserId" = ${platformUserId}`;
    return updated > 0;
  }

  /** Admins left if this member lost the role (an admin must not demote the last admin). */
  async otherAdmins(workspaceId: string, exceptUserId: string): Promise<number> {
    return this.prisma.workspaceMember.count({
      where: { workspaceId, role: 'admin', userId: { not: exceptUserId } },
    });
  }

  /** Every member with their role and platform id, admins first. */
  async members(
    workspaceId: string,
    platform: Platform,
    externalWorkspaceId: string,
  ): Promise<{ platformUserId: string; displayName: string | null; role: WorkspaceRole }[]> {
    return this.prisma.$queryRaw`
      SELECT ci."platformUserId", ci."displayName", m.role
      FROM workspace_members m
      JOIN channel_identities ci ON ci."userId" = m."userId" AND ci.platform = ${platform}::"Platform"
        AND ci."platformWorkspaceId" = ${externalWorkspaceId}
      WHERE m."workspaceId" = ${workspaceId}::uuid
      ORDER BY CASE m.role WHEN 'admin' THEN 0 WHEN 'trader' THEN 1 ELSE 2 END, m."createdAt"`;
  }

  /** Sets or clears the four-eyes threshold. */
  async setApprovalThreshold(workspaceId: string, threshold: Decimal | undefined): Promise<void> {
    await this.prisma.workspace.update({
      where: { id: workspaceId },
      data: { approvalThreshold: threshold === undefined ? null : threshold.toFixed() },
    });
  }
}
