import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderStatus } from '../../src/core/db/generated/enums.js';
import { Decimal } from '../../src/core/domain/values.js';
import {
  decideOrderUpdate,
  fromStatusesFor,
  nextOrderStatus,
  ORDER_EVENTS,
  type OrderEvent,
  type OrderState,
  type OrderUpdate,
  orderTransitionTable,
  TERMINAL_ORDER_STATUSES,
} from '../../src/core/orders/order-state-machine.js';

const STATUSES = Object.values(OrderStatus);

/** The table as designed: (from, event, to); any change to the machine must change this test too. */
const EXPECTED = new Set([
  'pending pending pending',
  'pending accepted accepted',
  'pending partially_filled partially_filled',
  'pending filled filled',
  'pending cancel_requested cancel_requested',
  'pending cancelled cancelled',
  'pending rejected rejected',
  'pending expired expired',
  'pending unknown unknown',
  'pending abandon rejected',
  'unknown pending pending',
  'unknown accepted accepted',
  'unknown partially_filled partially_filled',
  'unknown filled filled',
  'unknown cancel_requested cancel_requested',
  'unknown cancelled cancelled',
  'unknown rejected rejected',
  'unknown expired expired',
  'unknown unknown unknown',
  'unknown abandon rejected',
  'accepted accepted accepted',
  'accepted partially_filled partially_filled',
  'accepted filled filled',
  'accepted cancel_requested cancel_requested',
  'accepted cancelled cancelled',
  'accepted rejected rejected',
  'accepted expired expired',
  'partially_filled partially_filled partially_filled',
  'partially_filled filled filled',
  'partially_filled cancel_requested cancel_requested',
  'partially_filled cancelled cancelled',
  'partially_filled expired expired',
  'cancel_requested cancel_requested cancel_requested',
  'cancel_requested partially_filled cancel_requested',
  'cancel_requested filled filled',
  'cancel_requested cancelled cancelled',
  'cancel_requested expired expired',
]);

const expectedTo = (status: OrderStatus, event: OrderEvent): OrderStatus | undefined =>
  [...EXPECTED].find((row) => row.startsWith(`${status} ${event} `))?.split(' ')[2] as
    | OrderStatus
    | undefined;

const state = (status: OrderStatus, filled: Decimal.Value): OrderState => ({
  status,
  filledQuantity: new Decimal(filled),
});
const report = (event: OrderEvent, filled: Decimal.Value): OrderUpdate =>
  event === 'abandon' ? { event } : { event, filledQuantity: new Decimal(filled) };

const PAIRS = STATUSES.flatMap((status) => ORDER_EVENTS.map((event) => [status, event] as const));

