/**
 * Honest buying power, end to end on both databases: what working orders and puts sold to open
 * set aside is not spent twice, on every path (a chat card, the re-check at confirm, a strategy,
 * the paper book's own placement); the balance says why; and a limit through the market is flagged
 * as filling now.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PlaceOrderRequest } from '../../src/core/brokers/broker.js';
import { Decimal, formatUsd } from '../../src/core/domain/values.js';
import type { OptionContract } from '../../src/core/market-data/market-data.js';
import { occSymbol } from '../../src/core/market-data/providers/options.js';
import { pendingOrdersOf } from '../../src/strategies/runtime/snapshot-builder.js';
import { wheelParamsSchema } from '../../src/strategies/wheel/wheel.js';
import { ADDRESS, createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

/** 10,000 USD accounts, and limits that leave buying power as the check that decides. */
const ENV = {
  PAPER_STARTING_CASH: '10000',
  RISK_MAX_POSITION_FRACTION: '1',
  RISK_DAILY_LOSS_LIMIT: '100000',
};

const PUT_20: OptionContract = {
  underlying: 'SOFI',
  expiry: '2026-12-04',
  right: 'put',
  strike: new Decimal(20),
};

describe.each(backends)('buying power net of working orders on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;
  let users = 0;
  let orders = 0;

  beforeAll(async () => {
    h = await createHarness(backend, { env: ENV });
  });
  afterAll(async () => {
    await h?.destroy();
  });
  beforeEach(() => {
    h.clock.now = MARKET_OPEN;
    h.market.override('AAPL', { bid: '196.40', ask: '196.50', last: '196.45' });
    h.market.override('KO', { bid: '59.99', ask: '60.00', last: '60.00' });
    h.market.override('SOFI', { bid: '19.99', ask: '20.01', last: '20.00' });
    h.market.override(occSymbol(PUT_20), { bid: '0.50', ask: '0.55', last: '0.52' });
  });

  /** A new trader with a fresh 10,000 USD paper account. */
  async function newTrader() {
    const name = `bp-${backend}-${++users}`;
    const who = await h.arbion.accounts.identify(ADDRESS, { platformUserId: name, displayName: name });
    const accountId = (await h.arbion.accounts.tradingAccount(who.userId)).externalId;
    return { name, ...who, accountId };
  }

  async function propose(
    user: { userId: string; identityId: string },
    order: Parameters<Harness['order']>[0],
  ) {
    return h.arbion.intents.propose(h.order(order), { ...user, address: ADDRESS });
  }

  /** A card, confirmed: the order placed on paper. */
  async function placeThroughCard(
    user: { userId: string; identityId: string },
    order: Parameters<Harness['order']>[0],
  ) {
    const outcome = await propose(user, order);
    if (outcome.kind !== 'card') throw new Error(`expected a card, got: ${outcome.text}`);
    await h.arbion.intents.confirm(outcome.intentId, user.userId);
    return h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: outcome.intentId } });
  }

  /** The $2,000 buy limit of the brief: 40 KO at 50, below the 60 ask, so it works. */
  const workingKo = {
    side: 'buy',
    symbol: 'KO',
    quantity: '40',
    orderType: 'limit',
    limitPrice: '50',
  } as const;

  /** How "cancel <id>" names an order: its 8-character prefix, or all of it when the prefix is all digits (a card number). */
  const orderRef = (id: string) => (/[a-f]/.test(id.slice(0, 8)) ? id.slice(0, 8) : id);

  const answer = async (name: string, text: string) => {
    await h.say(name, text);
    return h.channel.texts().at(-1) ?? '';
  };

  it('a working $2,000 buy limit takes $2,000 off buying power, and the balance says why', async () => {
    const trader = await newTrader();
    const placed = await placeThroughCard(trader, workingKo);
    expect(placed.status).toBe('submitted');

    const balances = await h.arbion.paper.getBalances(trader.accountId);
    expect(balances.cash.toFixed()).toBe('10000');
    expect(balances.reserved?.toFixed()).toBe('2000'); // 40 x 50; paper charges no fees
    expect(balances.buyingPower.toFixed()).toBe('8000');
    expect(await answer(trader.name, 'balance')).toContain(
      [
        '  Cash          $10,000.00',
        '  Reserved      $2,000.00 (working orders, cash-secured puts)',
        '  Buying power  $8,000.00',
      ].join('\n'),
    );
  });

  it('refuses an order that fits only without the working one, saying what is reserved', async () => {
    const trader = await newTrader();
    await placeThroughCard(trader, workingKo);
    // 45 x 196.50 = 8,842.50: inside the 10,000 of cash, beyond the 8,000 left.
    const refused = await propose(trader, { side: 'buy', symbol: 'AAPL', quantity: '45' });
    expect(refused).toMatchObject({
      kind: 'refused',
      text: "I can't place that: needs $8,842.50, buying power is $8,000.00 ($2,000.00 is reserved for working orders and cash-secured puts).",
    });
    // 40 fit: 7,860.
    expect((await propose(trader, { side: 'buy', symbol: 'AAPL', quantity: '40' })).kind).toBe('card');
  });

  it('the paper book refuses by itself what the working orders leave no room for', async () => {
    const trader = await newTrader();
    await placeThroughCard(trader, workingKo);
    const request = (quantity: number, limit: string): PlaceOrderRequest => ({
      accountId: trader.accountId,
      clientOrderId: `bp-direct-${++orders}`,
      side: 'buy',
      assetClass: 'equity',
      symbol: 'KO',
      quantity: new Decimal(quantity),
      orderType: 'limit',
      limitPrice: new Decimal(limit),
      timeInForce: 'gtc',
    });
    // A second resting limit of 8,000.50 is refused before it rests; one of 8,000 rests.
    const tooMuch = await h.arbion.paper.placeOrder(request(160, '50.003125'));
    expect(tooMuch.status).toBe('rejected');
    expect(tooMuch.rejectReason).toBe(
      'insufficient buying power: needs 8000.5 USD, has 8000 (2000 USD is held by working orders)',
    );
    const fits = await h.arbion.paper.placeOrder(request(160, '50'));
    expect(fits.status).toBe('accepted');
    expect((await h.arbion.paper.getBalances(trader.accountId)).buyingPower.toFixed()).toBe('0');
    // A market buy that would fill now is refused too: nothing is left.
    const market = await h.arbion.paper.placeOrder({
      ...request(1, '1'),
      orderType: 'market',
      limitPrice: undefined,
    });
    expect(market.rejectReason).toBe(
      'insufficient buying power: needs 60.01 USD, has 0 (10000 USD is held by working orders)',
    );
  });

  it('a working put sold to open reserves strike x 100, and so does the open short put', async () => {
    const trader = await newTrader();
    // Asking 0.80 with the bid at 0.50: it works.
    const put = await h.arbion.paper.placeOrder({
      accountId: trader.accountId,
      clientOrderId: `bp-put-${++orders}`,
      side: 'sell',
      assetClass: 'option',
      symbol: occSymbol(PUT_20),
      option: PUT_20,
      quantity: new Decimal(2),
      orderType: 'limit',
      limitPrice: new Decimal('0.80'),
      timeInForce: 'day',
    });
    expect(put.status).toBe('accepted');
    let balances = await h.arbion.paper.getBalances(trader.accountId);
    expect(balances.reserved?.toFixed()).toBe('4000'); // 20 x 100 x 2
    expect(balances.buyingPower.toFixed()).toBe('6000');
    const refused = await propose(trader, { side: 'buy', symbol: 'AAPL', quantity: '35' }); // 6,877.50
    expect(refused.kind === 'refused' && refused.text).toContain(
      'buying power is $6,000.00 ($4,000.00 is reserved for working orders and cash-secured puts)',
    );

    // Filled: the working sale becomes a short put, which keeps the same collateral aside.
    h.market.override(occSymbol(PUT_20), { bid: '0.80', ask: '0.85', last: '0.82' });
    await h.arbion.paper.processRestingOrders();
    balances = await h.arbion.paper.getBalances(trader.accountId);
    expect(balances.cash.toFixed()).toBe('10160'); // the premium, 0.80 x 100 x 2
    expect(balances.reserved?.toFixed()).toBe('4000');
    expect(balances.buyingPower.toFixed()).toBe('6160');
  });

  it('cancelling the working order frees what it held', async () => {
    const trader = await newTrader();
    const placed = await placeThroughCard(trader, workingKo);
    expect((await h.arbion.paper.getBalances(trader.accountId)).buyingPower.toFixed()).toBe('8000');
    expect(await answer(trader.name, `cancel ${orderRef(placed.id)}`)).toContain('cancelled');
    const balances = await h.arbion.paper.getBalances(trader.accountId);
    expect(balances.reserved?.toFixed()).toBe('0');
    expect(balances.buyingPower.toFixed()).toBe('10000');
    expect((await propose(trader, { side: 'buy', symbol: 'AAPL', quantity: '45' })).kind).toBe('card');
  });

  it('the re-check at confirm refuses when another order took the money after the card', async () => {
    const trader = await newTrader();
    const card = await propose(trader, { side: 'buy', symbol: 'AAPL', quantity: '45' }); // 8,842.50
    if (card.kind !== 'card') throw new Error(`expected a card, got: ${card.text}`);
    await placeThroughCard(trader, workingKo); // 2,000 set aside meanwhile
    const update = await h.arbion.intents.confirm(card.intentId, trader.userId);
    expect(update.kind === 'updated' && update.text).toBe(
      'Refused at execution: needs $8,842.50, buying power is $8,000.00 ($2,000.00 is reserved for working orders and cash-secured puts). Nothing was sent.',
    );
    const intent = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({
      where: { id: card.intentId },
    });
    expect(intent.status).toBe('rejected');
    expect(await h.test.database.prisma.order.count({ where: { intentId: card.intentId } })).toBe(0);
  });

  it("a strategy's put is held to the same: its card is refused at confirm once a working order took the cash", async () => {
    const trader = await newTrader();
    expect(await answer(trader.name, 'run the wheel on SOFI, 2 contracts max, paper')).toMatch(
      /^The wheel on SOFI/,
    );
    const strategy = await h.test.database.prisma.strategy.findFirstOrThrow({
      where: { userId: trader.userId, symbol: 'SOFI' },
    });
    await h.arbion.automation.strategies.evaluate(strategy.id, MARKET_OPEN);
    const [put] = await h.test.database.prisma.tradeIntent.findMany({
      where: { strategyId: strategy.id, status: 'proposed' },
    });
    if (put === undefined) throw new Error('the wheel proposed no put');
    const collateral = new Decimal(put.optionStrike?.toString() ?? '0')
      .mul(100)
      .mul(put.quantity?.toString() ?? '0');

    // A working buy limit leaves less than the put secures: 9,000 of the 10,000.
    await placeThroughCard(trader, { ...workingKo, quantity: '180' });
    const update = await h.arbion.intents.confirm(put.id, trader.userId);
    expect(update.kind === 'updated' && update.text).toContain(
      `a cash-secured put needs ${formatUsd(collateral)} of buying power, you have $1,000.00 ($9,000.00 is reserved for working orders and cash-secured puts)`,
    );
    expect(
      (await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: put.id } })).status,
    ).toBe('rejected');
  });

  it('a strategy decides on the same buying power: the wheel secures no put the working orders leave no cash for', async () => {
    const trader = await newTrader();
    await placeThroughCard(trader, { ...workingKo, quantity: '180' }); // 9,000 of the 10,000
    expect(await answer(trader.name, 'run the wheel on SOFI, 2 contracts max, paper')).toMatch(
      /^The wheel on SOFI/,
    );
    const strategy = await h.test.database.prisma.strategy.findFirstOrThrow({
      where: { userId: trader.userId, symbol: 'SOFI' },
    });
    const outcome = await h.arbion.automation.strategies.evaluate(strategy.id, MARKET_OPEN);
    expect(outcome).toMatchObject({ kind: 'evaluated', orders: 0 });
    expect(await h.test.database.prisma.tradeIntent.count({ where: { strategyId: strategy.id } })).toBe(0);
    const notices = await h.test.database.prisma.notice.findMany({ where: { chatId: ADDRESS.chatId } });
    expect(notices.map((notice) => notice.text ?? '')).toContainEqual(
      expect.stringMatching(
        /^The wheel on SOFI: Buying power of \$1,000\.00 does not secure one SOFI .*; the wheel waits\.$/,
      ),
    );
  });

  it("a strategy's own working put is out of buying power once: the wheel sells what the rest secures", async () => {
    const trader = await newTrader();
    expect(await answer(trader.name, 'run the wheel on SOFI, 3 contracts max, paper')).toMatch(
      /^The wheel on SOFI/,
    );
    const strategy = await h.test.database.prisma.strategy.findFirstOrThrow({
      where: { userId: trader.userId, symbol: 'SOFI' },
    });
    // Puts 10% below the price: $18 at $20, $17 at $19, whatever the chain's deltas.
    await h.test.database.prisma.strategy.update({
      where: { id: strategy.id },
      data: { params: { ...wheelParamsSchema.parse(strategy.params), put: { otmPercent: 0.1 } } },
    });
    // 8,000 held by a working buy leaves 2,000: one $18 put.
    const big = await placeThroughCard(trader, { ...workingKo, quantity: '160' });
    await h.arbion.automation.strategies.evaluate(strategy.id, MARKET_OPEN);
    const first = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { strategyId: strategy.id },
    });
    expect([first.optionStrike?.toString(), first.quantity?.toString()]).toEqual(['18', '1']);
    await h.arbion.intents.confirm(first.id, trader.userId);
    // Its limit is above the bid: the put works, and the paper book holds its $1,800.
    expect(
      (await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: first.id } })).status,
    ).toBe('submitted');
    const working = await pendingOrdersOf(h.test.database.prisma, strategy.id, MARKET_OPEN);
    expect(working.map((order) => [order.stage, order.quantity.toFixed()])).toEqual([['working', '1']]);

    // The big buy swapped for one of 4,700: 10,000 - 1,800 - 4,700 leaves 3,500, two $17 puts.
    expect(await answer(trader.name, `cancel ${orderRef(big.id)}`)).toContain('cancelled');
    await placeThroughCard(trader, { ...workingKo, quantity: '94' });
    const balances = await h.arbion.paper.getBalances(trader.accountId);
    expect([balances.buyingPower.toFixed(), balances.netsWorkingOrders]).toEqual(['3500', true]);
    h.market.override('SOFI', { bid: '18.99', ask: '19.01', last: '19.00' });
    const later = new Date(MARKET_OPEN.getTime() + 30 * 60_000);
    h.clock.now = later;
    await h.arbion.automation.strategies.evaluate(strategy.id, later);
    const second = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { strategyId: strategy.id, id: { not: first.id } },
    });
    // Taking the working put's 1,800 off again would have left one.
    expect([second.optionStrike?.toString(), second.quantity?.toString()]).toEqual(['17', '2']);

    // Once one of its two contracts is reported filled, only the other is still on its way.
    await h.arbion.intents.confirm(second.id, trader.userId);
    await h.test.database.prisma.order.updateMany({
      where: { intentId: second.id },
      data: { filledQuantity: 1 },
    });
    await h.test.database.prisma.tradeIntent.update({
      where: { id: second.id },
      data: { status: 'partially_filled' },
    });
    const rest = await pendingOrdersOf(h.test.database.prisma, strategy.id, later);
    expect(rest.map((order) => `${order.tag} ${order.stage} ${order.quantity.toFixed()}`).sort()).toEqual([
      `${second.strategyTag} working 1`, // the $17 put sorts first
      `${first.strategyTag} working 1`,
    ]);
  });

  it('"buy 3 AAPL limit 250" with the ask at 196.50 says it will likely fill now, and does', async () => {
    const trader = await newTrader();
    await h.say(trader.name, 'buy 3 AAPL limit 250');
    const card = h.channel.lastCard();
    const notice = card?.message?.kind === 'card' ? card.message.card.notice : '';
    expect(notice).toContain('Note: this will likely fill now at about $196.50.');
    expect(notice).toContain('The limit $250.00 is 27% above the ask: check it.');
    expect(notice).not.toContain('may not fill soon');

    const confirm = card?.message?.kind === 'card' ? card.message.card.actions[0]?.id : undefined;
    await h.press(trader.name, confirm ?? '');
    const [intent] = await h.test.database.prisma.tradeIntent.findMany({
      where: { userId: trader.userId },
      include: { orders: true },
    });
    expect(intent?.status).toBe('filled');
    expect(intent?.orders[0]?.averageFillPrice?.toString()).toBe('196.5');
  });

  it('a buy limit far below the ask keeps the "may not fill soon" warning', async () => {
    const trader = await newTrader();
    await h.say(trader.name, 'buy 3 AAPL limit 150');
    const card = h.channel.lastCard();
    const notice = card?.message?.kind === 'card' ? card.message.card.notice : '';
    expect(notice).toContain('Note: the limit is 24% below the ask and may not fill soon.');
    expect(notice).not.toContain('fill now');
  });

  it('market buys placed after the close hold the ask plus slippage until they fill at the open', async () => {
    const trader = await newTrader();
    h.clock.now = new Date('2026-11-24T23:00:00Z'); // 18:00 in New York: closed
    const market = (quantity: number): PlaceOrderRequest => ({
      accountId: trader.accountId,
      clientOrderId: `bp-market-${++orders}`,
      side: 'buy',
      assetClass: 'equity',
      symbol: 'KO',
      quantity: new Decimal(quantity),
      orderType: 'market',
      timeInForce: 'day',
    });
    expect((await h.arbion.paper.placeOrder(market(10))).status).toBe('accepted');
    let balances = await h.arbion.paper.getBalances(trader.accountId);
    expect(balances.reserved?.toFixed()).toBe('600.12'); // 10 x 60 x 1.0002
    expect((await h.arbion.paper.placeOrder(market(150))).status).toBe('accepted'); // 9,001.80 more
    const third = await h.arbion.paper.placeOrder(market(10));
    expect(third.rejectReason).toBe(
      'insufficient buying power: needs 600.12 USD, has 398.08 (9601.92 USD is held by working orders)',
    );

    // At the open each fills beside what the other still holds, and nothing is left reserved.
    h.clock.now = new Date('2026-11-25T15:00:00Z');
    const filled = (await h.arbion.paper.processRestingOrders()).filter(
      (order) => order.clientOrderId.startsWith('bp-market-') && order.status === 'filled',
    );
    expect(filled.map((order) => order.quantity?.toFixed()).sort()).toEqual(['10', '150']);
    balances = await h.arbion.paper.getBalances(trader.accountId);
    expect(balances.reserved?.toFixed()).toBe('0');
    expect(balances.cash.toFixed()).toBe('398.08');
  });
});
