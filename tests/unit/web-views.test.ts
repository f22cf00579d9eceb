import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createViewHelpers,
  icon,
  type PageModels,
  type PageName,
  renderPageToString,
  viewsDirectory,
  viewsPlugin,
} from '../../web-linking/plugins/views.js';
import type { ConnectionView, ProviderView } from '../../web-linking/views/models.js';

const NOW = new Date('2026-03-03T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const XSS = '<img src=x onerror=alert(1)>';
const ATTRIBUTE_XSS = '" autofocus onfocus="alert(1)';
const CSRF = 'csrf-token-123';

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ logger: false });
  await app.register(viewsPlugin);
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

function render<P extends PageName>(page: P, model: PageModels[P]): Promise<string> {
  return renderPageToString(app, page, model, NOW);
}

const viewer = { displayName: 'Alice', platform: 'telegram' as const, sessionExpiresAt: at(27 * MINUTE) };

function provider(overrides: Partial<ProviderView> & Pick<ProviderView, 'id' | 'method'>): ProviderView {
  return { name: overrides.id, description: 'A broker.', available: true, ...overrides };
}

function connection(overrides: Partial<ConnectionView> = {}): ConnectionView {
  return {
    id: 'c0ffee00-0000-4000-8000-000000000001',
    status: 'active',
    mode: 'paper',
    health: 'healthy',
    lastHealthCheckAt: at(-5 * MINUTE),
    createdAt: at(-10 * DAY),
    ...overrides,
  };
}

/** Every free-text string a user, a broker or a chat platform could influence, set to `payload`. */
function hostileModels(payload: string): { [P in PageName]: PageModels[P] } {
  const hostileViewer = { ...viewer, displayName: payload };
  const hostileConnection = connection({
    id: payload,
    label: payload,
    maskedCredential: payload,
    healthDetail: payload,
    lastError: payload,
    health: 'degraded',
    refreshTokenExpiresAt: at(HOUR),
  });
  return {
    connections: {
      viewer: hostileViewer,
      csrfToken: payload,
      flash: { kind: 'error', text: payload },
      providers: [
        provider({
          id: 'schwab',
          method: 'oauth2',
          name: payload,
          description: payload,
          connection: hostileConnection,
        }),
        provider({
          id: 'alpaca',
          method: 'keys',
          name: payload,
          description: payload,
          connection: hostileConnection,
        }),
        provider({ id: 'coinbase', method: 'oauth2', name: payload, description: payload }),
        provider({
          id: 'cdp_wallet',
          method: 'keys',
          name: payload,
          description: payload,
          available: false,
          unavailableReason: payload,
        }),
      ],
    },
    'link-continue': {
      csrfToken: payload,
      token: payload,
      viewer: { displayName: payload, platform: 'slack' },
      expiresAt: at(10 * MINUTE),
    },
    'keys-form': {
      viewer: hostileViewer,
      csrfToken: payload,
      provider: { id: payload, name: payload },
      rotateConnectionId: payload,
      formError: payload,
      action: payload,
      fields: [
        {
          name: payload,
          label: payload,
          kind: 'text',
          placeholder: payload,
          help: payload,
          value: payload,
          error: payload,
        },
        {
          name: 'env',
          label: payload,
          kind: 'select',
          options: [{ value: payload, label: payload }],
          value: payload,
        },
        {
          name: 'secret',
          label: payload,
          kind: 'secret',
          placeholder: payload,
          help: payload,
          error: payload,
        },
        { name: 'pem', label: payload, kind: 'multiline-secret', placeholder: payload },
      ],
    },
    'oauth1-verifier': {
      viewer: hostileViewer,
      csrfToken: payload,
      provider: { id: payload, name: payload },
      authorizeUrl: `https://us.etrade.com/authorize?token=${payload}`,
      state: payload,
      action: payload,
      error: payload,
    },
    error: { status: 400, title: payload, message: payload, hint: payload, reference: payload },
    notice: { viewer: hostileViewer, csrfToken: payload, title: payload, message: payload, tone: 'info' },
  };
}

const PAGES: PageName[] = ['connections', 'link-continue', 'keys-form', 'oauth1-verifier', 'error', 'notice'];

