/**
 * The channel contract: what the shared scenarios need from each platform, driven through the
 * platform's own wire protocol (a local fake server) and the real client library. One driver per
 * adapter; `channel-contract.test.ts` runs the same scenarios against every driver.
 */
import type { FastifyInstance } from 'fastify';
import type { InboundQueue } from '../../src/channels/inbound-queue.js';
import type { Platform } from '../../src/core/messages.js';
import type { Arbion } from '../../src/runtime/arbion.js';

/** The two people of every scenario, in one shared chat (group, channel or guild channel). */
export type Person = 'alice' | 'bob' | 'carol';

/** A card as the platform shows it now (after every edit). */
export interface SeenCard {
  /** The platform message id (what the adapter returned from send). */
  readonly messageId: string;
  /** Everything visible on it, flattened to text (title, fields, notice). */
  readonly text: string;
  /** The buttons it still has: our action ids (`confirm:<uuid>`, ...). Empty once answered. */
  readonly actionIds: readonly string[];
}

/** What a platform's inbound path has; scenarios that need a missing one are not generated. */
export interface DriverCapabilities {
  /** Inbound requests are authenticated by a signature or secret that can be forged. */
  readonly signedInbound: boolean;
  /** Inbound arrives over HTTP, where a malformed body can be posted. */
  readonly httpInbound: boolean;
  /** The platform redelivers (same delivery id) and can rate-limit outbound calls. */
  readonly platformProtocol: boolean;
  /** Several people share the chat (false only for the console: one person's terminal). */
  readonly multiplePeople?: boolean;
}

/** A chat platform with everything: signed HTTP inbound, redeliveries, rate limits, several people. */
export const FULL_PLATFORM: DriverCapabilities = {
  signedInbound: true,
  httpInbound: true,
  platformProtocol: true,
  multiplePeople: true,
};

export interface ContractDriver {
  readonly platform: Platform;
  /** The same as the factory's. */
  readonly capabilities: DriverCapabilities;
  /**
   * Makes the person a member of the shared chat with this role, the platform's way. Platforms
   * with workspace roles (Slack: the first member is admin, an admin grants `role <@id> trader`;
   * Discord: guild roles on the member) get exactly that role. On platforms without roles
   * (Telegram groups: only people who have started the bot in a private chat can trade), admin and
   * trader mean "linked", viewer means "never linked". Scenarios call it first for alice.
   */
  join(person: Person, role: 'admin' | 'trader' | 'viewer'): Promise<void>;
  /** Platform user id of a person (to find their Arbion user). */
  platformUserId(person: Person): string;
  /** The person writes text to the bot in the shared chat. Resolves once the bot has handled it. */
  say(person: Person, text: string): Promise<void>;
  /** The person presses the button `actionId` on card message `messageId`. Resolves once handled. */
  press(person: Person, messageId: string, actionId: string): Promise<void>;
  /** The platform delivers the last inbound delivery again, same delivery id. Resolves once handled. */
  redeliverLast(): Promise<void>;
  /** Posts a delivery carrying a wrong signature/secret; returns the HTTP status our server answered. */
  forged(): Promise<number>;
  /** Posts a syntactically broken delivery (correctly signed where signing applies); returns the status. */
  malformed(): Promise<number>;
  /** The platform answers the bot's next outbound call with 429 and retry-after 1 s. */
  rateLimitNextCall(): void;
  /** The cards the bot has shown in the chat, oldest first, as they look now. */
  cards(): SeenCard[];
  /** Every text the bot showed this person (chat messages, alerts, ephemerals), oldest first. */
  textsFor(person: Person): string[];
  /** Waits until every inbound message so far is handled and every outbound call is done. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** What a driver is built from: a running Arbion on a test database, not yet listening. */
export interface DriverContext {
  readonly arbion: Arbion;
  readonly inbound: InboundQueue;
  /** The product's web server; drivers mount their adapter's routes, the harness then listens. */
  readonly web: FastifyInstance;
  /** The web server's base URL, known only after `listen` (call inside `press`/`say`, not at build). */
  readonly webUrl: () => string;
}

export interface DriverFactory {
  readonly platform: Platform;
  readonly capabilities: DriverCapabilities;
  /** Starts the fake platform server and the adapter; mounts routes on `context.web`. */
  create(context: DriverContext): Promise<ContractDriver>;
}
