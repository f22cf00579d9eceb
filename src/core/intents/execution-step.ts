/**
 * Where a confirmed intent stands while it executes, shared by the executor's steps (their own
 * module, so a step never imports the executor that calls it).
 */
import type { Prisma } from '../db/database.js';
import type { IntentRow } from './intent-row.js';

/** The intent, still open only for its user, before its expiry. */
export interface Step {
  readonly intent: IntentRow;
  readonly decision: 'confirm' | 'approve';
  /** Four-eyes: the admin who approves; undefined for the requester's own Confirm. */
  readonly approver: string | undefined;
  readonly stillOpen: Prisma.TradeIntentWhereInput;
  readonly now: Date;
}
