/**
 * OAuth 1.0a sign-in with an out-of-band verifier, E*TRADE style: we get a request token
 * (oauth_callback=oob), the user authorizes at the provider, which shows a short code; the user
 * types it into our page and we exchange it for an access token. Afterwards: renew (E*TRADE tokens
 * go idle after two hours), revoke on unlink, and signed requests for the broker client.
 *
 * The request token and its secret wait in the state row, sealed with the vault; the state is
 * spent before the exchange, so a verifier page can be submitted once per authorization.
 */
import { z } from 'zod';
import type { BrokerProvider } from '../db/generated/enums.js';
import { checkEndpoint } from './endpoints.js';
import { OAuthError, OAuthReauthRequiredError, OAuthUnavailableError, OAuthVerifierError } from './errors.js';
import type { OAuthStates } from './oauth-states.js';
import { OAuth1Signer, type OAuth1Tokens } from './oauth1-signer.js';

export interface OAuth1ProviderSpec {
  readonly provider: BrokerProvider;
  readonly requestTokenUrl: string;
  readonly accessTokenUrl: string;
  readonly renewUrl: string;
  readonly revokeUrl: string;
  /** User-facing; gets `?key=CONSUMER_KEY&token=REQUEST_TOKEN`. */
  readonly authorizeUrl: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
}

export interface OAuth1FlowDeps {
  readonly states: Pick<OAuthStates, 'begin' | 'consume'>;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
  /** Allow plain http to 127.0.0.1/localhost URLs (the test fakes). Never for real providers. */
  readonly allowInsecureLoopback?: boolean;
}

/** What E*TRADE's authorize page shows is five characters; we accept what could plausibly be a code. */
const VERIFIER_PATTERN = /^[A-Za-z0-9]{1,32}$/;
const REQUEST_TIMEOUT_MS = 15_000;

const tokenResponse = z.object({ oauth_token: z.string().min(1), oauth_token_secret: z.string().min(1) });
const storedRequestToken = z.object({ token: z.string().min(1), tokenSecret: z.string().min(1) });

type Step = 'request token' | 'access token' | 'renewal' | 'revocation';

export class OAuth1Flow {
  readonly spec: OAuth1ProviderSpec;
  private readonly signer: OAuth1Signer;
  private readonly fetchImpl: typeof fetch;

  /** @throws ConfigError when a URL is not https (or loopback http when allowed) */
  constructor(
    spec: OAuth1ProviderSpec,
    private readonly deps: OAuth1FlowDeps,
  ) {
    const insecure = deps.allowInsecureLoopback === true;
    for (const [name, value] of [
      ['request token URL', spec.requestTokenUrl],
      ['access token URL', spec.accessTokenUrl],
      ['renew URL', spec.renewUrl],
      ['revoke URL', spec.revokeUrl],
      ['authorize URL', spec.authorizeUrl],
    ] as const) {
      checkEndpoint(`${spec.provider} ${name}`, value, insecure);
    }
    this.spec = spec;
    this.signer = new OAuth1Signer(spec, deps.now ?? (() => new Date()));
    this.fetchImpl = deps.fetch ?? fetch;
  }

  /** Gets a request token, keeps it sealed in a new state, and returns where to send the user. */
  async begin(input: {
    userId: string;
    webSessionId: string;
  }): Promise<{ state: string; authorizeUrl: URL }> {
    const body = await this.tokenCall('request token', this.spec.requestTokenUrl, undefined, {
      oauth_callback: 'oob',
    });
    const requestToken = this.parseTokens(body, 'request token');
    const { state } = await this.deps.states.begin({
      flow: 'oauth1',
      provider: this.spec.provider,
      userId: input.userId,
      webSessionId: input.webSessionId,
      secret: JSON.stringify(requestToken),
    });
    const authorizeUrl = new URL(this.spec.authorizeUrl);
    authorizeUrl.searchParams.set('key', this.spec.consumerKey);
    authorizeUrl.searchParams.set('token', requestToken.token);
    return { state, authorizeUrl };
  }

