/**
 * What every proposal shares, order or swap: who asked and where the card goes, the outcome, and
 * the parts of a new intent row that come from the conversation rather than from the order.
 */
import type { Trader } from '../accounts/accounts.js';
import type { AccountSnapshot } from '../brokers/broker.js';
import type { Decimal } from '../domain/values.js';
import type { Card, ChannelAddress } from '../messages.js';
import type { RiskCheckResult } from '../risk/risk-checks.js';
import type { IntentContext } from './intent-context.js';
import { expiryFrom } from './intent-context.js';
import type { IntentRow } from './intent-row.js';
import { clientOrderIdFor } from './order-identity.js';

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

/** The parts of a new intent that come from the conversation, not from the order: ids, where to answer, expiry. */
export function conversationFields(
  context: Pick<IntentContext, 'settings'>,
  id: string,
  proposal: ProposalContext,
  now: Date,
) {
  return {
    id,
    source: proposal.source ?? 'chat',
    strategyId: proposal.automation?.strategyId ?? null,
    strategyRunId: proposal.automation?.strategyRunId ?? null,
    strategyTag: proposal.automation?.tag ?? null,
    status: 'proposed',
    // The database numbers the card as it stores the row (IntentStore.insert).
    cardNumber: null,
    orderHash: '',
    clientOrderId: clientOrderIdFor(id),
    platform: proposal.address.platform,
    workspaceExternalId: proposal.address.workspaceId,
    chatId: proposal.address.chatId,
    threadId: proposal.address.threadId ?? null,
    requestMessageId: proposal.requestMessageId ?? null,
    cardMessageId: null,
    cardResentAt: null,
    approvalMessageId: null,
    requesterIdentityId: proposal.identityId,
    sharedChat: proposal.sharedChat ?? false,
    approverUserId: null,
    approvedAt: null,
    expiresAt: expiryFrom(context, now),
    confirmedAt: null,
    statusReason: null,
    createdAt: now,
    updatedAt: now,
    // The card is the first telling; the conversation sends it and attachCard records it.
    tellPending: false,
    toldStatus: null,
    tellAttempts: 0,
    nextTellAt: null,
    tellFailure: null,
    heldBy: null,
  } as const satisfies Partial<IntentRow>;
}
