/**
 * The page behind the link: the brokers, the user's connections, and what can be done with them
 * (API keys entered or rotated, test, unlink). OAuth sign-ins live in oauth-routes.ts.
 *
 * Every change is a POST with a CSRF token and answers with a redirect (303) back to the page, so
 * reloading never repeats it. The outcome travels as a fixed code in the query string; the page
 * turns codes into its own texts, so nobody can make it say something else.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ConnectionNotFoundError, type ConnectionSummary } from '../../src/core/linking/connections.js';
import {
  type KeyLinking,
  type LinkableProvider,
  linkMethod,
  linkMethods,
} from '../../src/core/linking/providers.js';
import type { LinkingServices } from '../linking-services.js';
import { strictRateLimit } from '../plugins/security.js';
import { renderPage } from '../plugins/views.js';
import { requireSession, type SessionCookie, sessionOf, viewerOf } from '../session-cookie.js';
import type { ConnectionView, Flash, KeyField, ProviderView } from '../views/models.js';

const providerParams = z.object({ provider: z.string().max(40) });
const connectionParams = z.object({ id: z.uuid() });
const keysQuery = z.object({ rotate: z.uuid().optional() });
const flashQuery = z.object({
  done: z.enum(['linked', 'rotated', 'unlinked', 'tested', 'test_failed', 'reconnected']).optional(),
  p: z.string().max(40).optional(),
});

/** How the page sends the user back with an outcome. */
export function backToConnections(
  reply: FastifyReply,
  done: z.infer<typeof flashQuery>['done'],
  provider: string,
) {
  return reply.redirect(`/connections?done=${done}&p=${encodeURIComponent(provider)}`, 303);
}

function flashFor(query: z.infer<typeof flashQuery>, name: string | undefined): Flash | undefined {
  if (query.done === undefined || name === undefined) return undefined;
  switch (query.done) {
    case 'linked':
      return { kind: 'success', text: `${name} linked, in paper mode. The chat that asked has been told.` };
    case 'reconnected':
      return { kind: 'success', text: `${name} signed in again.` };
    case 'rotated':
      return { kind: 'success', text: `${name} keys replaced. The old keys are no longer stored here.` };
    case 'unlinked':
      return { kind: 'info', text: `${name} unlinked. Its credentials were erased.` };
    case 'tested':
      return { kind: 'success', text: `${name} answered: the connection works.` };
    case 'test_failed':
      return { kind: 'error', text: `${name} did not answer as expected. See the connection for details.` };
  }
}

function connectionView(connection: ConnectionSummary): ConnectionView {
  return {
    id: connection.id,
    status: connection.status,
    mode: connection.mode,
    health: connection.health,
    healthDetail: connection.healthDetail,
    lastHealthCheckAt: connection.lastHealthCheckAt?.toISOString(),
    accessTokenExpiresAt: connection.accessTokenExpiresAt?.toISOString(),
    refreshTokenExpiresAt: connection.refreshTokenExpiresAt?.toISOString(),
    maskedCredential: connection.maskedCredential,
    linkedWith: connection.linkedWith,
    createdAt: connection.createdAt.toISOString(),
    lastError: connection.lastError,
  };
}

function providerView(provider: LinkableProvider, connection: ConnectionSummary | undefined): ProviderView {
  return {
    id: provider.id,
    name: provider.name,
    description: provider.description,
    method: provider.linking?.kind ?? 'keys',
    otherMethods: linkMethods(provider)
      .slice(1)
      .map((method) => method.kind),
    available: provider.linking !== undefined,
    unavailableReason: provider.unavailableReason,
    connection: connection === undefined ? undefined : connectionView(connection),
  };
}

function keyFields(
  linking: KeyLinking,
  values: Readonly<Record<string, string>>,
  errors: Readonly<Record<string, string>>,
): KeyField[] {
  return linking.fields.map((field) => ({
    name: field.name,
    label: field.label,
    kind: field.kind,
    options: field.options?.map((option) => ({ ...option })),
    placeholder: field.placeholder,
    help: field.help,
    // Secrets never travel back to the browser, not even the ones the user just typed.
    value: field.kind === 'text' || field.kind === 'select' ? values[field.name] : undefined,
    error: errors[field.name],
  }));
}

/** Form bodies: flat string fields only; anything else is dropped. */
function formValues(body: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  if (typeof body !== 'object' || body === null) return values;
  for (const [key, value] of Object.entries(body)) {
    if (key !== '_csrf' && typeof value === 'string' && value.length <= 10_000) values[key] = value;
  }
  return values;
}

export interface ConnectionRoutesOptions {
  readonly services: LinkingServices;
  readonly cookie: SessionCookie;
}

