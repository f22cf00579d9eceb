/**
 * Team and identity commands: roles, the four-eyes threshold, linking chat apps. They are read
 * here, before the trading parser, with exact patterns: they change who may trade, so a near miss
 * is never guessed (it falls through to the parser, which does not know them either).
 */
import type { WorkspaceRole } from '../db/generated/enums.js';
import { Decimal } from '../domain/values.js';

export type TeamCommand =
  /** "role <@U123> trader": an admin sets a member's role. */
  | { readonly kind: 'set-role'; readonly platformUserId: string; readonly role: WorkspaceRole }
  /** "roles": who is who in this workspace. */
  | { readonly kind: 'list-roles' }
  /** "approval above 10000" / "approval off": the four-eyes threshold. */
  | { readonly kind: 'set-approval'; readonly threshold: Decimal | undefined }
  /** "link chat": a one-time code to attach another chat app. */
  | { readonly kind: 'issue-link-code' }
  /** "join ABCD-EFGH": attach this chat app to the user who issued the code. */
  | { readonly kind: 'redeem-link-code'; readonly code: string };

// A mention as Slack (<@U123>, <@U123|name>) and Discord (<@123>, <@!123>) put it into text.
const MENTION = String.raw`<@!?([A-Za-z0-9]{1,32})(?:\|[^>]{0,80})?>`;
const SET_ROLE = new RegExp(
  String.raw`^(?:set\s+)?role\s+(?:of\s+)?${MENTION}\s+(?:to\s+)?(viewer|trader|admin)$`,
  'i',
);
const SET_ROLE_REVERSED = new RegExp(String.raw`^make\s+${MENTION}\s+(?:an?\s+)?(viewer|trader|admin)$`, 'i');
const LIST_ROLES = /^(?:roles|list roles|show roles|team|who can trade)$/i;
const APPROVAL_ABOVE =
  /^(?:set\s+)?(?:approvals?|four[- ]eyes)\s+(?:above|over|for orders above|for orders over)\s+\$?(\d{1,12}(?:,\d{3})*(?:\.\d{1,2})?)$/i;
const APPROVAL_OFF = /^(?:approvals?|four[- ]eyes)\s+off$/i;
const ISSUE_CODE =
  /^(?:link|connect)\s+(?:another\s+|my\s+)?(?:chat|app|chat app|platform|telegram|slack|discord)$/i;
const REDEEM_CODE = /^join\s+([A-Za-z2-9]{4}-?[A-Za-z2-9]{4})$/i;

/** The team command in `text`, or undefined when it is not one. */
export function parseTeamCommand(text: string): TeamCommand | undefined {
  const trimmed = text
    .trim()
    .replace(/^\/(?:arbion\s+)?/i, '')
    .replace(/[.!]$/, '')
    .replace(/\s+/g, ' ');
  if (trimmed.length > 200) return undefined;
  const role = SET_ROLE.exec(trimmed) ?? SET_ROLE_REVERSED.exec(trimmed);
  if (role?.[1] && role[2])
    return { kind: 'set-role', platformUserId: role[1], role: role[2].toLowerCase() as WorkspaceRole };
  if (LIST_ROLES.test(trimmed)) return { kind: 'list-roles' };
  const above = APPROVAL_ABOVE.exec(trimmed);
  if (above?.[1]) {
    const threshold = new Decimal(above[1].replaceAll(',', ''));
    return { kind: 'set-approval', threshold };
  }
  if (APPROVAL_OFF.test(trimmed)) return { kind: 'set-approval', threshold: undefined };
  if (ISSUE_CODE.test(trimmed)) return { kind: 'issue-link-code' };
  const redeem = REDEEM_CODE.exec(trimmed);
  if (redeem?.[1]) return { kind: 'redeem-link-code', code: redeem[1].toUpperCase() };
  return undefined;
}
