/**
 * Carries out team and identity commands (see team-commands.ts) and words the answers. Managing
 * roles and the approval threshold needs the admin role of the workspace the message came from.
 */
import type { Trader } from '../accounts/accounts.js';
import type { IdentityLinks } from '../accounts/identity-links.js';
import { AuditLog } from '../audit/audit-log.js';
import type { PrismaClient } from '../db/database.js';
import { type Decimal, formatUsd } from '../domain/values.js';
import type { InboundText } from '../messages.js';
import { type Membership, ROLE_RIGHTS, type Workspaces } from '../workspaces/workspaces.js';
import type { TeamCommand } from './team-commands.js';

export interface TeamActionDependencies {
  readonly prisma: PrismaClient;
  readonly workspaces: Workspaces;
  readonly identityLinks: IdentityLinks;
}

const NO_WORKSPACE =
  'Roles and approvals belong to a team workspace (a Slack workspace or a Discord server); this chat has none.';

/** What a viewer is told when they try to trade. */
export function viewerRefusal(member: Membership, platformUserId: string): string {
  return member.roleSource === 'platform'
    ? 'You can look but not trade here: your server role does not allow trading. Ask a server admin for the trader role. Nothing was done.'
    : `You can look but not trade in this workspace (your role: ${member.role}). An admin can let you trade with: role <@${platformUserId}> trader. Nothing was done.`;
}

export class TeamActions {
  private readonly audit: AuditLog;

  constructor(private readonly deps: TeamActionDependencies) {
    this.audit = new AuditLog(deps.prisma);
  }

  async perform(
    command: TeamCommand,
    message: InboundText,
    trader: Trader,
    member: Membership | undefined,
  ): Promise<string> {
    switch (command.kind) {
      case 'issue-link-code':
        return this.issueLinkCode(message, trader);
      case 'redeem-link-code':
        return this.redeemLinkCode(command.code, message);
      case 'list-roles':
        return this.listRoles(message, member);
      case 'set-role':
        return this.setRole(command, message, trader, member);
      case 'set-approval':
        return this.setApproval(command.threshold, trader, member);
    }
  }

  private async issueLinkCode(message: InboundText, trader: Trader): Promise<string> {
    // A code shown in a group could be redeemed by anyone who reads it.
    if (message.chatType !== 'direct')
      return 'For your safety, ask for a link code in a private chat with me. Nothing was done.';
    const { code } = await this.deps.identityLinks.issue(trader.userId, message.address);
    return `Your link code: ${code}\nWithin 10 minutes, send "join ${code}" to me from your other chat app (Telegram, Slack or Discord). It works once; asking again replaces it.`;
  }

  async redeemLinkCode(code: string, message: InboundText): Promise<string> {
    const outcome = await this.deps.identityLinks.redeem(code, message.address, message.sender);
    switch (outcome.kind) {
      case 'linked':
        return 'Linked: this chat app now uses the same Arbion account (balances, positions, limits) as the chat where you asked for the code.';
      case 'already-linked':
        return 'This chat app is already linked to that account. Nothing changed.';
      case 'invalid':
        return 'That code is not valid: it may be mistyped, used already or expired (codes last 10 minutes). Ask for a new one with "link chat".';
      case 'throttled':
        return 'Too many wrong codes from this account: wait 10 minutes, then try again with a fresh code from "link chat". Nothing was changed.';
    }
  }

  private async listRoles(message: InboundText, member: Membership | undefined): Promise<string> {
    if (member === undefined) return NO_WORKSPACE;
    const members = await this.deps.workspaces.members(
      member.workspaceId,
      message.address.platform,
      message.address.workspaceId,
    );
    const lines = members.map(
      (each) =>
        `  ${each.role.padEnd(7)} <@${each.platformUserId}>${each.displayName ? ` (${each.displayName})` : ''}`,
    );
    const threshold =
      member.approvalThreshold === undefined
        ? 'No second approval is required.'
        : `Orders above ${formatUsd(member.approvalThreshold)} need an admin's approval.`;
    return ['Roles in this workspace:', ...lines, threshold].join('\n');
  }

  private async setRole(
    command: Extract<TeamCommand, { kind: 'set-role' }>,
    message: InboundText,
    trader: Trader,
    member: Membership | undefined,
  ): Promise<string> {
    if (member === undefined) return NO_WORKSPACE;
    if (!ROLE_RIGHTS[member.role].manage) return 'Only a workspace admin can change roles. Nothing changed.';
    if (member.roleSource === 'platform')
      return 'Roles here come from the server’s own roles; change them in the server settings.';
    const self = command.platformUserId === message.sender.platformUserId;
    if (
      self &&
      command.role !== 'admin' &&
      (await this.deps.workspaces.otherAdmins(member.workspaceId, trader.userId)) === 0
    )
      return 'You are the only admin: make someone else admin first. Nothing changed.';
    const changed = await this.deps.workspaces.setRole(
      member.workspaceId,
      message.address.platform,
      message.address.workspaceId,
      command.platformUserId,
      command.role,
    );
    if (!changed)
      return `I don't know <@${command.platformUserId}> yet: they need to send me a message here first. Nothing changed.`;
    await this.audit.record({
      type: 'workspace.role_changed',
      actorKind: 'user',
      actorId: trader.userId,
      userId: trader.userId,
      data: { workspaceId: member.workspaceId, platformUserId: command.platformUserId, role: command.role },
    });
    return `<@${command.platformUserId}> is now ${command.role === 'admin' ? 'an' : 'a'} ${command.role}.`;
  }

  private async setApproval(
    threshold: Decimal | undefined,
    trader: Trader,
    member: Membership | undefined,
  ): Promise<string> {
    if (member === undefined) return NO_WORKSPACE;
    if (!ROLE_RIGHTS[member.role].manage)
      return 'Only a workspace admin can change approvals. Nothing changed.';
    await this.deps.workspaces.setApprovalThreshold(member.workspaceId, threshold);
    await this.audit.record({
      type: 'workspace.approval_threshold_changed',
      actorKind: 'user',
      actorId: trader.userId,
      userId: trader.userId,
      data: { workspaceId: member.workspaceId, threshold: threshold?.toFixed() ?? null },
    });
    return threshold === undefined
      ? 'Second approval is off: traders confirm their own orders.'
      : `From now on, orders above ${formatUsd(threshold)} need an admin other than the requester to approve them after the Confirm.`;
  }
}
