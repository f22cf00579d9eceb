/**
 * The linking site as a user meets it: Arbion (real database, vault, conversation) serving the site
 * on 127.0.0.1, local fakes standing in for Schwab (OAuth 2.0 sign-in, and its Trader and Market
 * Data APIs), E*TRADE (OAuth 1.0a and its accounts, market and orders API) and Alpaca (API keys,
 * paper trading API), and a real Chromium driven by playwright-core.
 *
 * AAPL trades at $190.00 everywhere (each broker's fake and Arbion's built-in paper market), so
 * cards and fills can be checked to the cent.
 *
 * Screenshots of every page go to test-results/screenshots/ at a phone and a desktop width.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Decimal } from '../../src/core/domain/values.js';
import { projectRoot } from '../../src/core/paths.js';
import { Vault } from '../../src/core/vault/index.js';
import { linkingSitePlugin } from '../../web-linking/linking-site.js';
import { createWebServer } from '../../web-linking/server.js';
import { contractLogger } from '../contract/contract-harness.js';
import { FakeAlpaca, type FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';
import { FakeOAuth1Provider } from '../fakes/oauth1-provider/fake-oauth1-provider.js';
import { FakeOAuth2Provider } from '../fakes/oauth2-provider/fake-oauth2-provider.js';
import { FakeSchwab } from '../fakes/schwab/fake-schwab.js';
import { createHarness, type Harness } from '../support/arbion-harness.js';
import type { Backend } from '../support/databases.js';
import { serviceEnv } from '../support/service-env.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(projectRoot, 'test-results', 'screenshots');

export const SCHWAB_CLIENT = { id: 'schwab-app-key-123', secret: 'schwab-app-secret-456' };
export const ETRADE_CONSUMER = { key: 'etrade-consumer-key', secret: 'etrade-consumer-secret' };
export const ALPACA_KEY: FakeAlpacaKey = {
  keyId: 'PKBROWSER1234567890A',
  secretKey: 'browserSecret0123456789abcdefghijklmnopq',
  accountNumber: 'PA9BROWSER01',
};
/** The one account the Schwab sign-in opens (Schwab's API addresses it by `schwabApi.hashOf`). */
export const SCHWAB_ACCOUNT = { accountNumber: '31415926', cash: '250000' } as const;
/** AAPL's price at every broker and in the built-in paper market. */
export const AAPL_PRICE = '190.00';

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const;

