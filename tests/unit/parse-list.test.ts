/**
 * Broker lists read element by element (src/brokers/http/parse-list.ts): the elements that match
 * are kept in order, the others skipped and logged with their ids and issue codes, never values.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { firstIdField, idField, parseEntries, parseList } from '../../src/brokers/http/parse-list.js';

const order = z.object({ id: z.string(), qty: z.string().regex(/^\d+$/), price: z.string().nullish() });

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { lines, logger };
}

describe('parseList', () => {
  it('keeps the elements that match, in order, and logs each one skipped with its id only', () => {
    const { lines, logger } = capture();
    const raw = [
      { id: 'a', qty: '1', price: null },
      { id: 'b', qty: 'SECRET-ISH 12.5', price: '3' },
      'not an order',
      { id: 'c', qty: '0' },
    ];
    const parsed = parseList(raw, order, {
      provider: 'alpaca',
      list: 'open orders',
      idOf: firstIdField(['id']),
      logger,
      context: { account: 'acct-1' },
    });
    expect(parsed.map((element) => element.id)).toEqual(['a', 'c']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      provider: 'alpaca',
      list: 'open orders',
      account: 'acct-1',
      at: '1',
      id: 'b',
      issues: ['qty: invalid_format'],
    });
    expect(lines[1]).toMatchObject({ at: '2', issues: [': invalid_type'] });
    expect(lines[1]).not.toHaveProperty('id', expect.anything());
    expect(JSON.stringify(lines)).not.toContain('SECRET-ISH');
  });

  it('parses keyed entries (map answers) without logging', () => {
    const listed = parseEntries(
      [
        ['AAPL', { id: '1', qty: '5' }],
        ['MSFT', { id: '2' }],
      ],
      order,
      () => undefined,
    );
    expect(listed.items.map((element) => element.id)).toEqual(['1']);
    expect(listed.skipped).toEqual([{ at: 'MSFT', id: undefined, issues: ['qty: invalid_type'] }]);
  });

  it('reads ids for the log: numbers and short id-like strings only, from the first path that has one', () => {
    expect(idField({ order: { id: 42 } }, 'order', 'id')).toBe('42');
    expect(idField({ id: 'BTC/USD' }, 'id')).toBe('BTC/USD');
    expect(idField({ id: 'x'.repeat(81) }, 'id')).toBeUndefined();
    expect(idField({ id: 'has spaces; and semicolons' }, 'id')).toBeUndefined();
    expect(idField(null, 'id')).toBeUndefined();
    expect(firstIdField(['order_id'], ['client_order_id'])({ client_order_id: 'c-1' })).toBe('c-1');
  });
});
