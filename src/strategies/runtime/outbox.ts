/**
 * Messages from background work to chats. Each is written to the notice outbox first
 * (core/notices/notice-store.ts: durable, one row per key), then handed to a `deliver` job for
 * speed. Evaluations may run in `arbion worker` processes that have no chat connections: only the
 * process holding the channels (`arbion start`) works on those jobs, and its background pass
 * delivers whatever a crash or a lost job left undelivered. A card is re-rendered from its intent
 * when delivered, and its message id attached, so its buttons work like a chat order's.
 */
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../../core/db/database.js';
import { renderIntentCard } from '../../core/intents/confirmation-card.js';
import type { IntentService } from '../../core/intents/intent-service.js';
import { defineJob, type JobDefinition, type JobQueue } from '../../core/jobs/index.js';
import type { ChannelAddress, ChannelPort, Platform } from '../../core/messages.js';
import type { Notice, NoticeStore } from '../../core/notices/notice-store.js';

const deliverySchema = z.object({
  platform: z.enum(['telegram', 'slack', 'discord', 'console']),
  workspaceId: z.string(),
  chatId: z.string().min(1),
  threadId: z.string().optional(),
  /** A text, or the card of a proposed intent (with the text before it). */
  text: z.string().max(4000).optional(),
  intentId: z.uuid().optional(),
  /** The notice row this delivers (jobs from before the notice outbox have none). */
  noticeId: z.string().regex(/^\d+$/).optional(),
});
export type Delivery = z.infer<typeof deliverySchema>;

/** Writes messages from background work to chats. */
export interface NoticeWriter {
  /** `key` names the message so a re-run evaluation does not say it twice. */
  say(address: ChannelAddress, text: string, key: string): Promise<void>;
  /** The confirmation card of a proposed intent, after an optional line of text. */
  card(address: ChannelAddress, intentId: string, text: string | undefined): Promise<void>;
}

/** Notices written by transactions run elsewhere (a paper settlement), sent once they commit. */
export interface DeferredNotices {
  /** A writer whose notices commit, or roll back, with `tx`'s other writes. */
  within(tx: Prisma.TransactionClient): NoticeWriter;
  /** Sends what was written: call once the transactions have committed. */
  send(): Promise<void>;
}

/** Where background work puts its messages. */
export interface Outbox extends NoticeWriter {
  /**
   * Runs `change` in one transaction with the notices it writes through `told`, and sends them once
   * it commits: a state change and the notice telling it are never apart (a crash between the two
   * would leave the change untold for good).
   */
  transaction<T>(change: (tx: Prisma.TransactionClient, told: NoticeWriter) => Promise<T>): Promise<T>;
  /** For a transaction someone else runs: see DeferredNotices. */
  deferred(): DeferredNotices;
}

function plainAddress(address: ChannelAddress): Omit<Delivery, 'text' | 'intentId' | 'noticeId'> {
  return {
    platform: address.platform as Delivery['platform'],
    workspaceId: address.workspaceId,
    chatId: address.chatId,
    ...(address.threadId === undefined ? {} : { threadId: address.threadId }),
  };
}

export interface DeliverDependencies {
  readonly prisma: Pick<PrismaClient, 'tradeIntent'>;
  readonly intents: Pick<IntentService, 'attachCard'>;
  readonly notices: Pick<NoticeStore, 'undelivered' | 'delivered'>;
  /** Undefined when this process has no channel for the platform (the job then retries). */
  readonly channelFor: (platform: Platform) => ChannelPort | undefined;
  readonly clock: () => Date;
}

/** Sends a notice's text, then its intent's card while the intent is still proposed. */
export async function sendNotice(
  deps: DeliverDependencies,
  address: ChannelAddress,
  content: { readonly text?: string | undefined; readonly intentId?: string | undefined },
): Promise<void> {
  const channel = deps.channelFor(address.platform);
  if (channel === undefined) throw new Error(`no ${address.platform} channel in this process`);
  if (content.text !== undefined) await channel.send(address, { kind: 'text', text: content.text });
  if (content.intentId === undefined) return;
  const intent = await deps.prisma.tradeIntent.findUnique({ where: { id: content.intentId } });
  // Answered, expired or placed meanwhile (auto mode): the text said what happened.
  if (intent === null || intent.status !== 'proposed' || intent.cardMessageId !== null) return;
  const sent = await channel.send(address, {
    kind: 'card',
    card: renderIntentCard(intent, { now: deps.clock() }),
    audience: 'requester',
  });
  await deps.intents.attachCard(intent.id, sent.messageId);
}

/** The `deliver` job: only processes with chat channels run its workers. */
export function deliverJob(deps: DeliverDependencies): JobDefinition<Delivery> {
  return defineJob('deliver', {
    schema: deliverySchema,
    concurrency: 8,
    attempts: 5,
    backoffMs: 2000,
    async handler(delivery) {
      const address: ChannelAddress = {
        platform: delivery.platform,
        workspaceId: delivery.workspaceId,
        chatId: delivery.chatId,
        ...(delivery.threadId === undefined ? {} : { threadId: delivery.threadId }),
      };
      if (delivery.noticeId === undefined) return sendNotice(deps, address, delivery);
      // Delivered meanwhile (the background pass, or an earlier attempt of this job).
      const notice = await deps.notices.undelivered(delivery.noticeId);
      if (notice === undefined) return;
      await sendNotice(deps, notice.address, notice);
      await deps.notices.delivered(notice.id);
    },
  });
}

export interface DurableOutboxDependencies {
  readonly prisma: Pick<PrismaClient, '$transaction'>;
  readonly notices: Pick<NoticeStore, 'record'>;
  readonly queue: JobQueue;
  readonly job: JobDefinition<Delivery>;
}

/** The outbox: a notice row per key, then a job to send it at once. */
export function durableOutbox(deps: DurableOutboxDependencies): Outbox {
  const send = async (notice: Notice) => {
    await deps.queue.enqueue(
      deps.job,
      {
        ...plainAddress(notice.address),
        ...(notice.text === undefined ? {} : { text: notice.text }),
        ...(notice.intentId === undefined ? {} : { intentId: notice.intentId }),
        noticeId: notice.id,
      },
      { jobId: `notice-${notice.id}` },
    );
  };
  const writer = (
    within: Prisma.TransactionClient | undefined,
    written: (notice: Notice) => Promise<void>,
  ): NoticeWriter => {
    const write = async (
      address: ChannelAddress,
      key: string,
      content: { text?: string; intentId?: string },
    ) => {
      const notice = await deps.notices.record(key, address, content, within);
      // Written before (a repeated evaluation): it is sent, or being sent, already.
      if (notice !== undefined) await written(notice);
    };
    return {
      say: (address, text, key) => write(address, `say:${key}`, { text }),
      card: (address, intentId, text) =>
        write(address, `card:${intentId}`, { intentId, ...(text === undefined ? {} : { text }) }),
    };
  };
  const deferred = (): DeferredNotices => {
    const written: Notice[] = [];
    return {
      within: (tx) =>
        writer(tx, async (notice) => {
          written.push(notice);
        }),
      async send() {
        // A notice of a transaction that rolled back has no row: its job finds nothing to send.
        for (const notice of written.splice(0)) await send(notice);
      },
    };
  };
  return {
    ...writer(undefined, send),
    deferred,
    async transaction(change) {
      const notices = deferred();
      const value = await deps.prisma.$transaction((tx) => change(tx, notices.within(tx)));
      await notices.send();
      return value;
    },
  };
}
