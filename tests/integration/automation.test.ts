/**
 * Automation end to end on a real database, the paper broker and the simulated market: strategies
 * and alerts created from chat, evaluations that propose cards through the same intent path as chat
 * orders, exactly once per tick (also when a run is repeated after a crash), auto mode only after
 * the user confirmed its limits, and the kill switch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logging/logger.js';
import { pendingOrdersOf } from '../../src/strategies/runtime/snapshot-builder.js';
import { wheelStateSchema } from '../../src/strategies/wheel/wheel.js';
import { createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

let h: Harness;

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The answer to the last message: the last text the chat received. */
function lastText(): string {
  return h.channel.texts().at(-1) ?? '';
}

async function strategyOf(symbol: string) {
  return h.test.database.prisma.strategy.findFirstOrThrow({
    where: { symbol },
    orderBy: { createdAt: 'desc' },
  });
}

const minutes = (count: number) => new Date(MARKET_OPEN.getTime() + count * 60_000);

beforeAll(async () => {
  h = await createHarness('server');
  // Deliveries to the chat run as jobs, as in `arbion start`; evaluations are called directly.
  h.arbion.automation.queue.startWorkers([h.arbion.automation.deliver]);
  h.market.override('SOFI', { bid: '19.99', ask: '20.01', last: '20.00' });
  h.market.override('F', { bid: '10.99', ask: '11.01', last: '11.00' });
  h.market.override('AAPL', { bid: '239.99', ask: '240.01', last: '240.00' });
});

afterAll(async () => {
  await h?.destroy();
});

