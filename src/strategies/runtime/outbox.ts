/**
 * Messages from background work to chats. Evaluations may run in `arbion worker` processes that
 * have no chat connections, so they do not send: they enqueue a `deliver` job, which only the
 * process holding the channels (`arbion start`) works on. A card is re-rendered from its intent
 * when delivered, and its message id attached, so its buttons work like a chat order's.
 */
import { z } from 'zod';
import type { PrismaClient } from '../../core/db/database.js';
import { renderIntentCard } from '../../core/intents/confirmation-card.js';
import type { IntentService } from '../../core/intents/intent-service.js';
import { defineJob, type JobDefinition, type JobQueue } from '../../core/jobs/index.js';
import type { ChannelAddress, ChannelPort, Platform } from '../../core/messages.js';
import { derivedUuid } from './automation-ids.js';

const deliverySchema = z.object({
  platform: z.enum(['telegram', 'slack', 'discord', 'console']),
  workspaceId: z.string(),
  chatId: z.string().min(1),
  threadId: z.string().optional(),
  /** A text, or the card of a proposed intent (with the text before it). */
  text: z.string().max(4000).optional(),
  intentId: z.uuid().optional(),
});
export type Delivery = z.infer<typeof deliverySchema>;

/** Where background work puts its messages. */
export interface Outbox {
  /** `key` names the message so a re-run evaluation does not say it twice. */
  say(address: ChannelAddress, text: string, key: string): Promise<void>;
  /** The confirmation card of a proposed intent, after an optional line of text. */
  card(address: ChannelAddress, intentId: string, text: string | undefined): Promise<void>;
}

function plainAddress(address: ChannelAddress): Omit<Delivery, 'text' | 'intentId'> {
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
  /** Undefined when this process has no channel for the platform (the job then retries). */
  readonly channelFor: (platform: Platform) => ChannelPort | undefined;
  readonly clock: () => Date;
}

/** The `deliver` job: only processes with chat channels run its workers. */
export function deliverJob(deps: DeliverDependencies): JobDefinition<Delivery> {
  return defineJob('deliver', {
    schema: deliverySchema,
    concurrency: 8,
    attempts: 5,
    backoffMs: 2000,
    async handler(delivery) {
      const channel = deps.channelFor(delivery.platform);
      if (channel === undefined) throw new Error(`no ${delivery.platform} channel in this process`);
      const address: ChannelAddress = {
        platform: delivery.platform,
        workspaceId: delivery.workspaceId,
        chatId: delivery.chatId,
        ...(delivery.threadId === undefined ? {} : { threadId: delivery.threadId }),
      };
      if (delivery.text !== undefined) await channel.send(address, { kind: 'text', text: delivery.text });
      if (delivery.intentId === undefined) return;
      const intent = await deps.prisma.tradeIntent.findUnique({ where: { id: delivery.intentId } });
      // Answered, expired or placed meanwhile (auto mode): the text said what happened.
      if (intent === null || intent.status !== 'proposed' || intent.cardMessageId !== null) return;
      const sent = await channel.send(address, {
        kind: 'card',
        card: renderIntentCard(intent, { now: deps.clock() }),
        audience: 'requester',
      });
      await deps.intents.attachCard(intent.id, sent.messageId);
    },
  });
}

/** The outbox over a job queue: messages are jobs with ids derived from their keys. */
export function queueOutbox(queue: JobQueue, job: JobDefinition<Delivery>): Outbox {
  return {
    async say(address, text, key) {
      await queue.enqueue(job, { ...plainAddress(address), text }, { jobId: `say-${derivedUuid(key)}` });
    },
    async card(address, intentId, text) {
      await queue.enqueue(
        job,
        { ...plainAddress(address), intentId, ...(text === undefined ? {} : { text }) },
        { jobId: `card-${intentId}` },
      );
    },
  };
}
