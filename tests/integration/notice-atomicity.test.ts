/**
 * A state change from background work and the notice telling it commit in one transaction: a
 * fired alert, a halted strategy and a settled paper option are never left untold. The fault is
 * real: a trigger makes PostgreSQL refuse to write notices, as a crash or an outage would cut the
 * work off between the change and its notice; the change must then not have happened either, and
 * once notices can be written again, the next run makes the change and tells it, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/domain/values.js';
import type { OptionContract } from '../../src/core/market-data/market-data.js';
import { occSymbol } from '../../src/core/market-data/providers/options.js';
import { tickNotices } from '../../src/runtime/tick-notices.js';
import { ADDRESS, createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';
import { backends } from '../support/databases.js';

async function refuseNotices(h: Harness): Promise<void> {
  const { prisma } = h.test.database;
  await prisma.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION refuse_notice() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'notices refused (test fault)'; END $$`);
  await prisma.$executeRawUnsafe(
    'CREATE TRIGGER refuse_notice BEFORE INSERT ON notices FOR EACH ROW EXECUTE FUNCTION refuse_notice()',
  );
}

async function allowNotices(h: Harness): Promise<void> {
  await h.test.database.prisma.$executeRawUnsafe('DROP TRIGGER refuse_notice ON notices');
}

/** The notices written under keys starting with `prefix`, as texts. */
async function noticesLike(h: Harness, prefix: string): Promise<string[]> {
  const rows = await h.test.database.prisma.notice.findMany({
    where: { key: { startsWith: prefix } },
    orderBy: { id: 'asc' },
  });
  return rows.map((row) => row.text ?? '');
}

/** Sends what the outbox holds: a pass after the writer's grace (the harness runs no jobs). */
async function deliverNotices(h: Harness): Promise<void> {
  h.clock.now = new Date(h.clock.now.getTime() + 31_000);
  await h.arbion.runBackgroundPass();
}

describe.each(backends)('a change and its notice commit together (%s)', (backend) => {
  // One Arbion for the three: each case has its own user, symbol or key.
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(async () => {
    await h?.destroy();
  });

  it('a fired alert is marked triggered only with its notice', async () => {
    h.market.override('AAPL', { bid: '239.99', ask: '240.01', last: '240.00' });
    await h.say('dan', 'alert me if AAPL goes above 250');
    const alert = await h.test.database.prisma.alert.findFirstOrThrow({ where: { symbol: 'AAPL' } });
    h.market.override('AAPL', { bid: '251.99', ask: '252.01', last: '252.00' });

    await refuseNotices(h);
    await expect(h.arbion.automation.monitors.check(alert.id)).rejects.toThrow(/notices refused/);
    const untold = await h.test.database.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(untold).toMatchObject({ status: 'active', triggeredAt: null });

    await allowNotices(h);
    expect(await h.arbion.automation.monitors.check(alert.id)).toBe(true);
    expect(await h.arbion.automation.monitors.check(alert.id)).toBe(false);
    const told = await noticesLike(h, 'say:triggered:');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/AAPL/);
    await deliverNotices(h);
    expect(h.channel.texts().filter((text) => text === told[0])).toHaveLength(1);
  });

  it('a strategy is halted, told and its run ended in one step', async () => {
    h.market.override('SOFI', { bid: '19.99', ask: '20.01', last: '20.00' });
    await h.say('ann', 'run the wheel on SOFI, 2 contracts max, paper');
    const strategy = await h.test.database.prisma.strategy.findFirstOrThrow({ where: { symbol: 'SOFI' } });
    // Parameters no version of the wheel accepts: the run halts the strategy.
    await h.test.database.prisma.strategy.update({
      where: { id: strategy.id },
      data: { params: { contracts: 'many' } },
    });
    const tick = new Date(MARKET_OPEN.getTime() + 5 * 60_000);

    await refuseNotices(h);
    await expect(h.arbion.automation.strategies.evaluate(strategy.id, tick)).rejects.toThrow(
      /notices refused/,
    );
    expect(
      await h.test.database.prisma.strategy.findUniqueOrThrow({ where: { id: strategy.id } }),
    ).toMatchObject({ status: 'active', haltReason: null });
    const runs = () => h.test.database.prisma.strategyRun.findMany({ where: { strategyId: strategy.id } });
    expect((await runs()).map((run) => run.status)).toEqual(['running']);

    await allowNotices(h);
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, tick)).toMatchObject({
      kind: 'evaluated',
      halted: true,
    });
    expect(
      await h.test.database.prisma.strategy.findUniqueOrThrow({ where: { id: strategy.id } }),
    ).toMatchObject({ status: 'halted' });
    expect((await runs()).map((run) => run.status)).toEqual(['succeeded']);
    const told = await noticesLike(h, `say:halt:${strategy.id}:`);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^The wheel on SOFI .*is halted: .*Say "resume SOFI"/);
    await deliverNotices(h);
    expect(h.channel.texts().filter((text) => text === told[0])).toHaveLength(1);
  });

  it('a paper option is settled only with its notice', async () => {
    h.clock.now = MARKET_OPEN;
    const put: OptionContract = {
      underlying: 'SOFI',
      expiry: '2026-12-04',
      right: 'put',
      strike: new Decimal(20),
    };
    h.market.override('SOFI', { bid: '19.99', ask: '20.00', last: '20.00' });
    h.market.override(occSymbol(put), { bid: '0.50', ask: '0.55', last: '0.52' });
    // The chat the settlement is told in: the user's last order's.
    await h.say('eve', 'buy 1 SOFI');
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: 'eve' });
    const accountId = (await h.arbion.accounts.tradingAccount(who.userId)).externalId;
    const sold = await h.arbion.paper.placeOrder({
      accountId,
      clientOrderId: 'atomicity-put',
      side: 'sell',
      assetClass: 'option',
      symbol: occSymbol(put),
      option: put,
      quantity: new Decimal(1),
      orderType: 'limit',
      limitPrice: new Decimal('0.50'),
      timeInForce: 'day',
    });
    expect(sold.status).toBe('filled');
    // Expired in the money: assigned at 18, the put's 100 shares bought at its strike.
    h.market.override('SOFI', { bid: '17.99', ask: '18.00', last: '18.00' });
    const afterExpiry = new Date('2026-12-04T21:30:00Z');
    const tell = tickNotices({
      prisma: h.test.database.prisma,
      paper: h.arbion.paper,
      outbox: h.arbion.automation.outbox,
    });
    const held = async () =>
      (await h.arbion.paper.getPositions(accountId)).map(
        (position) => `${position.symbol} ${position.quantity.toFixed()}`,
      );
    expect(await held()).toEqual([`${occSymbol(put)} -1`]);

    await refuseNotices(h);
    await expect(tell(afterExpiry)).rejects.toThrow(/notices refused/);
    expect(await held()).toEqual([`${occSymbol(put)} -1`]);

    await allowNotices(h);
    await tell(afterExpiry);
    await tell(afterExpiry);
    expect(await held()).toEqual(['SOFI 100']);
    const told = await noticesLike(h, 'say:settled:');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^Paper: your 1 SOFI 4 Dec 2026 \$20 put was assigned/);
    await deliverNotices(h);
    expect(h.channel.texts().filter((text) => text === told[0])).toHaveLength(1);
  });
});