describe('strategies from chat', () => {
  it('creates the wheel on paper in ask mode and lists it', async () => {
    await h.say('ann', 'run the wheel on SOFI, 2 contracts max, paper');
    expect(lastText()).toMatch(
      /^The wheel on SOFI \([0-9a-f]{8}\) on your paper account: SOFI, 2 contracts max, puts at 0\.30 delta/,
    );
    expect(lastText()).toContain('every order it wants comes to you as a card to confirm');
    await h.say('ann', 'my strategies');
    expect(lastText()).toMatch(/The wheel on SOFI \(paper, ask\) active: SOFI, 2 contracts max/);

    await h.say('ann', 'run the wheel on SOFI');
    expect(lastText()).toMatch(/^You already run the wheel on SOFI \([0-9a-f]{8}\)\. Stop it first/);
    await h.say('ann', 'run the wheel on BTC');
    expect(lastText()).toBe('the wheel trades options, and BTC has none. Nothing was created.');
    expect(await h.test.database.prisma.strategy.count()).toBe(1);
  });

  it('an evaluation proposes cash-secured puts as cards; a confirmed one sells on paper; the next tick repeats nothing', async () => {
    const strategy = await strategyOf('SOFI');
    const outcome = await h.arbion.automation.strategies.evaluate(strategy.id, MARKET_OPEN);
    expect(outcome).toMatchObject({ kind: 'evaluated', halted: false });
    const intents = await h.test.database.prisma.tradeIntent.findMany({ where: { strategyId: strategy.id } });
    expect(intents.length).toBeGreaterThan(0);
    expect(outcome.kind === 'evaluated' && outcome.orders).toBe(intents.length);
    for (const intent of intents) {
      expect(intent).toMatchObject({
        status: 'proposed',
        side: 'sell',
        assetClass: 'option',
        optionRight: 'put',
        source: 'strategy',
      });
      expect(intent.strategyTag).toMatch(/^wheel:/);
    }
    // The run and the strategy's new state are written together.
    const after = await h.test.database.prisma.strategy.findUniqueOrThrow({ where: { id: strategy.id } });
    expect(after.lastRunAt).toEqual(MARKET_OPEN);
    expect(after.peakEquity?.toString()).toBe('100000');
    expect(wheelStateSchema.safeParse(after.state).success).toBe(true);
    const run = await h.test.database.prisma.strategyRun.findFirstOrThrow({
      where: { strategyId: strategy.id },
    });
    expect(run.status).toBe('succeeded');
    expect(run.decision).toMatchObject({ price: '20', sessionOpen: true });
    const total = intents.reduce((sum, intent) => sum + Number(intent.quantity), 0);
    expect(total).toBeLessThanOrEqual(2);

    const first = intents[0];
    if (first === undefined) throw new Error('no intent');
    const card = await until('the strategy card', () =>
      h.channel.log.find(
        (entry) =>
          entry.message?.kind === 'card' &&
          entry.message.card.actions.some((action) => action.id === `confirm:${first.id}`),
      ),
    );
    expect(h.channel.texts().some((text) => text.startsWith('The wheel on SOFI: '))).toBe(true);
    // A strategy's card is numbered like a typed order's (the same proposal path).
    expect(first.cardNumber).toBeGreaterThan(0);
    expect(card.message?.kind === 'card' && card.message.card.title).toBe(
      `Card #${first.cardNumber} · Sell SOFI?`,
    );
    await h.press('ann', `confirm:${first.id}`, card.messageId);
    const confirmed = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: first.id } });
    expect(['submitted', 'filled']).toContain(confirmed.status);

    const again = await h.arbion.automation.strategies.evaluate(strategy.id, minutes(1));
    expect(again).toEqual({ kind: 'evaluated', orders: 0, halted: false });
    expect(await h.test.database.prisma.tradeIntent.count({ where: { strategyId: strategy.id } })).toBe(
      intents.length,
    );
  });

  it('evaluates one tick once, however often the job runs, and a run repeated after a crash proposes nothing new', async () => {
    await h.say('bob', 'run the wheel on F, 1 contract max');
    const strategy = await strategyOf('F');
    const tick = minutes(2);
    const results = await Promise.allSettled([
      h.arbion.automation.strategies.evaluate(strategy.id, tick),
      h.arbion.automation.strategies.evaluate(strategy.id, tick),
    ]);
    expect(results.some((result) => result.status === 'fulfilled')).toBe(true);
    const intents = await h.test.database.prisma.tradeIntent.findMany({ where: { strategyId: strategy.id } });
    expect(intents).toHaveLength(1);
    expect(await h.test.database.prisma.strategyRun.count({ where: { strategyId: strategy.id, tick } })).toBe(
      1,
    );

    // The worker died after proposing and before finishing the run: the job runs again.
    await h.test.database.prisma.strategyRun.updateMany({
      where: { strategyId: strategy.id, tick },
      data: { status: 'running', finishedAt: null },
    });
    const rerun = await h.arbion.automation.strategies.evaluate(strategy.id, tick);
    expect(rerun).toEqual({ kind: 'evaluated', orders: 0, halted: false });
    expect(await h.test.database.prisma.tradeIntent.count({ where: { strategyId: strategy.id } })).toBe(1);
    // And a finished run is not evaluated again at all.
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, tick)).toEqual({
      kind: 'skipped',
      reason: 'already evaluated',
    });
  });

  it('pause and resume; a paused strategy is not evaluated', async () => {
    await h.say('bob', 'pause the wheel on F');
    // Its card from the tick above still waits: the pause withdraws it (automation-lifecycle.test.ts).
    expect(lastText()).toBe(
      [
        'Paused the wheel on F. Say "resume F" to continue.',
        'Its waiting card was withdrawn (nothing was sent); it asks again when resumed.',
        'It has no orders working at a broker.',
      ].join('\n'),
    );
    const strategy = await strategyOf('F');
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, minutes(3))).toEqual({
      kind: 'skipped',
      reason: 'paused',
    });
    await h.say('bob', 'resume F');
    expect(lastText()).toBe('Resumed the wheel on F.');
  });

  it('auto mode waits for the user to confirm its limits, then places orders without a card', async () => {
    await h.say(
      'cat',
      'run the wheel on F auto, 1 contract max, max $5000 per order, $10000 per day, max drawdown 20%',
    );
    const created = lastText();
    expect(created).toContain('Auto mode places orders without asking, within these limits:');
    expect(created).toContain('max $5,000.00 per order, $10,000.00 per day');
    const id = /confirm auto ([0-9a-f]{8})/.exec(created)?.[1];
    expect(id).toBeDefined();
    const strategy = await h.test.database.prisma.strategy.findFirstOrThrow({
      where: { executionMode: 'auto' },
    });
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, minutes(4))).toEqual({
      kind: 'skipped',
      reason: 'auto limits not confirmed',
    });

    await h.say('cat', `confirm auto ${id}`);
    expect(lastText()).toBe(
      "The wheel on F runs in auto mode now, within the limits you confirmed. I'll tell you about every order it places.",
    );
    const cards = h.channel.log.filter((entry) => entry.message?.kind === 'card').length;
    const outcome = await h.arbion.automation.strategies.evaluate(strategy.id, minutes(5));
    expect(outcome).toEqual({ kind: 'evaluated', orders: 1, halted: false });
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { strategyId: strategy.id },
    });
    expect(['submitted', 'filled']).toContain(intent.status);
    const told = await until('the auto message', () =>
      h.channel.texts().find((text) => text.startsWith('The wheel on F (auto): ')),
    );
    expect(told).toContain('sell');
    expect(h.channel.log.filter((entry) => entry.message?.kind === 'card').length).toBe(cards);
  });
});