export const connectionRoutes: FastifyPluginAsync<ConnectionRoutesOptions> = async (
  app,
  { services, cookie },
) => {
  const guard = requireSession(services, cookie);
  const { catalog, connections } = services;

  const keysProvider = (
    request: FastifyRequest,
  ): { provider: LinkableProvider; linking: KeyLinking } | undefined => {
    const { provider: id } = providerParams.parse(request.params);
    const provider = catalog.get(id);
    const linking = linkMethod(provider, 'keys');
    return provider === undefined || linking === undefined ? undefined : { provider, linking };
  };

  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    renderPage(reply.code(404), 'error', {
      status: 404,
      title: 'Not found',
      message: 'That broker or connection does not exist here.',
      hint: 'Go back to your connections.',
      reference: request.id,
    });

  app.get('/connections', { preHandler: guard }, async (request, reply) => {
    const session = sessionOf(request);
    const linked = await connections.list(session.userId);
    const query = flashQuery.safeParse(request.query);
    const flashProvider = query.success && query.data.p !== undefined ? catalog.get(query.data.p) : undefined;
    return renderPage(reply.header('cache-control', 'no-store'), 'connections', {
      viewer: viewerOf(session),
      csrfToken: reply.generateCsrf(),
      flash: query.success ? flashFor(query.data, flashProvider?.name) : undefined,
      providers: catalog.providers.map((provider) =>
        providerView(
          provider,
          linked.find((connection) => connection.provider === provider.id),
        ),
      ),
    });
  });

  app.get('/connections/:provider/keys', { preHandler: guard }, async (request, reply) => {
    const found = keysProvider(request);
    const query = keysQuery.safeParse(request.query);
    if (found === undefined || !query.success) return notFound(request, reply);
    const session = sessionOf(request);
    return renderPage(reply.header('cache-control', 'no-store'), 'keys-form', {
      viewer: viewerOf(session),
      csrfToken: reply.generateCsrf(),
      provider: { id: found.provider.id, name: found.provider.name },
      rotateConnectionId: query.data.rotate,
      fields: keyFields(found.linking, {}, {}),
      action: `/connections/${found.provider.id}/keys`,
    });
  });

  app.post(
    '/connections/:provider/keys',
    { preHandler: guard, config: { rateLimit: strictRateLimit } },
    async (request, reply) => {
      const found = keysProvider(request);
      if (found === undefined) return notFound(request, reply);
      const session = sessionOf(request);
      const values = formValues(request.body);
      const rotate = z.uuid().safeParse(values.rotateConnectionId);
      delete values.rotateConnectionId;
      const outcome = await connections.saveKeys({
        userId: session.userId,
        provider: found.provider.id,
        values,
        rotateConnectionId: rotate.success ? rotate.data : undefined,
      });
      if (outcome.kind !== 'saved') {
        return renderPage(reply.code(422).header('cache-control', 'no-store'), 'keys-form', {
          viewer: viewerOf(session),
          csrfToken: reply.generateCsrf(),
          provider: { id: found.provider.id, name: found.provider.name },
          rotateConnectionId: rotate.success ? rotate.data : undefined,
          fields: keyFields(found.linking, values, outcome.kind === 'invalid' ? outcome.fieldErrors : {}),
          formError:
            outcome.kind === 'refused'
              ? outcome.message
              : 'Please correct the fields marked below. Nothing was saved.',
          action: `/connections/${found.provider.id}/keys`,
        });
      }
      request.log.info(
        { userId: session.userId, connectionId: outcome.connection.id, provider: found.provider.id },
        outcome.rotated ? 'keys rotated' : 'broker linked',
      );
      if (session.origin !== undefined && !outcome.rotated) {
        await services.announce(session.origin, linkedAnnouncement(found.provider));
      }
      return backToConnections(reply, outcome.rotated ? 'rotated' : 'linked', found.provider.id);
    },
  );

  app.post('/connections/:id/test', { preHandler: guard }, async (request, reply) => {
    const params = connectionParams.safeParse(request.params);
    if (!params.success) return notFound(request, reply);
    const session = sessionOf(request);
    try {
      const outcome = await connections.test(session.userId, params.data.id);
      const summary = (await connections.list(session.userId)).find(
        (connection) => connection.id === params.data.id,
      );
      return backToConnections(
        reply,
        outcome.health === 'healthy' ? 'tested' : 'test_failed',
        summary?.provider ?? '',
      );
    } catch (error) {
      if (error instanceof ConnectionNotFoundError) return notFound(request, reply);
      throw error;
    }
  });

  app.post('/connections/:id/unlink', { preHandler: guard }, async (request, reply) => {
    const params = connectionParams.safeParse(request.params);
    if (!params.success) return notFound(request, reply);
    const session = sessionOf(request);
    try {
      const { provider } = await connections.unlink(session.userId, params.data.id);
      const name = catalog.get(provider)?.name ?? provider;
      request.log.info({ userId: session.userId, connectionId: params.data.id, provider }, 'broker unlinked');
      if (session.origin !== undefined) {
        await services.announce(
          session.origin,
          `${name} unlinked. Its credentials were erased; orders go to your paper account.`,
        );
      }
      return backToConnections(reply, 'unlinked', provider);
    } catch (error) {
      if (error instanceof ConnectionNotFoundError) return notFound(request, reply);
      throw error;
    }
  });
};

/** What the chat hears once a broker is linked. */
export function linkedAnnouncement(provider: LinkableProvider): string {
  return `${provider.name} linked, paper mode. Say "go live on ${provider.id}" to trade real money.`;
}
