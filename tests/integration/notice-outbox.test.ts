/**
 * The notice outbox: what background work tells a chat is written (once per key) before it is
 * sent, and a notice whose job was lost (a crash, the in-process queue gone) or failed is sent by
 * the background pass: at once when the process that wrote it died, after a grace when it lives;
 * with backoff when the chat fails, and never again when the chat refuses for good.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelAddress, OutboundMessage } from '../../src/core/messages.js';
import { ADDRESS, createHarness, type Harness, RecordingChannel } from '../support/arbion-harness.js';
import { backends } from '../support/databases.js';

class RefusingChannel extends RecordingChannel {
  failing: Error | undefined;
  override async send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }> {
    if (this.failing) throw this.failing;
    return super.send(address, message);
  }
  refusesForGood(error: unknown): boolean {
    return error instanceof Error && error.message.startsWith('403');
  }
}

const later = (h: Harness, ms: number) => {
  h.clock.now = new Date(h.clock.now.getTime() + ms);
};

describe.each(backends)('the notice outbox (%s)', (backend) => {
  let h: Harness;
  afterEach(async () => {
    await h?.destroy();
  });

  it('writes a notice once per key, and sends a lost one from its row, once', async () => {
    h = await createHarness(backend);
    // The harness does not work on jobs: each job here is as good as lost.
    await h.arbion.automation.outbox.say(ADDRESS, 'Alert: AAPL crossed $200.', 'alert-1');
    await h.arbion.automation.outbox.say(ADDRESS, 'Alert: AAPL crossed $200.', 'alert-1');
    expect(await h.test.database.prisma.notice.count()).toBe(1);

    // The writer lives: its own job has a grace before the pass steps in.
    await h.arbion.runBackgroundPass();
    expect(h.channel.texts()).toEqual([]);
    later(h, 31_000);
    await h.arbion.runBackgroundPass();
    expect(h.channel.texts()).toEqual(['Alert: AAPL crossed $200.']);
    later(h, 60_000);
    await h.arbion.runBackgroundPass();
    expect(h.channel.texts()).toHaveLength(1);
    const notice = await h.test.database.prisma.notice.findFirstOrThrow();
    expect(notice.deliveredAt).not.toBeNull();
  });

  it("sends a dead process's notice at once after the restart", async () => {
    h = await createHarness(backend);
    await h.arbion.automation.outbox.say(ADDRESS, 'Your wheel on SOFI sold a put.', 'wheel-1');
    await h.restart();
    await h.arbion.runBackgroundPass();
    expect(h.channel.texts()).toEqual(['Your wheel on SOFI sold a put.']);
  });

  it('retries a failing chat with backoff, and records a chat that refuses for good', async () => {
    h = await createHarness(backend);
    const chat = new RefusingChannel();
    await h.arbion.automation.outbox.say(ADDRESS, 'first', 'n-1');
    await h.arbion.automation.outbox.say(ADDRESS, 'second', 'n-2');
    await h.restart(chat);
    chat.failing = new Error('503 Service Unavailable');
    await h.arbion.runBackgroundPass();
    const waiting = await h.test.database.prisma.notice.findMany({ orderBy: { id: 'asc' } });
    expect(waiting.map((row) => row.attempts)).toEqual([1, 1]);
    expect(waiting[0]?.nextAttemptAt?.getTime()).toBe(h.clock.now.getTime() + 5_000);

    // Before the backoff is over: not tried. After it: sent, in order.
    chat.failing = undefined;
    await h.arbion.runBackgroundPass();
    expect(chat.texts()).toEqual([]);
    later(h, 5_000);
    await h.arbion.runBackgroundPass();
    expect(chat.texts()).toEqual(['first', 'second']);

    await h.arbion.automation.outbox.say(ADDRESS, 'third', 'n-3');
    await h.restart(chat);
    chat.failing = new Error('403 Forbidden: bot was blocked by the user');
    await h.arbion.runBackgroundPass();
    const refused = await h.test.database.prisma.notice.findFirstOrThrow({ where: { key: 'say:n-3' } });
    expect(refused.failure).toBe('the chat refused the message');
    chat.failing = undefined;
    later(h, 3_600_000);
    await h.arbion.runBackgroundPass();
    expect(chat.texts()).toEqual(['first', 'second']);
  });
});
