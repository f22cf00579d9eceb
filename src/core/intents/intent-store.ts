/**
 * The only writer of an intent's status. Every change is one row of the state machine's table,
 * applied as one conditional statement (`WHERE status = <from>`), with its audit rows; of
 * concurrent writers exactly one wins, and the others learn it from an `undefined` result.
 * The same statement sets `tellPending`: the intent's outbox flag, cleared once the user has
 * seen the new status (`markTold`), so a crash between the move and the telling loses nothing;
 * and `heldBy`, the process that will tell it (and place it): if that process dies, the work is
 * taken over at once (core/processes/process-registry.ts).
 */
import type { TradingAccount } from '../accounts/accounts.js';
import { AuditLog } from '../audit/audit-log.js';
import { finishInboxCte, type InboxTicket } from '../conversation/inbox.js';
import { Prisma, type PrismaClient, type SqlExecutor } from '../db/database.js';
import type { IntentStatus } from '../db/generated/enums.js';
import { prismaExecutor } from '../db/sql.js';
import { insertIntentWithAudit } from './intent-insert.js';
import type { IntentRow } from './intent-row.js';
import { type IntentEvent, nextStatus, transition } from './state-machine.js';

type ActorKind = 'user' | 'system' | 'broker';

export class IntentStore {
  readonly audit: AuditLog;

  constructor(
    private readonly prisma: PrismaClient | Prisma.TransactionClient,
    private readonly sql: SqlExecutor,
    private readonly clock: () => Date,
    /** This process (core/processes): the intents it moves are held by it until told. */
    private readonly processId: string,
  ) {
    this.audit = new AuditLog(prisma);
  }

  /** The same store writing inside a transaction (its moves commit with the transaction's other work). */
  within(tx: Prisma.TransactionClient): IntentStore {
    return new IntentStore(tx, prismaExecutor(tx), this.clock, this.processId);
  }

  read(intentId: string): Promise<IntentRow | null> {
    return this.prisma.tradeIntent.findUnique({ where: { id: intentId } });
  }

  readOrThrow(intentId: string): Promise<IntentRow> {
    return this.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
  }

  /**
   * A new intent, its card number (the requester's next) and its `intent.proposed` audit row, in
   * one statement (every order message writes it). Returns the row as stored, with its number.
   */
  async insert(
    intent: IntentRow,
    audit: { actorId: string; data: Record<string, unknown> },
  ): Promise<IntentRow> {
    const [inserted] = await this.sql.query<{ cardNumber: number }>(insertIntentWithAudit(intent, audit));
    if (inserted === undefined) throw new Error(`intent ${intent.id} was not inserted`);
    return { ...intent, cardNumber: inserted.cardNumber };
  }

  /**
   * Records the platform id of the card, so later state changes can edit it. The card shows the
   * intent at `shown` (proposed, unless a replay rendered it later): a move since then is still to
   * be told, unless it was told meanwhile (a press on this card, handled by another process,
   * edited it already). With the message's inbox ticket, the same statement finishes its inbox row.
   */
  async attachCard(
    intentId: string,
    cardMessageId: string,
    ticket?: InboxTicket,
    shown: IntentStatus = 'proposed',
  ): Promise<void> {
    const now = this.clock();
    const finish = finishInboxCte(ticket, now);
    await this.sql.execute(Prisma.sql`
      ${finish === undefined ? Prisma.empty : Prisma.sql`WITH ${finish}`}
      UPDATE trade_intents SET "cardMessageId" = ${cardMessageId}, "updatedAt" = ${now}::timestamp(3),
        "toldStatus" = CASE WHEN "toldStatus" = status THEN "toldStatus" ELSE ${shown}::"IntentStatus" END,
        "tellPending" = (status <> ${shown}::"IntentStatus" AND "toldStatus" IS DISTINCT FROM status)
      WHERE id = ${intentId}::uuid`);
    if (ticket !== undefined) ticket.finished = true;
  }

  /**
   * A replayed message is about to send the intent's unattached card once more: true when this is
   * that one time (the card is neither attached nor resent already), false when it was resent.
   */
  async claimCardResend(intentId: string): Promise<boolean> {
    const claimed = await this.sql.execute(Prisma.sql`
      UPDATE trade_intents SET "cardResentAt" = ${this.clock()}::timestamp(3)
      WHERE id = ${intentId}::uuid AND "cardMessageId" IS NULL AND "cardResentAt" IS NULL`);
    return claimed > 0;
  }

