/**
 * Team trading through the core, platform-free: workspace roles, four-eyes approval, groups
 * without workspaces, and one person on several chat apps (link codes). Both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAddress, InboundMessage, WorkspaceRole } from '../../src/core/messages.js';
import { createHarness, type Harness, type Recorded } from '../support/arbion-harness.js';
import { type Backend, backends } from '../support/databases.js';

let sequence = 0;

describe.each(backends)('team trading on %s PostgreSQL', (backend: Backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(async () => {
    await h?.destroy();
  });

  const prisma = () => h.test.database.prisma;

  /** The core hears `text` from `user` in `address`; returns what the bot did in answer. */
  async function say(
    address: ChannelAddress,
    user: string,
    text: string,
    options: { chatType?: 'direct' | 'group'; platformRole?: WorkspaceRole } = {},
  ): Promise<Recorded[]> {
    const before = h.channel.log.length;
    const message: InboundMessage = {
      kind: 'text',
      deliveryId: `team-${process.pid}-${++sequence}`,
      messageId: `in-${sequence}`,
      address,
      sender: { platformUserId: user, displayName: user, platformRole: options.platformRole },
      chatType: options.chatType ?? 'group',
      receivedAt: h.clock.now,
      text,
    };
    await h.arbion.conversation.handle(message);
    return h.channel.log.slice(before);
  }

  async function press(
    address: ChannelAddress,
    user: string,
    actionId: string,
    messageId: string,
    options: { platformRole?: WorkspaceRole } = {},
  ): Promise<Recorded[]> {
    const before = h.channel.log.length;
    await h.arbion.conversation.handle({
      kind: 'action',
      deliveryId: `team-${process.pid}-${++sequence}`,
      messageId,
      actionId,
      address,
      sender: { platformUserId: user, displayName: user, platformRole: options.platformRole },
      chatType: 'group',
      receivedAt: h.clock.now,
    });
    return h.channel.log.slice(before);
  }

  const textOf = (entries: Recorded[]) =>
    entries
      .map((entry) => (entry.message?.kind === 'text' ? entry.message.text : (entry.text ?? '')))
      .join('\n');
  const cardOf = (entries: Recorded[]) => entries.find((entry) => entry.message?.kind === 'card');
  const actionsOf = (entry: Recorded | undefined) =>
    entry?.message?.kind === 'card' ? entry.message.card.actions.map((action) => action.id) : [];

  describe('workspace roles', () => {
    const team: ChannelAddress = { platform: 'console', workspaceId: `T-roles-${backend}`, chatId: 'C1' };

    it('makes the first member admin and later members viewers who cannot trade', async () => {
      expect(textOf(await say(team, 'ann', 'roles'))).toMatch(/admin\s+<@ann>/);
      const viewer = await say(team, 'vic', 'buy 1 AAPL');
      expect(textOf(viewer)).toMatch(/cannot trade|not trade/i);
      expect(cardOf(viewer)).toBeUndefined();
      expect(await prisma().tradeIntent.count({ where: { workspaceExternalId: team.workspaceId } })).toBe(0);
    });

    it('lets only an admin change roles, and never demote the last admin', async () => {
      expect(textOf(await say(team, 'vic', 'role <@vic> admin'))).toMatch(/Only a workspace admin/);
      expect(textOf(await say(team, 'ann', 'role <@ann> viewer'))).toMatch(/only admin/);
      expect(textOf(await say(team, 'ann', 'role <@nobody> trader'))).toMatch(/don't know <@nobody>/);
      expect(textOf(await say(team, 'ann', 'role <@vic|Vic> trader'))).toMatch(/<@vic> is now a trader/);
      const card = cardOf(await say(team, 'vic', 'buy 1 AAPL'));
      expect(actionsOf(card)[0]).toMatch(/^confirm:/);
      const events = await prisma().auditEvent.count({ where: { type: 'workspace.role_changed' } });
      expect(events).toBe(1);
    });

    it('re-checks the role at the Confirm press: a trader demoted after the card cannot confirm', async () => {
      const card = cardOf(await say(team, 'vic', 'buy 2 AAPL'));
      const confirm = actionsOf(card)[0] ?? '';
      await say(team, 'ann', 'role <@vic> viewer');
      const answer = await press(team, 'vic', confirm, card?.messageId ?? '');
      expect(textOf(answer)).toMatch(/not trade/);
      const intentId = confirm.split(':')[1] ?? '';
      expect((await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } })).status).toBe(
        'proposed',
      );
      expect(await prisma().order.count({ where: { intentId } })).toBe(0);
    });

    it('takes a role the platform vouches for over the stored one', async () => {
      const server: ChannelAddress = { platform: 'console', workspaceId: `G-${backend}`, chatId: 'C9' };
      await say(server, 'owner', 'roles');
      const asTrader = await say(server, 'member', 'buy 1 AAPL', { platformRole: 'trader' });
      expect(actionsOf(cardOf(asTrader))[0]).toMatch(/^confirm:/);
      const asViewer = await say(server, 'member', 'buy 1 AAPL', { platformRole: 'viewer' });
      expect(textOf(asViewer)).toMatch(/server role/);
    });
  });

  describe('four-eyes approval', () => {
    const desk: ChannelAddress = { platform: 'console', workspaceId: `T-desk-${backend}`, chatId: 'C2' };

    beforeAll(async () => {
      await say(desk, 'boss', 'roles');
      await say(desk, 'tess', 'hello');
      await say(desk, 'vera', 'hello');
      await say(desk, 'boss', 'role <@tess> trader');
      await say(desk, 'boss', 'role <@olga> trader'); // unknown: nothing
      await say(desk, 'olga', 'hi');
      await say(desk, 'boss', 'make <@olga> admin');
    });

    it('needs an admin other than the requester above the threshold, and places exactly one order', async () => {
      expect(textOf(await say(desk, 'tess', 'approval above 1000'))).toMatch(/Only a workspace admin/);
      expect(textOf(await say(desk, 'boss', 'approval above $1,000'))).toMatch(/above \$1,000\.00/);

      const small = cardOf(await say(desk, 'tess', 'buy 1 AAPL'));
      expect(small?.message?.kind === 'card' && small.message.card.notice).not.toMatch(/admin must approve/);

      const proposal = await say(desk, 'tess', 'buy 10 AAPL');
      const card = cardOf(proposal);
      expect(card?.message?.kind === 'card' && card.message.audience).toBe('requester');
      expect(card?.message?.kind === 'card' && card.message.card.notice).toMatch(/an admin must approve/);
      const [confirm] = actionsOf(card);
      const intentId = confirm?.split(':')[1] ?? '';

      const confirmed = await press(desk, 'tess', confirm ?? '', card?.messageId ?? '');
      const intent = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
      expect(intent.status).toBe('awaiting_approval');
      expect(await prisma().order.count({ where: { intentId } })).toBe(0);
      const approvalCard = confirmed.find(
        (entry) =>
          entry.kind === 'send' && entry.message?.kind === 'card' && entry.message.audience === 'chat',
      );
      expect(actionsOf(approvalCard)).toEqual([`approve:${intentId}`, `decline:${intentId}`]);
      expect(intent.approvalMessageId).toBe(approvalCard?.messageId);
      // The requester's own card now offers only Cancel.
      const edited = confirmed.find((entry) => entry.kind === 'edit' && entry.messageId === card?.messageId);
      expect(actionsOf(edited)).toEqual([`cancel:${intentId}`]);

      const approve = `approve:${intentId}`;
      const approvalId = approvalCard?.messageId ?? '';
      expect(textOf(await press(desk, 'vera', approve, approvalId))).toMatch(/Only a workspace admin/);
      expect(textOf(await press(desk, 'tess', approve, approvalId))).toMatch(/cannot approve your own/);
      expect(textOf(await press(desk, 'stranger', approve, approvalId))).toMatch(/Only the person/);
      expect((await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } })).status).toBe(
        'awaiting_approval',
      );
      expect(await prisma().order.count({ where: { intentId } })).toBe(0);

      const [first, second] = await Promise.all([
        press(desk, 'boss', approve, approvalId),
        press(desk, 'olga', approve, approvalId),
      ]);
      expect(await prisma().order.count({ where: { intentId } })).toBe(1);
      const done = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
      expect(done.status).toBe('filled');
      const boss = await prisma().channelIdentity.findFirstOrThrow({ where: { platformUserId: 'boss' } });
      const olga = await prisma().channelIdentity.findFirstOrThrow({ where: { platformUserId: 'olga' } });
      expect([boss.userId, olga.userId]).toContain(done.approverUserId);
      expect(textOf([...first, ...second])).toMatch(/Filled \(PAPER\)/);
      const approvedEvents = await prisma().auditEvent.count({
        where: { intentId, type: 'intent.approved' },
      });
      expect(approvedEvents).toBe(1);
    });

    it('ends with nothing sent when an admin declines', async () => {
      const card = cardOf(await say(desk, 'tess', 'buy 10 MSFT'));
      const [confirm] = actionsOf(card);
      const intentId = confirm?.split(':')[1] ?? '';
      await press(desk, 'tess', confirm ?? '', card?.messageId ?? '');
      const intent = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
      const answer = await press(desk, 'boss', `decline:${intentId}`, intent.approvalMessageId ?? '');
      expect(textOf(answer)).toMatch(/declined/);
      const after = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
      expect(after.status).toBe('rejected');
      expect(await prisma().order.count({ where: { intentId } })).toBe(0);
    });

    it('expires an unanswered approval and removes the buttons from both cards', async () => {
      const card = cardOf(await say(desk, 'tess', 'buy 10 NVDA'));
      const [confirm] = actionsOf(card);
      const intentId = confirm?.split(':')[1] ?? '';
      await press(desk, 'tess', confirm ?? '', card?.messageId ?? '');
      const saved = h.clock.now;
      h.clock.now = new Date(saved.getTime() + 121_000);
      try {
        const before = h.channel.log.length;
        await h.arbion.runBackgroundPass();
        const intent = await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } });
        const mine = [card?.messageId, intent.approvalMessageId];
        // Other open proposals of this file expire in the same pass: look at this intent's cards.
        const edits = h.channel.log
          .slice(before)
          .filter((entry) => entry.kind === 'edit' && mine.includes(entry.messageId));
        expect(intent.status).toBe('expired');
        expect(edits.map((entry) => entry.messageId).sort()).toEqual(mine.sort());
        for (const edit of edits) expect(actionsOf(edit)).toEqual([]);
        const late = await press(desk, 'boss', `approve:${intentId}`, intent.approvalMessageId ?? '');
        expect(textOf(late)).toMatch(/expired/);
        expect(await prisma().order.count({ where: { intentId } })).toBe(0);
      } finally {
        h.clock.now = saved;
      }
    });
  });

  describe('groups without a workspace', () => {
    const group: ChannelAddress = { platform: 'console', workspaceId: '', chatId: `group-${backend}` };
    const direct = (user: string): ChannelAddress => ({
      platform: 'console',
      workspaceId: '',
      chatId: `dm-${user}`,
    });

    it('never creates a user for a stranger in a group, and lets them trade once they are known', async () => {
      const stranger = await say(group, 'gus', 'buy 1 AAPL');
      expect(textOf(stranger)).toMatch(/first send me a private message/);
      expect(await prisma().channelIdentity.count({ where: { platformUserId: 'gus' } })).toBe(0);
      await say(direct('gus'), 'gus', 'help', { chatType: 'direct' });
      const card = cardOf(await say(group, 'gus', 'buy 1 AAPL'));
      expect(actionsOf(card)[0]).toMatch(/^confirm:/);
    });

    it('tells the requester privately, not the group, when a resting order fills later', async () => {
      const quote = await h.market.quote({ assetClass: 'equity', symbol: 'AMD' });
      const limit = quote.ask.mul('0.99').toDecimalPlaces(2);
      const card = cardOf(await say(group, 'gus', `buy 3 AMD limit ${limit.toFixed()}`));
      const [confirm] = actionsOf(card);
      await press(group, 'gus', confirm ?? '', card?.messageId ?? '');
      const intentId = confirm?.split(':')[1] ?? '';
      expect((await prisma().tradeIntent.findUniqueOrThrow({ where: { id: intentId } })).status).toBe(
        'submitted',
      );
      h.market.override('AMD', { bid: limit.sub('0.02'), ask: limit.sub('0.01'), last: limit.sub('0.01') });
      try {
        const before = h.channel.log.length;
        await h.arbion.runBackgroundPass();
        const after = h.channel.log.slice(before);
        const told = after.find((entry) => entry.kind === 'notify' && /Filled/.test(entry.text ?? ''));
        expect(told?.recipient?.platformUserId).toBe('gus');
        expect(told?.address.chatId).toBe(group.chatId);
        expect(after.some((entry) => entry.kind === 'send' && entry.message?.kind === 'text')).toBe(false);
        // The card itself is still updated in place.
        expect(after.some((entry) => entry.kind === 'edit' && entry.messageId === card?.messageId)).toBe(
          true,
        );
      } finally {
        h.market.override('AMD', undefined);
      }
    });
  });

  describe('one person on several chat apps', () => {
    const telegram: ChannelAddress = { platform: 'telegram', workspaceId: '', chatId: 'tg-dm' };
    const slack: ChannelAddress = { platform: 'slack', workspaceId: 'T-link', chatId: 'D1' };

    beforeAll(() => {
      // The harness's recording channel answers for every platform in these tests.
      h.arbion.channels.register('telegram', h.channel);
      h.arbion.channels.register('slack', h.channel);
    });

    it('attaches a second platform account with a one-time code', async () => {
      const asked = textOf(await say(telegram, 'tg-42', 'link chat', { chatType: 'direct' }));
      const code = /join ([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(asked)?.[1];
      expect(code).toBeDefined();
      const tokens = await prisma().linkToken.findMany({ where: { purpose: 'identity_link' } });
      expect(tokens.some((token) => token.tokenHash.includes(code ?? '-'))).toBe(false);

      expect(textOf(await say(slack, 'U-42', `join ${code?.toLowerCase()}`, { chatType: 'direct' }))).toMatch(
        /^Linked/,
      );
      const [tg, sl] = await Promise.all([
        prisma().channelIdentity.findFirstOrThrow({
          where: { platform: 'telegram', platformUserId: 'tg-42' },
        }),
        prisma().channelIdentity.findFirstOrThrow({ where: { platform: 'slack', platformUserId: 'U-42' } }),
      ]);
      expect(sl.userId).toBe(tg.userId);
      // Used once: a second redemption, by anyone, fails.
      expect(textOf(await say(slack, 'U-99', `join ${code}`, { chatType: 'direct' }))).toMatch(/not valid/);
      expect(
        await prisma().channelIdentity.count({ where: { platformUserId: 'U-99', userId: tg.userId } }),
      ).toBe(0);
    });

    it('keeps a workspace admin an admin after linking their account to another chat app', async () => {
      const team: ChannelAddress = { platform: 'slack', workspaceId: `T-keep-${backend}`, chatId: 'C7' };
      const dm: ChannelAddress = { ...team, chatId: 'D7' };
      await say(team, 'UFIRST', 'roles');
      await say(team, 'USECOND', 'hello');
      expect(textOf(await say(team, 'USECOND', 'buy 1 AAPL'))).toMatch(/not trade/);
      const asked = textOf(await say(telegram, 'tg-77', 'link chat', { chatType: 'direct' }));
      const code = /join ([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(asked)?.[1];
      expect(textOf(await say(dm, 'UFIRST', `join ${code}`, { chatType: 'direct' }))).toMatch(/^Linked/);
      // Still the admin: can grant roles and trade.
      expect(textOf(await say(team, 'UFIRST', 'role <@USECOND> trader'))).toMatch(/is now a trader/);
      expect(cardOf(await say(team, 'UFIRST', 'buy 1 AAPL'))).toBeDefined();
    });

    it('stops an account that keeps guessing codes, for the lifetime of a code', async () => {
      const guesser: ChannelAddress = { platform: 'slack', workspaceId: 'T-guess', chatId: 'D9' };
      for (let attempt = 0; attempt < 5; attempt++) {
        expect(
          textOf(await say(guesser, 'UGUESS', `join AAAA-AAA${attempt + 2}`, { chatType: 'direct' })),
        ).toMatch(/not valid/);
      }
      const asked = textOf(await say(telegram, 'tg-90', 'link chat', { chatType: 'direct' }));
      const code = /join ([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(asked)?.[1];
      // Even the right code is refused now, and nothing is linked.
      expect(textOf(await say(guesser, 'UGUESS', `join ${code}`, { chatType: 'direct' }))).toMatch(
        /Too many wrong codes/,
      );
      const tg = await prisma().channelIdentity.findFirstOrThrow({ where: { platformUserId: 'tg-90' } });
      expect(
        await prisma().channelIdentity.count({ where: { platformUserId: 'UGUESS', userId: tg.userId } }),
      ).toBe(0);
      // Another account is not affected.
      expect(textOf(await say(guesser, 'UOTHER', `join ${code}`, { chatType: 'direct' }))).toMatch(/^Linked/);
      const saved = h.clock.now;
      h.clock.now = new Date(saved.getTime() + 11 * 60_000);
      try {
        expect(textOf(await say(guesser, 'UGUESS', 'join AAAA-BBBB', { chatType: 'direct' }))).toMatch(
          /not valid/,
        );
      } finally {
        h.clock.now = saved;
      }
    });

    it('refuses expired codes and never shows a code in a group', async () => {
      const asked = textOf(await say(telegram, 'tg-43', 'link chat', { chatType: 'direct' }));
      const code = /join ([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(asked)?.[1];
      const saved = h.clock.now;
      h.clock.now = new Date(saved.getTime() + 11 * 60_000);
      try {
        expect(textOf(await say(slack, 'U-43', `join ${code}`, { chatType: 'direct' }))).toMatch(/not valid/);
      } finally {
        h.clock.now = saved;
      }
      const inGroup = textOf(await say(slack, 'U-43', 'link chat'));
      expect(inGroup).toMatch(/private chat/);
      expect(inGroup).not.toMatch(/join [A-Z2-9]{4}-/);
    });
  });
});