describe('alerts and stop monitors', () => {
  it('a price alert tells the user once when it triggers', async () => {
    await h.say('dan', 'alert me if AAPL goes above 250');
    expect(lastText()).toMatch(
      /^Alert [0-9a-f]{8} set: AAPL: tell me above \$250\.00 \(now \$240\.00\)\. I'll tell you when it triggers\.$/,
    );
    const alert = await h.test.database.prisma.alert.findFirstOrThrow({
      where: { symbol: 'AAPL', kind: 'price_above' },
    });
    expect(await h.arbion.automation.monitors.check(alert.id)).toBe(false);
    h.market.override('AAPL', { bid: '251.99', ask: '252.01', last: '252.00' });
    expect(await h.arbion.automation.monitors.check(alert.id)).toBe(true);
    expect(await h.arbion.automation.monitors.check(alert.id)).toBe(false);
    await until('the alert message', () =>
      h.channel.texts().find((text) => text.includes('AAPL') && text.includes('252')),
    );
    expect((await h.test.database.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).status).toBe(
      'triggered',
    );
    h.market.override('AAPL', { bid: '239.99', ask: '240.01', last: '240.00' });
  });

  it('refuses a stop that would fire at once, and one on a position not held', async () => {
    await h.say('dan', 'set a stop loss on AAPL at 245');
    expect(lastText()).toBe('AAPL is already at $240.00, below $245.00. Nothing was created.');
    await h.say('dan', 'sell half my AAPL if it drops under 200');
    expect(lastText()).toBe('You hold no AAPL to sell. Nothing was created.');
  });

  it('"sell half my AAPL if it drops under 230" proposes the sale of half the position when it triggers', async () => {
    await h.say('dan', 'buy 10 AAPL');
    const card = h.channel.lastCard();
    const confirm =
      card?.message?.kind === 'card'
        ? card.message.card.actions.find((action) => action.id.startsWith('confirm:'))
        : undefined;
    if (confirm === undefined) throw new Error('no order card');
    await h.press('dan', confirm.id);
    await h.say('dan', 'sell half my AAPL if it drops under 230');
    expect(lastText()).toMatch(/set: AAPL: stop loss at \$230\.00, sells 5 \(now \$240\.00\)/);
    const alert = await h.test.database.prisma.alert.findFirstOrThrow({
      where: { symbol: 'AAPL', kind: 'stop_loss' },
    });
    h.market.override('AAPL', { bid: '228.99', ask: '229.01', last: '229.00' });
    expect(await h.arbion.automation.monitors.check(alert.id)).toBe(true);
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({ where: { source: 'alert' } });
    expect(intent).toMatchObject({ side: 'sell', symbol: 'AAPL', status: 'proposed' });
    expect(Number(intent.quantity)).toBe(5);
    await until('the sale card', () =>
      h.channel.log.find(
        (entry) =>
          entry.message?.kind === 'card' &&
          entry.message.card.actions.some((action) => action.id === `confirm:${intent.id}`),
      ),
    );
  });
});

