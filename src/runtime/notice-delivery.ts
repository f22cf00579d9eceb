/**
 * The background pass's share of the notice outbox (core/notices/notice-store.ts): notices a dead
 * process wrote, or whose job failed or was lost (the in-process queue dies with its process),
 * are sent from their rows, with backoff; a chat that refuses for good is recorded, not retried.
 */
import type { NoticeStore } from '../core/notices/notice-store.js';
import { sendNotice } from '../strategies/runtime/outbox.js';
import type { ArbionSetup, ChannelRegistry } from './arbion.js';

/** A live process's notice is left to its own job this long (a job retries within it). */
const OWN_JOB_GRACE_MS = 30_000;
/** Waits between attempts, by attempts so far (then the last, until MAX_ATTEMPTS). */
const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000];
const MAX_ATTEMPTS = 12;

export function noticeDelivery(
  options: ArbionSetup,
  parts: {
    readonly notices: NoticeStore;
    readonly channels: ChannelRegistry;
    readonly intents: Parameters<typeof sendNotice>[0]['intents'];
  },
): (live: readonly string[]) => Promise<void> {
  const { notices, channels } = parts;
  const deps = {
    prisma: options.database.prisma,
    intents: parts.intents,
    notices,
    channelFor: (platform: Parameters<ChannelRegistry['has']>[0]) =>
      channels.has(platform) ? channels.get(platform) : undefined,
    clock: options.clock,
  };
  return async (live) => {
    const now = options.clock();
    const due = await notices.due({ live, before: new Date(now.getTime() - OWN_JOB_GRACE_MS) });
    for (const notice of due) {
      // No channel for it here (not configured in this process): left for one that has it.
      if (!channels.has(notice.address.platform)) continue;
      try {
        await sendNotice(deps, notice.address, notice);
        await notices.delivered(notice.id);
      } catch (error) {
        const refused = channels.get(notice.address.platform).refusesForGood?.(error) === true;
        const attempts = notice.attempts + 1;
        options.logger.warn(
          { err: error, noticeId: notice.id, platform: notice.address.platform, attempts },
          refused || attempts >= MAX_ATTEMPTS ? 'gave up a notice' : 'could not deliver a notice',
        );
        const wait = BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)] ?? 60_000;
        await notices.failed(
          notice.id,
          refused
            ? { failure: 'the chat refused the message' }
            : attempts >= MAX_ATTEMPTS
              ? { failure: 'too many failed attempts' }
              : { retryAt: new Date(now.getTime() + wait) },
        );
      }
    }
  };
}
