/**
 * The security layer every page of the linking site sits behind:
 *
 * - form bodies and cookies (httpOnly, SameSite=Lax so OAuth callbacks, which are top-level GET
 *   navigations from the broker, still carry the session; Secure under https),
 * - CSRF: every POST/PUT/PATCH/DELETE in this plugin's context needs the `_csrf` field (or an
 *   `x-csrf-token` header) matching the cookie-held secret, or it is refused with 403 before the
 *   handler runs. A route that authenticates itself another way opts out with `config: { csrf: false }`,
 * - helmet with a strict CSP and Referrer-Policy no-referrer (link tokens travel in URLs); HSTS
 *   only under https,
 * - rate limits, opt-in per route with {@link strictRateLimit},
 * - the built CSS/JS under /static/,
 * - error and 404 pages that show a reference (the request id) and nothing internal.
 *
 * Register {@link viewsPlugin} first: error pages render through it. Register this plugin in the
 * linking site's own context (not around webhooks that are signed instead), before its routes.
 */
import path from 'node:path';
import fastifyCookie, { type CookieSerializeOptions } from '@fastify/cookie';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { ArbionError, GENERIC_USER_MESSAGE } from '../../src/core/errors.js';
import { projectRoot } from '../../src/core/paths.js';
import type { ErrorPage } from '../views/models.js';
import { renderPage } from './views.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` only for a request that proves itself another way (a signed webhook). */
    csrf?: false;
  }
}

/** Where scripts/build-web.mjs puts app.css and app.js. */
export const staticDirectory = path.join(projectRoot, 'dist', 'static');

/** Route config for the link and OAuth endpoints: `config: { rateLimit: strictRateLimit }`. */
export const strictRateLimit: RateLimitOptions = { max: 20, timeWindow: '1 minute' };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const originSchema = z
  .string()
  .trim()
  .transform((value, context) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      context.addIssue({ code: 'custom', message: `not an absolute URL: ${value}` });
      return z.NEVER;
    }
    const loopback = LOOPBACK_HOSTS.has(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      context.addIssue({ code: 'custom', message: `must be https (or http on loopback): ${value}` });
      return z.NEVER;
    }
    return url.origin;
  });

export const securityOptionsSchema = z.object({
  /** The site is served over https: Secure cookies, `__Host-` cookie names, HSTS. */
  secure: z.boolean(),
  /**
   * Origins a form may end up at. Chrome applies CSP form-action to the redirect after a form
   * POST, so "Connect" (POST, then 302 to the broker's authorize page) needs the broker's origin.
   * Full URLs are accepted and reduced to their origin.
   */
  formActionOrigins: z.array(originSchema).default([]),
});

export type SecurityOptions = z.input<typeof securityOptionsSchema>;

/** The CSP directives, in the order they are sent. Nothing inline, nothing from elsewhere. */
export function contentSecurityPolicyDirectives(
  formActionOrigins: readonly string[],
): Record<string, string[]> {
  return {
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'form-action': ["'self'", ...new Set(formActionOrigins)],
    'frame-ancestors': ["'none'"],
    'base-uri': ["'none'"],
    'object-src': ["'none'"],
  };
}

/**
 * Attributes for every cookie the site sets; the session cookie should use them too. Lax, not
 * Strict: the OAuth callback is a top-level GET from the broker's site and must carry the session.
 */
export function siteCookieOptions(secure: boolean): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/' };
}

/**
 * A cookie name for the site: under https with the `__Host-` prefix, which browsers only accept
 * with Secure, path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it.
 */
export function siteCookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

/** A token for the page's forms (hidden field `_csrf`); sets the secret cookie on first use. */
export function csrfTokenFor(reply: FastifyReply): string {
  return reply.generateCsrf();
}

/** Too many requests to a rate-limited route; thrown by @fastify/rate-limit through our builder. */
export class RateLimitedError extends ArbionError {
  readonly code = 'rate_limited';
  readonly statusCode = 429;

  constructor(retryAfter: string) {
    super(
      `Rate limit exceeded, retry in ${retryAfter}`,
      'You made too many requests in a short time. Wait a minute, then try again.',
    );
  }
}

const CSRF_MESSAGE = 'This form has expired. Reload the page and try again.';

