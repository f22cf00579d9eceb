/**
 * The trading safety invariants of DESIGN.md, pinned through the real services on both databases:
 * propose -> card -> confirm -> paper broker, with the state machine in the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Accounts } from '../../src/core/accounts/accounts.js';
import { Decimal } from '../../src/core/domain/values.js';
import { ADDRESS, createHarness, type Harness } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

async function identify(accounts: Accounts, user: string) {
  return accounts.identify(ADDRESS, { platformUserId: user, displayName: user });
}

describe.each(backends)('trade intents on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(async () => {
    await h?.destroy();
  });

  async function propose(user: string, order = h.order({ side: 'buy', symbol: 'AAPL', quantity: '10' })) {
    const who = await identify(h.arbion.accounts, user);
    const outcome = await h.arbion.intents.propose(order, { ...who, address: ADDRESS });
    if (outcome.kind !== 'card') throw new Error(`expected a card, got: ${outcome.text}`);
    return { ...who, intentId: outcome.intentId, card: outcome.card };
  }

  const orderCount = (intentId: string) => h.test.database.prisma.order.count({ where: { intentId } });
  const paperOrderCount = async (userId: string) => {
    const account = await h.arbion.accounts.tradingAccount(userId);
    return h.test.database.prisma.paperOrder.count({ where: { paperAccountId: account.externalId } });
  };

  it('shows the exact order on the card and places nothing before confirmation', async () => {
    const { intentId, card, userId } = await propose('alice');
    expect(card.badge).toBe('PAPER');
    expect(card.fields.find((field) => field.label === 'Order')?.value).toBe('BUY 10 AAPL');
    expect(card.fields.find((field) => field.label === 'Type')?.value).toBe('Market, day');
    expect(card.actions.map((action) => action.id)).toEqual([`confirm:${intentId}`, `cancel:${intentId}`]);
    const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
    expect(intent.status).toBe('proposed');
    expect(intent.clientOrderId).toMatch(/^A[0-9A-F]{19}$/);
    // Stored as JSON (an array of results), not as a JSON string.
    expect(Array.isArray(intent.riskChecks)).toBe(true);
    expect(intent.riskChecks).toContainEqual(expect.objectContaining({ passed: true }));
    const proposed = await h.test.database.prisma.auditEvent.findFirstOrThrow({
      where: { intentId, type: 'intent.proposed' },
    });
    expect(proposed.userId).toBe(userId);
    expect(await orderCount(intentId)).toBe(0);
    expect(await paperOrderCount(userId)).toBe(0);
  });

  it('fills on the requester confirm, at the ask plus slippage, and records the position', async () => {
    const { intentId, userId } = await propose('bob');
    const quote = await h.market.quote({ assetClass: 'equity', symbol: 'AAPL' });
    const update = await h.arbion.intents.confirm(intentId, userId);
    expect(update.kind).toBe('updated');
    const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({
      where: { id: intentId },
      include: { orders: { include: { fills: true } } },
    });
    expect(intent.status).toBe('filled');
    expect(intent.orders).toHaveLength(1);
    const expectedPrice = quote.ask.mul('1.0002');
    expect(new Decimal(intent.orders[0]?.averageFillPrice?.toString() ?? '0').equals(expectedPrice)).toBe(
      true,
    );
    const account = await h.arbion.accounts.tradingAccount(userId);
    const [position] = await h.arbion.paper.getPositions(account.externalId);
    expect(position?.symbol).toBe('AAPL');
    expect(position?.quantity.toFixed()).toBe('10');
    expect(position?.averageCost.equals(expectedPrice)).toBe(true);
    const balances = await h.arbion.paper.getBalances(account.externalId);
    expect(balances.cash.toFixed()).toBe(new Decimal(100000).sub(expectedPrice.mul(10)).toFixed());
  });

  it('leaves an audit trail of every transition, the fill pointing at its order', async () => {
    const { intentId, userId } = await propose('trail');
    await h.arbion.intents.confirm(intentId, userId);
    const events = await h.test.database.prisma.auditEvent.findMany({ where: { intentId } });
    expect(new Set(events.map((event) => event.type))).toEqual(
      new Set(['intent.proposed', 'intent.confirmed', 'intent.submitting', 'intent.filled']),
    );
    expect(events).toHaveLength(4);
    const order = await h.test.database.prisma.order.findFirstOrThrow({ where: { intentId } });
    expect(events.find((event) => event.type === 'intent.filled')?.orderId).toBe(order.id);
    expect(events.find((event) => event.type === 'intent.submitting')?.orderId).toBe(order.id);
    expect(events.every((event) => event.userId === userId)).toBe(true);
  });

  it('a second confirm places nothing more', async () => {
    const { intentId, userId } = await propose('carol');
    await h.arbion.intents.confirm(intentId, userId);
    const again = await h.arbion.intents.confirm(intentId, userId);
    expect(again).toEqual({ kind: 'notice', text: 'This order was already filled; nothing more was done.' });
    expect(await orderCount(intentId)).toBe(1);
    expect(await paperOrderCount(userId)).toBe(1);
  });

  it("refuses another user's confirm and changes nothing", async () => {
    const { intentId, userId } = await propose('dave');
    const mallory = await identify(h.arbion.accounts, 'mallory');
    const before = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
    const update = await h.arbion.intents.confirm(intentId, mallory.userId);
    expect(update).toEqual({
      kind: 'notice',
      text: 'Only the person who asked for this order can confirm it.',
    });
    const cancel = await h.arbion.intents.cancel(intentId, mallory.userId);
    expect(cancel.kind).toBe('notice');
    const after = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
    expect(after).toEqual(before);
    expect(await orderCount(intentId)).toBe(0);
    expect(await paperOrderCount(userId)).toBe(0);
  });

  it('refuses an expired intent (a timeout means no)', async () => {
    const { intentId, userId } = await propose('erin');
    h.clock.now = new Date(h.clock.now.getTime() + 121_000);
    try {
      const update = await h.arbion.intents.confirm(intentId, userId);
      expect(update.kind).toBe('updated');
      if (update.kind === 'updated') {
        expect(update.text).toContain('expired');
        expect(update.card.actions).toEqual([]);
      }
      const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
      expect(intent.status).toBe('expired');
      expect(await orderCount(intentId)).toBe(0);
    } finally {
      h.clock.now = new Date(h.clock.now.getTime() - 121_000);
    }
  });

  it('places exactly one order when 50 confirms race', async () => {
    const { intentId, userId } = await propose('frank');
    const updates = await Promise.all(
      Array.from({ length: 50 }, () => h.arbion.intents.confirm(intentId, userId)),
    );
    expect(updates.filter((update) => update.kind === 'updated')).toHaveLength(1);
    expect(await orderCount(intentId)).toBe(1);
    expect(await paperOrderCount(userId)).toBe(1);
    const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
    expect(intent.status).toBe('filled');
  });

  it('asks again when the price moved beyond the tolerance, and places nothing until then', async () => {
    const { intentId, userId } = await propose('grace');
    const quote = await h.market.quote({ assetClass: 'equity', symbol: 'AAPL' });
    h.market.override('AAPL', {
      bid: quote.bid.mul('1.02'),
      ask: quote.ask.mul('1.02'),
      last: quote.last.mul('1.02'),
    });
    try {
      const update = await h.arbion.intents.confirm(intentId, userId);
      expect(update.kind).toBe('updated');
      if (update.kind === 'updated') {
        expect(update.text).toContain('The price moved');
        expect(update.card.actions.map((action) => action.label)).toEqual(['Confirm #1', 'Cancel #1']);
      }
      const requoted = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({
        where: { id: intentId },
      });
      expect(requoted.status).toBe('proposed');
      expect(new Decimal(requoted.quotedPrice?.toString() ?? '0').equals(quote.ask.mul('1.02'))).toBe(true);
      expect(await orderCount(intentId)).toBe(0);

      await h.arbion.intents.confirm(intentId, userId);
      const filled = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
      expect(filled.status).toBe('filled');
      expect(await orderCount(intentId)).toBe(1);
    } finally {
      h.market.override('AAPL', undefined);
    }
  });

  it('refuses orders the risk checks fail, before any card', async () => {
    const who = await identify(h.arbion.accounts, 'heidi');
    const tooBig = await h.arbion.intents.propose(
      h.order({ side: 'buy', symbol: 'AAPL', quantity: '100000' }),
      { ...who, address: ADDRESS },
    );
    expect(tooBig.kind).toBe('refused');
    if (tooBig.kind === 'refused') expect(tooBig.text).toContain('per-order limit');
    const short = await h.arbion.intents.propose(h.order({ side: 'sell', symbol: 'MSFT', quantity: '1' }), {
      ...who,
      address: ADDRESS,
    });
    expect(short.kind).toBe('refused');
    if (short.kind === 'refused') expect(short.text).toContain('short sale');
    expect(await h.test.database.prisma.tradeIntent.count({ where: { userId: who.userId } })).toBe(0);
    expect(
      await h.test.database.prisma.auditEvent.count({
        where: { userId: who.userId, type: 'intent.refused' },
      }),
    ).toBe(2);
  });

  it('answers clearly outside market hours and still trades crypto', async () => {
    const saved = h.clock.now;
    h.clock.now = new Date('2026-11-28T17:00:00Z'); // Saturday
    try {
      const who = await identify(h.arbion.accounts, 'ivan');
      const stock = await h.arbion.intents.propose(h.order({ side: 'buy', symbol: 'AAPL', quantity: '1' }), {
        ...who,
        address: ADDRESS,
      });
      expect(stock.kind).toBe('refused');
      if (stock.kind === 'refused') expect(stock.text).toMatch(/closed/i);
      const coin = await h.arbion.intents.propose(
        h.order({
          side: 'buy',
          symbol: 'BTC',
          assetClass: 'crypto',
          quantity: undefined,
          notional: '500',
          timeInForce: 'gtc',
        }),
        {
          ...who,
          address: ADDRESS,
        },
      );
      expect(coin.kind).toBe('card');
    } finally {
      h.clock.now = saved;
    }
  });

  it('the kill switch stops new orders', async () => {
    const who = await identify(h.arbion.accounts, 'judy');
    await h.test.database.prisma.user.update({
      where: { id: who.userId },
      data: { tradingHaltedAt: h.clock.now, tradingHaltReason: 'stop everything' },
    });
    const outcome = await h.arbion.intents.propose(h.order({ side: 'buy', symbol: 'AAPL', quantity: '1' }), {
      ...who,
      address: ADDRESS,
    });
    expect(outcome.kind).toBe('refused');
    if (outcome.kind === 'refused') expect(outcome.text).toContain('trading is halted');
  });

  it('a resting limit order fills when the market crosses it, and the user is told', async () => {
    const quote = await h.market.quote({ assetClass: 'equity', symbol: 'MSFT' });
    const limit = quote.ask.mul('0.99').toDecimalPlaces(2);
    const { intentId, userId } = await propose(
      'ken',
      h.order({
        side: 'buy',
        symbol: 'MSFT',
        quantity: '2',
        orderType: 'limit',
        limitPrice: limit.toFixed(),
      }),
    );
    await h.arbion.intents.confirm(intentId, userId);
    expect(
      (await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intentId } })).status,
    ).toBe('submitted');

    h.market.override('MSFT', { bid: limit.sub('0.02'), ask: limit.sub('0.01'), last: limit.sub('0.01') });
    try {
      await h.arbion.runBackgroundPass();
      const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({
        where: { id: intentId },
        include: { orders: true },
      });
      expect(intent.status).toBe('filled');
      expect(intent.orders[0]?.averageFillPrice?.toString()).toBe(limit.sub('0.01').toFixed());
    } finally {
      h.market.override('MSFT', undefined);
    }
  });
  it('shows the decision on the card (buttons gone) before the final state, in that order', async () => {
    const before = h.channel.log.length;
    await h.say('uma', 'buy 2 AAPL');
    const card = h.channel.lastCard();
    const confirm = card?.message?.kind === 'card' ? card.message.card.actions[0]?.id : undefined;
    expect(confirm).toMatch(/^confirm:/);
    await h.press('uma', confirm ?? '', card?.messageId);
    const edits = h.channel.log
      .slice(before)
      .filter((entry) => entry.kind === 'edit' && entry.messageId === card?.messageId)
      .map((entry) => (entry.message?.kind === 'card' ? entry.message.card : undefined));
    expect(edits.map((edited) => edited?.notice)).toEqual(['Placing the order...', 'Filled.']);
    for (const edited of edits) expect(edited?.actions).toEqual([]);
  });
});
