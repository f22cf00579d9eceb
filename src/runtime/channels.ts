/**
 * The chat channels the configuration turns on: one adapter per platform whose credentials are
 * set, each handing inbound messages to the same InboundSink. Each platform's module (and its SDK:
 * grammY, Bolt, discord.js) is imported only when that platform is configured: an unused SDK
 * costs tens of megabytes of memory and start-up time.
 */
import type { ChannelAdapter, InboundSink } from '../channels/channel.js';
import type { Config } from '../core/config/config.js';
import type { Logger } from '../core/logging/logger.js';
import type { SymbolResolver } from '../core/market-data/instruments.js';

export interface ChannelDependencies {
  readonly sink: InboundSink;
  readonly logger: Logger;
  readonly symbols: SymbolResolver;
}

/** Builds (does not start) every configured channel adapter. */
export async function createChannelAdapters(
  config: Config,
  deps: ChannelDependencies,
): Promise<ChannelAdapter[]> {
  const adapters: ChannelAdapter[] = [];
  const { telegram, slack, discord } = config.channels;
  if (telegram !== undefined) {
    const { createTelegramChannel } = await import('../channels/telegram/telegram-channel.js');
    adapters.push(
      createTelegramChannel({
        token: telegram.token,
        apiRoot: telegram.apiRoot,
        // Webhooks need a public URL and the secret Telegram will send back with each update.
        webhook:
          config.web.publicUrl !== undefined && telegram.webhookSecret !== undefined
            ? { publicUrl: config.web.publicUrl, secretToken: telegram.webhookSecret }
            : undefined,
        sink: deps.sink,
        logger: deps.logger.child({ channel: 'telegram' }),
      }),
    );
  }
  if (slack !== undefined) {
    const { createSlackChannel } = await import('../channels/slack/slack-channel.js');
    adapters.push(
      createSlackChannel({
        botToken: slack.botToken,
        signingSecret: slack.signingSecret,
        appToken: slack.appToken,
        socketMode: slack.socketMode,
        apiUrl: slack.apiUrl,
        sink: deps.sink,
        logger: deps.logger.child({ channel: 'slack' }),
      }),
    );
  }
  if (discord !== undefined) {
    const { createDiscordChannel } = await import('../channels/discord/discord-channel.js');
    adapters.push(
      createDiscordChannel({
        token: discord.token,
        applicationId: discord.applicationId,
        publicKey: discord.publicKey,
        apiUrl: discord.apiUrl,
        traderRoleIds: discord.traderRoleIds,
        sink: deps.sink,
        logger: deps.logger.child({ channel: 'discord' }),
        symbols: deps.symbols,
      }),
    );
  }
  return adapters;
}
