/**
 * The Discord channel under the contract: the shared chat is a guild text channel of the fake
 * Discord, people are guild members whose roles Discord reports with each interaction. Text goes
 * in as slash commands and presses as button interactions over the gateway (real discord.js);
 * forged and malformed deliveries go to the HTTP interactions endpoint. Cards and texts are read
 * from the fake's chat model, ephemerals included for the person who sees them.
 */

import type { Acceptance, AcceptOptions, InboundSink } from '../../../src/channels/channel.js';
import {
  createDiscordChannel,
  type DiscordChannel,
  INTERACTIONS_PATH,
} from '../../../src/channels/discord/index.js';
import type { Logger } from '../../../src/core/logging/logger.js';
import type { InboundMessage } from '../../../src/core/messages.js';
import { buttonIds, type FakeMessage, messageText } from '../../fakes/discord/chat-model.js';
import { FakeDiscord } from '../../fakes/discord/fake-discord.js';
import { type FakeUser, PERMISSIONS } from '../../fakes/discord/payloads.js';
import { generateInteractionKeys } from '../../fakes/discord/signing.js';
import { contractLogger } from '../contract-harness.js';
import type { ContractDriver, DriverFactory, Person, SeenCard } from '../driver.js';
import { FULL_PLATFORM } from '../driver.js';

export const DISCORD_TEST_TOKEN = 'MTAxNTk1.fake-discord.bot-token-for-tests';
export const DISCORD_TEST_APPLICATION_ID = '1015950000000000001';

/** How long a driver waits for the adapter to hand a delivery to the core before failing loudly. */
const DELIVERY_WAIT_MS = 15_000;

export function quietDiscordLogger(): Logger {
  return contractLogger([DISCORD_TEST_TOKEN]);
}

