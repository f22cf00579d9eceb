/**
 * Order rows move only along the transition table, in one conditional statement, on both
 * databases: late polls, stale fills and racing writers never move a row backwards.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderStatus } from '../../src/core/db/generated/enums.js';
import { Decimal } from '../../src/core/domain/values.js';
import { createLogger } from '../../src/core/logging/logger.js';
import {
  abandonPlacement,
  applyOrderReport,
  type OrderReport,
  type OrderRowsDependencies,
  rejectPlacement,
} from '../../src/core/orders/order-rows.js';
import { ADDRESS, createHarness, type Harness } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

const T0 = new Date('2026-11-24T15:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function report(status: OrderStatus, filled: Decimal.Value, fields: Partial<OrderReport> = {}): OrderReport {
  return {
    status,
    filledQuantity: new Decimal(filled),
    averageFillPrice: new Decimal(filled).isZero() ? undefined : new Decimal('100.5'),
    brokerOrderId: `B-${randomUUID()}`,
    rejectReason: undefined,
    ...fields,
  };
}

describe.each(backends)('order rows on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;
  let intentId: string;
  let deps: OrderRowsDependencies;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    h = await createHarness(backend);
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: 'olga', displayName: 'olga' });
    const outcome = await h.arbion.intents.propose(h.order({ side: 'buy', symbol: 'AAPL', quantity: '20' }), {
      ...who,
      address: ADDRESS,
    });
    if (outcome.kind !== 'card') throw new Error(`expected a card, got: ${outcome.text}`);
    intentId = outcome.intentId;
    const logger = createLogger({
      level: 'info',
      format: 'json',
      secretValues: [],
      destination: new Writable({
        write(chunk, _encoding, callback) {
          logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          callback();
        },
      }),
    });
    deps = { prisma: h.test.database.prisma, logger };
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const prisma = () => h.test.database.prisma;

  /** An order row of the proposed intent, as if placed earlier. */
  async function insertOrder(
    status: OrderStatus,
    filled: Decimal.Value = 0,
    brokerOrderId: string | null = null,
  ) {
    return prisma().order.create({
      data: {
        intentId,
        provider: 'paper',
        clientOrderId: `T${randomUUID().replaceAll('-', '').slice(0, 19).toUpperCase()}`,
        brokerOrderId,
        status,
        side: 'buy',
        assetClass: 'equity',
        symbol: 'AAPL',
        quantity: '20',
        orderType: 'market',
        timeInForce: 'day',
        filledQuantity: new Decimal(filled).toFixed(),
        submittedAt: T0,
        createdAt: T0,
        updatedAt: T0,
      },
    });
  }
  const reread = (id: string) => prisma().order.findUniqueOrThrow({ where: { id } });

  it('a poll that read "accepted" before a cancel leaves the cancelled row cancelled', async () => {
    const order = await insertOrder('accepted', 0, `B-${randomUUID()}`);
    const key = { id: order.id };
    const cancelled = await applyOrderReport(
      deps,
      key,
      report('cancelled', 0, { brokerOrderId: order.brokerOrderId ?? '' }),
      at(1),
    );
    expect(cancelled).toMatchObject({ kind: 'applied', from: 'accepted', row: { status: 'cancelled' } });
    const late = await applyOrderReport(
      deps,
      key,
      report('accepted', 0, { brokerOrderId: order.brokerOrderId ?? '' }),
      at(2),
    );
    expect(late).toMatchObject({ kind: 'ignored', reason: 'terminal', row: { status: 'cancelled' } });
    const row = await reread(order.id);
    expect(row.status).toBe('cancelled');
    expect(row.lastCheckedAt).toEqual(at(1));
    expect(row.updatedAt).toEqual(at(1));
    expect(logs).toContainEqual(
      expect.objectContaining({
        orderId: order.id,
        intentId,
        from: 'cancelled',
        event: 'accepted',
        reason: 'terminal',
      }),
    );
  });

  it('a stale partial fill after "filled" changes nothing', async () => {
    const order = await insertOrder('partially_filled', 4, 'B-2');
    const filled = await applyOrderReport(
      deps,
      { id: order.id },
      report('filled', 20, { brokerOrderId: 'B-2' }),
      at(3),
    );
    expect(filled.kind).toBe('applied');
    const before = await reread(order.id);
    const stale = await applyOrderReport(
      deps,
      { id: order.id },
      report('partially_filled', 6, { brokerOrderId: 'B-2', averageFillPrice: new Decimal(99) }),
      at(4),
    );
    expect(stale).toMatchObject({ kind: 'ignored', reason: 'terminal' });
    expect(await reread(order.id)).toEqual(before);
    expect(before.status).toBe('filled');
    expect(before.filledQuantity.toString()).toBe('20');
    expect(before.averageFillPrice?.toString()).toBe('100.5');
  });

  it('a report with less filled than stored is refused as stale; more is recorded', async () => {
    const order = await insertOrder('partially_filled', 6, 'B-3');
    const fields = { brokerOrderId: 'B-3' };
    const stale = await applyOrderReport(
      deps,
      { id: order.id },
      report('partially_filled', 4, fields),
      at(5),
    );
    expect(stale).toMatchObject({ kind: 'ignored', reason: 'stale' });
    const same = await applyOrderReport(
      deps,
      { id: order.id },
      report('partially_filled', '6.000', fields),
      at(5),
    );
    expect(same).toMatchObject({ kind: 'ignored', reason: 'unchanged' });
    const more = await applyOrderReport(
      deps,
      { id: order.id },
      report('partially_filled', '7.25', fields),
      at(6),
    );
    expect(more).toMatchObject({ kind: 'applied', from: 'partially_filled' });
    expect((await reread(order.id)).filledQuantity.toString()).toBe('7.25');
  });

  it('returns the row exactly as stored', async () => {
    const order = await insertOrder('pending');
    const applied = await applyOrderReport(
      deps,
      { id: order.id },
      report('partially_filled', '1.5', { brokerOrderId: `B-${order.id}` }),
      at(7),
    );
    if (applied.kind !== 'applied') throw new Error(`expected applied, got ${applied.kind}`);
    expect(applied.from).toBe('pending');
    expect(applied.row).toEqual(await reread(order.id));
    expect(applied.row.brokerOrderId).toBe(`B-${order.id}`);
    expect(applied.row.averageFillPrice?.toString()).toBe('100.5');
    expect(applied.row.lastCheckedAt).toEqual(at(7));
  });

  it.each(['filled', 'cancelled'] as const)(
    '20 concurrent reports in random order end %s',
    async (terminal) => {
      for (let round = 0; round < 3; round++) {
        const order = await insertOrder('pending');
        const brokerOrderId = `B-${order.id}`;
        const reports = [
          report('accepted', 0, { brokerOrderId }),
          report('cancel_requested', 0, { brokerOrderId }),
          ...Array.from({ length: 17 }, (_, index) =>
            report('partially_filled', index + 1, { brokerOrderId }),
          ),
          report(terminal, 18, { brokerOrderId }),
        ];
        reports.sort(() => Math.random() - 0.5);
        const results = await Promise.all(
          reports.map((each, index) =>
            index % 2 === 0
              ? applyOrderReport(deps, { id: order.id }, each, at(10 + index))
              : applyOrderReport(deps, { clientOrderId: order.clientOrderId }, each, at(10 + index)),
          ),
        );
        const row = await reread(order.id);
        expect(row.status).toBe(terminal);
        expect(row.filledQuantity.toString()).toBe('18');
        expect(results.some((result) => result.kind === 'applied' && result.row.status === terminal)).toBe(
          true,
        );
        // Nothing was written after the terminal report.
        for (const result of results) if (result.kind === 'applied') expect(result.from).not.toBe(terminal);
        expect(results.every((result) => result.kind !== 'missing')).toBe(true);
      }
    },
  );

  it('finds the row by client order id', async () => {
    const order = await insertOrder('pending');
    const accepted = await applyOrderReport(
      deps,
      { clientOrderId: order.clientOrderId },
      report('accepted', 0, { brokerOrderId: `B-${order.id}` }),
      at(30),
    );
    expect(accepted).toMatchObject({
      kind: 'applied',
      from: 'pending',
      row: { id: order.id, status: 'accepted', brokerOrderId: `B-${order.id}` },
    });
  });

  it('an order we do not have is missing', async () => {
    expect(await applyOrderReport(deps, { id: randomUUID() }, report('filled', 1), at(31))).toEqual({
      kind: 'missing',
    });
    expect(await applyOrderReport(deps, { clientOrderId: 'ANOTHER' }, report('filled', 1), at(31))).toEqual({
      kind: 'missing',
    });
    expect(await abandonPlacement(deps, { id: randomUUID() }, 'gone', at(31))).toEqual({ kind: 'missing' });
  });

  it('a pending acknowledgement records the broker id once, then is unchanged', async () => {
    const order = await insertOrder('pending');
    const first = await applyOrderReport(
      deps,
      { id: order.id },
      report('pending', 0, { brokerOrderId: `B-${order.id}` }),
      at(32),
    );
    expect(first).toMatchObject({ kind: 'applied', from: 'pending', row: { status: 'pending' } });
    expect((await reread(order.id)).brokerOrderId).toBe(`B-${order.id}`);
    const again = await applyOrderReport(
      deps,
      { id: order.id },
      report('pending', 0, { brokerOrderId: `B-${order.id}` }),
      at(33),
    );
    expect(again).toMatchObject({ kind: 'ignored', reason: 'unchanged' });
    expect((await reread(order.id)).lastCheckedAt).toEqual(at(32));
    // Found at the broker: never abandoned.
    expect(await abandonPlacement(deps, { id: order.id }, 'not found', at(34))).toMatchObject({
      kind: 'ignored',
      reason: 'illegal',
      row: { status: 'pending' },
    });
  });

  it('a rejection at placement closes the pending row; later reports are refused', async () => {
    const order = await insertOrder('pending');
    const rejected = await rejectPlacement(
      deps,
      { clientOrderId: order.clientOrderId },
      'no buying power',
      at(35),
    );
    expect(rejected).toMatchObject({
      kind: 'applied',
      from: 'pending',
      row: { status: 'rejected', rejectReason: 'no buying power', brokerOrderId: null },
    });
    const late = await applyOrderReport(deps, { id: order.id }, report('accepted', 0), at(36));
    expect(late).toMatchObject({ kind: 'ignored', reason: 'terminal' });
  });

  it('abandons only an unclear placement the broker never showed', async () => {
    const pending = await insertOrder('pending');
    expect(await abandonPlacement(deps, { id: pending.id }, 'not found at the broker', at(37))).toMatchObject(
      {
        kind: 'applied',
        from: 'pending',
        row: {
          status: 'rejected',
          rejectReason: 'not found at the broker',
          filledQuantity: expect.anything(),
        },
      },
    );
    const unknown = await insertOrder('unknown');
    expect(await abandonPlacement(deps, { id: unknown.id }, 'not found', at(37))).toMatchObject({
      kind: 'applied',
      row: { status: 'rejected' },
    });
    const accepted = await insertOrder('accepted', 0, `B-${randomUUID()}`);
    expect(await abandonPlacement(deps, { id: accepted.id }, 'not found', at(37))).toMatchObject({
      kind: 'ignored',
      reason: 'illegal',
      row: { status: 'accepted' },
    });
    expect(logs).toContainEqual(
      expect.objectContaining({ orderId: accepted.id, from: 'accepted', event: 'abandon', level: 40 }),
    );
  });

  it('a working report after a cancel request is refused; a fill during it is recorded', async () => {
    const order = await insertOrder('cancel_requested', 2, 'B-9');
    const fields = { brokerOrderId: 'B-9' };
    expect(
      await applyOrderReport(deps, { id: order.id }, report('accepted', 2, fields), at(40)),
    ).toMatchObject({
      kind: 'ignored',
      reason: 'illegal',
    });
    expect(
      await applyOrderReport(deps, { id: order.id }, report('partially_filled', 5, fields), at(41)),
    ).toMatchObject({
      kind: 'applied',
      from: 'cancel_requested',
      row: { status: 'cancel_requested' },
    });
    expect((await reread(order.id)).filledQuantity.toString()).toBe('5');
  });
});