/** Titles and messages for statuses whose error we do not explain in detail. */
const STATUS_PAGES: Record<number, { title: string; message: string }> = {
  400: {
    title: 'That request did not look right',
    message: 'The page sent something we could not read. Go back and try again.',
  },
  401: {
    title: 'Please sign in again',
    message: 'Your session has ended. Ask Arbion for a new link in chat.',
  },
  403: { title: 'Not allowed', message: 'You do not have access to this page.' },
  404: { title: 'Page not found', message: 'This page does not exist. The link may be old or mistyped.' },
  405: { title: 'Not allowed', message: 'This page cannot be used that way.' },
  413: { title: 'That was too large', message: 'The form you sent was larger than we accept.' },
  415: {
    title: 'That request did not look right',
    message: 'The page sent something we could not read. Go back and try again.',
  },
  429: {
    title: 'Slow down a little',
    message: 'You made too many requests in a short time. Wait a minute, then try again.',
  },
};

function statusOf(error: unknown): number {
  if (typeof error === 'object' && error !== null) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599)
      return status;
    if ('validation' in error) return 400;
  }
  return 500;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * What the error page says for `error`. Only ArbionError.userMessage (for 4xx) and fixed texts
 * reach the page: never an error message, stack or code of anything else, and nothing for 5xx.
 */
export function errorPageFor(error: unknown, reference: string): ErrorPage {
  if (codeOf(error)?.startsWith('FST_CSRF_')) {
    return { status: 403, title: 'Please try that again', message: CSRF_MESSAGE, reference };
  }
  const status = statusOf(error);
  if (status >= 500) {
    return {
      status,
      title: 'Something went wrong',
      message: GENERIC_USER_MESSAGE,
      hint: 'Please try again in a moment. If it keeps happening, mention the reference below.',
      reference,
    };
  }
  const fixed = STATUS_PAGES[status] ?? {
    title: 'That did not work',
    message: 'The request could not be completed. Go back and try again.',
  };
  return {
    status,
    title: fixed.title,
    message: error instanceof ArbionError ? error.userMessage : fixed.message,
    reference,
  };
}

/** Sends the error page; if even that fails, a line of plain text with the reference. */
async function sendErrorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  page: ErrorPage,
): Promise<FastifyReply> {
  reply.code(page.status);
  try {
    return await renderPage(reply, 'error', page);
  } catch (renderError) {
    request.log.error({ err: renderError }, 'error page failed to render');
    return reply
      .type('text/plain; charset=utf-8')
      .send(`${page.title}. ${page.message} Reference: ${page.reference ?? request.id}`);
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const securityPlugin = fp<SecurityOptions>(
  async (app, rawOptions) => {
    const options = securityOptionsSchema.parse(rawOptions);
    const cookieOptions = siteCookieOptions(options.secure);

    await app.register(fastifyHelmet, {
      global: true,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: contentSecurityPolicyDirectives(options.formActionOrigins),
      },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: options.secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      xFrameOptions: { action: 'deny' },
    });

    await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
    // Defaults for every reply.setCookie in this context, the session cookie included.
    await app.register(fastifyCookie, { parseOptions: cookieOptions });
    await app.register(fastifyCsrfProtection, {
      cookieKey: siteCookieName('arbion_csrf', options.secure),
      cookieOpts: cookieOptions,
      getToken: (request) => {
        const body = request.body;
        if (typeof body === 'object' && body !== null && '_csrf' in body) {
          const token = (body as { _csrf?: unknown })._csrf;
          if (typeof token === 'string') return token;
        }
        const header = request.headers['x-csrf-token'];
        return typeof header === 'string' ? header : undefined;
      },
    });

    // Checked after the body is parsed (the token is a form field), before any handler runs.
    app.addHook('preValidation', (request, reply, done) => {
      if (SAFE_METHODS.has(request.method) || request.is404 || request.routeOptions.config.csrf === false) {
        done();
        return;
      }
      app.csrfProtection(request, reply, done);
    });

    await app.register(fastifyRateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) => new RateLimitedError(context.after),
    });

    // Pages carry CSRF tokens and account details: never keep them in a cache or the back/forward history.
    app.addHook('onSend', async (_request, reply, payload) => {
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && type.startsWith('text/html')) reply.header('cache-control', 'no-store');
      return payload;
    });

    app.setErrorHandler(async (error, request, reply) => {
      const page = errorPageFor(error, request.id);
      if (page.status >= 500) {
        request.log.error({ err: error }, 'request failed');
      } else {
        request.log.info({ code: codeOf(error), statusCode: page.status }, 'request refused');
      }
      return sendErrorPage(request, reply, page);
    });

    app.setNotFoundHandler(async (request, reply) =>
      sendErrorPage(request, reply, errorPageFor({ statusCode: 404 }, request.id)),
    );

    await app.register(fastifyStatic, {
      root: staticDirectory,
      prefix: '/static/',
      decorateReply: false,
      index: false,
      dotfiles: 'ignore',
      maxAge: '10m',
    });
  },
  { name: 'arbion-security', fastify: '5.x', dependencies: ['arbion-views'] },
);
