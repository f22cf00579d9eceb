/**
 * OAuth 2.0 authorization code sign-in (RFC 6749, PKCE per RFC 7636) and the token calls that
 * follow it, on oauth4webapi. One instance per provider (Schwab, Coinbase...).
 *
 * Our part of the protocol's safety: we only ever send one of the registered redirect URIs; the
 * state is single use and bound to the browser session (see oauth-states.ts); the PKCE verifier
 * only exists sealed in the state row; the code is exchanged with the redirect URI stored with the
 * state, not one taken from the callback. Errors name provider error codes, never tokens or codes.
 */
import * as oauth from 'oauth4webapi';
import type { BrokerProvider } from '../db/generated/enums.js';
import { checkEndpoint } from './endpoints.js';
import { OAuthError, OAuthReauthRequiredError, OAuthStateError, OAuthUnavailableError } from './errors.js';
import type { OAuthStates } from './oauth-states.js';

export interface OAuth2ProviderSpec {
  readonly provider: BrokerProvider;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  /** RFC 7009 endpoint; without one, {@link OAuth2Flow.revoke} does nothing. */
  readonly revocationEndpoint?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientAuthentication: 'client_secret_basic' | 'client_secret_post';
  /** Send an S256 code challenge (RFC 7636). */
  readonly pkce: boolean;
  readonly scopes: readonly string[];
  /** Between scopes in the `scope` parameter; RFC 6749 says a space. */
  readonly scopeSeparator?: string;
  /** Exact allow-list: we only ever send one of these. */
  readonly redirectUris: readonly string[];
  /** Schwab: 7 days from login; refreshing does not extend it. Unset: the provider does not say. */
  readonly refreshTokenLifetimeSeconds?: number;
  /** Coinbase: every refresh returns a new refresh token and the old one dies (single use). */
  readonly rotatesRefreshTokens: boolean;
}

export interface OAuth2Tokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Lower case, as oauth4webapi normalizes it: `bearer`. */
  readonly tokenType: string;
  readonly scope?: string;
  readonly accessTokenExpiresAt: Date;
  readonly refreshTokenExpiresAt?: Date;
}

export interface OAuth2FlowDeps {
  readonly states: Pick<OAuthStates, 'begin' | 'consume'>;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
  /** Allow plain http to 127.0.0.1/localhost endpoints (the test fakes). Never for real providers. */
  readonly allowInsecureLoopback?: boolean;
}

/**
 * When a token response has no expires_in: the shortest lifetime among our providers (Schwab's
 * 30 minutes), so a wrong guess costs an early refresh, never a call with a dead token.
 */
const ASSUMED_ACCESS_TOKEN_LIFETIME_SECONDS = 1800;
/** A provider that has not answered by then is treated as unavailable. */
const REQUEST_TIMEOUT_MS = 15_000;

type Operation = 'code exchange' | 'refresh' | 'revocation';

export class OAuth2Flow {
  readonly spec: OAuth2ProviderSpec;
  private readonly as: oauth.AuthorizationServer;
  private readonly client: oauth.Client;
  private readonly clientAuth: oauth.ClientAuth;
  private readonly now: () => Date;
  private readonly requestOptions: oauth.HttpRequestOptions<'POST', URLSearchParams>;

  /**
   * @throws ConfigError when a provider endpoint is not https (or loopback http when allowed). Redirect
   *   URIs are not checked here: they carry no secret of ours, and the provider enforces its own rules.
   */
  constructor(
    spec: OAuth2ProviderSpec,
    private readonly deps: OAuth2FlowDeps,
  ) {
    const insecure = deps.allowInsecureLoopback === true;
    const authorization = checkEndpoint(
      `${spec.provider} authorization endpoint`,
      spec.authorizationEndpoint,
      insecure,
    );
    checkEndpoint(`${spec.provider} token endpoint`, spec.tokenEndpoint, insecure);
    if (spec.revocationEndpoint !== undefined) {
      checkEndpoint(`${spec.provider} revocation endpoint`, spec.revocationEndpoint, insecure);
    }
    this.spec = spec;
    this.now = deps.now ?? (() => new Date());
    this.as = {
      // Our providers publish no metadata; the issuer only matters if a callback carries `iss`
      // (RFC 9207), which must then name the provider's own origin.
      issuer: authorization.origin,
      authorization_endpoint: spec.authorizationEndpoint,
      token_endpoint: spec.tokenEndpoint,
      ...(spec.revocationEndpoint === undefined ? {} : { revocation_endpoint: spec.revocationEndpoint }),
    };
    this.client = { client_id: spec.clientId };
    this.clientAuth =
      spec.clientAuthentication === 'client_secret_basic'
        ? oauth.ClientSecretBasic(spec.clientSecret)
        : oauth.ClientSecretPost(spec.clientSecret);
    const fetchImpl = deps.fetch ?? fetch;
    this.requestOptions = {
      signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      [oauth.customFetch]: (url, init) => guardedFetch(fetchImpl, url, init),
      ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
    };
  }

