/**
 * "link" and "go live" in chat: a one-time URL only in a private chat, what is linked already,
 * and an honest answer about live trading.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/core/vault/index.js';
import { ADDRESS, createHarness, type Harness } from '../support/arbion-harness.js';
import { backends } from '../support/databases.js';

describe.each(backends)('linking from chat (%s)', (backend) => {
  let harness: Harness;
  let withoutSite: Harness;

  beforeAll(async () => {
    harness = await createHarness(backend, {
      linking: {
        vault: new Vault([{ id: 'k1', key: randomBytes(32) }]),
        publicBaseUrl: () => 'https://arbion.test',
      },
    });
    withoutSite = await createHarness(backend);
  });
  afterAll(async () => {
    await harness?.destroy();
    await withoutSite?.destroy();
  });

  it('answers "link" in a private chat with a fresh one-time URL each time', async () => {
    await harness.say('alice', 'link');
    const first = harness.channel.texts().at(-1) ?? '';
    expect(first).toMatch(/^Open this page to link or manage your brokers/);
    expect(first).toMatch(/https:\/\/arbion\.test\/link\/[A-Za-z0-9_-]{43}/);
    expect(first).toContain('No broker is linked yet');
    await harness.say('alice', 'link');
    const second = harness.channel.texts().at(-1) ?? '';
    expect(second.match(/\/link\/(\S+)/)?.[1]).not.toBe(first.match(/\/link\/(\S+)/)?.[1]);
    const tokens = await harness.test.database.prisma.linkToken.findMany({
      where: { purpose: 'broker_link' },
    });
    expect(tokens.filter((token) => token.usedAt === null)).toHaveLength(1);
  });

  it('never posts a link in a group chat', async () => {
    const before = await harness.test.database.prisma.linkToken.count();
    await harness.arbion.conversation.handle({
      kind: 'text',
      deliveryId: `group-${backend}-1`,
      messageId: 'g1',
      text: 'link',
      address: { ...ADDRESS, chatId: 'group-1' },
      sender: { platformUserId: 'alice', displayName: 'alice' },
      receivedAt: harness.clock.now,
      chatType: 'group',
    });
    const answer = harness.channel.texts().at(-1) ?? '';
    expect(answer).toContain('only send linking pages in a private chat');
    expect(answer).not.toContain('/link/');
    expect(await harness.test.database.prisma.linkToken.count()).toBe(before);
  });

  it('says plainly when no linking site runs, and what "go live" can and cannot do', async () => {
    await withoutSite.say('bob', 'link');
    expect(withoutSite.channel.texts().at(-1)).toContain('runs without the web server');
    await harness.say('alice', 'go live on schwab');
    expect(harness.channel.texts().at(-1)).toContain('Live trading needs a linked Charles Schwab account');
  });
});
