/**
 * What a user does on the linking site, as steps the browser tests share: open the link the bot
 * sent in chat, then link Schwab (OAuth 2.0 consent at the broker), E*TRADE (authorize at the
 * broker, read the code, type it) or Alpaca (API keys). Every linking step starts from the
 * connections page and ends on it, with the broker linked; a step that does not get there fails
 * on its `waitForURL`.
 */
import type { Page } from 'playwright-core';
import type { FakeAlpacaKey } from '../fakes/alpaca/fake-alpaca.js';
import { ALPACA_KEY, type SiteHarness } from './site-harness.js';

/** The submit button of the Alpaca keys form. */
export const ALPACA_KEYS_SUBMIT = 'form[action="/connections/alpaca/keys"] button[type=submit]';

/**
 * Says "link" in chat, opens the URL the bot answered with and presses Continue; ends on the
 * connections page. `onLinkPage` runs on the link page before Continue (screenshots, checks).
 * Returns the link URL.
 */
export async function openLink(
  site: SiteHarness,
  page: Page,
  options: { readonly user?: string; readonly onLinkPage?: (page: Page) => Promise<void> } = {},
): Promise<string> {
  const url = await site.linkUrl(options.user);
  await page.goto(url);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await options.onLinkPage?.(page);
  await page.locator('form[action="/link"] button[type=submit]').click();
  await page.waitForURL(`${site.siteUrl}/connections`);
  return url;
}

/** Connect Schwab, Allow on Schwab's consent page, back on the connections page saying "linked". */
export async function linkSchwab(site: SiteHarness, page: Page): Promise<void> {
  await page.goto(`${site.siteUrl}/connections`);
  await page.locator('form[action="/connections/schwab/connect"] button[type=submit]').click();
  await page.waitForURL(new RegExp(`^${site.schwab.baseUrl}/authorize`));
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${site.siteUrl}/connections?done=linked&p=schwab`);
}

/**
 * Connect E*TRADE: our page links to E*TRADE's authorize page, which shows a code (opened in a
 * second tab, as users do); the code is typed back into our page. `onVerifierPage` runs on our
 * code form before anything is typed. Returns the code E*TRADE showed.
 */
export async function linkEtrade(
  site: SiteHarness,
  page: Page,
  options: { readonly onVerifierPage?: (page: Page) => Promise<void> } = {},
): Promise<{ readonly code: string }> {
  await page.goto(`${site.siteUrl}/connections`);
  await page.locator('form[action="/connections/etrade/connect"] button[type=submit]').click();
  await page.waitForURL(`${site.siteUrl}/connections/etrade/connect`);
  await options.onVerifierPage?.(page);
  const authorizeUrl = await page.locator(`a[href^="${site.etrade.baseUrl}/authorize"]`).getAttribute('href');
  if (authorizeUrl === null) throw new Error('the E*TRADE code page has no link to E*TRADE');
  const brokerPage = await page.context().newPage();
  await brokerPage.goto(authorizeUrl);
  const code = ((await brokerPage.locator('#verifier').textContent()) ?? '').trim();
  await brokerPage.close();
  await page.fill('input[name="verifier"]', code);
  await page.locator('form[action="/oauth/etrade/verify"] button[type=submit]').click();
  await page.waitForURL(`${site.siteUrl}/connections?done=linked&p=etrade`);
  return { code };
}

/** Fills the Alpaca keys form (already open) without submitting it. */
export async function fillAlpacaKeys(
  page: Page,
  keys: Pick<FakeAlpacaKey, 'keyId' | 'secretKey'>,
  environment: 'paper' | 'live' = 'paper',
): Promise<void> {
  await page.selectOption('select[name="environment"]', environment);
  await page.fill('input[name="keyId"]', keys.keyId);
  await page.fill('input[name="secretKey"]', keys.secretKey);
}

/** Opens the Alpaca keys form, submits paper keys, back on the connections page saying "linked". */
export async function linkAlpaca(
  site: SiteHarness,
  page: Page,
  keys: Pick<FakeAlpacaKey, 'keyId' | 'secretKey'> = ALPACA_KEY,
): Promise<void> {
  await page.goto(`${site.siteUrl}/connections/alpaca/keys`);
  await fillAlpacaKeys(page, keys);
  await page.locator(ALPACA_KEYS_SUBMIT).click();
  await page.waitForURL(`${site.siteUrl}/connections?done=linked&p=alpaca`);
}
