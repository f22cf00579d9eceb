/**
 * What pausing or stopping a strategy does to what it left, as the user sees it: its cards still
 * waiting for an answer are withdrawn (cancelled through the intent state machine, the cards
 * edited at once, told once), its orders already at the broker are listed as staying there with
 * how to cancel them; a paused strategy asks again once resumed. A collar needs the shares it
 * covers, and a backtest of a strategy the user runs uses that strategy's settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, MARKET_OPEN } from '../support/arbion-harness.js';

let h: Harness;

/** Moves the clock on by `seconds` and returns the new time (also a fresh evaluation tick). */
function later(seconds: number): Date {
  h.clock.now = new Date(h.clock.now.getTime() + seconds * 1000);
  return h.clock.now;
}

/**
 * Runs the background pass once what this process wrote is due from it: notices (cards) after
 * 30 s, untold moves after 15 s. Whatever is still in an outbox is sent now.
 */
async function backgroundPassLater(): Promise<void> {
  later(31);
  await h.arbion.runBackgroundPass();
}

function lastText(): string {
  return h.channel.texts().at(-1) ?? '';
}

async function strategyOf(user: string, symbol: string) {
  const identity = await h.test.database.prisma.channelIdentity.findFirstOrThrow({
    where: { platformUserId: user },
  });
  return h.test.database.prisma.strategy.findFirstOrThrow({
    where: { userId: identity.userId, symbol },
    orderBy: { createdAt: 'desc' },
  });
}

/** The strategy's intents, oldest first. */
function intentsOf(strategyId: string) {
  return h.test.database.prisma.tradeIntent.findMany({
    where: { strategyId },
    orderBy: { createdAt: 'asc' },
  });
}

/** The newest rendering of the card shown for an intent (sent or edited). */
function cardShown(intentId: string, messageId: string) {
  const shown = h.channel.log.filter(
    (entry) => entry.messageId === messageId && entry.message?.kind === 'card',
  );
  const last = shown.at(-1)?.message;
  if (last?.kind !== 'card') throw new Error(`no card for ${intentId}`);
  return last.card;
}

beforeAll(async () => {
  h = await createHarness('server');
  h.market.override('SOFI', { bid: '19.99', ask: '20.01', last: '20.00' });
  h.market.override('F', { bid: '10.99', ask: '11.01', last: '11.00' });
});

afterAll(async () => {
  await h?.destroy();
});

/** Presses Confirm on the newest card as `user`. */
async function confirmLastCard(user: string): Promise<void> {
  const card = h.channel.lastCard();
  const confirm =
    card?.message?.kind === 'card'
      ? card.message.card.actions.find((action) => action.id.startsWith('confirm:'))
      : undefined;
  if (card === undefined || confirm === undefined) throw new Error('no card to confirm');
  await h.press(user, confirm.id, card.messageId);
}

