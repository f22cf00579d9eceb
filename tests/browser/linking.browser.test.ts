/**
 * The linking site in a real Chromium: from the URL the bot sends in chat to "linked", for an
 * OAuth 2.0 broker (Schwab), an OAuth 1.0a broker (E*TRADE) and an API-key broker (Alpaca); and
 * the attacks and accidents the site must survive. Every page is photographed at a phone and a
 * desktop width (test-results/screenshots/).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALPACA_KEYS_SUBMIT, fillAlpacaKeys, linkEtrade, linkSchwab, openLink } from './broker-steps.js';
import { ALPACA_KEY, createSiteHarness, type SiteHarness } from './site-harness.js';

/** Every string column of every table, as text, to look for secrets stored in clear. */
async function databaseText(site: SiteHarness): Promise<string> {
  const prisma = site.chat.test.database.prisma;
  const tables = await prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
  let text = '';
  for (const { table_name: table } of tables) {
    const rows = await prisma.$queryRawUnsafe<{ row: string }[]>(
      `SELECT row_to_json(t)::text AS row FROM "${table}" t`,
    );
    // bytea columns come out hex-encoded: decode them too, so plaintext hidden in bytes is found.
    for (const { row } of rows) {
      text += row;
      for (const hex of row.matchAll(/\\\\x([0-9a-f]+)/g))
        text += Buffer.from(hex[1] ?? '', 'hex').toString('latin1');
    }
  }
  return text;
}

async function connectionStatus(site: SiteHarness, provider: 'schwab' | 'etrade' | 'alpaca') {
  return site.chat.test.database.prisma.brokerConnection.findFirst({
    where: { provider, status: { not: 'revoked' } },
  });
}