describe('the kill switch', () => {
  it('"stop everything" stops every strategy and alert of the user and cancels their waiting cards', async () => {
    await h.say('ann', 'alert me if AAPL goes above 1000');
    const strategy = await strategyOf('SOFI');
    await h.say('ann', 'stop everything');
    expect(lastText()).toMatch(
      /^Stopped everything: 1 strategy and 1 alert; \d+ waiting cards? (was|were) cancelled\./,
    );
    expect(
      await h.test.database.prisma.strategy.count({
        where: { userId: strategy.userId, status: { not: 'stopped' } },
      }),
    ).toBe(0);
    expect(
      await h.test.database.prisma.alert.count({ where: { userId: strategy.userId, status: 'active' } }),
    ).toBe(0);
    expect(
      await h.test.database.prisma.tradeIntent.count({
        where: { userId: strategy.userId, source: 'strategy', status: 'proposed' },
      }),
    ).toBe(0);
    // Within one tick: the next evaluation does nothing, and the tick enqueues nothing for them.
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, minutes(10))).toEqual({
      kind: 'skipped',
      reason: 'stopped',
    });
    // Other users' strategies go on.
    expect(await h.test.database.prisma.strategy.count({ where: { status: 'active' } })).toBe(2);
  });
});

describe('the daily summary', () => {
  it('after the close, each user with strategies is told what they did today, once', async () => {
    const { tick } = h.arbion.automation.jobs;
    const context = {
      jobId: 'tick',
      attempt: 1,
      signal: new AbortController().signal,
      log: createLogger({ level: 'silent', format: 'json', secretValues: [] }),
    };
    h.clock.now = new Date('2026-11-24T21:20:00Z');
    try {
      await tick.handler({}, context);
      await tick.handler({}, context);
    } finally {
      h.clock.now = MARKET_OPEN;
    }
    const summary = await until('the daily summary', () =>
      h.channel
        .texts()
        .find((text) => text.startsWith('Daily summary, 2026-11-24:') && text.includes('The wheel on F')),
    );
    expect(summary).toMatch(/The wheel on F: active; \d+ orders? today, \d+ filled\./);
    // Two ticks after the close, one summary per user who runs strategies.
    const users = await h.test.database.prisma.strategy.groupBy({
      by: ['userId'],
      where: { status: { in: ['active', 'paused', 'halted'] } },
    });
    await until('every summary', () =>
      h.channel.texts().filter((text) => text.startsWith('Daily summary, 2026-11-24:')).length ===
      users.length
        ? true
        : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.channel.texts().filter((text) => text.startsWith('Daily summary, 2026-11-24:'))).toHaveLength(
      users.length,
    );
  });
});

describe('backtests', () => {
  it('backtests the wheel on SOFI for 6 months on the simulated market', async () => {
    await h.say('eve', 'backtest the wheel on SOFI for 6 months');
    const answer = lastText();
    expect(answer).toMatch(
      /^Backtest of the wheel on SOFI, \d{4}-\d\d-\d\d to 2026-11-24 on the simulated market, starting with \$100,000\.00:/,
    );
    expect(answer).toMatch(/P&L -?\$[\d,]+\.\d\d \(-?\d+\.\d\d%\), max drawdown/);
    expect(answer).toMatch(/[1-9]\d* trades, premium collected/);
    expect(answer).toContain('Nothing was placed.');
    expect(
      await h.test.database.prisma.tradeIntent.count({
        where: {
          userId: (
            await h.test.database.prisma.channelIdentity.findFirstOrThrow({
              where: { platformUserId: 'eve' },
            })
          ).userId,
        },
      }),
    ).toBe(0);
  });
});

