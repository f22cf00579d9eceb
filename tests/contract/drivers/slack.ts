/**
 * The channel contract for Slack in HTTP mode: the real adapter (@slack/bolt) on the product's web
 * server, talking to the fake Slack Web API; the driver posts signed requests as Slack would.
 *
 * The shared chat is channel C0TRADING in team T1. People talk with `/arbion <text>`; presses are
 * signed block_actions posts built from the fake's model. Roles are Slack workspace roles kept by
 * the core: the first person to speak becomes admin, later ones viewers until an admin says
 * `role <@id> trader`. Cards and texts are read from the fake's model (ephemerals included).
 */

import type { InboundSink } from '../../../src/channels/channel.js';
import {
  createSlackChannel,
  SLACK_EVENTS_PATH,
  type SlackChannel,
} from '../../../src/channels/slack/slack-channel.js';
import type { Logger } from '../../../src/core/logging/logger.js';
import { blocksActionIds, blocksText } from '../../fakes/slack/block-kit.js';
import type { FakeShown } from '../../fakes/slack/chat-model.js';
import { FakeSlackServer } from '../../fakes/slack/fake-slack-server.js';
import {
  blockActionsRequest,
  postSigned,
  type SlackRequest,
  slashCommandRequest,
} from '../../fakes/slack/signed-requests.js';
import { contractLogger } from '../contract-harness.js';
import type {
  ContractDriver,
  DriverCapabilities,
  DriverContext,
  DriverFactory,
  Person,
  SeenCard,
} from '../driver.js';
import { FULL_PLATFORM } from '../driver.js';

export const SLACK_TEST_BOT_TOKEN = 'xoxb-contract-0000000001-test-token-abcdef';
export const SLACK_TEST_APP_TOKEN = 'xapp-1-A1-contract-test-token-abcdef';
export const SLACK_TEST_SIGNING_SECRET = 'contract-signing-secret-8f3a';
export const SLACK_TEAM = 'T1';
export const SLACK_CHANNEL = 'C0TRADING';
export const SLACK_BOT = { userId: 'UARBION', botId: 'BARBION' } as const;

export const SLACK_PEOPLE: Record<Person, { id: string; name: string }> = {
  alice: { id: 'UALICE', name: 'alice' },
  bob: { id: 'UBOB', name: 'bob' },
  carol: { id: 'UCAROL', name: 'carol' },
};

export function quietSlackLogger(): Logger {
  return contractLogger([SLACK_TEST_BOT_TOKEN, SLACK_TEST_APP_TOKEN, SLACK_TEST_SIGNING_SECRET]);
}

/** Our cards start with a header block; texts have no blocks. */
export function isCard(shown: FakeShown): boolean {
  return shown.blocks[0]?.type === 'header';
}