describe('linking site templates', () => {
  it.each(PAGES)('%s escapes an HTML payload in every user-controlled string', async (page) => {
    const html = await render(page, hostileModels(XSS)[page]);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('onerror=alert(1)>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it.each(PAGES)('%s cannot be broken out of an attribute with a quote', async (page) => {
    const html = await render(page, hostileModels(ATTRIBUTE_XSS)[page]);
    expect(html).not.toContain('onfocus="alert(1)');
    expect(html).toContain('&quot; autofocus onfocus=&quot;alert(1)');
  });

  it('writes raw HTML only for partials, the layout body and icons', () => {
    const files = ['', 'partials'].flatMap((folder) =>
      readdirSync(path.join(viewsDirectory, folder))
        .filter((name) => name.endsWith('.eta'))
        .map((name) => path.join(viewsDirectory, folder, name)),
    );
    expect(files.length).toBeGreaterThanOrEqual(7);
    const raw: string[] = [];
    for (const file of files) {
      for (const match of readFileSync(file, 'utf8').matchAll(/<%~\s*([^%]*)%>/g))
        raw.push(match[1]?.trim() ?? '');
    }
    expect(raw.length).toBeGreaterThan(10);
    for (const expression of raw) {
      expect(expression).toMatch(/^(include\('\.\/[a-z/-]+'(, \{[^}]*\})?\)|it\.body|it\.h\.icon\(.*\))$/);
    }
  });

  it('never writes a secret field value back into the form', async () => {
    const html = await render('keys-form', {
      viewer,
      csrfToken: CSRF,
      provider: { id: 'alpaca', name: 'Alpaca' },
      action: '/connections/alpaca/keys',
      fields: [
        { name: 'keyId', label: 'Key ID', kind: 'text', value: 'PKVISIBLE123' },
        { name: 'secretKey', label: 'Secret', kind: 'secret', value: 'sk-live-SECRET-VALUE-1' },
        { name: 'pem', label: 'Private key', kind: 'multiline-secret', value: 'PEM-SECRET-VALUE-2' },
      ],
    });
    expect(html).toContain('value="PKVISIBLE123"');
    expect(html).not.toContain('SECRET-VALUE');
    expect(html).toMatch(/<input id="field-secretKey" name="secretKey" type="password"/);
  });

  it('posts a rotation with the connection id the keys route reads', async () => {
    const html = await render('keys-form', {
      viewer,
      csrfToken: CSRF,
      provider: { id: 'alpaca', name: 'Alpaca' },
      rotateConnectionId: 'c0ffee00-0000-4000-8000-000000000001',
      action: '/connections/alpaca/keys',
      fields: [],
    });
    expect(html).toContain(
      '<input type="hidden" name="rotateConnectionId" value="c0ffee00-0000-4000-8000-000000000001">',
    );
    expect(html).toContain('Rotate keys for Alpaca');
    expect(html).toContain('action="/connections/alpaca/keys"');
  });

  it('shows a stored credential only as the mask it is given', async () => {
    const html = await render('connections', {
      viewer,
      csrfToken: CSRF,
      providers: [
        provider({
          id: 'alpaca',
          method: 'keys',
          name: 'Alpaca',
          connection: connection({ maskedCredential: 'PK••••••3F9A' }),
        }),
      ],
    });
    expect(html).toContain('PK••••••3F9A');
    expect(html).not.toMatch(/PK[A-Z0-9]{6,}3F9A/);
  });

  it('links only to http(s) and posts only to this site', async () => {
    const html = await render('oauth1-verifier', {
      viewer,
      csrfToken: CSRF,
      provider: { id: 'etrade', name: 'E*TRADE' },
      authorizeUrl: 'javascript:alert(1)',
      state: 's',
      action: '//evil.example/steal',
    });
    expect(html).not.toContain('javascript:');
    expect(html).toContain('href="about:blank"');
    expect(html).not.toContain('evil.example');
    expect(html).toContain('action="/"');
  });

  it('puts the CSRF token into every POST form of every page', async () => {
    const models = hostileModels('plain');
    for (const page of PAGES) {
      const model = { ...models[page], csrfToken: CSRF } as PageModels[typeof page];
      const html = await render(page, model);
      const forms = html.match(/<form method="post"[\s\S]*?<\/form>/g) ?? [];
      for (const form of forms) expect(form).toContain(`<input type="hidden" name="_csrf" value="${CSRF}">`);
      if (page !== 'error' && page !== 'link-continue') expect(forms.length, page).toBeGreaterThan(0);
    }
  });

  it('offers the right actions for each kind of connection', async () => {
    const html = await render('connections', {
      viewer,
      csrfToken: CSRF,
      providers: [
        provider({
          id: 'schwab',
          method: 'oauth2',
          name: 'Schwab',
          connection: connection({ id: 'conn-1' }),
        }),
        provider({ id: 'alpaca', method: 'keys', name: 'Alpaca', connection: connection({ id: 'conn-2' }) }),
        provider({ id: 'coinbase', method: 'oauth2', name: 'Coinbase' }),
        provider({ id: 'etrade', method: 'oauth1', name: 'E*TRADE', available: false }),
        provider({ id: 'cdp_wallet', method: 'keys', name: 'CDP' }),
      ],
    });
    expect(html).toContain('action="/connections/conn-1/test"');
    expect(html).toContain('action="/connections/conn-1/unlink"');
    expect(html).toContain('action="/connections/schwab/connect"');
    expect(html).toContain('href="/connections/alpaca/keys?rotate=conn-2"');
    expect(html).toContain('action="/connections/conn-2/unlink"');
    expect(html).toContain('action="/connections/coinbase/connect"');
    expect(html).toContain('href="/connections/cdp_wallet/keys"');
    expect(html).not.toContain('/connections/etrade/connect');
    expect(html).toContain('Not set up on this server');
    expect(html).toContain('data-confirm="Unlink Schwab?');
    expect(html).toContain('/logout');
  });

  it('asks to re-link when the sign-in runs out within two days, not before', async () => {
    const page = (refreshTokenExpiresAt: string) =>
      render('connections', {
        viewer,
        csrfToken: CSRF,
        providers: [
          provider({
            id: 'schwab',
            method: 'oauth2',
            name: 'Schwab',
            connection: connection({ refreshTokenExpiresAt }),
          }),
        ],
      });
    expect(await page(at(36 * HOUR))).toContain('Re-link by <time');
    expect(await page(at(36 * HOUR))).toContain('Mar 5, 00:00 UTC');
    expect(await page(at(3 * DAY))).not.toContain('Re-link by');
    const expired = await page(at(-HOUR));
    expect(expired).not.toContain('Re-link by');
    expect(expired).toContain('sign-in has expired');
  });

  it('has an empty state when the server offers no broker', async () => {
    const html = await render('connections', { viewer, csrfToken: CSRF, providers: [] });
    expect(html).toContain('No brokers are set up yet');
  });

  it('shows the link page without a signed-in top bar', async () => {
    const html = await render('link-continue', {
      csrfToken: CSRF,
      token: 'tok',
      viewer: { displayName: 'Alice', platform: 'telegram' },
      expiresAt: at(10 * MINUTE),
    });
    expect(html).toContain('Link brokers to Arbion');
    expect(html).toContain('<input type="hidden" name="token" value="tok">');
    expect(html).toContain('If you did not ask for this link, close this page.');
    expect(html).not.toContain('/logout');
    expect(html).toContain('in 10 minutes');
  });
});

