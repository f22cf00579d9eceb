/**
 * The paper broker sells options to open (cash-secured puts, covered calls) and settles expired
 * contracts, on a real database: what the ledger reserves and locks, what it refuses, and that a
 * settlement happens once however many passes run at once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PaperBroker } from '../../src/brokers/paper/paper-broker.js';
import type { SettlementEvent } from '../../src/brokers/paper/settlement.js';
import type { PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { type Database, openDatabase } from '../../src/core/db/database.js';
import { Decimal, type OptionRight } from '../../src/core/domain/values.js';
import type { OptionContract } from '../../src/core/market-data/market-data.js';
import { occSymbol } from '../../src/core/market-data/providers/options.js';
import { ADDRESS, createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

const EXPIRY = '2026-12-04';
/** 16:00 New York on the expiry date (EST: UTC-5). */
const EXPIRES_AT = new Date('2026-12-04T21:00:00Z');
const AFTER_EXPIRY = new Date('2026-12-04T21:30:00Z');

const contract = (right: OptionRight, strike: number): OptionContract => ({
  underlying: 'SOFI',
  expiry: EXPIRY,
  right,
  strike: new Decimal(strike),
});
const PUT_20 = contract('put', 20);
const CALL_22 = contract('call', 22);
const CALL_18 = contract('call', 18);

const text = (value: Decimal | undefined) => value?.toFixed();

