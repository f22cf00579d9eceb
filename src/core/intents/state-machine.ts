/**
 * The trade intent state machine: every legal change is one row of one table, as in
 * NautilusTrader's order FSM. Anything not in the table is an error, never a silent overwrite.
 *
 * The database enforces the same table: each transition is a conditional update
 * `WHERE status = <from>`, so concurrent actors cannot both win.
 */
import type { IntentStatus } from '../db/generated/enums.js';
import { ArbionError } from '../errors.js';

export type { IntentStatus };

export type IntentEvent =
  /** The requester confirmed the card in time. */
  | 'confirm'
  /** Four-eyes: the requester confirmed an order that needs a second person. */
  | 'request_approval'
  /** Four-eyes: an admin other than the requester approved it in time. */
  | 'approve'
  /** The user pressed Cancel, or cancelled the working order. */
  | 'cancel'
  /** The card timed out (denied), or the broker expired the order. */
  | 'expire'
  /** Risk checks or the broker refused it. */
  | 'reject'
  /** The price moved beyond tolerance between card and execution: ask again. */
  | 'requote'
  /** We are sending it to the broker. */
  | 'submit'
  /** The broker acknowledged it. */
  | 'accept'
  | 'partial_fill'
  | 'fill'
  /** Something failed after confirmation and nothing was placed. */
  | 'fail';

const TABLE: Readonly<Record<IntentStatus, Partial<Record<IntentEvent, IntentStatus>>>> = {
  proposed: {
    confirm: 'confirmed',
    request_approval: 'awaiting_approval',
    cancel: 'cancelled',
    expire: 'expired',
    reject: 'rejected',
  },
  awaiting_approval: { approve: 'confirmed', cancel: 'cancelled', expire: 'expired', reject: 'rejected' },
  confirmed: { submit: 'submitting', requote: 'proposed', reject: 'rejected', fail: 'failed' },
  submitting: {
    accept: 'submitted',
    partial_fill: 'partially_filled',
    fill: 'filled',
    reject: 'rejected',
    fail: 'failed',
    cancel: 'cancelled',
  },
  submitted: {
    partial_fill: 'partially_filled',
    fill: 'filled',
    cancel: 'cancelled',
    expire: 'expired',
    reject: 'rejected',
  },
  partially_filled: {
    partial_fill: 'partially_filled',
    fill: 'filled',
    cancel: 'cancelled',
    expire: 'expired',
  },
  filled: {},
  rejected: {},
  cancelled: {},
  expired: {},
  failed: {},
};

export const TERMINAL_STATUSES: readonly IntentStatus[] = [
  'filled',
  'rejected',
  'cancelled',
  'expired',
  'failed',
];

/** An event the intent's status does not allow (the table above): nothing is changed. */
export class IllegalTransitionError extends ArbionError {
  readonly code = 'intent_illegal_transition';

  constructor(
    readonly from: IntentStatus,
    readonly event: IntentEvent,
  ) {
    super(
      `An intent that is ${from} cannot ${event}`,
      `That order is ${from.replaceAll('_', ' ')} now, so that cannot be done. Nothing was changed.`,
    );
  }
}

/** The next status, or undefined when the event is not legal in `from`. */
export function nextStatus(from: IntentStatus, event: IntentEvent): IntentStatus | undefined {
  return TABLE[from][event];
}

/** The next status; throws IllegalTransitionError when the event is not legal in `from`. */
export function transition(from: IntentStatus, event: IntentEvent): IntentStatus {
  const next = nextStatus(from, event);
  if (next === undefined) throw new IllegalTransitionError(from, event);
  return next;
}

/** Every (from, event, to) row, for tests and docs. */
export function transitionTable(): { from: IntentStatus; event: IntentEvent; to: IntentStatus }[] {
  return (Object.keys(TABLE) as IntentStatus[]).flatMap((from) =>
    (Object.entries(TABLE[from]) as [IntentEvent, IntentStatus][]).map(([event, to]) => ({
      from,
      event,
      to,
    })),
  );
}
