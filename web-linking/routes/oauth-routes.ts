/**
 * Signing in at a broker: OAuth 2.0 (connect -> the broker's page -> our callback) and OAuth 1.0a
 * (connect -> the broker's page shows a code -> the user types it here).
 *
 * The callback URL is rebuilt from the registered redirect URI, never from the Host header, and we
 * only ever redirect to URLs the OAuth flow built from configuration: no open redirects.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ArbionError } from '../../src/core/errors.js';
import type { ConnectionSummary } from '../../src/core/linking/connections.js';
import { type LinkableProvider, linkMethod } from '../../src/core/linking/providers.js';
import {
  addDays,
  newYorkInstant,
  newYorkTime,
} from '../../src/core/market-data/providers/us-market-calendar.js';
import type { LinkingServices } from '../linking-services.js';
import { strictRateLimit } from '../plugins/security.js';
import { renderPage } from '../plugins/views.js';
import { requireSession, type SessionCookie, sessionOf, viewerOf } from '../session-cookie.js';
import { backToConnections, linkedAnnouncement } from './connection-routes.js';

const providerParams = z.object({ provider: z.string().max(40) });
const verifyBody = z.object({ state: z.string().max(100), verifier: z.string().max(100) });

export interface OAuthRoutesOptions {
  readonly services: LinkingServices;
  readonly cookie: SessionCookie;
}

export const oauthRoutes: FastifyPluginAsync<OAuthRoutesOptions> = async (app, { services, cookie }) => {
  const guard = requireSession(services, cookie);
  const limited = { rateLimit: strictRateLimit };

  const providerOf = (request: FastifyRequest): LinkableProvider | undefined =>
    services.catalog.get(providerParams.parse(request.params).provider);

  const failure = (
    request: FastifyRequest,
    reply: FastifyReply,
    error: unknown,
    provider: LinkableProvider | undefined,
  ) => {
    const known = error instanceof ArbionError;
    if (!known) throw error;
    request.log.warn(
      { err: error, provider: provider?.id, userId: request.webSession?.userId },
      'sign-in failed',
    );
    return renderPage(reply.code(400), 'error', {
      status: 400,
      title: `${provider?.name ?? 'The broker'} sign-in did not complete`,
      message: error.userMessage,
      hint: 'Nothing was linked. Go back to your connections and try again.',
      reference: request.id,
    });
  };

  /**
   * After the broker said yes: store the connection, tell the chat that asked (first link only),
   * and go back to the page. `store` writes the tokens of the flow at hand.
   */
  const finishSignIn = async (
    request: FastifyRequest,
    reply: FastifyReply,
    provider: LinkableProvider,
    userId: string,
    store: () => Promise<ConnectionSummary>,
  ) => {
    const session = sessionOf(request);
    if (userId !== session.userId) throw new Error('OAuth state of another user accepted');
    const existing = (await services.connections.list(userId)).some(
      (connection) => connection.provider === provider.id,
    );
    const connection = await store();
    request.log.info({ userId, connectionId: connection.id, provider: provider.id }, 'broker signed in');
    if (session.origin !== undefined && !existing) {
      await services.announce(session.origin, linkedAnnouncement(provider));
    }
    return backToConnections(reply, existing ? 'reconnected' : 'linked', provider.id);
  };

  app.post(
    '/connections/:provider/connect',
    { preHandler: guard, config: limited },
    async (request, reply) => {
      const provider = providerOf(request);
      const session = sessionOf(request);
      const linking = provider?.linking;
      if (provider === undefined || linking === undefined) {
        return renderPage(reply.code(404), 'error', {
          status: 404,
          title: 'Not available',
          message: 'This broker cannot be linked on this server.',
          reference: request.id,
        });
      }
      // Connect means sign in wherever the broker offers a sign-in, even beside a key form.
      const oauth2 = linkMethod(provider, 'oauth2');
      const oauth1 = linkMethod(provider, 'oauth1');
      try {
        if (oauth2 === undefined && oauth1 === undefined)
          return reply.redirect(`/connections/${provider.id}/keys`, 303);
        if (oauth2 !== undefined) {
          const flow = services.oauth2(provider.id);
          const redirectUri = oauth2.spec.redirectUris[0];
          if (flow === undefined || redirectUri === undefined)
            throw new Error(`no OAuth 2.0 flow for ${provider.id}`);
          const url = await flow.start({ userId: session.userId, webSessionId: session.id, redirectUri });
          return reply.redirect(url.href, 303);
        }
        const flow = services.oauth1(provider.id);
        if (flow === undefined) throw new Error(`no OAuth 1.0a flow for ${provider.id}`);
        const { state, authorizeUrl } = await flow.begin({
          userId: session.userId,
          webSessionId: session.id,
        });
        return renderPage(reply.header('cache-control', 'no-store'), 'oauth1-verifier', {
          viewer: viewerOf(session),
          csrfToken: reply.generateCsrf(),
          provider: { id: provider.id, name: provider.name },
          authorizeUrl: authorizeUrl.href,
          state,
          action: `/oauth/${provider.id}/verify`,
        });
      } catch (error) {
        return failure(request, reply, error, provider);
      }
    },
  );

  app.get('/oauth/:provider/callback', { preHandler: guard, config: limited }, async (request, reply) => {
    const provider = providerOf(request);
    const flow = provider === undefined ? undefined : services.oauth2(provider.id);
    const redirectUri = linkMethod(provider, 'oauth2')?.spec.redirectUris[0];
    if (provider === undefined || flow === undefined || redirectUri === undefined) {
      return renderPage(reply.code(404), 'error', {
        status: 404,
        title: 'Not found',
        message: 'Unknown sign-in.',
        reference: request.id,
      });
    }
    const session = sessionOf(request);
    const callbackUrl = new URL(redirectUri);
    const query = request.raw.url?.split('?')[1] ?? '';
    callbackUrl.search = query;
    try {
      const { userId, tokens } = await flow.complete({ callbackUrl, webSessionId: session.id });
      return await finishSignIn(request, reply, provider, userId, () =>
        services.connections.storeOAuth2(userId, provider, tokens),
      );
    } catch (error) {
      return failure(request, reply, error, provider);
    }
  });

  app.post('/oauth/:provider/verify', { preHandler: guard, config: limited }, async (request, reply) => {
    const provider = providerOf(request);
    const flow = provider === undefined ? undefined : services.oauth1(provider.id);
    const body = verifyBody.safeParse(request.body);
    if (provider === undefined || flow === undefined || !body.success) {
      return renderPage(reply.code(400), 'error', {
        status: 400,
        title: 'Not accepted',
        message: 'That form was incomplete. Nothing was linked.',
        reference: request.id,
      });
    }
    const session = sessionOf(request);
    try {
      const { userId, tokens } = await flow.complete({
        state: body.data.state,
        webSessionId: session.id,
        verifier: body.data.verifier,
      });
      return await finishSignIn(request, reply, provider, userId, () =>
        services.connections.storeOAuth1(userId, provider, tokens, nextNewYorkMidnight(new Date())),
      );
    } catch (error) {
      return failure(request, reply, error, provider);
    }
  });
};

/** E*TRADE access tokens expire at midnight US Eastern. */
function nextNewYorkMidnight(now: Date): Date {
  return newYorkInstant(addDays(newYorkTime(now).date, 1), 0, 0);
}