describe.each(backends)('paper options on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;
  let paper: PaperBroker;
  let users = 0;
  let orders = 0;

  beforeAll(async () => {
    h = await createHarness(backend);
    paper = h.arbion.paper;
  });
  afterAll(async () => {
    await h?.destroy();
  });
  beforeEach(() => {
    h.clock.now = MARKET_OPEN;
    h.market.override('SOFI', { bid: '19.99', ask: '20.00', last: '20.00' });
    h.market.override(occSymbol(PUT_20), { bid: '0.50', ask: '0.55', last: '0.52' });
    h.market.override(occSymbol(CALL_22), { bid: '0.40', ask: '0.45', last: '0.42' });
    h.market.override(occSymbol(CALL_18), { bid: '2.10', ask: '2.20', last: '2.15' });
  });

  /** A new user with a fresh paper account (100,000 USD). */
  async function newAccount(): Promise<{ userId: string; accountId: string }> {
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: `options-${++users}` });
    return { userId: who.userId, accountId: (await h.arbion.accounts.tradingAccount(who.userId)).externalId };
  }

  const option = (
    accountId: string,
    side: 'buy' | 'sell',
    which: OptionContract,
    contracts: number,
    limit: string,
  ): PlaceOrderRequest => ({
    accountId,
    clientOrderId: `opt-${++orders}`,
    side,
    assetClass: 'option',
    symbol: occSymbol(which),
    option: which,
    quantity: new Decimal(contracts),
    orderType: 'limit',
    limitPrice: new Decimal(limit),
    timeInForce: 'day',
  });

  const shares = (accountId: string, side: 'buy' | 'sell', quantity: number): PlaceOrderRequest => ({
    accountId,
    clientOrderId: `shr-${++orders}`,
    side,
    assetClass: 'equity',
    symbol: 'SOFI',
    quantity: new Decimal(quantity),
    orderType: 'market',
    timeInForce: 'day',
  });

  const positionsOf = async (accountId: string) =>
    Object.fromEntries(
      (await paper.getPositions(accountId)).map((held) => [held.symbol, held.quantity.toFixed()]),
    );

  const settle = async (accountId: string, at = AFTER_EXPIRY): Promise<SettlementEvent[]> =>
    (await paper.settleExpirations(at)).filter((event) => event.accountId === accountId);

  it('declares that options can be sold to open', () => {
    expect(paper.sellsOptionsToOpen).toBe(true);
  });

  it('sells a cash-secured put: premium to cash, strike x 100 reserved from buying power', async () => {
    const { accountId } = await newAccount();
    const sold = await paper.placeOrder(option(accountId, 'sell', PUT_20, 2, '0.50'));
    expect(sold.status).toBe('filled');
    expect(text(sold.fills[0]?.price)).toBe('0.5');

    const snapshot = await paper.getAccountSnapshot(accountId);
    expect(text(snapshot.balances.cash)).toBe('100100');
    expect(text(snapshot.balances.buyingPower)).toBe('96100'); // 100,100 - 20 x 100 x 2
    const put = snapshot.positions.find((held) => held.symbol === occSymbol(PUT_20));
    expect(text(put?.quantity)).toBe('-2');
    expect(text(put?.averageCost)).toBe('0.5');
    // Marked at the mid, 0.525: a short is worth minus what buying it back costs.
    expect(text(put?.marketValue)).toBe('-105');
    expect(text(put?.unrealizedPnl)).toBe('-5');
    expect(text(snapshot.balances.equity)).toBe('99995');

    // The reserved cash cannot be spent: 4,810 shares at 20.004 fit in the cash, not the buying power.
    const tooMuch = await paper.placeOrder(shares(accountId, 'buy', 4810));
    expect(tooMuch.status).toBe('rejected');
    expect(tooMuch.rejectReason).toContain('insufficient buying power');
    expect(tooMuch.rejectReason).toContain('has 96100');
  });

  it('refuses uncovered sales with the reason, and changes nothing', async () => {
    const { accountId } = await newAccount();
    const before = await paper.getAccountSnapshot(accountId);

    const bigPut = await paper.placeOrder(option(accountId, 'sell', PUT_20, 60, '0.50'));
    expect(bigPut.status).toBe('rejected');
    expect(bigPut.rejectReason).toBe(
      'a cash-secured put needs $120,000.00 of buying power, you have $100,000.00',
    );
    const nakedCall = await paper.placeOrder(option(accountId, 'sell', CALL_22, 1, '0.40'));
    expect(nakedCall.status).toBe('rejected');
    expect(nakedCall.rejectReason).toBe(
      'a covered call needs 100 SOFI shares, you hold 0; naked calls are not allowed',
    );
    const shortStock = await paper.placeOrder(shares(accountId, 'sell', 10));
    expect(shortStock.status).toBe('rejected');
    expect(shortStock.rejectReason).toContain('cannot sell short');
    // Positions are kept under the order's symbol: it must name the contract the cover is read from.
    await expect(
      paper.placeOrder({ ...option(accountId, 'sell', PUT_20, 1, '0.50'), symbol: 'SOFI' }),
    ).rejects.toThrow('option order symbol SOFI does not name its contract (SOFI  261204P00020000)');

    const after = await paper.getAccountSnapshot(accountId);
    expect(after.positions).toEqual([]);
    expect(after.balances).toEqual(before.balances);
  });

  it('re-checks the cover at fill time: two puts that each fit, together do not, fill once', async () => {
    const { accountId } = await newAccount();
    // 30 contracts set aside 60,000 each; the account has 100,000.
    const results = await Promise.all([
      paper.placeOrder(option(accountId, 'sell', PUT_20, 30, '0.50')),
      paper.placeOrder(option(accountId, 'sell', PUT_20, 30, '0.50')),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual(['filled', 'rejected']);
    expect(results.find((result) => result.status === 'rejected')?.rejectReason).toContain(
      'a cash-secured put needs $60,000.00 of buying power',
    );
    expect(await positionsOf(accountId)).toEqual({ [occSymbol(PUT_20)]: '-30' });
    expect(text((await paper.getBalances(accountId)).buyingPower)).toBe('41500'); // 101,500 - 60,000
  });

  it('a covered call needs 100 shares per contract and locks them until it closes', async () => {
    const { accountId } = await newAccount();
    expect((await paper.placeOrder(shares(accountId, 'buy', 100))).status).toBe('filled');

    const twoCalls = await paper.placeOrder(option(accountId, 'sell', CALL_22, 2, '0.40'));
    expect(twoCalls.rejectReason).toBe(
      'a covered call needs 200 SOFI shares, you hold 100; naked calls are not allowed',
    );
    const oneCall = await paper.placeOrder(option(accountId, 'sell', CALL_22, 1, '0.40'));
    expect(oneCall.status).toBe('filled');

    const another = await paper.placeOrder(option(accountId, 'sell', CALL_22, 1, '0.40'));
    expect(another.rejectReason).toBe(
      'a covered call needs 100 SOFI shares, you hold 100 and 100 of them already cover open calls; naked calls are not allowed',
    );
    const sellShares = await paper.placeOrder(shares(accountId, 'sell', 50));
    expect(sellShares.status).toBe('rejected');
    expect(sellShares.rejectReason).toBe(
      '100 of your 100 SOFI shares cover open calls and cannot be sold until the calls are closed; you can sell 0',
    );
    expect(await positionsOf(accountId)).toEqual({ SOFI: '100', [occSymbol(CALL_22)]: '-1' });

    // Shares beyond the call's 100 stay free to sell; calls do not reserve cash.
    expect((await paper.placeOrder(shares(accountId, 'buy', 100))).status).toBe('filled');
    expect((await paper.placeOrder(shares(accountId, 'sell', 100))).status).toBe('filled');
    expect((await paper.placeOrder(shares(accountId, 'sell', 1))).status).toBe('rejected');
    const balances = await paper.getBalances(accountId);
    expect(balances.buyingPower.equals(balances.cash)).toBe(true);
  });

  it('buying to close realizes the P&L and releases the reserved cash', async () => {
    const { accountId } = await newAccount();
    await paper.placeOrder(option(accountId, 'sell', PUT_20, 2, '0.50'));
    h.market.override(occSymbol(PUT_20), { bid: '0.18', ask: '0.20', last: '0.19' });

    const closed = await paper.placeOrder(option(accountId, 'buy', PUT_20, 2, '0.20'));
    expect(closed.status).toBe('filled');
    expect(text(closed.fills[0]?.price)).toBe('0.2');
    const fill = await h.test.database.prisma.paperFill.findFirstOrThrow({
      where: { paperOrderId: closed.brokerOrderId },
    });
    expect(fill.realizedPnl.toString()).toBe('60'); // (0.50 - 0.20) x 2 x 100

    const snapshot = await paper.getAccountSnapshot(accountId);
    expect(snapshot.positions).toEqual([]);
    expect(text(snapshot.balances.cash)).toBe('100060');
    expect(text(snapshot.balances.buyingPower)).toBe('100060');
    expect(text(snapshot.balances.realizedPnlToday)).toBe('60');
  });

  describe('settlement at expiry', () => {
    it('assigns an in-the-money short put: 100 shares per contract bought at the strike', async () => {
      const { userId, accountId } = await newAccount();
      await paper.placeOrder(option(accountId, 'sell', PUT_20, 2, '0.50'));
      h.market.override('SOFI', { bid: '17.99', ask: '18.01', last: '18.00' });

      // Not before 16:00 New York on the expiry date.
      h.clock.now = new Date(EXPIRES_AT.getTime() - 60_000);
      expect(await settle(accountId, h.clock.now)).toEqual([]);

      h.clock.now = AFTER_EXPIRY;
      // The expired contract no longer quotes: until it settles it is marked at its intrinsic value.
      h.market.override(occSymbol(PUT_20), undefined);
      const pending = await paper.getPositions(accountId);
      expect(text(pending.find((held) => held.symbol === occSymbol(PUT_20))?.marketValue)).toBe('-400');

      const [event, ...more] = await settle(accountId);
      expect(more).toEqual([]);
      expect(event).toMatchObject({ accountId, userId, symbol: occSymbol(PUT_20), outcome: 'assigned' });
      expect(text(event?.contracts)).toBe('-2');
      expect(text(event?.shares)).toBe('200');
      expect(text(event?.price)).toBe('20');
      expect(text(event?.underlyingPrice)).toBe('18');
      expect(text(event?.cashChange)).toBe('-4000');
      expect(text(event?.realizedPnl)).toBe('100'); // the premium, kept

      const snapshot = await paper.getAccountSnapshot(accountId);
      expect(await positionsOf(accountId)).toEqual({ SOFI: '200' });
      expect(text(snapshot.positions[0]?.averageCost)).toBe('20');
      expect(text(snapshot.balances.cash)).toBe('96100'); // 100,000 + 100 - 4,000
      expect(text(snapshot.balances.buyingPower)).toBe('96100');

      const recorded = await h.test.database.prisma.paperOrder.findMany({
        where: { paperAccountId: accountId, clientOrderId: { contains: 'assigned' } },
        include: { fills: true },
        orderBy: { clientOrderId: 'asc' },
      });
      expect(
        recorded.map((order) => [
          order.clientOrderId,
          order.side,
          order.status,
          order.fills[0]?.price.toString(),
        ]),
      ).toEqual([
        ['assigned-shares:SOFI261204P00020000', 'buy', 'filled', '20'],
        ['assigned:SOFI261204P00020000', 'buy', 'filled', '0'],
      ]);
    });

    it('lets an out-of-the-money option expire worthless, keeping the premium', async () => {
      const { accountId } = await newAccount();
      await paper.placeOrder(option(accountId, 'sell', PUT_20, 1, '0.50'));
      // A buy far below the market rests; it cannot outlive its contract.
      const resting = await paper.placeOrder(option(accountId, 'buy', PUT_20, 1, '0.01'));
      expect(resting.status).toBe('accepted');
      h.market.override('SOFI', { bid: '24.99', ask: '25.01', last: '25.00' });
      h.clock.now = AFTER_EXPIRY;

      const [event, ...more] = await settle(accountId);
      expect(more).toEqual([]);
      expect(event?.outcome).toBe('expired');
      expect(text(event?.shares)).toBe('0');
      expect(text(event?.cashChange)).toBe('0');
      expect(text(event?.realizedPnl)).toBe('50');

      const snapshot = await paper.getAccountSnapshot(accountId);
      expect(snapshot.positions).toEqual([]);
      expect(text(snapshot.balances.cash)).toBe('100050');
      expect(text(snapshot.balances.buyingPower)).toBe('100050');
      expect((await paper.getOrder(accountId, resting.brokerOrderId))?.status).toBe('expired');
    });

    it('calls away the shares of an in-the-money covered call, sold at the strike', async () => {
      const { accountId } = await newAccount();
      await paper.placeOrder(shares(accountId, 'buy', 100)); // at 20.004 (ask plus 2 bps)
      await paper.placeOrder(option(accountId, 'sell', CALL_22, 1, '0.40'));
      h.market.override('SOFI', { bid: '24.99', ask: '25.01', last: '25.00' });
      h.clock.now = AFTER_EXPIRY;

      const [event] = await settle(accountId);
      expect(event?.outcome).toBe('called_away');
      expect(text(event?.shares)).toBe('-100');
      expect(text(event?.price)).toBe('22');
      expect(text(event?.cashChange)).toBe('2200');
      expect(text(event?.realizedPnl)).toBe('239.6'); // premium 40 + (22 - 20.004) x 100

      const snapshot = await paper.getAccountSnapshot(accountId);
      expect(snapshot.positions).toEqual([]);
      // 100,000 - 2,000.40 + 40 + 2,200
      expect(text(snapshot.balances.cash)).toBe('100239.6');
    });

    it('exercises an in-the-money long call: shares bought at the strike', async () => {
      const { accountId } = await newAccount();
      await paper.placeOrder(option(accountId, 'buy', CALL_18, 1, '2.20'));
      h.market.override('SOFI', { bid: '24.99', ask: '25.01', last: '25.00' });
      h.clock.now = AFTER_EXPIRY;

      const [event] = await settle(accountId);
      expect(event?.outcome).toBe('exercised');
      expect(text(event?.shares)).toBe('100');
      expect(text(event?.cashChange)).toBe('-1800');
      expect(text(event?.realizedPnl)).toBe('-220'); // the premium paid
      expect(await positionsOf(accountId)).toEqual({ SOFI: '100' });
      expect(text((await paper.getBalances(accountId)).cash)).toBe('97980'); // 100,000 - 220 - 1,800
    });

    it('settles once, however many passes run, from separate connections at once', async () => {
      const { accountId } = await newAccount();
      const other = await newAccount();
      await paper.placeOrder(option(accountId, 'sell', PUT_20, 3, '0.50'));
      await paper.placeOrder(option(other.accountId, 'sell', PUT_20, 1, '0.50'));
      h.market.override('SOFI', { bid: '17.99', ask: '18.01', last: '18.00' });
      h.clock.now = AFTER_EXPIRY;

      // A second process: its own broker and, on a server, its own connection pool.
      let second: Database | undefined;
      if (backend === 'server') {
        second = await openDatabase({ kind: 'server', url: h.test.location, poolSize: 4 });
      }
      try {
        const elsewhere = new PaperBroker({
          prisma: second?.prisma ?? h.test.database.prisma,
          market: h.market,
          clock: () => h.clock.now,
        });
        const passes = await Promise.all([
          paper.settleExpirations(AFTER_EXPIRY),
          elsewhere.settleExpirations(AFTER_EXPIRY),
          paper.settleExpirations(AFTER_EXPIRY),
          elsewhere.settleExpirations(AFTER_EXPIRY),
        ]);
        const mine = passes.flat().filter((event) => event.accountId === accountId);
        const theirs = passes.flat().filter((event) => event.accountId === other.accountId);
        expect(mine.map((event) => event.outcome)).toEqual(['assigned']);
        expect(theirs.map((event) => event.outcome)).toEqual(['assigned']);
      } finally {
        await second?.close();
      }
      // And once more, later: nothing left to settle.
      expect(await settle(accountId)).toEqual([]);

      expect(await positionsOf(accountId)).toEqual({ SOFI: '300' });
      expect(await positionsOf(other.accountId)).toEqual({ SOFI: '100' });
      expect(text((await paper.getBalances(accountId)).cash)).toBe('94150'); // 100,000 + 150 - 6,000
      expect(text((await paper.getBalances(other.accountId)).cash)).toBe('98050');
      expect(
        await h.test.database.prisma.paperFill.count({
          where: { order: { paperAccountId: accountId, clientOrderId: { startsWith: 'assigned' } } },
        }),
      ).toBe(2);
    });
  });
});