  /**
   * Begins a sign-in: records the state (and the sealed PKCE verifier) and returns the provider's
   * authorization URL to send the browser to.
   * @throws OAuthError when redirectUri is not one of the registered ones (before anything else)
   */
  async start(input: { userId: string; webSessionId: string; redirectUri: string }): Promise<URL> {
    if (!this.spec.redirectUris.includes(input.redirectUri)) {
      throw new OAuthError(
        `${this.spec.provider}: redirect URI is not in the allow-list`,
        'This sign-in cannot start: the return address is not registered. Tell the administrator.',
      );
    }
    const verifier = this.spec.pkce ? oauth.generateRandomCodeVerifier() : undefined;
    const { state } = await this.deps.states.begin({
      flow: 'oauth2',
      provider: this.spec.provider,
      userId: input.userId,
      webSessionId: input.webSessionId,
      redirectUri: input.redirectUri,
      ...(verifier === undefined ? {} : { secret: verifier }),
    });
    const url = new URL(this.spec.authorizationEndpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.spec.clientId);
    url.searchParams.set('redirect_uri', input.redirectUri);
    if (this.spec.scopes.length > 0)
      url.searchParams.set('scope', this.spec.scopes.join(this.spec.scopeSeparator ?? ' '));
    url.searchParams.set('state', state);
    if (verifier !== undefined) {
      url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return url;
  }

  /**
   * Finishes a sign-in from the provider's redirect: spends the state (also when the provider
   * reports an error, so a callback URL never works twice), then exchanges the code.
   * @throws OAuthStateError (state missing, unknown, spent, expired, other session), OAuthError
   *   (denied at the provider, code refused), OAuthUnavailableError
   */
  async complete(input: {
    callbackUrl: URL;
    webSessionId: string;
  }): Promise<{ userId: string; tokens: OAuth2Tokens }> {
    const parameters = input.callbackUrl.searchParams;
    const state = parameters.get('state');
    if (state === null || state === '') throw new OAuthStateError('unknown');
    const consumed = await this.deps.states.consume({
      state,
      webSessionId: input.webSessionId,
      provider: this.spec.provider,
    });
    const providerError = parameters.get('error');
    if (providerError !== null) throw this.authorizationError(providerError);
    if (consumed.redirectUri === undefined || (this.spec.pkce && consumed.secret === undefined)) {
      throw new OAuthError(
        `${this.spec.provider}: state ${consumed.id} lacks its redirect URI or PKCE verifier`,
        'This sign-in cannot be finished. Start again from the linking page.',
      );
    }
    const now = this.now();
    try {
      const validated = oauth.validateAuthResponse(this.as, this.client, parameters, state);
      const response = await oauth.authorizationCodeGrantRequest(
        this.as,
        this.client,
        this.clientAuth,
        validated,
        consumed.redirectUri,
        this.spec.pkce && consumed.secret !== undefined ? consumed.secret : oauth.nopkce,
        this.requestOptions,
      );
      const result = await oauth.processAuthorizationCodeResponse(this.as, this.client, response);
      return { userId: consumed.userId, tokens: this.tokensFrom(result, now, undefined) };
    } catch (error) {
      throw await this.translate(error, 'code exchange');
    }
  }

  /**
   * New tokens from a refresh token. With a rotating provider the given refresh token is dead
   * afterwards: store the returned one before anything else can fail.
   * @throws OAuthReauthRequiredError when the grant is gone (expired by our clock, or invalid_grant)
   */
  async refresh(refreshToken: string, current: { refreshTokenExpiresAt?: Date }): Promise<OAuth2Tokens> {
    const now = this.now();
    if (
      current.refreshTokenExpiresAt !== undefined &&
      current.refreshTokenExpiresAt.getTime() <= now.getTime()
    ) {
      throw new OAuthReauthRequiredError(`${this.spec.provider}: the refresh token expired`);
    }
    try {
      const response = await oauth.refreshTokenGrantRequest(
        this.as,
        this.client,
        this.clientAuth,
        refreshToken,
        this.requestOptions,
      );
      const result = await oauth.processRefreshTokenResponse(this.as, this.client, response);
      return this.tokensFrom(result, now, {
        refreshToken,
        refreshTokenExpiresAt: current.refreshTokenExpiresAt,
      });
    } catch (error) {
      throw await this.translate(error, 'refresh');
    }
  }

  /** Revokes a token at the provider (RFC 7009); does nothing when the provider has no endpoint. */
  async revoke(token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
    if (this.spec.revocationEndpoint === undefined) return;
    try {
      const response = await oauth.revocationRequest(this.as, this.client, this.clientAuth, token, {
        ...this.requestOptions,
        additionalParameters: { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(response);
    } catch (error) {
      throw await this.translate(error, 'revocation');
    }
  }

  private tokensFrom(
    result: oauth.TokenEndpointResponse,
    now: Date,
    previous: { refreshToken: string; refreshTokenExpiresAt: Date | undefined } | undefined,
  ): OAuth2Tokens {
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    const refreshToken = result.refresh_token ?? previous?.refreshToken;
    const lifetime = this.spec.refreshTokenLifetimeSeconds;
    const reportedLifetime = result['refresh_token_expires_in'];
    let refreshTokenExpiresAt: Date | undefined;
    if (typeof reportedLifetime === 'number' && result.refresh_token !== undefined) {
      refreshTokenExpiresAt = at(reportedLifetime);
    } else if (previous === undefined) {
      refreshTokenExpiresAt = lifetime === undefined ? undefined : at(lifetime);
    } else {
      // A rotated token starts a lifetime of its own; a re-sent token (Schwab) keeps the login's.
      const rotated = result.refresh_token !== undefined && result.refresh_token !== previous.refreshToken;
      refreshTokenExpiresAt =
        rotated && this.spec.rotatesRefreshTokens && lifetime !== undefined
          ? at(lifetime)
          : previous.refreshTokenExpiresAt;
    }
    return {
      accessToken: result.access_token,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      tokenType: result.token_type,
      ...(result.scope === undefined ? {} : { scope: result.scope }),
      accessTokenExpiresAt: at(result.expires_in ?? ASSUMED_ACCESS_TOKEN_LIFETIME_SECONDS),
      ...(refreshTokenExpiresAt === undefined ? {} : { refreshTokenExpiresAt }),
    };
  }

  private authorizationError(providerError: string): OAuthError {
    const provider = this.spec.provider;
    if (providerError === 'access_denied') {
      return new OAuthError(
        `${provider}: the user denied access`,
        'You did not allow access at the broker. Nothing was linked.',
        {
          providerError,
        },
      );
    }
    return new OAuthError(
      `${provider}: authorization failed with ${providerError}`,
      'The broker did not complete the sign-in. Nothing was linked; start again from the linking page.',
      { providerError },
    );
  }

  /** Maps oauth4webapi and network failures to our errors, keeping tokens and bodies out of them. */
  private async translate(error: unknown, operation: Operation): Promise<Error> {
    if (error instanceof OAuthError) return error;
    const provider = this.spec.provider;
    let status: number | undefined;
    let providerError: string | undefined;
    if (error instanceof oauth.ResponseBodyError) {
      status = error.status;
      providerError = error.error;
    } else if (error instanceof oauth.WWWAuthenticateChallengeError) {
      status = error.status;
      providerError =
        error.cause.find((challenge) => challenge.parameters.error !== undefined)?.parameters.error ??
        (await errorCodeInBody(error.response));
    } else if (error instanceof oauth.AuthorizationResponseError) {
      return this.authorizationError(error.error);
    } else if (error instanceof oauth.OperationProcessingError && error.cause instanceof Response) {
      status = error.cause.status;
    } else if (
      !(error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError)
    ) {
      return error instanceof Error ? error : new Error(String(error));
    }
    const what = `${provider} ${operation}: ${status === undefined ? 'unusable answer' : `HTTP ${status}`}${
      providerError === undefined ? '' : ` ${providerError}`
    }`;
    if (
      (status !== undefined && (status >= 500 || status === 429)) ||
      providerError === 'temporarily_unavailable' ||
      providerError === 'server_error'
    ) {
      return new OAuthUnavailableError(what, status);
    }
    if (providerError === 'invalid_grant' && operation === 'refresh') {
      return new OAuthReauthRequiredError(what, { providerError });
    }
    if (providerError === 'invalid_client' || providerError === 'unauthorized_client' || status === 401) {
      return new OAuthError(
        what,
        "The broker did not accept this server's app credentials. Tell the administrator.",
        providerError === undefined ? undefined : { providerError },
      );
    }
    if (providerError === 'invalid_grant') {
      return new OAuthError(
        what,
        'The broker refused the sign-in code (it may have expired). Start again from the linking page.',
        {
          providerError,
        },
      );
    }
    return new OAuthError(
      what,
      'The broker answered in a way we did not expect. Nothing was changed; try again later.',
      providerError === undefined ? undefined : { providerError },
    );
  }
}

/**
 * The one place our OAuth 2.0 traffic leaves the process: a network failure becomes
 * OAuthUnavailableError, and a token response's id_token is dropped. We never ask for OpenID
 * Connect, yet Schwab sends an id_token; oauth4webapi would validate it against metadata we do not
 * have, and we have no use for it.
 */
async function guardedFetch(
  fetchImpl: typeof fetch,
  url: string,
  init: oauth.CustomFetchOptions<'POST', URLSearchParams>,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'failed';
    throw new OAuthUnavailableError(`request to ${new URL(url).origin} ${reason}`, undefined, {
      cause: error,
    });
  }
  if (response.status !== 200 || !(response.headers.get('content-type') ?? '').includes('json'))
    return response;
  const text = await response.text();
  const headers = { 'content-type': response.headers.get('content-type') ?? 'application/json' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: response.status, headers });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('id_token' in body)) {
    return new Response(text, { status: response.status, headers });
  }
  const { id_token: _dropped, ...rest } = body as Record<string, unknown>;
  return new Response(JSON.stringify(rest), { status: response.status, headers });
}

async function errorCodeInBody(response: Response): Promise<string | undefined> {
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => undefined);
  if (body !== null && typeof body === 'object' && 'error' in body && typeof body.error === 'string')
    return body.error;
  return undefined;
}
