/**
 * The linking page's session cookie, and the guard that puts the session on the request. Name and
 * flags are the site's (`__Host-` prefixed and Secure under https; httpOnly; SameSite=Lax).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSessionInfo } from '../src/core/linking/web-sessions.js';
import type { LinkingServices } from './linking-services.js';
import { siteCookieName, siteCookieOptions } from './plugins/security.js';
import { renderPage } from './plugins/views.js';
import type { Viewer } from './views/models.js';

declare module 'fastify' {
  interface FastifyRequest {
    webSession?: WebSessionInfo;
  }
}

export interface SessionCookie {
  readonly name: string;
  set(reply: FastifyReply, token: string, expiresAt: Date): void;
  clear(reply: FastifyReply): void;
  read(request: FastifyRequest): string | undefined;
}

export function sessionCookie(secure: boolean): SessionCookie {
  const name = siteCookieName('arbion_session', secure);
  const options = siteCookieOptions(secure);
  return {
    name,
    set: (reply, token, expiresAt) => void reply.setCookie(name, token, { ...options, expires: expiresAt }),
    clear: (reply) => void reply.clearCookie(name, options),
    read: (request) => request.cookies[name],
  };
}

/** preHandler: a live session, or the "session ended" page (401). */
export function requireSession(services: LinkingServices, cookie: SessionCookie) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const session = await services.sessions.authenticate(cookie.read(request));
    if (session === undefined) {
      cookie.clear(reply);
      await renderPage(reply.code(401), 'error', {
        status: 401,
        title: 'Your session has ended',
        message: 'For your safety, linking sessions end after 30 minutes without activity.',
        hint: 'Ask the bot for a new link: say "link" in a private chat with it.',
        reference: request.id,
      });
      return;
    }
    request.webSession = session;
  };
}

export function viewerOf(session: WebSessionInfo): Viewer {
  return {
    displayName: session.displayName,
    platform: session.platform,
    sessionExpiresAt: session.expiresAt.toISOString(),
  };
}

/** The session a guarded handler runs with (the guard has set it). */
export function sessionOf(request: FastifyRequest): WebSessionInfo {
  const session = request.webSession;
  if (session === undefined) throw new Error('route is missing the requireSession guard');
  return session;
}
