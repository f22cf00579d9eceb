/**
 * OAuth 1.0a request signing (RFC 5849, HMAC-SHA1, parameters in the Authorization header) with
 * the oauth-1.0a package. The package does the base string and the signature; this file gives it
 * what it lacks: a cryptographic nonce (it uses Math.random), our clock (tests move it), and URLs
 * whose query is already in RFC 3986 form (it decodes queries with decodeURIComponent, which reads
 * a form-encoded `+` as a plus sign instead of a space).
 */
import { createHmac, randomBytes } from 'node:crypto';
import OAuth from 'oauth-1.0a';

/** A token and its secret: a request token during sign-in, an access token afterwards. */
export interface OAuth1Tokens {
  readonly token: string;
  readonly tokenSecret: string;
}

export interface OAuth1Consumer {
  readonly consumerKey: string;
  readonly consumerSecret: string;
}

export class OAuth1Signer {
  private readonly oauth: OAuth;

  constructor(consumer: OAuth1Consumer, now: () => Date) {
    this.oauth = new OAuth({
      consumer: { key: consumer.consumerKey, secret: consumer.consumerSecret },
      signature_method: 'HMAC-SHA1',
      hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
    });
    this.oauth.getNonce = () => randomBytes(16).toString('hex');
    this.oauth.getTimeStamp = () => Math.floor(now().getTime() / 1000);
  }

  /**
   * The `Authorization: OAuth ...` header value for one request.
   * @param oauthParameters protocol parameters beyond the standard ones (oauth_callback, oauth_verifier)
   * @param form a form-encoded body, which RFC 5849 signs along with the query
   */
  authorization(
    method: string,
    url: URL,
    tokens: OAuth1Tokens | undefined,
    oauthParameters: Readonly<Record<string, string>> = {},
    form?: URLSearchParams,
  ): string {
    const data: Record<string, string | string[]> = { ...oauthParameters };
    for (const [name, value] of form ?? []) {
      const existing = data[name];
      data[name] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const signed = this.oauth.authorize(
      { url: this.rfc3986Url(url), method: method.toUpperCase(), data },
      tokens === undefined ? undefined : { key: tokens.token, secret: tokens.tokenSecret },
    );
    return this.oauth.toHeader({ ...signed, ...oauthParameters }).Authorization;
  }

  /** Origin and path (which RFC 5849 normalizes the same way URL does) and a re-encoded query. */
  private rfc3986Url(url: URL): string {
    const query = [...url.searchParams]
      .map(([name, value]) => `${this.oauth.percentEncode(name)}=${this.oauth.percentEncode(value)}`)
      .join('&');
    return `${url.origin}${url.pathname}${query === '' ? '' : `?${query}`}`;
  }
}
