/**
 * Every channel the contract runs on. A new adapter's driver goes here once, and every contract
 * suite (fast path and model) replays its scenarios through it.
 */
import type { DriverFactory } from './driver.js';
import { consoleDriver } from './drivers/console.js';
import { discordDriver } from './drivers/discord.js';
import { slackDriver } from './drivers/slack.js';
import { telegramDriver } from './drivers/telegram.js';

export const CHANNEL_FACTORIES: readonly DriverFactory[] = [
  consoleDriver,
  telegramDriver,
  slackDriver,
  discordDriver,
];