  /**
   * Exchanges the code the user typed for an access token.
   * @throws OAuthVerifierError for a malformed code (the state is kept, the user may retype it) or
   *   a code the provider refused (the state is spent: start again)
   * @throws OAuthStateError, OAuthUnavailableError
   */
  async complete(input: {
    state: string;
    webSessionId: string;
    verifier: string;
  }): Promise<{ userId: string; tokens: OAuth1Tokens }> {
    const verifier = input.verifier.trim();
    if (!VERIFIER_PATTERN.test(verifier)) {
      throw new OAuthVerifierError(
        `${this.spec.provider}: malformed verifier`,
        'That code does not look right. Enter the letters and digits the broker showed, without spaces.',
      );
    }
    const consumed = await this.deps.states.consume({
      state: input.state,
      webSessionId: input.webSessionId,
      provider: this.spec.provider,
    });
    const requestToken = storedRequestToken.safeParse(parseJson(consumed.secret));
    if (!requestToken.success) {
      throw new OAuthError(
        `${this.spec.provider}: state ${consumed.id} holds no request token`,
        'This sign-in cannot be finished. Start again from the linking page.',
      );
    }
    const body = await this.tokenCall('access token', this.spec.accessTokenUrl, requestToken.data, {
      oauth_verifier: verifier,
    });
    return { userId: consumed.userId, tokens: this.parseTokens(body, 'access token') };
  }

  /**
   * Reactivates an access token that went idle (E*TRADE: two hours without a call).
   * @throws OAuthReauthRequiredError when the token is dead (past midnight US Eastern, revoked)
   */
  async renew(tokens: OAuth1Tokens): Promise<void> {
    await this.tokenCall('renewal', this.spec.renewUrl, tokens, {});
  }

  /** Revokes an access token. A token the provider already refuses counts as revoked. */
  async revoke(tokens: OAuth1Tokens): Promise<void> {
    try {
      await this.tokenCall('revocation', this.spec.revokeUrl, tokens, {});
    } catch (error) {
      if (!(error instanceof OAuthReauthRequiredError)) throw error;
    }
  }

  /**
   * A request signed with the access token, for broker clients. Query parameters and a
   * URLSearchParams body are signed; JSON bodies are not part of an OAuth 1.0a signature.
   * Network errors are not translated: a broker client must tell an ambiguous order from a refusal.
   */
  async signedFetch(
    tokens: OAuth1Tokens,
    method: string,
    url: URL | string,
    init: RequestInit = {},
  ): Promise<Response> {
    const target = new URL(url);
    const form = init.body instanceof URLSearchParams ? init.body : undefined;
    const headers = new Headers(init.headers);
    headers.set('authorization', this.signer.authorization(method, target, tokens, {}, form));
    if (form !== undefined) headers.set('content-type', 'application/x-www-form-urlencoded');
    return this.fetchImpl(target, { ...init, method: method.toUpperCase(), headers });
  }

  /** One signed GET to a token endpoint; the form-encoded answer, or our error for its failure. */
  private async tokenCall(
    step: Step,
    endpoint: string,
    tokens: OAuth1Tokens | undefined,
    oauthParameters: Readonly<Record<string, string>>,
  ): Promise<URLSearchParams> {
    const url = new URL(endpoint);
    const provider = this.spec.provider;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: 'GET',
        headers: { authorization: this.signer.authorization('GET', url, tokens, oauthParameters) },
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new OAuthUnavailableError(`${provider} ${step}: request failed`, undefined, { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return new URLSearchParams(text);
    const problem = oauthProblem(text);
    const what = `${provider} ${step}: HTTP ${response.status}${problem === undefined ? '' : ` ${problem}`}`;
    if (response.status >= 500 || response.status === 429)
      throw new OAuthUnavailableError(what, response.status);
    if (response.status === 401 && step === 'access token') {
      throw new OAuthVerifierError(
        what,
        'The code was wrong or has expired. Start again from the linking page to get a new code.',
      );
    }
    if (response.status === 401 && (step === 'renewal' || step === 'revocation')) {
      throw new OAuthReauthRequiredError(
        what,
        problem === undefined ? undefined : { providerError: problem },
      );
    }
    if (response.status === 401) {
      throw new OAuthError(
        what,
        "The broker did not accept this server's app credentials. Tell the administrator.",
        {
          ...(problem === undefined ? {} : { providerError: problem }),
        },
      );
    }
    throw new OAuthError(
      what,
      'The broker answered in a way we did not expect. Nothing was changed; try again later.',
    );
  }

  private parseTokens(body: URLSearchParams, step: 'request token' | 'access token'): OAuth1Tokens {
    const parsed = tokenResponse.safeParse(Object.fromEntries(body));
    if (!parsed.success) {
      throw new OAuthError(
        `${this.spec.provider} ${step}: the answer has no token`,
        'The broker answered in a way we did not expect. Nothing was linked; try again later.',
      );
    }
    return { token: parsed.data.oauth_token, tokenSecret: parsed.data.oauth_token_secret };
  }
}

/** The `oauth_problem` of an error answer (a protocol code such as `timestamp_refused`, no secrets). */
function oauthProblem(text: string): string | undefined {
  const match = /oauth_problem=([A-Za-z_]{1,64})/.exec(text);
  return match?.[1];
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