/** What Slack displays for escaped mrkdwn. */
export function displayed(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The adapter's message id for a shown card: the ts, or ours from the header block id for ephemerals. */
export function cardMessageId(shown: FakeShown): string {
  if (shown.kind === 'message') return shown.ts;
  const header = shown.blocks[0];
  return header?.block_id?.startsWith('card:') ? header.block_id.slice('card:'.length) : shown.id;
}

const CAPABILITIES: DriverCapabilities = FULL_PLATFORM;

export class SlackContractDriver implements ContractDriver {
  readonly platform = 'slack' as const;
  readonly capabilities = CAPABILITIES;
  private lastRequest: SlackRequest | undefined;

  constructor(
    readonly fake: FakeSlackServer,
    readonly adapter: SlackChannel,
    private readonly context: DriverContext,
  ) {}

  /** The product's inbound queue (a second adapter, e.g. Socket Mode, can feed it). */
  get inbound(): InboundSink {
    return this.context.inbound;
  }

  get url(): string {
    return `${this.context.webUrl()}${SLACK_EVENTS_PATH}`;
  }

  platformUserId(person: Person): string {
    return SLACK_PEOPLE[person].id;
  }

  async join(person: Person, role: 'admin' | 'trader' | 'viewer'): Promise<void> {
    // Speaking makes the person a workspace member: admin if first, viewer otherwise.
    await this.say(person, 'help');
    if (role === 'trader' && person !== 'alice') {
      await this.say('alice', `role <@${SLACK_PEOPLE[person].id}|${SLACK_PEOPLE[person].name}> trader`);
    }
  }

  async say(person: Person, text: string): Promise<void> {
    const request = slashCommandRequest(this.fake, {
      user: SLACK_PEOPLE[person].id,
      userName: SLACK_PEOPLE[person].name,
      channel: SLACK_CHANNEL,
      text,
    });
    await this.post(request);
  }

  async press(person: Person, messageId: string, actionId: string): Promise<void> {
    const user = SLACK_PEOPLE[person].id;
    let request: SlackRequest;
    if (messageId.startsWith('e:')) {
      const shown = this.fake.model.ephemerals.filter(
        (ephemeral) => !ephemeral.deleted && cardMessageId(ephemeral) === messageId,
      );
      const latest = shown.at(-1);
      if (latest === undefined) throw new Error(`no ephemeral card ${messageId}`);
      request = blockActionsRequest(this.fake, {
        user,
        channel: latest.channel,
        actionId,
        ephemeralId: latest.id,
        // A button pressed on a screen not yet refreshed still carries its block id.
        staleBlockId: `actions:${messageId}`,
      });
    } else {
      request = blockActionsRequest(this.fake, { user, channel: SLACK_CHANNEL, actionId, ts: messageId });
    }
    await this.post(request);
  }

  async redeliverLast(): Promise<void> {
    if (this.lastRequest === undefined) throw new Error('nothing was delivered yet');
    const answer = await postSigned(this.url, this.lastRequest, {
      signingSecret: SLACK_TEST_SIGNING_SECRET,
      retryNum: 1,
    });
    if (answer.status !== 200) throw new Error(`redelivery answered ${answer.status}`);
    await this.settle();
  }

  async forged(): Promise<number> {
    const request = slashCommandRequest(this.fake, {
      user: SLACK_PEOPLE.alice.id,
      channel: SLACK_CHANNEL,
      text: 'help',
    });
    const answer = await postSigned(this.url, request, {
      signingSecret: SLACK_TEST_SIGNING_SECRET,
      forge: true,
    });
    return answer.status;
  }

  async malformed(): Promise<number> {
    const answer = await postSigned(
      this.url,
      { body: '{"type":"event_callback","event":', contentType: 'application/json' },
      { signingSecret: SLACK_TEST_SIGNING_SECRET },
    );
    return answer.status;
  }

  rateLimitNextCall(): void {
    this.fake.rateLimitNextCall(1);
  }

  cards(): SeenCard[] {
    return this.fake.model
      .allIn(SLACK_CHANNEL)
      .filter(isCard)
      .map((shown) => ({
        messageId: cardMessageId(shown),
        text: displayed(blocksText(shown.blocks)),
        actionIds: blocksActionIds(shown.blocks),
      }));
  }

  textsFor(person: Person): string[] {
    return this.fake.model
      .visibleIn(SLACK_CHANNEL, SLACK_PEOPLE[person].id)
      .filter((shown) => !isCard(shown))
      .map((shown) => displayed(shown.text));
  }

  async settle(): Promise<void> {
    await this.adapter.idle();
    await this.context.inbound.idle();
  }

  async close(): Promise<void> {
    await this.adapter.stop();
    await this.fake.close();
  }

  private async post(request: SlackRequest): Promise<void> {
    this.lastRequest = request;
    const answer = await postSigned(this.url, request, { signingSecret: SLACK_TEST_SIGNING_SECRET });
    if (answer.status !== 200) throw new Error(`our server answered ${answer.status}: ${answer.text}`);
    await this.settle();
  }
}

export interface SlackDriverOptions {
  /** Wraps the product's inbound queue (tests hold deliveries back to prove the ack comes first). */
  readonly wrapSink?: (sink: InboundSink) => InboundSink;
  /** The adapter's clock (milliseconds) for request timestamps; default the wall clock. */
  readonly now?: () => number;
}

/** A driver factory; `slackDriverFactory` is the plain one. */
export function createSlackDriverFactory(options: SlackDriverOptions = {}): DriverFactory {
  return {
    platform: 'slack',
    capabilities: CAPABILITIES,
    async create(context: DriverContext): Promise<SlackContractDriver> {
      const fake = await FakeSlackServer.start({
        botToken: SLACK_TEST_BOT_TOKEN,
        appToken: SLACK_TEST_APP_TOKEN,
        teamId: SLACK_TEAM,
        botUserId: SLACK_BOT.userId,
        botId: SLACK_BOT.botId,
      });
      fake.addChannel(
        SLACK_CHANNEL,
        Object.values(SLACK_PEOPLE).map((person) => person.id),
      );
      const adapter = createSlackChannel({
        botToken: SLACK_TEST_BOT_TOKEN,
        signingSecret: SLACK_TEST_SIGNING_SECRET,
        socketMode: false,
        apiUrl: fake.apiUrl,
        sink: options.wrapSink ? options.wrapSink(context.inbound) : context.inbound,
        logger: quietSlackLogger(),
        botId: SLACK_BOT.botId,
        botUserId: SLACK_BOT.userId,
        retry: { retries: 2, maxRetryAfterSeconds: 5 },
        ...(options.now === undefined ? {} : { now: options.now }),
      });
      context.arbion.channels.register('slack', adapter);
      await adapter.mount(context.web);
      await adapter.start();
      return new SlackContractDriver(fake, adapter, context);
    },
  };
}

export const slackDriverFactory: DriverFactory = createSlackDriverFactory();
/** The name the shared contract suite imports. */
export const slackDriver: DriverFactory = slackDriverFactory;
