/**
 * Entering and leaving the linking page: the one-time URL from the chat, its Continue button, and
 * sign out.
 *
 * GET /link/:token only shows the page (chat apps fetch URLs to draw previews, which must not use
 * the link up); POST /link redeems it and opens the session.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { LinkTokenProblem } from '../../src/core/linking/link-tokens.js';
import type { LinkingServices } from '../linking-services.js';
import { strictRateLimit } from '../plugins/security.js';
import { renderPage } from '../plugins/views.js';
import type { SessionCookie } from '../session-cookie.js';
import type { ErrorPage } from '../views/models.js';

const tokenParams = z.object({ token: z.string().max(100) });
const redeemBody = z.object({ token: z.string().max(100) });

const NEW_LINK_HINT = 'Ask the bot for a new one: say "link" in a private chat with it.';

function problemPage(problem: LinkTokenProblem, reference: string): ErrorPage {
  switch (problem.kind) {
    case 'expired':
      return {
        status: 410,
        title: 'This link has expired',
        message: 'Links to this page work for 10 minutes.',
        hint: NEW_LINK_HINT,
        reference,
      };
    case 'used':
      return {
        status: 410,
        title: 'This link was already used',
        message: 'Each link opens the page once, so a copied link is useless to anyone else.',
        hint: NEW_LINK_HINT,
        reference,
      };
    case 'unknown':
      return {
        status: 404,
        title: 'This link is not valid',
        message: 'It may be incomplete: open it straight from the chat.',
        hint: NEW_LINK_HINT,
        reference,
      };
  }
}

export interface LinkRoutesOptions {
  readonly services: LinkingServices;
  readonly cookie: SessionCookie;
}

export const linkRoutes: FastifyPluginAsync<LinkRoutesOptions> = async (app, { services, cookie }) => {
  app.get('/', async (request, reply) => {
    const session = await services.sessions.authenticate(cookie.read(request));
    if (session !== undefined) return reply.redirect('/connections', 303);
    return renderPage(reply, 'notice', {
      title: 'Link your brokers to Arbion',
      message:
        'This page is opened from the chat. Say "link" to the bot in a private chat and open the link it sends.',
      tone: 'info',
    });
  });

  app.get('/link/:token', { config: { rateLimit: strictRateLimit } }, async (request, reply) => {
    const { token } = tokenParams.parse(request.params);
    const info = await services.linkTokens.inspect(token);
    if (info.kind !== 'valid') {
      const page = problemPage(info, request.id);
      return renderPage(reply.code(page.status), 'error', page);
    }
    return renderPage(reply, 'link-continue', {
      csrfToken: reply.generateCsrf(),
      token,
      viewer: { displayName: info.displayName, platform: info.platform },
      expiresAt: info.expiresAt.toISOString(),
    });
  });

  app.post('/link', { config: { rateLimit: strictRateLimit } }, async (request, reply) => {
    const parsed = redeemBody.safeParse(request.body);
    const outcome = parsed.success
      ? await services.linkTokens.redeem(parsed.data.token)
      : ({ kind: 'unknown' } as const);
    if (outcome.kind !== 'redeemed') {
      const page = problemPage(outcome, request.id);
      return renderPage(reply.code(page.status), 'error', page);
    }
    // A session already open in this browser ends: the link decides whose page this is.
    await services.sessions.close(cookie.read(request));
    const session = await services.sessions.open(outcome.userId, outcome.linkTokenId);
    cookie.set(reply, session.token, session.expiresAt);
    request.log.info({ userId: outcome.userId }, 'linking session opened');
    return reply.redirect('/connections', 303);
  });

  app.post('/logout', async (request, reply) => {
    await services.sessions.close(cookie.read(request));
    cookie.clear(reply);
    return renderPage(reply, 'notice', {
      title: 'Signed out',
      message:
        'You can close this page. Ask the bot for a new link whenever you want to manage your brokers.',
      tone: 'success',
    });
  });
};
