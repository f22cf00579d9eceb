/**
 * The paper broker as a broker: idempotent on client order id even under concurrency, a real
 * ledger (cash, average cost, realized P&L), and refusals that leave the account untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { Decimal } from '../../src/core/domain/values.js';
import { ADDRESS, createHarness, type Harness } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

describe.each(backends)('paper broker on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;
  let accountId: string;

  beforeAll(async () => {
    h = await createHarness(backend);
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: 'ledger' });
    accountId = (await h.arbion.accounts.tradingAccount(who.userId)).externalId;
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const order = (overrides: Partial<PlaceOrderRequest>): PlaceOrderRequest => ({
    accountId,
    clientOrderId: 'X',
    side: 'buy',
    assetClass: 'equity',
    symbol: 'MSFT',
    quantity: new Decimal(10),
    orderType: 'market',
    timeInForce: 'day',
    ...overrides,
  });

  it('20 concurrent placements of one client order id make one order and one debit', async () => {
    const before = await h.arbion.paper.getBalances(accountId);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.arbion.paper.placeOrder(order({ clientOrderId: 'SAME-1' }))),
    );
    expect(new Set(results.map((result) => result.brokerOrderId)).size).toBe(1);
    expect(results.every((result) => result.status === 'filled')).toBe(true);
    expect(
      await h.test.database.prisma.paperOrder.count({
        where: { paperAccountId: accountId, clientOrderId: 'SAME-1' },
      }),
    ).toBe(1);
    expect(
      await h.test.database.prisma.paperFill.count({ where: { order: { clientOrderId: 'SAME-1' } } }),
    ).toBe(1);
    const after = await h.arbion.paper.getBalances(accountId);
    const fill = results[0]?.fills[0];
    expect(before.cash.sub(after.cash).equals(fill?.price.mul(10) ?? 0)).toBe(true);
  });

  it('20 concurrent different orders on one account: no lost update of cash or position', async () => {
    const before = await h.arbion.paper.getAccountSnapshot(accountId);
    const heldBefore = before.positions.find((held) => held.symbol === 'AMZN')?.quantity ?? new Decimal(0);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.arbion.paper.placeOrder(
          order({ clientOrderId: `MANY-${i}`, symbol: 'AMZN', quantity: new Decimal(2) }),
        ),
      ),
    );
    expect(results.every((result) => result.status === 'filled')).toBe(true);
    const spent = results.reduce(
      (sum, result) => sum.add(result.fills[0]?.price.mul(2) ?? 0),
      new Decimal(0),
    );
    const after = await h.arbion.paper.getAccountSnapshot(accountId);
    expect(before.balances.cash.sub(after.balances.cash).equals(spent)).toBe(true);
    expect(
      after.positions
        .find((held) => held.symbol === 'AMZN')
        ?.quantity.sub(heldBefore)
        .toFixed(),
    ).toBe('40');
    const account = await h.test.database.prisma.paperAccount.findUniqueOrThrow({ where: { id: accountId } });
    expect(new Decimal(account.cash.toString()).equals(after.balances.cash)).toBe(true);
  });

  it('keeps average cost and realized P&L exactly', async () => {
    h.market.override('KO', { bid: '59.99', ask: '60.00', last: '60.00' });
    await h.arbion.paper.placeOrder(
      order({ clientOrderId: 'KO-1', symbol: 'KO', quantity: new Decimal(10) }),
    );
    h.market.override('KO', { bid: '69.99', ask: '70.00', last: '70.00' });
    await h.arbion.paper.placeOrder(
      order({ clientOrderId: 'KO-2', symbol: 'KO', quantity: new Decimal(10) }),
    );
    const [position] = (await h.arbion.paper.getPositions(accountId)).filter((held) => held.symbol === 'KO');
    // Buys pay the ask plus 2 bps of slippage: (60.012 * 10 + 70.014 * 10) / 20.
    expect(position?.averageCost.toFixed()).toBe('65.013');
    h.market.override('KO', { bid: '80.00', ask: '80.01', last: '80.00' });
    const sold = await h.arbion.paper.placeOrder(
      order({ clientOrderId: 'KO-3', side: 'sell', symbol: 'KO', quantity: new Decimal(5) }),
    );
    expect(sold.fills[0]?.price.toFixed()).toBe('79.984');
    const [after] = (await h.arbion.paper.getPositions(accountId)).filter((held) => held.symbol === 'KO');
    expect(after?.quantity.toFixed()).toBe('15');
    expect(after?.realizedPnl.toFixed()).toBe('74.855'); // (79.984 - 65.013) * 5
    expect((await h.arbion.paper.getBalances(accountId)).realizedPnlToday.toFixed()).toBe('74.855');
    h.market.override('KO', undefined);
  });

  it('refuses what the account cannot pay or does not hold, and changes nothing', async () => {
    const before = await h.arbion.paper.getAccountSnapshot(accountId);
    const tooBig = await h.arbion.paper.placeOrder(
      order({ clientOrderId: 'BIG', quantity: new Decimal(100_000) }),
    );
    expect(tooBig.status).toBe('rejected');
    expect(tooBig.rejectReason).toContain('insufficient buying power');
    const short = await h.arbion.paper.placeOrder(
      order({ clientOrderId: 'SHORT', side: 'sell', symbol: 'NVDA' }),
    );
    expect(short.status).toBe('rejected');
    expect(short.rejectReason).toContain('cannot sell short');
    const after = await h.arbion.paper.getAccountSnapshot(accountId);
    expect(after.balances.cash.equals(before.balances.cash)).toBe(true);
    expect(after.positions.map((held) => `${held.symbol}:${held.quantity.toFixed()}`)).toEqual(
      before.positions.map((held) => `${held.symbol}:${held.quantity.toFixed()}`),
    );
  });

  it('buys crypto by dollar amount with fractional quantity', async () => {
    const result = await h.arbion.paper.placeOrder(
      order({
        clientOrderId: 'BTC-1',
        assetClass: 'crypto',
        symbol: 'BTC',
        quantity: undefined,
        notional: new Decimal(500),
        timeInForce: 'gtc',
      }),
    );
    expect(result.status).toBe('filled');
    expect(result.filledQuantity.decimalPlaces()).toBeLessThanOrEqual(8);
    expect(result.filledQuantity.mul(result.averageFillPrice ?? 0).lessThanOrEqualTo(500)).toBe(true);
    expect(result.filledQuantity.mul(result.averageFillPrice ?? 0).greaterThan('499.9')).toBe(true);
  });
});
