/**
 * Trade intents from proposal to fill: the facade the conversation, the strategies and the
 * background pass talk to. Each step lives in its own module:
 *
 *   order-proposer / swap-proposer  message -> priced, assessed, stored proposal -> card
 *   decisions                       Confirm, Approve/Decline, Cancel, expiry
 *   executor                        resolve account -> re-price -> re-check -> claim -> place
 *   broker-order-sync               the broker's answers applied to order and intent rows
 *   outcome-recovery                after a crash: untold moves told, unanswered placements resumed
 *   intent-store                    the only writer of intent status (the state machine's table)
 *   pricing, pre-trade              pure: prices, units, costs; one risk assessment for every path
 *
 * Safety invariants (DESIGN.md), and where each holds:
 * 1. No order without a confirmed intent: `placeOrder` is called only from the executor, after
 *    the claim moved the intent to submitting.
 * 2. Only the requester, only once, only before expiry: `confirm` checks the user, then one
 *    conditional statement (`IntentStore.claimForPlacement`) that exactly one caller can win.
 * 3. Executing twice places one order: the client order id is derived from the intent, the orders
 *    table holds it uniquely, and brokers treat it as an idempotency key.
 * 4. Risk checks run at proposal and again at execution, and fail closed.
 */
import { randomUUID } from 'node:crypto';
import type { Accounts, Trader } from '../accounts/accounts.js';
import type { BrokerLookup, BrokerOrder } from '../brokers/broker.js';
import type { OrderCommand, SwapCommand } from '../conversation/commands.js';
import type { InboxTicket } from '../conversation/inbox.js';
import type { PrismaClient, SqlExecutor } from '../db/database.js';
import { prismaExecutor } from '../db/sql.js';
import type { Logger } from '../logging/logger.js';
import type { MarketDataProvider } from '../market-data/market-data.js';
import type { ChannelAddress } from '../messages.js';
import { abandonPlacement, applyBrokerOrder } from './broker-order-sync.js';
import { approveIntent, cancelIntent, confirmIntent, expireDueIntents, withdrawIntent } from './decisions.js';
import { type IntentContext, type IntentSettings, RunningPlacements } from './intent-context.js';
import type { IntentRow } from './intent-row.js';
import { IntentStore } from './intent-store.js';
import {
  cardUpdate,
  type ExecutionObserver,
  type IntentCardUpdate,
  type IntentUpdate,
} from './intent-updates.js';
import { proposeOrder } from './order-proposer.js';
import {
  type RecoveryWindow,
  type ResumedPlacement,
  resumePlacements,
  retell,
  untoldIntents,
} from './outcome-recovery.js';
import type { ProposalContext, ProposeOutcome } from './proposal.js';
import { proposeSwap } from './swap-proposer.js';

export type { IntentSettings } from './intent-context.js';
export { contractOf, type IntentRow } from './intent-row.js';
export type { ExecutionObserver, IntentCardUpdate, IntentNotice, IntentUpdate } from './intent-updates.js';
export type { RecoveryWindow, ResumedPlacement } from './outcome-recovery.js';
export type { ProposalContext, ProposeOutcome } from './proposal.js';

export interface IntentServiceDependencies {
  readonly prisma: PrismaClient;
  /** Plain SQL for the writes of every order message; Prisma's raw queries otherwise. */
  readonly sql?: SqlExecutor;
  readonly market: MarketDataProvider;
  readonly accounts: Accounts;
  readonly brokerFor: BrokerLookup;
  readonly settings: IntentSettings;
  readonly logger: Logger;
  readonly clock?: () => Date;
  /** This process (core/processes/process-registry.ts): the work it holds. Default: a fresh id. */
  readonly processId?: string;
}

export class IntentService {
  private readonly context: IntentContext;

  constructor(deps: IntentServiceDependencies) {
    const clock = deps.clock ?? (() => new Date());
    const processId = deps.processId ?? randomUUID();
    const root: IntentContext = {
      prisma: deps.prisma,
      processId,
      placing: new RunningPlacements(),
      transaction: (work) =>
        deps.prisma.$transaction((tx) => {
          const inner: IntentContext = {
            ...root,
            prisma: tx,
            store: root.store.within(tx),
            transaction: (nested) => nested(inner),
          };
          return work(inner);
        }),
      store: new IntentStore(deps.prisma, deps.sql ?? prismaExecutor(deps.prisma), clock, processId),
      market: deps.market,
      accounts: deps.accounts,
      brokerFor: deps.brokerFor,
      settings: deps.settings,
      logger: deps.logger,
      clock,
    };
    this.context = root;
  }

  /** How long a card can be confirmed (CONFIRMATION_TTL_SECONDS): other cards of the chat use it too. */
  get confirmationTtlSeconds(): number {
    return this.context.settings.confirmationTtlSeconds;
  }

  /** Quotes, sizes and risk-checks an order; returns the confirmation card or the reason it is refused. */
  propose(order: OrderCommand, context: ProposalContext): Promise<ProposeOutcome> {
    return proposeOrder(this.context, order, context);
  }

  /**
   * Prices a token swap on the user's smart wallet and risk-checks it as the sale of what is given
   * up; returns the card (rate, minimum received, slippage, who pays gas) or why not.
   */
  proposeSwap(command: SwapCommand, context: ProposalContext): Promise<ProposeOutcome> {
    return proposeSwap(this.context, command, context);
  }

