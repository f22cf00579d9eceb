/**
 * The chat channels the configuration turns on: one adapter per platform whose credentials are
 * set, each handing inbound messages to the same InboundSink.
 */
import type { ChannelAdapter, InboundSink } from '../channels/channel.js';
import { createDiscordChannel } from '../channels/discord/discord-channel.js';
import { createSlackChannel } from '../channels/slack/slack-channel.js';
import { createTelegramChannel } from '../channels/telegram/telegram-channel.js';
import type { Config } from '../core/config/config.js';
import type { Logger } from '../core/logging/logger.js';
import type { SymbolResolver } from '../core/market-data/instruments.js';

export interface ChannelDependencies {
  readonly sink: InboundSink;
  readonly logger: Logger;
  readonly symbols: SymbolResolver;
}

/** Builds (does not start) every configured channel adapter. */
export function createChannelAdapters(config: Config, deps: ChannelDependencies): ChannelAdapter[] {
  const adapters: ChannelAdapter[] = [];
  const { telegram, slack, discord } = config.channels;
  if (telegram !== undefined) {
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