describe('pausing and stopping a strategy', () => {
  it('pause withdraws its waiting card at once, through the state machine, told once', async () => {
    await h.say('ann', 'run the wheel on SOFI, 2 contracts max, paper');
    const strategy = await strategyOf('ann', 'SOFI');
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, MARKET_OPEN)).toEqual({
      kind: 'evaluated',
      orders: 1,
      halted: false,
    });
    // The card goes out from the notice outbox.
    await backgroundPassLater();
    const [waiting] = await intentsOf(strategy.id);
    if (waiting === undefined) throw new Error('no card');
    expect(waiting).toMatchObject({ status: 'proposed', tellPending: false });
    expect(waiting.cardMessageId).not.toBeNull();
    const before = h.channel.log.length;

    await h.say('ann', 'pause SOFI');
    expect(lastText()).toBe(
      [
        'Paused the wheel on SOFI. Say "resume SOFI" to continue.',
        'Its waiting card was withdrawn (nothing was sent); it asks again when resumed.',
        'It has no orders working at a broker.',
      ].join('\n'),
    );
    const row = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: waiting.id } });
    // Through the state machine, and told: the card shows it, the outbox flag is cleared.
    expect(row).toMatchObject({
      status: 'cancelled',
      statusReason: 'its strategy is paused',
      tellPending: false,
    });
    const audit = await h.test.database.prisma.auditEvent.findFirst({
      where: { intentId: waiting.id, type: 'intent.cancelled' },
    });
    expect(audit?.data).toMatchObject({ from: 'proposed', event: 'cancel' });
    const card = cardShown(waiting.id, waiting.cardMessageId ?? '');
    expect(card.actions).toEqual([]);
    expect(JSON.stringify(card)).toContain('its strategy is paused');
    // Told once: the card edited, then the answer; no sentence of the card's own, now or later.
    expect(h.channel.log.slice(before).map((entry) => entry.kind)).toEqual(['edit', 'send']);
    await backgroundPassLater();
    expect(h.channel.log).toHaveLength(before + 2);
    // A press on the withdrawn card places nothing.
    await h.press('ann', `confirm:${waiting.id}`, waiting.cardMessageId ?? '');
    expect(await h.test.database.prisma.order.count({ where: { intentId: waiting.id } })).toBe(0);
  });

  it('a resumed strategy asks again for what its pause withdrew', async () => {
    const strategy = await strategyOf('ann', 'SOFI');
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, later(60))).toEqual({
      kind: 'skipped',
      reason: 'paused',
    });
    await h.say('ann', 'resume SOFI');
    expect(lastText()).toBe('Resumed the wheel on SOFI.');
    // A card the user declined is not asked again for hours; one withdrawn by a pause is.
    expect(await h.arbion.automation.strategies.evaluate(strategy.id, later(60))).toEqual({
      kind: 'evaluated',
      orders: 1,
      halted: false,
    });
    const intents = await intentsOf(strategy.id);
    expect(intents.map((intent) => intent.status).sort()).toEqual(['cancelled', 'proposed']);
    expect(new Set(intents.map((intent) => intent.strategyTag)).size).toBe(1);
  });

  it('stop withdraws its waiting card and says its working order stays at the broker, with how to cancel it', async () => {
    // A second strategy whose card is confirmed: its order rests at the broker (a limit at the mid).
    await h.say('ann', 'run the wheel on F, 1 contract max, paper');
    const wheelOnF = await strategyOf('ann', 'F');
    expect(await h.arbion.automation.strategies.evaluate(wheelOnF.id, later(60))).toMatchObject({
      kind: 'evaluated',
      orders: 1,
    });
    await backgroundPassLater();
    await confirmLastCard('ann');
    const [placed] = await intentsOf(wheelOnF.id);
    const order = await h.test.database.prisma.order.findFirstOrThrow({ where: { intentId: placed?.id } });
    expect(order.status).toBe('accepted');

    await h.say('ann', 'pause F');
    const paused = lastText();
    expect(paused).toMatch(
      new RegExp(
        `^Paused the wheel on F\\. Say "resume F" to continue\\.\\nIts order at the broker stays working:\\n  ${order.intentId.slice(0, 8)}  sell 1 F \\d{1,2} [A-Z][a-z]{2} \\d{4} \\$[\\d.]+ put, limit \\$[\\d.]+ \\(accepted\\)\\nSay "cancel <id>" to cancel one, or "cancel all" to cancel all your open orders\\.$`,
      ),
    );
    await h.say('ann', 'stop F');
    expect(lastText()).toMatch(
      /^Stopped the wheel on F\. Positions it opened stay as they are\.\nIts order at the broker stays working:/,
    );
    // Stopping cancels no order by itself.
    expect((await h.test.database.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe(
      'accepted',
    );

    const wheelOnSofi = await strategyOf('ann', 'SOFI');
    const [waiting] = (await intentsOf(wheelOnSofi.id)).filter((intent) => intent.status === 'proposed');
    await h.say('ann', `stop strategy ${wheelOnSofi.id.replace(/-/g, '').slice(0, 8)}`);
    expect(lastText()).toBe(
      [
        'Stopped the wheel on SOFI. Positions it opened stay as they are.',
        'Its waiting card was withdrawn (nothing was sent).',
        'It has no orders working at a broker.',
      ].join('\n'),
    );
    const row = await h.test.database.prisma.tradeIntent.findUniqueOrThrow({ where: { id: waiting?.id } });
    expect(row).toMatchObject({
      status: 'cancelled',
      statusReason: 'its strategy is stopped',
      tellPending: false,
    });
  });
});

describe('covered strategies need their shares', () => {
  it('refuses a collar on 10 shares with the reason, and creates one on 150', async () => {
    await h.say('bob', 'start a collar on SOFI');
    expect(lastText()).toBe(
      'A collar on SOFI needs 100 shares per contract; you hold 0. Nothing was created.',
    );
    await h.say('bob', 'buy 10 SOFI');
    await confirmLastCard('bob');
    await h.say('bob', 'start a collar on SOFI');
    expect(lastText()).toBe(
      'A collar on SOFI needs 100 shares per contract; you hold 10. Nothing was created.',
    );
    expect(await h.test.database.prisma.strategy.count({ where: { kind: 'collar' } })).toBe(0);

    await h.say('bob', 'buy 140 SOFI');
    await confirmLastCard('bob');
    await h.say('bob', 'start a collar on SOFI, 2 contracts max');
    expect(lastText()).toMatch(
      /^The collar on SOFI \([0-9a-f]{8}\) on your paper account: SOFI collar on up to 2 lots: .*\. You hold 150 SOFI shares: 1 contract's worth \(up to 2 as you buy more\)\./,
    );
  });
});

describe('backtesting a strategy the user runs', () => {
  it("uses that strategy's settings and says so; without one, the defaults", async () => {
    await h.say('cat', 'run the wheel on SOFI, 2 contracts max, paper');
    const strategy = await strategyOf('cat', 'SOFI');
    await h.say('cat', 'backtest the wheel on SOFI for 3 months');
    const own = lastText();
    expect(own).toContain(
      `With the settings of your wheel on SOFI (${strategy.id.replace(/-/g, '').slice(0, 8)}): SOFI, 2 contracts max`,
    );
    await h.say('dan', 'backtest the wheel on SOFI for 3 months');
    const plain = lastText();
    expect(plain).toContain('With the default settings: SOFI, 1 contract max');
    // Twice the contracts: not the same backtest.
    const pnl = (text: string) => /P&L (-?\$[\d,.]+)/.exec(text)?.[1];
    expect(pnl(own)).toBeDefined();
    expect(pnl(own)).not.toBe(pnl(plain));
    // In date order.
    const dates = [...own.matchAll(/^ {2}(\d{4}-\d\d-\d\d) /gm)].map((match) => match[1] ?? '');
    expect(dates.length).toBeGreaterThan(0);
    expect(dates).toEqual([...dates].sort());
  });
});