export interface SiteHarness {
  readonly chat: Harness;
  readonly siteUrl: string;
  /** Schwab's OAuth server (the sign-in the browser goes through). */
  readonly schwab: FakeOAuth2Provider;
  /** Schwab's Trader and Market Data APIs; they accept the tokens `schwab` issued. */
  readonly schwabApi: FakeSchwab;
  readonly etrade: FakeOAuth1Provider;
  readonly alpaca: FakeAlpaca;
  readonly browser: Browser;
  /** Says "link" in the console chat as `user` and returns the URL the bot answered with. */
  linkUrl(user?: string): Promise<string>;
  /** A fresh browser context (its own cookies) and page, at a viewport. */
  newPage(viewport?: keyof typeof VIEWPORTS): Promise<Page>;
  /** Saves the page at both widths as `<name>-phone.png` and `<name>-desktop.png`. */
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function createSiteHarness(backend: Backend): Promise<SiteHarness> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (bash .ci/run does it)`,
    );
  }
  if (!existsSync(path.join(projectRoot, 'dist', 'static', 'app.css'))) {
    throw new Error(
      'dist/static/app.css is missing: run `npm run build` (npm test does) before the browser tests',
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const port = await freePort();
  const siteUrl = `http://127.0.0.1:${port}`;
  const schwab = await FakeOAuth2Provider.start({
    clients: [
      {
        clientId: SCHWAB_CLIENT.id,
        clientSecret: SCHWAB_CLIENT.secret,
        redirectUris: [`${siteUrl}/oauth/schwab/callback`],
        auth: 'basic',
        requirePkce: false,
      },
    ],
    issueIdToken: true,
    accessTokenTtlSeconds: 1800,
    refreshTokenTtlSeconds: 7 * 24 * 3600,
  });
  // Schwab's market (order times, option expiries and prices) runs on the chat's clock, like
  // Arbion's risk checks: a test that moves one moves both. The clock exists once Arbion does.
  let chatClock: { readonly now: Date } | undefined;
  const schwabApi = await FakeSchwab.start({
    oauth: schwab,
    accounts: [SCHWAB_ACCOUNT],
    now: () => chatClock?.now ?? new Date(),
  });
  const etrade = await FakeOAuth1Provider.start({
    consumerKey: ETRADE_CONSUMER.key,
    consumerSecret: ETRADE_CONSUMER.secret,
  });
  const alpaca = await FakeAlpaca.start([ALPACA_KEY]);
  schwabApi.setPrice('AAPL', AAPL_PRICE);
  etrade.setPrice('AAPL', AAPL_PRICE);
  alpaca.setPrice('AAPL', AAPL_PRICE);
  const vault = new Vault([{ id: 'browser', key: randomBytes(32) }]);
  const chat = await createHarness(backend, {
    env: {
      PUBLIC_URL: siteUrl,
      SCHWAB_CLIENT_ID: SCHWAB_CLIENT.id,
      SCHWAB_CLIENT_SECRET: SCHWAB_CLIENT.secret,
      SCHWAB_AUTH_BASE: schwab.baseUrl,
      SCHWAB_API_BASE: schwabApi.baseUrl,
      ETRADE_CONSUMER_KEY: ETRADE_CONSUMER.key,
      ETRADE_CONSUMER_SECRET: ETRADE_CONSUMER.secret,
      ETRADE_API_BASE: etrade.baseUrl,
      ETRADE_AUTHORIZE_URL: `${etrade.baseUrl}/authorize`,
      ALPACA_PAPER_API_BASE: alpaca.baseUrl,
    },
    linking: { vault, publicBaseUrl: () => siteUrl },
  });
  // Cookies and the fakes live in real time; so does Arbion here.
  chat.clock.now = new Date();
  chatClock = chat.clock;
  chat.market.override('AAPL', {
    bid: new Decimal(AAPL_PRICE).minus('0.01').toFixed(2),
    ask: new Decimal(AAPL_PRICE).plus('0.01').toFixed(2),
    last: AAPL_PRICE,
  });
  const linking = chat.arbion.linking;
  if (linking === undefined) throw new Error('linking is not wired');
  const web: FastifyInstance = await createWebServer({
    logger: contractLogger(),
    health: async () => ({
      status: 'ok',
      version: 'test',
      pid: process.pid,
      uptimeSeconds: 0,
      database: {
        ok: true,
        kind: chat.test.database.kind,
        description: 'test',
        detail: 'test',
        pendingMigrations: [],
      },
    }),
  });
  await web.register(linkingSitePlugin, { services: linking.services, secure: false });
  await web.listen({ host: '127.0.0.1', port });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // The user's browser keeps real time, whatever clock Arbion's process runs on.
    env: serviceEnv(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  return {
    chat,
    siteUrl,
    schwab,
    schwabApi,
    etrade,
    alpaca,
    browser,
    async linkUrl(user = 'alice') {
      const before = chat.channel.texts().length;
      await chat.say(user, 'link');
      const answer = chat.channel.texts().slice(before).join('\n');
      const match = /https?:\/\/\S+\/link\/[A-Za-z0-9_-]{43}/.exec(answer);
      if (match === null) throw new Error(`the bot sent no link: ${answer}`);
      return match[0];
    },
    async newPage(viewport = 'phone') {
      const context = await browser.newContext({ viewport: VIEWPORTS[viewport] });
      return context.newPage();
    },
    async screenshot(page, name) {
      const original = page.viewportSize();
      for (const [label, size] of Object.entries(VIEWPORTS)) {
        await page.setViewportSize(size);
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
      }
      if (original !== null) await page.setViewportSize(original);
    },
    async close() {
      await browser.close();
      await web.close();
      await schwabApi.close();
      await schwab.close();
      await etrade.close();
      await alpaca.close();
      await chat.destroy();
    },
  };
}