describe('linking site in Chromium', () => {
  let site: SiteHarness;
  let page: Page;
  const secrets: string[] = [];

  beforeAll(async () => {
    site = await createSiteHarness('server');
    page = await site.newPage('phone');
  });

  afterAll(async () => {
    await site?.close();
  });

  it('opens from the chat link; the page is styled by the built stylesheet and lists every broker', async () => {
    const url = await openLink(site, page, {
      onLinkPage: async (linkPage) => {
        await site.screenshot(linkPage, '01-link-continue');
        expect(await linkPage.textContent('body')).toContain('Continue');
        // The dark theme is applied: the stylesheet loaded under the strict CSP.
        const background = await linkPage.evaluate<string>('getComputedStyle(document.body).backgroundColor');
        expect(background).not.toBe('rgba(0, 0, 0, 0)');
        expect(background).not.toBe('rgb(255, 255, 255)');
      },
    });
    secrets.push(url.split('/').pop() ?? '');
    const cookies = await page.context().cookies();
    const session = cookies.find((cookie) => cookie.name === 'arbion_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    secrets.push(session?.value ?? '');
    const body = (await page.textContent('body')) ?? '';
    for (const name of ['Charles Schwab', 'E*TRADE', 'Alpaca', 'Coinbase']) expect(body).toContain(name);
    await site.screenshot(page, '02-connections-empty');
  });

  it('links Schwab through OAuth 2.0: consent at the broker, back to "linked", the chat is told', async () => {
    await linkSchwab(site, page);
    expect(await page.textContent('body')).toContain('Charles Schwab linked');
    await site.screenshot(page, '03-connections-schwab-linked');
    const row = await connectionStatus(site, 'schwab');
    expect(row).toMatchObject({ status: 'active', mode: 'paper' });
    expect(row?.refreshTokenExpiresAt).toBeInstanceOf(Date);
    expect(site.chat.channel.texts().at(-1)).toBe(
      'Charles Schwab linked, paper mode. Say "go live on schwab" to trade real money.',
    );
  });

  it('links E*TRADE through OAuth 1.0a: authorize at the broker, type the code, linked', async () => {
    const { code } = await linkEtrade(site, page, {
      onVerifierPage: (verifierPage) => site.screenshot(verifierPage, '04-etrade-verifier'),
    });
    expect(code).toMatch(/^[A-Z0-9]{5}$/);
    expect(await connectionStatus(site, 'etrade')).toMatchObject({ status: 'active' });
    expect(site.chat.channel.texts().at(-1)).toContain('E*TRADE linked, paper mode');
  });

  it('links Alpaca with API keys: tried at the broker first; a wrong key is refused and never echoed', async () => {
    await page.goto(`${site.siteUrl}/connections/alpaca/keys`);
    await site.screenshot(page, '05-alpaca-keys-form');
    await fillAlpacaKeys(page, {
      keyId: ALPACA_KEY.keyId,
      secretKey: 'wrongSecret0123456789abcdefghijklmnopqrs',
    });
    await page.locator(ALPACA_KEYS_SUBMIT).click();
    await page.waitForLoadState();
    expect(await page.textContent('body')).toContain('Alpaca did not accept these keys');
    expect(await page.content()).not.toContain('wrongSecret0123456789abcdefghijklmnopqrs');
    expect(await page.inputValue('input[name="secretKey"]')).toBe('');
    await site.screenshot(page, '06-alpaca-keys-refused');
    expect(await connectionStatus(site, 'alpaca')).toBeNull();

    await fillAlpacaKeys(page, ALPACA_KEY);
    await page.locator(ALPACA_KEYS_SUBMIT).click();
    await page.waitForURL(`${site.siteUrl}/connections?done=linked&p=alpaca`);
    expect(await page.textContent('body')).toContain('PK••••890A');
    expect(await page.content()).not.toContain(ALPACA_KEY.secretKey);
    await site.screenshot(page, '07-connections-all-linked');
    expect(await connectionStatus(site, 'alpaca')).toMatchObject({ status: 'active' });
  });

  it('stores no credential in clear: the whole database is scanned after linking', async () => {
    const text = await databaseText(site);
    const schwabTokens = site.schwab.issuedTokens();
    expect(schwabTokens.length).toBeGreaterThan(0);
    const etradeTokens = site.etrade.issuedSecrets();
    expect(etradeTokens.length).toBeGreaterThan(0);
    const everySecret = [
      ...secrets,
      ...schwabTokens,
      ...etradeTokens,
      ALPACA_KEY.secretKey,
      ALPACA_KEY.keyId,
    ];
    for (const secret of everySecret) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text.includes(secret), `found a secret in clear (${secret.slice(0, 4)}…)`).toBe(false);
    }
    // The scan itself works: things we do store in clear are found.
    expect(text).toContain('PK••••890A');
  });

  it('tests and unlinks a connection from the page', async () => {
    await page.goto(`${site.siteUrl}/connections`);
    const alpaca = await connectionStatus(site, 'alpaca');
    await page.locator(`form[action="/connections/${alpaca?.id}/test"] button[type=submit]`).click();
    await page.waitForURL(`${site.siteUrl}/connections?done=tested&p=alpaca`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator(`form[action="/connections/${alpaca?.id}/unlink"] button[type=submit]`).click();
    await page.waitForURL(`${site.siteUrl}/connections?done=unlinked&p=alpaca`);
    expect(await connectionStatus(site, 'alpaca')).toBeNull();
    expect(site.chat.channel.texts().at(-1)).toContain('Alpaca unlinked');
  });

  it('unlinking an OAuth broker revokes its tokens at the broker and erases them here', async () => {
    const etrade = await connectionStatus(site, 'etrade');
    const revocations = () =>
      site.etrade.calls.filter((call) => call.path === '/oauth/revoke_access_token' && call.status === 200);
    expect(revocations()).toHaveLength(0);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator(`form[action="/connections/${etrade?.id}/unlink"] button[type=submit]`).click();
    await page.waitForURL(`${site.siteUrl}/connections?done=unlinked&p=etrade`);
    expect(revocations()).toHaveLength(1);
    const row = await site.chat.test.database.prisma.brokerConnection.findUniqueOrThrow({
      where: { id: etrade?.id ?? '' },
    });
    expect(row).toMatchObject({ status: 'revoked', credentialCiphertext: null });
  });

  it('refuses an expired link and a reused link with a clear page', async () => {
    const fresh = await site.newPage('phone');
    const expired = await site.linkUrl();
    site.chat.clock.now = new Date(site.chat.clock.now.getTime() + 11 * 60 * 1000);
    const response = await fresh.goto(expired);
    expect(response?.status()).toBe(410);
    expect(await fresh.textContent('body')).toContain('This link has expired');
    await site.screenshot(fresh, '08-error-link-expired');
    site.chat.clock.now = new Date();

    const once = await site.linkUrl();
    await fresh.goto(once);
    await fresh.locator('form[action="/link"] button[type=submit]').click();
    await fresh.waitForURL(`${site.siteUrl}/connections`);
    const again = await site.newPage('phone');
    const second = await again.goto(once);
    expect(second?.status()).toBe(410);
    expect(await again.textContent('body')).toContain('already used');
    await fresh.context().close();
    await again.context().close();
  });

  it('refuses a tampered OAuth state: nothing is linked', async () => {
    const browserPage = await site.newPage('desktop');
    await openLink(site, browserPage);
    await site.chat.test.database.prisma.brokerConnection.updateMany({
      where: { provider: 'schwab' },
      data: { status: 'revoked' },
    });
    // The broker's redirect back to us is caught and its state altered by one character.
    await browserPage.route(`${site.schwab.baseUrl}/authorize/decision`, async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const location = new URL(response.headers().location ?? '');
      const state = location.searchParams.get('state') ?? '';
      location.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);
      await route.fulfill({ status: 302, headers: { location: location.href } });
    });
    await browserPage.locator('form[action="/connections/schwab/connect"] button[type=submit]').click();
    await browserPage.getByRole('button', { name: 'Allow' }).click();
    await browserPage.waitForLoadState();
    expect(await browserPage.textContent('body')).toContain('sign-in did not complete');
    await site.screenshot(browserPage, '09-error-oauth-state');
    expect(await connectionStatus(site, 'schwab')).toBeNull();
    await browserPage.context().close();
  });

  it('refuses a form without its CSRF token: 403, nothing changed', async () => {
    await page.goto(`${site.siteUrl}/connections/alpaca/keys`);
    await page.evaluate(
      `for (const input of document.querySelectorAll('input[name="_csrf"]')) input.remove()`,
    );
    await fillAlpacaKeys(page, ALPACA_KEY);
    const requests = site.alpaca.requests.length;
    const [response] = await Promise.all([
      page.waitForResponse(`${site.siteUrl}/connections/alpaca/keys`),
      page.locator(ALPACA_KEYS_SUBMIT).click(),
    ]);
    expect(response.status()).toBe(403);
    expect(await page.textContent('body')).toContain('This form has expired');
    await site.screenshot(page, '10-error-csrf');
    expect(site.alpaca.requests.length).toBe(requests);
    expect(await connectionStatus(site, 'alpaca')).toBeNull();
  });

  it('renders an XSS attempt in a form field as text, never as markup', async () => {
    const payload = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    await page.goto(`${site.siteUrl}/connections/alpaca/keys`);
    await fillAlpacaKeys(page, { keyId: payload, secretKey: ALPACA_KEY.secretKey });
    await page.locator(ALPACA_KEYS_SUBMIT).click();
    await page.waitForLoadState();
    expect(await page.inputValue('input[name="keyId"]')).toBe(payload);
    expect(await page.evaluate<unknown>('window.__xss')).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await site.screenshot(page, '11-keys-form-invalid');
  });

  it('signs out: the session ends and the page says so', async () => {
    await page.goto(`${site.siteUrl}/connections`);
    await page.locator('form[action="/logout"] button[type=submit]').click();
    await page.waitForLoadState();
    expect(await page.textContent('body')).toContain('Signed out');
    await site.screenshot(page, '12-signed-out');
    const response = await page.goto(`${site.siteUrl}/connections`);
    expect(response?.status()).toBe(401);
    await site.screenshot(page, '13-error-session-ended');
  });
});
