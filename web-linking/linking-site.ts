/**
 * The broker linking site as one fastify plugin: security (CSRF, CSP, cookies, rate limits, error
 * pages), templates, and the routes. Everything it touches comes in through {@link LinkingServices}.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { LinkingServices } from './linking-services.js';
import { securityPlugin } from './plugins/security.js';
import { viewsPlugin } from './plugins/views.js';
import { connectionRoutes } from './routes/connection-routes.js';
import { linkRoutes } from './routes/link-routes.js';
import { oauthRoutes } from './routes/oauth-routes.js';
import { sessionCookie } from './session-cookie.js';

export interface LinkingSiteOptions {
  readonly services: LinkingServices;
  /** True when the site is served over https (PUBLIC_URL): Secure cookies and HSTS. */
  readonly secure: boolean;
}

/**
 * Every POST of the site is CSRF-checked by the security plugin before its handler runs, so routes
 * do not repeat it.
 *
 * Encapsulated on purpose (no fastify-plugin): its CSP, CSRF and HTML error pages stay inside the
 * site and never touch the webhook and health routes on the same server.
 */
export const linkingSitePlugin: FastifyPluginAsync<LinkingSiteOptions> = async (
  app,
  { services, secure },
) => {
  await app.register(viewsPlugin);
  await app.register(securityPlugin, { secure, formActionOrigins: services.catalog.authorizationOrigins() });
  const cookie = sessionCookie(secure);
  await app.register(linkRoutes, { services, cookie });
  await app.register(connectionRoutes, { services, cookie });
  await app.register(oauthRoutes, { services, cookie });
};
