/**
 * The Discord channel: `createDiscordChannel(options)` builds the adapter (gateway, slash
 * commands, optional HTTP interactions endpoint) for `arbion start` to register.
 */
export { SLASH_COMMANDS } from './commands.js';
export {
  createDiscordChannel,
  DEFAULT_DISCORD_API_URL,
  DiscordChannel,
  type DiscordChannelOptions,
} from './discord-channel.js';
export { INTERACTIONS_PATH } from './http-endpoint.js';