  /**
   * A press came from a card of this intent whose sending was never recorded (a crash between
   * the platform's answer and our write): that card becomes the one kept up to date. An attached
   * card is never replaced.
   */
  async adoptCard(intentId: string, cardMessageId: string): Promise<void> {
    await this.sql.execute(Prisma.sql`
      UPDATE trade_intents SET "cardMessageId" = ${cardMessageId}
      WHERE id = ${intentId}::uuid AND "cardMessageId" IS NULL`);
  }

  /**
   * The user has seen the intent at `status` (its card edited): the outbox flag is cleared, unless
   * the intent moved on meanwhile (that move is still to be told). With the press's inbox ticket,
   * the same statement finishes its inbox row.
   */
  async markTold(intentId: string, status: IntentStatus, ticket?: InboxTicket): Promise<void> {
    const finish = finishInboxCte(ticket, this.clock());
    await this.sql.execute(Prisma.sql`
      ${finish === undefined ? Prisma.empty : Prisma.sql`WITH ${finish}`}
      UPDATE trade_intents SET "tellPending" = false, "toldStatus" = ${status}::"IntentStatus",
        "tellAttempts" = 0, "nextTellAt" = NULL
      WHERE id = ${intentId}::uuid AND status = ${status}::"IntentStatus"`);
    if (ticket !== undefined) ticket.finished = true;
  }

  /**
   * Telling the user failed: try again after `retryAt`, or never (`failure`: the platform refused
   * for good). Plain SQL: Prisma's @updatedAt would stamp the wall clock, and a failed telling is
   * not a move of the intent.
   */
  async tellFailed(intentId: string, outcome: { retryAt: Date } | { failure: string }): Promise<void> {
    await this.sql.execute(
      'retryAt' in outcome
        ? Prisma.sql`
          UPDATE trade_intents SET "tellAttempts" = "tellAttempts" + 1, "nextTellAt" = ${outcome.retryAt}::timestamp(3)
          WHERE id = ${intentId}::uuid`
        : Prisma.sql`
          UPDATE trade_intents SET "tellPending" = false, "tellFailure" = ${outcome.failure}, "nextTellAt" = NULL
          WHERE id = ${intentId}::uuid`,
    );
  }

  /**
   * A placement whose answer was unclear: the intent stays submitting while the broker is asked,
   * held by this process (a process that takes it over after a crash adopts it).
   */
  async noteAwaitingReconciliation(intentId: string): Promise<void> {
    await this.prisma.tradeIntent.update({
      where: { id: intentId },
      data: {
        statusReason: 'awaiting reconciliation with the broker',
        updatedAt: this.clock(),
        heldBy: this.processId,
      },
    });
  }

  /** Applies one state machine event as a conditional update; undefined when someone else moved it first. */
  async move(
    intent: IntentRow,
    event: IntentEvent,
    data: Prisma.TradeIntentUncheckedUpdateManyInput,
    actor: { kind: ActorKind; id?: string; orderId?: string },
    extraWhere: Prisma.TradeIntentWhereInput = {},
  ): Promise<IntentRow | undefined> {
    const next = nextStatus(intent.status, event);
    // Brokers repeat themselves (polls, redeliveries): an event that is not legal now changes nothing.
    if (next === undefined) return undefined;
    const [moved] = await this.prisma.tradeIntent.updateManyAndReturn({
      where: { ...extraWhere, id: intent.id, status: intent.status },
      // updatedAt from the injected clock: strategies' cool-downs read it (never the wall clock).
      // tellPending: the move is in the outbox until the user has been told (markTold), by this
      // process (heldBy) unless it dies first.
      data: { ...data, status: next, updatedAt: this.clock(), tellPending: true, heldBy: this.processId },
    });
    if (moved === undefined) return undefined;
    await this.audit.record({
      type: `intent.${next}`,
      actorKind: actor.kind,
      actorId: actor.id,
      userId: intent.userId,
      intentId: intent.id,
      orderId: actor.orderId,
      data: { from: intent.status, event },
    });
    return moved;
  }