describe('view helpers', () => {
  const h = createViewHelpers(NOW);

  it('formats dates in UTC, with the year only when it is not this year', () => {
    expect(h.dateTime('2026-03-05T09:07:00Z')).toBe('Mar 5, 09:07 UTC');
    expect(h.dateTime('2027-01-02T23:59:00Z')).toBe('Jan 2, 2027, 23:59 UTC');
    expect(h.dateTime(undefined)).toBe('—');
    expect(h.dateTime('not a date')).toBe('—');
  });

  it('says how far away an instant is', () => {
    expect(h.relative(at(10 * 1000))).toBe('in under a minute');
    expect(h.relative(at(-10 * 1000))).toBe('just now');
    expect(h.relative(at(25 * MINUTE))).toBe('in 25 minutes');
    expect(h.relative(at(-3 * HOUR))).toBe('3 hours ago');
    expect(h.relative(at(-1 * DAY))).toBe('yesterday');
    expect(h.relative(at(60 * DAY))).toBe('on May 2, 2026');
  });

  it('keeps whole emoji as initials', () => {
    expect(h.initial('  alice')).toBe('A');
    expect(h.initial('🦊 Fox')).toBe('🦊');
    expect(h.initial('')).toBe('?');
  });

  it('describes connection statuses', () => {
    expect(h.connection(connection({ status: 'needs_reauth' })).statusTone).toBe('warning');
    expect(h.connection(connection({ status: 'error', health: 'down' })).healthTone).toBe('danger');
    expect(h.connection(connection({ refreshTokenExpiresAt: at(47 * HOUR) })).relinkBy).toBe(
      'Mar 5, 11:00 UTC',
    );
    expect(h.connection(connection({ refreshTokenExpiresAt: at(49 * HOUR) })).relinkBy).toBeUndefined();
  });

  it('renders icons hidden from assistive technology', () => {
    const svg = icon('lock', 'h-5 w-5');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('aria-hidden="true"');
    expect(svg).toMatch(/class="feather feather-lock shrink-0 h-5 w-5"/);
  });
});