/** What a Discord client displays for escaped markdown. */
export function displayed(text: string): string {
  return text.replace(/\\([\\*_~`|>#\-+.[\]()!:<])/g, '$1');
}

/** Our cards are messages with an embed. */
function isCard(message: FakeMessage): boolean {
  return message.embeds.length > 0;
}

/**
 * Counts what the adapter hands to the core, by delivery id, so a driver knows when a dispatched
 * interaction has arrived (and can wait for it to be handled, or for its refusal).
 */
export class WatchedSink implements InboundSink {
  private readonly seen = new Map<string, Promise<void>[]>();
  /** Every message handed to the core, in order (those it refused included). */
  readonly messages: InboundMessage[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly target: InboundSink) {}

  accept(message: InboundMessage, options?: AcceptOptions): Promise<Acceptance> {
    this.messages.push(message);
    const acceptance = this.target.accept(message, options);
    // Handled once the core is done with it; a refused message is done at once (nothing to handle).
    const handled = acceptance.then(
      (accepted) => accepted.handled,
      () => undefined,
    );
    const list = this.seen.get(message.deliveryId) ?? [];
    list.push(handled);
    this.seen.set(message.deliveryId, list);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return acceptance;
  }

  /** Resolves once the `occurrence`-th delivery of `deliveryId` (1-based) has been handled. */
  async handled(deliveryId: string, occurrence = 1): Promise<void> {
    const deadline = Date.now() + DELIVERY_WAIT_MS;
    for (;;) {
      const delivered = this.seen.get(deliveryId)?.[occurrence - 1];
      if (delivered) {
        await delivered;
        return;
      }
      if (Date.now() > deadline) throw new Error(`the adapter never delivered ${deliveryId}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  count(deliveryId: string): number {
    return this.seen.get(deliveryId)?.length ?? 0;
  }
}

/** Slash commands for texts that have one; anything else is `/trade text:<text>`. */
function asCommand(text: string): { name: string; options: Record<string, string> } {
  const word = text.trim().toLowerCase();
  if (['positions', 'balance', 'orders', 'help'].includes(word)) return { name: word, options: {} };
  const quote = /^quote\s+(\S+)$/i.exec(text.trim());
  if (quote?.[1]) return { name: 'quote', options: { symbol: quote[1] } };
  return { name: 'trade', options: { text } };
}

export const discordDriver: DriverFactory = {
  platform: 'discord',
  capabilities: FULL_PLATFORM,
  async create(context) {
    const fake = await FakeDiscord.start({
      token: DISCORD_TEST_TOKEN,
      applicationId: DISCORD_TEST_APPLICATION_ID,
    });
    const keys = generateInteractionKeys();
    const owner = fake.createUser('owner');
    const guild = fake.createGuild('Arbion traders', ['trading'], owner);
    const channelId = guild.channelIds[0] as string;
    const adminRole = fake.createRole(guild, 'Admin', PERMISSIONS.ADMINISTRATOR);
    const traderRole = fake.createRole(guild, 'Trader', 0n);
    // One fake user per person, created on first mention (whoever the scenarios name).
    const users = new Map<Person, FakeUser>();
    const userOf = (person: Person): FakeUser => {
      let user = users.get(person);
      if (user === undefined) {
        user = fake.createUser(person);
        users.set(person, user);
      }
      return user;
    };

    const sink = new WatchedSink(context.inbound);
    const adapter: DiscordChannel = createDiscordChannel({
      token: DISCORD_TEST_TOKEN,
      applicationId: DISCORD_TEST_APPLICATION_ID,
      publicKey: keys.publicKeyHex,
      apiUrl: fake.apiUrl,
      traderRoleIds: [traderRole.id],
      sink,
      logger: quietDiscordLogger(),
      symbols: context.arbion.symbols,
    });
    context.arbion.channels.register('discord', adapter);
    await adapter.mount(context.web);
    await adapter.start();

    let last: Record<string, unknown> | undefined;
    const dispatch = async (payload: Record<string, unknown>): Promise<void> => {
      last = payload;
      const id = String(payload.id);
      const occurrence = sink.count(id) + 1;
      fake.dispatchInteraction(payload);
      await sink.handled(id, occurrence);
    };
    const visible = (person: Person): FakeMessage[] => {
      const user = userOf(person);
      const dm = fake.dmChannel(user);
      return [...fake.model.visibleTo(user.id, channelId), ...fake.model.visibleTo(user.id, dm.id)]
        .filter((message) => message.authorId === fake.bot.id)
        .sort((a, b) => a.createdAt - b.createdAt);
    };

    const driver: ContractDriver = {
      platform: 'discord',
      capabilities: discordDriver.capabilities,
      async join(person, role) {
        const roles = role === 'admin' ? [adminRole.id] : role === 'trader' ? [traderRole.id] : [];
        fake.setMember(guild, userOf(person), roles);
      },
      platformUserId: (person) => userOf(person).id,
      async say(person, text) {
        const command = asCommand(text);
        await dispatch(
          fake.commandInteraction(
            { user: userOf(person), guildId: guild.id, channelId },
            command.name,
            command.options,
          ),
        );
      },
      async press(person, messageId, actionId) {
        await dispatch(fake.buttonInteraction(userOf(person), messageId, actionId));
      },
      async redeliverLast() {
        if (last === undefined) throw new Error('nothing was delivered yet');
        await dispatch(last);
      },
      async forged() {
        const payload = fake.commandInteraction(
          { user: userOf('alice'), guildId: guild.id, channelId },
          'trade',
          {
            text: 'buy 1 AAPL',
          },
        );
        const answer = await fake.postInteraction(`${context.webUrl()}${INTERACTIONS_PATH}`, payload, {
          keys,
          forge: true,
        });
        return answer.status;
      },
      async malformed() {
        const answer = await fake.postInteraction(
          `${context.webUrl()}${INTERACTIONS_PATH}`,
          '{"type": 2, "id": ',
          {
            keys,
          },
        );
        return answer.status;
      },
      rateLimitNextCall() {
        fake.rateLimitNext({ retryAfter: 1 });
      },
      cards(): SeenCard[] {
        return fake.model
          .inChannel(channelId)
          .filter((message) => message.authorId === fake.bot.id && isCard(message))
          .map((message) => ({
            messageId: message.id,
            text: displayed(messageText(message)),
            actionIds: buttonIds(message),
          }));
      },
      textsFor(person) {
        return visible(person)
          .filter((message) => !isCard(message) && message.content !== '')
          .map((message) => displayed(message.content));
      },
      async settle() {
        await adapter.idle();
        await context.inbound.idle();
        await adapter.idle();
      },
      async close() {
        await adapter.stop();
        await fake.close();
      },
    };
    return driver;
  },
};