  /**
   * Applies several events of the table as one conditional update (e.g. confirm then reject), with
   * an audit row per step. Undefined when the intent was no longer where it started.
   */
  async moveThrough(
    intent: IntentRow,
    events: readonly IntentEvent[],
    data: Prisma.TradeIntentUncheckedUpdateManyInput,
    extraWhere: Prisma.TradeIntentWhereInput,
  ): Promise<IntentRow | undefined> {
    const steps: { from: IntentStatus; event: IntentEvent; to: IntentStatus }[] = [];
    let status = intent.status;
    for (const event of events) {
      const to = transition(status, event);
      steps.push({ from: status, event, to });
      status = to;
    }
    const [moved] = await this.prisma.tradeIntent.updateManyAndReturn({
      where: { ...extraWhere, id: intent.id, status: intent.status },
      data: { ...data, status, updatedAt: this.clock(), tellPending: true, heldBy: this.processId },
    });
    if (moved === undefined) return undefined;
    for (const step of steps) {
      await this.audit.record({
        type: `intent.${step.to}`,
        actorKind: step.event === 'confirm' || step.event === 'approve' ? 'user' : 'system',
        userId: intent.userId,
        intentId: intent.id,
        data: { from: step.from, event: step.event },
      });
    }
    return moved;
  }

  /**
   * The decision, in one statement: only a proposed (or awaiting-approval) intent of this user,
   * before its expiry, moves to submitting (through confirmed), and its order row is created with
   * it. Of concurrent confirmations exactly one matches; the unique client order id backs this up.
   * Returns the order row's id, or undefined when another press (or an expiry, or the strategy's
   * stop) won.
   */
  async claimForPlacement(claim: {
    readonly intent: IntentRow;
    readonly decision: 'confirm' | 'approve';
    readonly approver: string | undefined;
    readonly account: TradingAccount;
    readonly brokerSymbol: string;
    /** The user who pressed Confirm or Approve: the audit row's actor. */
    readonly actorUserId: string;
    readonly now: Date;
  }): Promise<{ orderId: string; submitting: IntentStatus; confirmedAt: Date } | undefined> {
    const { intent, approver, account, now } = claim;
    const decided = claim.decision === 'approve' ? 'intent.approved' : 'intent.confirmed';
    const submitting = transition(transition(intent.status, claim.decision), 'submit');
    const confirmedAt = intent.confirmedAt ?? now;
    const inserted = await this.prisma.$queryRaw<{ id: string }[]>`
      WITH moved AS (
        UPDATE trade_intents SET status = ${submitting}::"IntentStatus", "confirmedAt" = ${confirmedAt},
          "approverUserId" = ${approver ?? null}::uuid, "approvedAt" = ${approver === undefined ? null : now},
          "updatedAt" = ${now}, "tellPending" = true, "heldBy" = ${this.processId}::uuid
        WHERE id = ${intent.id}::uuid AND status = ${intent.status}::"IntentStatus"
          AND "userId" = ${intent.userId}::uuid AND "expiresAt" > ${now}
          AND (${approver ?? null}::uuid IS NULL OR "userId" <> ${approver ?? null}::uuid)
          -- A strategy's order only while the strategy runs: "stop everything" wins any race.
          AND ("strategyId" IS NULL OR EXISTS (SELECT 1 FROM strategies
            WHERE strategies.id = trade_intents."strategyId" AND strategies.status = 'active'))
        RETURNING *
      ), ordered AS (
        INSERT INTO orders (id, "intentId", "connectionId", "brokerAccountId", provider, "clientOrderId", status,
          side, "assetClass", symbol, "brokerSymbol", quantity, notional, "orderType", "limitPrice", "stopPrice",
          "timeInForce", "submittedAt", "createdAt", "updatedAt")
        SELECT gen_random_uuid(), moved.id, ${account.connectionId}::uuid, ${account.brokerAccountId}::uuid,
          ${account.provider}::"BrokerProvider", moved."clientOrderId", 'pending', moved.side, moved."assetClass",
          moved.symbol, ${claim.brokerSymbol}, moved.quantity, moved.notional, moved."orderType", moved."limitPrice",
          moved."stopPrice", moved."timeInForce", ${now}, ${now}, ${now}
        FROM moved
        RETURNING id, "intentId", "clientOrderId"
      ), audited AS (
        -- The decision and the submission, committed with the claim they describe.
        INSERT INTO audit_events (type, "actorKind", "actorId", "userId", "intentId", "orderId", data)
        SELECT ${decided}, 'user'::"ActorKind", ${claim.actorUserId}, ${intent.userId}::uuid, ordered."intentId",
          NULL::uuid, '{}'::jsonb
        FROM ordered
        UNION ALL
        SELECT 'intent.submitting', 'system'::"ActorKind", NULL, ${intent.userId}::uuid, ordered."intentId",
          ordered.id, jsonb_build_object('clientOrderId', ordered."clientOrderId")
        FROM ordered
      )
      SELECT id::text AS id FROM ordered`;
    const orderId = inserted[0]?.id;
    return orderId === undefined ? undefined : { orderId, submitting, confirmedAt };
  }
}
