import { describe, expect, it } from 'vitest';
import { IntentStatus } from '../../src/core/db/generated/enums.js';
import {
  IllegalTransitionError,
  type IntentEvent,
  nextStatus,
  TERMINAL_STATUSES,
  transition,
  transitionTable,
} from '../../src/core/intents/state-machine.js';

const EVENTS: IntentEvent[] = [
  'confirm',
  'request_approval',
  'approve',
  'cancel',
  'expire',
  'reject',
  'requote',
  'submit',
  'accept',
  'partial_fill',
  'fill',
  'fail',
];
const STATUSES = Object.values(IntentStatus);

/** The table as the design states it; any change to the machine must change this test too. */
const EXPECTED = new Set([
  'proposed confirm confirmed',
  'proposed cancel cancelled',
  'proposed expire expired',
  'proposed reject rejected',
  'proposed request_approval awaiting_approval',
  'awaiting_approval approve confirmed',
  'awaiting_approval cancel cancelled',
  'awaiting_approval expire expired',
  'awaiting_approval reject rejected',
  'confirmed submit submitting',
  'confirmed requote proposed',
  'confirmed reject rejected',
  'confirmed fail failed',
  'submitting accept submitted',
  'submitting partial_fill partially_filled',
  'submitting fill filled',
  'submitting reject rejected',
  'submitting fail failed',
  'submitting cancel cancelled',
  'submitted partial_fill partially_filled',
  'submitted fill filled',
  'submitted cancel cancelled',
  'submitted expire expired',
  'submitted reject rejected',
  'partially_filled partial_fill partially_filled',
  'partially_filled fill filled',
  'partially_filled cancel cancelled',
  'partially_filled expire expired',
]);

describe('intent state machine', () => {
  it('covers every status of the database enum', () => {
    expect(STATUSES.sort()).toEqual(
      [
        'proposed',
        'awaiting_approval',
        'confirmed',
        'submitting',
        'submitted',
        'partially_filled',
        'filled',
        'rejected',
        'cancelled',
        'expired',
        'failed',
      ].sort(),
    );
  });

  it('is exactly the designed table', () => {
    expect(new Set(transitionTable().map((row) => `${row.from} ${row.event} ${row.to}`))).toEqual(EXPECTED);
  });

  it.each(STATUSES.flatMap((status) => EVENTS.map((event) => [status, event] as const)))(
    '%s + %s is legal only if in the table',
    (status, event) => {
      const expected = [...EXPECTED].find((row) => row.startsWith(`${status} ${event} `))?.split(' ')[2];
      expect(nextStatus(status, event)).toBe(expected);
      if (expected === undefined) expect(() => transition(status, event)).toThrow(IllegalTransitionError);
      else expect(transition(status, event)).toBe(expected);
    },
  );

  it('terminal statuses never move, and nothing reaches submitting except from confirmed', () => {
    for (const status of TERMINAL_STATUSES)
      for (const event of EVENTS) expect(nextStatus(status, event)).toBeUndefined();
    const intoSubmitting = transitionTable().filter((row) => row.to === 'submitting');
    expect(intoSubmitting).toEqual([{ from: 'confirmed', event: 'submit', to: 'submitting' }]);
  });
});
