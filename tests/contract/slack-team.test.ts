/**
 * Team trading in a Slack channel, through the real Bolt adapter and the fake Slack: a trader
 * proposes above the approval threshold, a viewer's press on the approval card is refused, an
 * admin approves, and exactly one order is placed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractHarness, createContractHarness } from './contract-harness.js';
import type { SeenCard } from './driver.js';
import { slackDriver } from './drivers/slack.js';

describe('Slack team trading with four-eyes approval', () => {
  let h: ContractHarness;

  beforeAll(async () => {
    h = await createContractHarness('server', slackDriver);
    await h.driver.join('alice', 'admin');
    await h.driver.join('bob', 'trader');
    await h.driver.join('carol', 'viewer');
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const prisma = () => h.test.database.prisma;
  const newTexts = (person: 'alice' | 'bob' | 'carol', before: number) =>
    h.driver.textsFor(person).slice(before).join('\n');

  it('trader proposes, viewer is refused, admin approves above the threshold, one order', async () => {
    await h.driver.say('alice', 'approval above 1000');
    await h.driver.settle();
    expect(h.driver.textsFor('alice').join('\n')).toMatch(/orders above \$1,000\.00 need an admin/);

    // The viewer cannot even propose.
    const carolBefore = h.driver.textsFor('carol').length;
    await h.driver.say('carol', 'buy 10 AAPL');
    await h.driver.settle();
    expect(newTexts('carol', carolBefore)).toMatch(/not trade/);

    const cardsBefore = h.driver.cards().length;
    await h.driver.say('bob', 'buy 10 AAPL');
    await h.driver.settle();
    const card = h.driver.cards().at(-1) as SeenCard;
    expect(h.driver.cards().length).toBe(cardsBefore + 1);
    expect(card.text).toMatch(/an admin must approve/);
    // The requester's card is ephemeral: alice and carol do not see it.
    expect(card.messageId.startsWith('e:')).toBe(true);
    const intent = await prisma().tradeIntent.findFirstOrThrow({
      where: { platform: 'slack', status: 'proposed' },
      orderBy: { createdAt: 'desc' },
    });
    expect(intent.requiresApproval).toBe(true);

    await h.driver.press('bob', card.messageId, `confirm:${intent.id}`);
    await h.driver.settle();
    const waiting = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(waiting.status).toBe('awaiting_approval');
    const approval = h.driver.cards().find((shown) => shown.messageId === waiting.approvalMessageId);
    expect(approval?.actionIds).toEqual([`approve:${intent.id}`, `decline:${intent.id}`]);
    expect(approval?.messageId.startsWith('e:')).toBe(false); // the whole channel sees it

    const refusedBefore = h.driver.textsFor('carol').length;
    await h.driver.press('carol', approval?.messageId ?? '', `approve:${intent.id}`);
    await h.driver.press('bob', approval?.messageId ?? '', `approve:${intent.id}`);
    await h.driver.settle();
    expect(newTexts('carol', refusedBefore)).toMatch(/Only a workspace admin/);
    expect(h.driver.textsFor('bob').join('\n')).toMatch(/cannot approve your own/);
    expect(await prisma().order.count({ where: { intentId: intent.id } })).toBe(0);

    await h.driver.press('alice', approval?.messageId ?? '', `approve:${intent.id}`);
    await h.driver.press('alice', approval?.messageId ?? '', `approve:${intent.id}`);
    await h.driver.settle();
    const done = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intent.id } });
    expect(done.status).toBe('filled');
    expect(await prisma().order.count({ where: { intentId: intent.id } })).toBe(1);
    const alice = await prisma().channelIdentity.findFirstOrThrow({
      where: { platform: 'slack', platformUserId: h.driver.platformUserId('alice') },
    });
    expect(done.approverUserId).toBe(alice.userId);
    const after = h.driver.cards().find((shown) => shown.messageId === waiting.approvalMessageId);
    expect(after?.actionIds).toEqual([]);
    expect(after?.text).toMatch(/Approved by an admin/);
  });
});