describe('one evaluation at a time, and re-runs that keep their verdict', () => {
  it("an auto strategy's order beyond its limits stays a card, also when the run is repeated; a put is measured by the cash it secures", async () => {
    // One SOFI put secures about $2,000: beyond $500 per order, though its premium is far less.
    await h.say('dan', 'run the wheel on SOFI auto, 1 contract max, max $500 per order, $10000 per day');
    const id = /confirm auto ([0-9a-f]{8})/.exec(lastText())?.[1];
    await h.say('dan', `confirm auto ${id ?? ''}`);
    const strategy = await strategyOf('SOFI');
    expect(strategy.executionMode).toBe('auto');
    const tick = minutes(30);
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, tick)).toEqual({
      kind: 'evaluated',
      orders: 1,
      halted: false,
    });
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { strategyId: strategy.id },
    });
    expect(intent.status).toBe('proposed');
    const cardFor = () =>
      h.channel.log.filter(
        (entry) => entry.message?.kind === 'card' && JSON.stringify(entry.message).includes(intent.id),
      ).length;
    await until('the card', () => (cardFor() === 1 ? true : undefined));
    expect(h.channel.texts().some((text) => text.includes('beyond your auto limits'))).toBe(true);

    // The worker died before finishing the run: the re-run asks again, it does not place.
    await h.test.database.prisma.strategyRun.updateMany({
      where: { strategyId: strategy.id, tick },
      data: { status: 'running', finishedAt: null },
    });
    await h.arbion.automation.strategies.evaluate(strategy.id, tick);
    expect(
      (await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } })).status,
    ).toBe('proposed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cardFor()).toBe(1);

    // The waiting put reaches the strategy by its OCC symbol, so it counts against its contracts.
    const pending = await pendingOrdersOf(h.test.database.prisma, strategy.id, h.clock.now);
    expect(pending.map((order) => order.symbol)).toEqual([expect.stringMatching(/^SOFI {2}\d{6}P\d{8}$/)]);
    // The next tick proposes no second one.
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, minutes(31))).toMatchObject({
      kind: 'evaluated',
      orders: 0,
    });
  });

  it('refuses a max drawdown above 100%, which could never halt', async () => {
    await h.say('fay', 'run the wheel on F auto, max drawdown 150%');
    expect(lastText()).toBe(
      'A max drawdown is a share of equity above 0% and at most 100%. Nothing was created.',
    );
    expect(await h.test.database.prisma.strategy.count({ where: { maxDrawdown: { gt: 1 } } })).toBe(0);
  });

  it('a run of another tick still running holds the strategy; one past its lease is taken over', async () => {
    const strategy = await strategyOf('SOFI');
    const held = await h.test.database.prisma.strategyRun.create({
      data: { strategyId: strategy.id, tick: minutes(40), startedAt: h.clock.now },
    });
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, minutes(41))).toEqual({
      kind: 'skipped',
      reason: 'another evaluation of it is running',
    });
    expect(
      await h.test.database.prisma.strategyRun.count({
        where: { strategyId: strategy.id, tick: minutes(41) },
      }),
    ).toBe(0);

    await h.test.database.prisma.strategyRun.update({
      where: { id: held.id },
      // An hour before the injected clock's now: leases are judged by that clock, never the wall.
      data: { startedAt: new Date(h.clock.now.getTime() - 60 * 60_000) },
    });
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, minutes(42))).toMatchObject({
      kind: 'evaluated',
    });
    expect(
      await h.test.database.prisma.strategyRun.findUniqueOrThrow({ where: { id: held.id } }),
    ).toMatchObject({ status: 'failed' });
  });

  it("a strategy's card confirmed after the strategy stopped places nothing", async () => {
    const strategy = await strategyOf('SOFI');
    const intent = await h.test.database.prisma.tradeIntent.findFirstOrThrow({
      where: { strategyId: strategy.id, status: 'proposed' },
    });
    // "stop everything" raced the card: the strategy stopped, the card still waits.
    await h.test.database.prisma.strategy.update({ where: { id: strategy.id }, data: { status: 'stopped' } });
    const update = await h.arbion.intents.confirm(intent.id, strategy.userId);
    expect(update).toMatchObject({ text: 'Not placed: the strategy that proposed it is stopped.' });
    expect(
      (await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: intent.id } })).status,
    ).toBe('cancelled');
    expect(await h.test.database.prisma.order.count({ where: { intentId: intent.id } })).toBe(0);
  });
});
