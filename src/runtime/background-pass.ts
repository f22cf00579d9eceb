/**
 * `createArbion`'s background pass: link upkeep, card expiries, linked brokers' orders, broker
 * health and resting paper orders, each outcome told to the user in the chat it belongs to.
 */
import type { PaperBroker } from '../brokers/paper/paper-broker.js';
import type { BrokerRegistry } from '../brokers/registry.js';
import type { Conversation } from '../core/conversation/conversation.js';
import type { Platform } from '../core/db/generated/enums.js';
import type { IntentService, IntentUpdate } from '../core/intents/intent-service.js';
import { OrderTracker } from '../core/intents/order-tracker.js';
import type { ChannelAddress, Sender } from '../core/messages.js';
import type { ArbionSetup, ChannelRegistry } from './arbion.js';
import type { Linking } from './linking.js';

/** What the pass knows of an intent to tell its requester about it. */
interface BackgroundIntent {
  readonly id: string;
  readonly platform: Platform;
  readonly workspaceExternalId: string;
  readonly chatId: string;
  readonly threadId: string | null;
  readonly sharedChat: boolean;
  readonly requesterIdentityId: string | null;
}

export interface BackgroundPassParts {
  readonly linking: Linking | undefined;
  readonly registry: BrokerRegistry;
  readonly intents: IntentService;
  readonly paper: PaperBroker;
  readonly conversation: Conversation;
  readonly channels: ChannelRegistry;
}

/** One pass of the background work: expire cards, follow orders, fill resting paper orders, tell the users. */
export function createBackgroundPass(options: ArbionSetup, parts: BackgroundPassParts): () => Promise<void> {
  const { database, logger } = options;
  const prisma = database.prisma;
  const { registry, intents, paper } = parts;
  const deliverInBackground = backgroundDelivery(options, parts);
  const warnAboutExpiringLinks = linkUpkeep(options, parts.linking);
  const orderTracker = new OrderTracker({
    prisma,
    brokerFor: registry.brokerFor,
    intents,
    logger: logger.child({ component: 'orders' }),
    settings: options.orderTracking,
    clock: options.clock,
  });

  return async function runBackgroundPass(): Promise<void> {
    await warnAboutExpiringLinks();
    for (const { intent, update } of await intents.expireDue()) await deliverInBackground(intent, update);
    for (const { intent, update } of await orderTracker.pass()) await deliverInBackground(intent, update);
    await registry.recordHealth(options.clock());
    for (const order of await paper.processRestingOrders()) {
      const known = await prisma.order.findUnique({
        where: { clientOrderId: order.clientOrderId },
        include: { intent: true },
      });
      if (known === null) continue;
      const update = await intents.applyBrokerOrder(order);
      await deliverInBackground(known.intent, update);
    }
  };
}

/**
 * Delivers an intent's update where it was asked for; one chat that cannot be reached (a deleted
 * channel, a revoked token) must not stop the pass.
 */
function backgroundDelivery(
  options: ArbionSetup,
  { conversation, channels }: BackgroundPassParts,
): (intent: BackgroundIntent, update: IntentUpdate) => Promise<void> {
  const prisma = options.database.prisma;
  const addressOf = (intent: BackgroundIntent): ChannelAddress => ({
    platform: intent.platform,
    workspaceId: intent.workspaceExternalId,
    chatId: intent.chatId,
    ...(intent.threadId ? { threadId: intent.threadId } : {}),
  });

  /** Background updates of an intent asked for in a shared chat go to its requester privately. */
  const privateRecipient = async (intent: BackgroundIntent): Promise<Sender | undefined> => {
    if (!intent.sharedChat || intent.requesterIdentityId === null) return undefined;
    const identity = await prisma.channelIdentity.findUnique({
      where: { id: intent.requesterIdentityId },
      select: { platformUserId: true, displayName: true },
    });
    return identity === null
      ? undefined
      : { platformUserId: identity.platformUserId, displayName: identity.displayName ?? undefined };
  };

  return async (intent, update) => {
    if (!channels.has(intent.platform)) return;
    try {
      await conversation.deliverUpdate(addressOf(intent), update, {
        privateTo: await privateRecipient(intent),
      });
    } catch (error) {
      options.logger.warn(
        { err: error, intentId: intent.id, platform: intent.platform },
        'could not deliver an update',
      );
    }
  };
}

/** Broker links are looked after once a minute (tokens refreshed ahead, expiries warned), not on every pass. */
function linkUpkeep(options: ArbionSetup, linking: Linking | undefined): () => Promise<void> {
  let nextExpiryCheck = 0;
  return async () => {
    const now = options.clock();
    if (linking === undefined || now.getTime() < nextExpiryCheck) return;
    nextExpiryCheck = now.getTime() + 60_000;
    try {
      const notices = [...(await linking.tokenKeeper.pass(now)), ...(await linking.expiryWarnings.due(now))];
      for (const notice of notices) await linking.services.announce(notice.origin, notice.text);
    } catch (error) {
      // Link upkeep must never hold up expiries and fills.
      options.logger.warn({ err: error }, 'could not look after broker links');
    }
  };
}
