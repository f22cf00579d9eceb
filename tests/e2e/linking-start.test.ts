/**
 * The linking site in the built product: `arbion start` answers "link" in a Telegram private chat
 * with a one-time URL whose page it serves (under a strict CSP) without using the link up, and
 * generates the development vault key file (0600). `arbion web` serves the same site alone.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUser } from '../fakes/telegram/chat-model.js';
import { FakeTelegramServer } from '../fakes/telegram/fake-telegram-server.js';
import { startArbion } from '../support/cli.js';

const TELEGRAM_TOKEN = '7000010:AAHe2e-link_0123456789abcdefghijklmn';
const TRADER: FakeUser = { id: 5151, is_bot: false, first_name: 'Lin', username: 'lin_links' };

// Each test starts and stops the built product on the embedded database: slow on a busy machine.
describe('the linking site served by the arbion command', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'arbion-linking-'));
  let telegram: FakeTelegramServer;

  beforeAll(async () => {
    telegram = await FakeTelegramServer.start({ token: TELEGRAM_TOKEN });
  });
  afterAll(async () => {
    await telegram?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('arbion start: "link" in Telegram gives a URL whose page is served and still usable', async () => {
    const arbion = startArbion(cwd, {
      ARBION_CONSOLE: 'off',
      PORT: '0',
      LOG_FORMAT: 'json',
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_API_ROOT: telegram.apiRoot,
    });
    try {
      await arbion.waitFor(/Arbion is running at/);
      expect(arbion.stdout()).toContain('generated a vault key file');
      expect(statSync(path.join(cwd, 'data', 'vault.key')).mode & 0o777).toBe(0o600);

      telegram.enqueueUpdate(
        telegram.textUpdate({
          from: TRADER,
          chat: { id: TRADER.id, type: 'private', first_name: TRADER.first_name },
          text: 'link',
        }),
      );
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (url === undefined) {
        if (Date.now() > deadline) throw new Error(`no link arrived\n${arbion.stdout()}`);
        const text = telegram
          .callsTo('sendMessage')
          .map((call) => String(call.params.text))
          .join('\n');
        url = /http:\/\/127\.0\.0\.1:\d+\/link\/[A-Za-z0-9_-]{43}/.exec(text)?.[0];
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let view = 0; view < 2; view++) {
        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(page.headers.get('referrer-policy')).toBe('no-referrer');
        expect(await page.text()).toContain('Continue');
      }
      const base = new URL(url).origin;
      const health = await fetch(`${base}/healthz`);
      expect(health.headers.get('content-type')).toMatch(/^application\/json/);
      const stylesheet = await fetch(`${base}/static/app.css`);
      expect(stylesheet.status).toBe(200);
      expect(stylesheet.headers.get('content-type')).toMatch(/^text\/css/);
      // The token never reaches the log.
      expect(arbion.stdout()).not.toContain(url.split('/').pop());
    } finally {
      expect(await arbion.stop()).toBe(0);
    }
  }, 150_000);

  it('arbion web: serves the site and health alone, reusing the generated key', async () => {
    const keyBefore = statSync(path.join(cwd, 'data', 'vault.key')).mtimeMs;
    const arbion = startArbion(cwd, { PORT: '0', LOG_FORMAT: 'json' }, 'web');
    try {
      await arbion.waitFor(/Arbion is running at/);
      const base = /Arbion is running at (http:\/\/[^;\s"]+)/.exec(arbion.stdout())?.[1] ?? '';
      const home = await fetch(`${base}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('Link your brokers');
      const unknown = await fetch(`${base}/link/${'A'.repeat(43)}`);
      expect(unknown.status).toBe(404);
      expect(await unknown.text()).toContain('This link is not valid');
      expect(statSync(path.join(cwd, 'data', 'vault.key')).mtimeMs).toBe(keyBefore);
    } finally {
      expect(await arbion.stop()).toBe(0);
    }
  }, 150_000);
});
