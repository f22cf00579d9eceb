/**
 * The commands Telegram clients offer in the bot's menu (setMyCommands). Each maps to the core's
 * text command of the same name once the adapter strips the slash.
 */
import type { BotCommand } from 'grammy/types';

export const TELEGRAM_BOT_COMMANDS: readonly BotCommand[] = [
  { command: 'buy', description: 'Buy, e.g. /buy 10 AAPL (you confirm first)' },
  { command: 'sell', description: 'Sell, e.g. /sell 5 TSLA (you confirm first)' },
  { command: 'quote', description: 'Price of a symbol, e.g. /quote NVDA' },
  { command: 'positions', description: 'Your open positions' },
  { command: 'balance', description: 'Cash, buying power and equity' },
  { command: 'orders', description: 'Your open orders' },
  { command: 'cancel', description: 'Cancel an open order: /cancel all or /cancel <id>' },
  { command: 'link', description: 'Link a broker or another chat' },
  { command: 'help', description: 'What I can do' },
];