describe('order state machine', () => {
  it('covers every status of the database enum, and every status is an event', () => {
    expect([...STATUSES].sort()).toEqual(
      [
        'pending',
        'accepted',
        'partially_filled',
        'filled',
        'cancel_requested',
        'cancelled',
        'rejected',
        'expired',
        'unknown',
      ].sort(),
    );
    expect([...ORDER_EVENTS].sort()).toEqual([...STATUSES, 'abandon'].sort());
  });

  it('is exactly the designed table', () => {
    expect(new Set(orderTransitionTable().map((row) => `${row.from} ${row.event} ${row.to}`))).toEqual(
      EXPECTED,
    );
  });

  it.each(PAIRS)('%s + %s at the same filled quantity', (status, event) => {
    const to = expectedTo(status, event);
    expect(nextOrderStatus(status, event)).toBe(to);
    const decision = decideOrderUpdate(state(status, 2), report(event, 2));
    if (TERMINAL_ORDER_STATUSES.includes(status))
      expect(decision).toEqual({ kind: 'ignore', reason: 'terminal' });
    else if (to === undefined) expect(decision).toEqual({ kind: 'ignore', reason: 'illegal' });
    else if (to === status) expect(decision).toEqual({ kind: 'ignore', reason: 'unchanged' });
    else expect(decision).toEqual({ kind: 'move', to, filledQuantity: new Decimal(2) });
  });

  it.each(PAIRS)('%s + %s with more filled: moves only along the table', (status, event) => {
    const to = expectedTo(status, event);
    const decision = decideOrderUpdate(state(status, '2'), report(event, '2.5'));
    if (TERMINAL_ORDER_STATUSES.includes(status))
      expect(decision).toEqual({ kind: 'ignore', reason: 'terminal' });
    else if (to === undefined) expect(decision).toEqual({ kind: 'ignore', reason: 'illegal' });
    else
      expect(decision).toEqual({
        kind: 'move',
        to,
        // abandon says nothing about fills: the row keeps its own.
        filledQuantity: new Decimal(event === 'abandon' ? '2' : '2.5'),
      });
  });

  it.each(PAIRS)('%s + %s with less filled is stale (terminal first)', (status, event) => {
    const decision = decideOrderUpdate(state(status, '2'), report(event, '1.999'));
    const terminal = TERMINAL_ORDER_STATUSES.includes(status);
    if (event === 'abandon') return; // carries no quantity: covered above
    expect(decision).toEqual({ kind: 'ignore', reason: terminal ? 'terminal' : 'stale' });
  });

  it('lists, for each event, exactly the statuses it may move from', () => {
    for (const event of ORDER_EVENTS) {
      const froms = STATUSES.filter((status) => expectedTo(status, event) !== undefined);
      expect(new Set(fromStatusesFor(event))).toEqual(new Set(froms));
      for (const terminal of TERMINAL_ORDER_STATUSES) expect(fromStatusesFor(event)).not.toContain(terminal);
    }
  });

  it('refuses the races of issue 17', () => {
    // A poll that read "accepted, nothing filled" before a cancel, arriving after it.
    expect(decideOrderUpdate(state('cancelled', 0), report('accepted', 0))).toEqual({
      kind: 'ignore',
      reason: 'terminal',
    });
    expect(decideOrderUpdate(state('cancel_requested', 0), report('accepted', 0))).toEqual({
      kind: 'ignore',
      reason: 'illegal',
    });
    // A partial fill read before the last fill, arriving after it.
    expect(decideOrderUpdate(state('filled', 10), report('partially_filled', 4))).toEqual({
      kind: 'ignore',
      reason: 'terminal',
    });
    expect(decideOrderUpdate(state('partially_filled', 6), report('partially_filled', 4))).toEqual({
      kind: 'ignore',
      reason: 'stale',
    });
    expect(decideOrderUpdate(state('partially_filled', 4), report('partially_filled', 6))).toEqual({
      kind: 'move',
      to: 'partially_filled',
      filledQuantity: new Decimal(6),
    });
    // A fill while the cancel is pending is recorded; the cancel stays pending.
    expect(decideOrderUpdate(state('cancel_requested', 4), report('partially_filled', 6))).toEqual({
      kind: 'move',
      to: 'cancel_requested',
      filledQuantity: new Decimal(6),
    });
    // Decimal comparison, not string: 1.50 is 1.5.
    expect(decideOrderUpdate(state('partially_filled', '1.5'), report('partially_filled', '1.50'))).toEqual({
      kind: 'ignore',
      reason: 'unchanged',
    });
  });

  const anyReport = fc.record({
    event: fc.constantFrom(...ORDER_EVENTS),
    filled: fc.integer({ min: 0, max: 12 }),
  });

  it('no sequence of reports ever shrinks the filled quantity or leaves a terminal status', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<OrderStatus>('pending', 'unknown'),
        fc.array(anyReport, { maxLength: 40 }),
        (start, reports) => {
          let current = state(start, 0);
          for (const { event, filled } of reports) {
            const decision = decideOrderUpdate(current, report(event, filled));
            if (decision.kind === 'ignore') continue;
            const terminalBefore = TERMINAL_ORDER_STATUSES.includes(current.status);
            expect(terminalBefore).toBe(false);
            expect(decision.filledQuantity.greaterThanOrEqualTo(current.filledQuantity)).toBe(true);
            expect(decision.to).toBe(expectedTo(current.status, event));
            // A move always changes something.
            expect(
              decision.to !== current.status || !decision.filledQuantity.equals(current.filledQuantity),
            ).toBe(true);
            current = { status: decision.to, filledQuantity: decision.filledQuantity };
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a monotone set of reports ends in the same state whatever order they arrive in', () => {
    // What the integration test relies on: partial fills 1..n-1, then one terminal report at n.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.constantFrom<OrderStatus>('filled', 'cancelled', 'expired'),
        fc.infiniteStream(fc.nat()),
        (n, terminal, randomness) => {
          const reports: OrderUpdate[] = [
            report('accepted', 0),
            report('cancel_requested', 0),
            ...Array.from({ length: n - 1 }, (_, index) => report('partially_filled', index + 1)),
            report(terminal, n),
          ];
          const shuffled = [...reports];
          const random = randomness[Symbol.iterator]();
          for (let index = shuffled.length - 1; index > 0; index--) {
            const other = (random.next().value as number) % (index + 1);
            [shuffled[index], shuffled[other]] = [
              shuffled[other] as OrderUpdate,
              shuffled[index] as OrderUpdate,
            ];
          }
          let current = state('pending', 0);
          for (const update of shuffled) {
            const decision = decideOrderUpdate(current, update);
            if (decision.kind === 'move')
              current = { status: decision.to, filledQuantity: decision.filledQuantity };
          }
          expect(current).toEqual(state(terminal, n));
        },
      ),
      { numRuns: 500 },
    );
  });
});
