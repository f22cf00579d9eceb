/**
 * `createArbion`'s background pass: link upkeep, card expiries, linked brokers' orders, broker
 * health and resting paper orders, each outcome told to the user in the chat it belongs to.
 */
import type { PaperBroker } from '../brokers/paper/paper-broker.js';
import type { BrokerRegistry } from '../brokers/registry.js';
import { CancelCardExpiry } from '../core/conversation/cancel-expiry.js';
import type { Conversation } from '../core/conversation/conversation.js';
import type { Platform } from '../core/db/generated/enums.js';
import type { IntentService, IntentUpdate } from '../core/intents/intent-service.js';
import { OrderTracker } from '../core/intents/order-tracker.js';
import type { ChannelAddress, Sender } from '../core/messages.js';
import type { NoticeStore } from '../core/notices/notice-store.js';
import type { ArbionSetup, ChannelRegistry } from './arbion.js';
import type { Linking } from './linking.js';
import { noticeDelivery } from './notice-delivery.js';

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
  readonly notices: NoticeStore;
  readonly linking: Linking | undefined;
  readonly registry: BrokerRegistry;
  readonly intents: IntentService;
  readonly paper: PaperBroker;
  readonly conversation: Conversation;
  readonly channels: ChannelRegistry;
}

/**
 * One pass of the background work: expire cards (order cards and cancel cards), follow orders,
 * fill resting paper orders, tell the users.
 */
export function createBackgroundPass(
  options: ArbionSetup,
  parts: BackgroundPassParts,
): (live: readonly string[]) => Promise<void> {
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

  const cancelCards = new CancelCardExpiry({
    prisma,
    channelFor: (platform) => parts.channels.get(platform),
    logger: logger.child({ component: 'cancel-cards' }),
    clock: options.clock,
  });

  const recover = recovery(options, parts, deliverInBackground);
  const deliverNotices = noticeDelivery(options, parts);

  return async function runBackgroundPass(live: readonly string[]): Promise<void> {
    await warnAboutExpiringLinks();
    await recover(live);
    await deliverNotices(live);
    for (const { intent, update } of await intents.expireDue()) await deliverInBackground(intent, update);
    await cancelCards.pass(parts.channels.platforms());
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

/** How long a move may wait to be told before the pass tells it (the process that moved it may be gone). */
const UNTOLD_GRACE_MS = 15_000;
/** Unanswered placements younger than this are sent again after a crash; older ones are closed as not placed. */
const RESEND_WITHIN_MS = 2 * 60_000;
/** How long a placement may stay unanswered before the pass takes it over (an attempt may still run). */
const UNANSWERED_AFTER_MS = 60_000;
/** Waits between attempts to tell a user, by attempts so far (then the last, until MAX_TELL_ATTEMPTS). */
const TELL_BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000];
const MAX_TELL_ATTEMPTS = 12;

/**
 * What a crash left behind, finished: placements claimed and never answered are resumed
 * (core/intents/outcome-recovery.ts), then moves not yet told are told. Work of a process that
 * died (`live` leaves it out) is taken at once; a live process's work only once it has waited
 * long enough that its own attempt failed (that process may be on it right now).
 */
function recovery(
  options: ArbionSetup,
  { intents }: BackgroundPassParts,
  deliver: BackgroundDelivery,
): (live: readonly string[]) => Promise<void> {
  return async (live) => {
    const now = options.clock();
    const resumed = await intents.resumePlacements({
      live,
      before: new Date(now.getTime() - UNANSWERED_AFTER_MS),
      resendWithinMs: RESEND_WITHIN_MS,
    });
    for (const result of resumed) if (result.kind === 'updated') await deliver(result.intent, result.update);
    for (const intent of await intents.untold({ live, before: new Date(now.getTime() - UNTOLD_GRACE_MS) })) {
      const update = await intents.retell(intent);
      if (update === undefined) continue;
      const delivered = await deliver(intent, update);
      if (delivered === 'delivered') continue;
      const attempts = intent.tellAttempts + 1;
      if (delivered === 'refused' || attempts >= MAX_TELL_ATTEMPTS) {
        options.logger.warn({ intentId: intent.id, attempts }, 'gave up telling a user about an order');
        await intents.tellFailed(intent.id, {
          failure: delivered === 'refused' ? 'the chat refused the message' : 'too many failed attempts',
        });
      } else {
        const wait = TELL_BACKOFF_MS[Math.min(attempts - 1, TELL_BACKOFF_MS.length - 1)] ?? 60_000;
        await intents.tellFailed(intent.id, { retryAt: new Date(now.getTime() + wait) });
      }
    }
  };
}

/** Whether an update reached its chat; `refused`: the platform refuses for good (blocked, deleted). */
type DeliveryResult = 'delivered' | 'failed' | 'refused' | 'no channel';
type BackgroundDelivery = (intent: BackgroundIntent, update: IntentUpdate) => Promise<DeliveryResult>;

/**
 * Delivers an intent's update where it was asked for; one chat that cannot be reached (a deleted
 * channel, a revoked token) must not stop the pass. A failed delivery stays in the intent's
 * outbox (`tellPending`), and `recovery` tries again with backoff.
 */
function backgroundDelivery(
  options: ArbionSetup,
  { conversation, channels }: BackgroundPassParts,
): BackgroundDelivery {
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
    if (!channels.has(intent.platform)) return 'no channel';
    try {
      await conversation.deliverUpdate(addressOf(intent), update, {
        privateTo: await privateRecipient(intent),
      });
      return 'delivered';
    } catch (error) {
      options.logger.warn(
        { err: error, intentId: intent.id, platform: intent.platform },
        'could not deliver an update',
      );
      return channels.get(intent.platform).refusesForGood?.(error) === true ? 'refused' : 'failed';
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
