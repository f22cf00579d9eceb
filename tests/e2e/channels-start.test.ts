/**
 * `arbion start` with every chat channel configured, pointed at the local fake platforms: the
 * built binary says which channels it started, trades over Telegram long polling end to end, and
 * stops cleanly. A channel whose platform refuses its token is reported; the others keep running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../fakes/discord/fake-discord.js';
import { FakeSlackServer } from '../fakes/slack/fake-slack-server.js';
import type { FakeUser } from '../fakes/telegram/chat-model.js';
import { FakeTelegramServer } from '../fakes/telegram/fake-telegram-server.js';
import { startArbion } from '../support/cli.js';

const TELEGRAM_TOKEN = '7000009:AAHe2e-token_0123456789abcdefghijklm';
const SLACK_TOKEN = 'xoxb-e2e-0000000009-token-abcdef';
const DISCORD_TOKEN = 'e2e.discord.token-abcdefghijklmnopqrstuvwxyz';
const DISCORD_APP = '123456789012345678';
const TRADER: FakeUser = { id: 4242, is_bot: false, first_name: 'Dana', username: 'dana_trades' };

/** `arbion start` without the console, logging JSON (the log is what these tests read). */
function startQuietArbion(cwd: string, env: Record<string, string>) {
  const arbion = startArbion(cwd, { ARBION_CONSOLE: 'off', PORT: '0', LOG_FORMAT: 'json', ...env });
  return {
    output: () => arbion.stdout() + arbion.stderr(),
    waitFor: (pattern: RegExp) => arbion.waitFor(pattern, 'both'),
    stop: () => arbion.stop(),
  };
}

describe('arbion start with chat channels', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-channels-'));
  let telegram: FakeTelegramServer;
  let slack: FakeSlackServer;
  let discord: FakeDiscord;

  beforeAll(async () => {
    telegram = await FakeTelegramServer.start({ token: TELEGRAM_TOKEN });
    slack = await FakeSlackServer.start({
      botToken: SLACK_TOKEN,
      teamId: 'T9',
      botUserId: 'UBOT',
      botId: 'BBOT',
    });
    discord = await FakeDiscord.start({ token: DISCORD_TOKEN, applicationId: DISCORD_APP });
  });
  afterAll(async () => {
    await Promise.all([telegram?.close(), slack?.close(), discord?.close()]);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('starts every configured channel, says which, and trades over Telegram', async () => {
    const arbion = startQuietArbion(cwd, {
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_SIGNING_SECRET: 'e2e-signing-secret',
      SLACK_API_URL: slack.apiUrl,
      DISCORD_BOT_TOKEN: DISCORD_TOKEN,
      DISCORD_APPLICATION_ID: DISCORD_APP,
      DISCORD_API_URL: discord.apiUrl,
    });
    try {
      await arbion.waitFor(/Arbion is running at/);
      const running = /channels: ([^"]*)"/.exec(arbion.output())?.[1] ?? '';
      expect(running).toContain('telegram (long polling)');
      expect(running).toContain('slack (HTTP events at /slack/events)');
      expect(running).toContain('discord (gateway)');
      // Each platform saw its registration call, with our token.
      expect(telegram.callsTo('setMyCommands')).toHaveLength(1);
      expect(discord.calls.some((call) => call.route.startsWith('PUT /applications'))).toBe(true);

      telegram.enqueueUpdate(
        telegram.textUpdate({
          from: TRADER,
          chat: { id: TRADER.id, type: 'private', first_name: TRADER.first_name },
          text: 'buy 0.01 btc',
        }),
      );
      const deadline = Date.now() + 30_000;
      while (!telegram.callsTo('sendMessage').some((call) => call.params.reply_markup !== undefined)) {
        if (Date.now() > deadline) throw new Error(`no card arrived\n${arbion.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const card = telegram.callsTo('sendMessage').find((call) => call.params.reply_markup !== undefined);
      expect(String(card?.params.text)).toMatch(/BUY 0\.01 BTC/);
      expect(JSON.stringify(card?.params.reply_markup)).toMatch(/confirm:[0-9a-f-]{36}/);
    } finally {
      expect(await arbion.stop(), arbion.output()).toBe(0);
    }
    expect(arbion.output()).not.toContain(TELEGRAM_TOKEN);
    expect(arbion.output()).not.toContain(SLACK_TOKEN);
    expect(arbion.output()).not.toContain(DISCORD_TOKEN);
  });

  it('reports a channel whose token the platform refuses, and runs the others', async () => {
    const arbion = startQuietArbion(cwd, {
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      DISCORD_BOT_TOKEN: 'a.revoked.token-0000000000000000000000000000',
      DISCORD_APPLICATION_ID: DISCORD_APP,
      DISCORD_API_URL: discord.apiUrl,
    });
    try {
      await arbion.waitFor(/Arbion is running at/);
      expect(arbion.output()).toMatch(/the discord channel did not start/);
      expect(arbion.output()).toMatch(/"channelsFailed":\["discord"\]/);
      expect(/channels: ([^"]*)"/.exec(arbion.output())?.[1]).toBe('telegram (long polling)');
    } finally {
      expect(await arbion.stop(), arbion.output()).toBe(0);
    }
  });
});
