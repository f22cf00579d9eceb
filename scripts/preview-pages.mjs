#!/usr/bin/env node
/**
 * Renders every page of the linking site with sample models (long names, every status, errors,
 * empty states) through the real view and security plugins, and screenshots each at phone
 * (390x844) and desktop (1280x800) sizes into test-results/preview/. Error pages go through the
 * real error handling (a thrown error, a POST without CSRF token, a rate limit, a 404).
 *
 * Needs a build (`npm run build`) for the compiled plugins; builds the CSS itself. Chromium is
 * /usr/bin/chromium unless CHROMIUM_PATH says otherwise. Prints any console error or CSP violation.
 *
 *   node scripts/preview-pages.mjs [name-filter]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = (file) => path.join(root, 'dist', 'web-linking', 'plugins', file);
if (!existsSync(compiled('views.js')) || !existsSync(compiled('security.js'))) {
  console.error('Build first: npm run build (the preview uses dist/web-linking/plugins).');
  process.exit(1);
}
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-web.mjs')], {
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

const { viewsPlugin, renderPage } = await import(pathToFileURL(compiled('views.js')).href);
const { securityPlugin, csrfTokenFor } = await import(pathToFileURL(compiled('security.js')).href);

const outDirectory = path.join(root, 'test-results', 'preview');
mkdirSync(outDirectory, { recursive: true });
const filter = process.argv[2];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (offsetMs) => new Date(Date.now() + offsetMs).toISOString();

const viewer = { displayName: 'Alice', platform: 'telegram', sessionExpiresAt: at(27 * MINUTE) };
const longViewer = {
  displayName: 'Maximiliana Alexandra Featherstonehaugh-Worthington',
  platform: 'discord',
  sessionExpiresAt: at(3 * MINUTE),
};

const providers = {
  schwab: {
    id: 'schwab',
    name: 'Charles Schwab',
    description: 'Stocks, ETFs and options through your Schwab brokerage account.',
    method: 'oauth2',
    available: true,
  },
  etrade: {
    id: 'etrade',
    name: 'E*TRADE',
    description: 'Stocks, ETFs and options through E*TRADE from Morgan Stanley.',
    method: 'oauth1',
    available: true,
  },
  alpaca: {
    id: 'alpaca',
    name: 'Alpaca',
    description: 'Commission-free US stocks and crypto, with a free paper trading account.',
    method: 'keys',
    available: true,
  },
  coinbase: {
    id: 'coinbase',
    name: 'Coinbase',
    description: 'Crypto spot trading on Coinbase Advanced.',
    method: 'oauth2',
    available: true,
  },
  cdp_wallet: {
    id: 'cdp_wallet',
    name: 'Coinbase Developer Platform wallet',
    description: 'A server wallet for on-chain trades, controlled with a CDP API key.',
    method: 'keys',
    available: false,
    unavailableReason: 'Not set up on this server',
  },
};

const connection = (overrides) => ({
  id: crypto.randomUUID(),
  status: 'active',
  mode: 'paper',
  health: 'healthy',
  lastHealthCheckAt: at(-4 * MINUTE),
  createdAt: at(-12 * DAY),
  ...overrides,
});

const models = {
  'connections-linked': {
    page: 'connections',
    model: (csrfToken) => ({
      viewer,
      csrfToken,
      flash: { kind: 'success', text: 'Alpaca is connected. A test order check passed.' },
      providers: [
        {
          ...providers.schwab,
          connection: connection({
            mode: 'live',
            label: 'Individual ••4821',
            accessTokenExpiresAt: at(25 * MINUTE),
            refreshTokenExpiresAt: at(6 * DAY),
          }),
        },
        {
          ...providers.etrade,
          connection: connection({
            status: 'needs_reauth',
            health: 'degraded',
            healthDetail: 'E*TRADE tokens expire at midnight US Eastern time.',
            label: 'Brokerage ••0917',
            accessTokenExpiresAt: at(-2 * HOUR),
            refreshTokenExpiresAt: at(20 * HOUR),
            lastHealthCheckAt: at(-3 * HOUR),
          }),
        },
        {
          ...providers.alpaca,
          connection: connection({ maskedCredential: 'PK••••••3F9A', createdAt: at(-2 * MINUTE) }),
        },
        {
          ...providers.coinbase,
          connection: connection({
            status: 'error',
            health: 'down',
            mode: 'live',
            lastError:
              'Coinbase refused the request: the token was revoked from the Coinbase account settings.',
            lastHealthCheckAt: at(-40 * MINUTE),
          }),
        },
        providers.cdp_wallet,
      ],
    }),
  },
  'connections-statuses': {
    page: 'connections',
    model: (csrfToken) => ({
      viewer: longViewer,
      csrfToken,
      flash: {
        kind: 'error',
        text: 'Testing Charles Schwab failed: the broker did not answer within 10 seconds. Nothing was changed; try again in a minute.',
      },
      providers: [
        {
          ...providers.schwab,
          connection: connection({ status: 'pending', health: 'unknown', lastHealthCheckAt: undefined }),
        },
        { ...providers.etrade, connection: connection({ status: 'revoked', health: 'unknown' }) },
        {
          ...providers.alpaca,
          connection: connection({
            mode: 'live',
            health: 'unknown',
            lastHealthCheckAt: undefined,
            label: 'Margin account for the long-term family portfolio with a very long nickname',
            maskedCredential: 'AKZ4••••••••••••Q7XW',
          }),
        },
        {
          ...providers.coinbase,
          connection: connection({
            status: 'needs_reauth',
            health: 'down',
            refreshTokenExpiresAt: at(-1 * DAY),
            accessTokenExpiresAt: at(-1 * DAY),
            lastError: 'The Coinbase sign-in expired.',
          }),
        },
        {
          ...providers.cdp_wallet,
          available: true,
          unavailableReason: undefined,
          connection: connection({ maskedCredential: 'organizations/…/apiKeys/••••9c2e', health: 'healthy' }),
        },
      ],
    }),
  },
  'connections-new': {
    page: 'connections',
    model: (csrfToken) => ({
      viewer,
      csrfToken,
      flash: { kind: 'info', text: 'Coinbase was unlinked and its stored credentials were deleted.' },
      providers: Object.values(providers),
    }),
  },
  'connections-empty': {
    page: 'connections',
    model: (csrfToken) => ({ viewer: { ...viewer, platform: 'slack' }, csrfToken, providers: [] }),
  },
  'link-continue': {
    page: 'link-continue',
    model: (csrfToken) => ({
      csrfToken,
      token: 'q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9Z0x1C',
      viewer: { displayName: 'Alice', platform: 'telegram' },
      expiresAt: at(9 * MINUTE),
    }),
  },
  'link-continue-expired': {
    page: 'link-continue',
    model: (csrfToken) => ({
      csrfToken,
      token: 'expired-token',
      viewer: { displayName: longViewer.displayName, platform: 'slack' },
      expiresAt: at(-5 * MINUTE),
    }),
  },
  'keys-form': {
    page: 'keys-form',
    model: (csrfToken) => ({
      viewer,
      csrfToken,
      provider: { id: 'alpaca', name: 'Alpaca' },
      action: '/connections/alpaca/keys',
      fields: [
        {
          name: 'environment',
          label: 'Account',
          kind: 'select',
          options: [
            { value: 'paper', label: 'Paper trading (simulated money)' },
            { value: 'live', label: 'Live trading (real money)' },
          ],
          value: 'paper',
        },
        {
          name: 'keyId',
          label: 'API key ID',
          kind: 'text',
          placeholder: 'PK…',
          help: 'Starts with PK for paper accounts, AK for live.',
        },
        {
          name: 'secretKey',
          label: 'Secret key',
          kind: 'secret',
          help: 'Shown once by Alpaca when you create the key.',
        },
      ],
    }),
  },
  'keys-form-errors': {
    page: 'keys-form',
    model: (csrfToken) => ({
      viewer,
      csrfToken,
      provider: { id: 'cdp_wallet', name: 'Coinbase Developer Platform wallet' },
      rotateConnectionId: crypto.randomUUID(),
      action: '/connections/cdp_wallet/keys',
      formError:
        'Coinbase rejected these keys: the API key was not found. Nothing was changed; your old keys still work.',
      fields: [
        {
          name: 'keyName',
          label: 'API key name',
          kind: 'text',
          value: 'organizations/3f1c…/apiKeys/9c2e…',
          error: 'Use the full key name, starting with organizations/.',
        },
        {
          name: 'privateKey',
          label: 'Private key',
          kind: 'multiline-secret',
          placeholder: '-----BEGIN EC PRIVATE KEY-----',
          help: 'The whole PEM block from the key file you downloaded, including the BEGIN and END lines.',
          error: 'This does not look like a PEM private key.',
        },
        {
          name: 'walletSecret',
          label: 'Wallet secret',
          kind: 'secret',
          help: 'From Wallet API settings in the CDP portal.',
        },
      ],
    }),
  },
  'oauth1-verifier': {
    page: 'oauth1-verifier',
    model: (csrfToken) => ({
      viewer,
      csrfToken,
      provider: { id: 'etrade', name: 'E*TRADE' },
      authorizeUrl: 'https://us.etrade.com/e/t/etws/authorize?key=abc&token=def',
      state: 'st_123',
      action: '/connections/etrade/verify',
    }),
  },
  'oauth1-verifier-error': {
    page: 'oauth1-verifier',
    model: (csrfToken) => ({
      viewer,
      csrfToken,
      provider: { id: 'etrade', name: 'E*TRADE' },
      authorizeUrl: 'https://us.etrade.com/e/t/etws/authorize?key=abc&token=def',
      state: 'st_123',
      action: '/connections/etrade/verify',
      error:
        'E*TRADE did not accept that code. Codes work once and for 5 minutes; open E*TRADE again for a new one.',
    }),
  },
  'notice-signed-out': {
    page: 'notice',
    model: () => ({
      title: 'You are signed out',
      message: 'Your broker connections stay linked. Close this tab when you are done.',
      tone: 'success',
    }),
  },
  'notice-info': {
    page: 'notice',
    model: (csrfToken) => ({
      viewer,
      csrfToken,
      title: 'Almost there',
      message:
        'Charles Schwab is still confirming the sign-in. This usually takes a few seconds; check your connections again shortly.',
      tone: 'info',
    }),
  },
};

const app = Fastify({ logger: false, genReqId: () => crypto.randomUUID() });
await app.register(viewsPlugin);
await app.register(securityPlugin, { secure: false, formActionOrigins: ['https://api.schwabapi.com'] });
app.get('/preview/:name', async (request, reply) => {
  const entry = models[request.params.name];
  if (!entry) return reply.callNotFound();
  return renderPage(reply, entry.page, entry.model(csrfTokenFor(reply)));
});
app.get('/boom', async () => {
  throw new Error('database password SECRET123 leaked into a message');
});
app.post('/form', async () => 'changed');
app.get('/limited', { config: { rateLimit: { max: 1, timeWindow: '1 minute' } } }, async () => 'ok');
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address();
const base = `http://127.0.0.1:${port}`;

/** Each shot: a name and how to reach the page in a fresh browser page. */
const shots = [
  ...Object.keys(models).map((name) => ({ name, open: (page) => page.goto(`${base}/preview/${name}`) })),
  { name: 'error-404', open: (page) => page.goto(`${base}/no/such/page`) },
  { name: 'error-500', open: (page) => page.goto(`${base}/boom`) },
  {
    name: 'error-403-csrf',
    open: (page) =>
      page
        .setContent(`<form method="post" action="${base}/form"><button>go</button></form>`)
        .then(() => Promise.all([page.waitForNavigation(), page.click('button')])),
  },
  {
    name: 'error-429',
    open: async (page) => {
      await page.goto(`${base}/limited`);
      await page.goto(`${base}/limited`);
    },
  },
].filter((shot) => !filter || shot.name.includes(filter));

const userDataDir = mkdtempSync(path.join(tmpdir(), 'arbion-preview-'));
// A fresh profile each run; Playwright passes it to Chromium as --user-data-dir.
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
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

const viewports = [
  { suffix: 'phone', width: 390, height: 844 },
  { suffix: 'desktop', width: 1280, height: 800 },
];
const problems = [];
try {
  for (const viewport of viewports) {
    for (const shot of shots) {
      await browser.clearCookies();
      const page = await browser.newPage();
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        // An error page's own document answers 4xx/5xx on purpose; its CSS and JS must still load.
        const expected =
          shot.name.startsWith('error-') &&
          message.text().startsWith('Failed to load resource') &&
          !message.location().url.includes('/static/');
        if (!expected) problems.push(`${shot.name} (${viewport.suffix}): ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`${shot.name} (${viewport.suffix}): ${error.message}`));
      await shot.open(page);
      await page.waitForLoadState('networkidle');
      const file = path.join(outDirectory, `${shot.name}-${viewport.suffix}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(path.relative(root, file));
      await page.close();
    }
  }
} finally {
  await browser.close();
  await app.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`\n${problems.length} browser problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