  /**
   * The intent an earlier attempt at this message proposed (a crash or an outage mid-handling),
   * if any, its card attached or not: a replay shows an unattached card instead of proposing
   * again, and proposes nothing when the card is attached (a press on it attached it).
   */
  proposedBy(request: {
    readonly userId: string;
    readonly address: ChannelAddress;
    readonly messageId: string;
    readonly receivedAt: Date;
  }): Promise<IntentRow | null> {
    return this.context.prisma.tradeIntent.findFirst({
      where: {
        userId: request.userId,
        platform: request.address.platform,
        chatId: request.address.chatId,
        requestMessageId: request.messageId,
        // Console message ids restart with the process: only an intent of this very message.
        createdAt: { gte: request.receivedAt },
      },
      orderBy: { createdAt: 'desc' },
    });
  }

  /** The card of an intent as it stands now. */
  cardOf(intent: IntentRow): IntentCardUpdate {
    return cardUpdate(intent, this.context.clock());
  }

  /** Records the platform id of the card, so later state changes can edit it. */
  attachCard(
    intentId: string,
    cardMessageId: string,
    ticket?: InboxTicket,
    shown?: IntentRow['status'],
  ): Promise<void> {
    return this.context.store.attachCard(intentId, cardMessageId, ticket, shown);
  }

  /** See IntentStore.claimCardResend: true the one time a replay may send the card again. */
  claimCardResend(intentId: string): Promise<boolean> {
    return this.context.store.claimCardResend(intentId);
  }

  /** See IntentStore.adoptCard: a pressed card whose sending was never recorded is attached. */
  adoptCard(intentId: string, cardMessageId: string): Promise<void> {
    return this.context.store.adoptCard(intentId, cardMessageId);
  }

  /** Reads an intent (callers that know the id early start this alongside other work). */
  read(intentId: string): Promise<IntentRow | null> {
    return this.context.store.read(intentId);
  }

  /** A Confirm press: only the requester, only while proposed, only before expiry, only once. */
  confirm(
    intentId: string,
    actorUserId: string,
    trader?: Trader,
    prefetched?: Promise<IntentRow | null>,
    observer: ExecutionObserver = {},
  ): Promise<IntentUpdate> {
    return confirmIntent(this.context, {
      intentId,
      actorUserId,
      observer,
      ...(trader === undefined ? {} : { trader }),
      ...(prefetched === undefined ? {} : { prefetched }),
    });
  }

  /** Four-eyes: an admin's Approve or Decline press. */
  approve(
    intentId: string,
    approverUserId: string,
    options: { readonly isAdmin: boolean; readonly decline: boolean },
    observer: ExecutionObserver = {},
  ): Promise<IntentUpdate> {
    return approveIntent(this.context, { intentId, approverUserId, ...options, observer });
  }

  /** A Cancel press on a card. */
  cancel(intentId: string, actorUserId: string): Promise<IntentUpdate> {
    return cancelIntent(this.context, intentId, actorUserId);
  }

  /**
   * Takes back a card of `actorUserId` that still waits for an answer (see withdrawIntent): the
   * card as it looks now, to edit; undefined when it no longer waits.
   */
  withdraw(intentId: string, actorUserId: string, reason: string): Promise<IntentCardUpdate | undefined> {
    return withdrawIntent(this.context, intentId, actorUserId, reason);
  }

  /** Expires every proposal past its deadline (a timeout counts as "no"). Returns the cards to edit. */
  expireDue(): Promise<{ intent: IntentRow; update: IntentUpdate }[]> {
    return expireDueIntents(this.context);
  }

  /** Applies what a broker says about an order (a poll, a resting fill, a found placement). */
  applyBrokerOrder(
    brokerOrder: BrokerOrder,
    known?: { readonly intent: IntentRow; readonly orderId: string },
  ): Promise<IntentUpdate> {
    return applyBrokerOrder(this.context, brokerOrder, known);
  }

  /** The user has seen the intent at `status`: its outbox flag is cleared (unless it moved on). */
  markTold(intentId: string, status: IntentRow['status'], ticket?: InboxTicket): Promise<void> {
    return this.context.store.markTold(intentId, status, ticket);
  }

  /** Telling the user failed: retry after `retryAt`, or give up (`failure`, recorded). */
  tellFailed(intentId: string, outcome: { retryAt: Date } | { failure: string }): Promise<void> {
    return this.context.store.tellFailed(intentId, outcome);
  }

  /** Intents whose last move is still to be told (due now) and left to others (see RecoveryWindow). */
  untold(options: RecoveryWindow): Promise<IntentRow[]> {
    return untoldIntents(this.context, options);
  }

  /** The update that tells where an intent stands, from its rows; undefined when there is no card to tell it on. */
  retell(intent: IntentRow): Promise<IntentCardUpdate | undefined> {
    return retell(this.context, intent);
  }

  /** Placements claimed before `claimedBefore` and never answered: looked up, sent again, or closed. */
  resumePlacements(options: RecoveryWindow & { resendWithinMs: number }): Promise<ResumedPlacement[]> {
    return resumePlacements(this.context, options);
  }

  /** A placement never found at the broker: closed as not placed, and the user told `text`. */
  abandonPlacement(orderId: string, text: string): Promise<IntentUpdate | undefined> {
    return abandonPlacement(this.context, orderId, text);
  }
}
