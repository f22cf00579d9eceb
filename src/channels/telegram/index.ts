/** The Telegram channel adapter: `createTelegramChannel(options)`. */
export {
  createTelegramChannel,
  DEFAULT_TELEGRAM_API_ROOT,
  TelegramChannel,
  type TelegramChannelOptions,
} from './telegram-channel.js';
export { TELEGRAM_WEBHOOK_PATH } from './webhook-route.js';
