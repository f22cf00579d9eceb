/**
 * Schwab's bearer tokens, per request, and the one renewal a refused token earns.
 *
 * Schwab may refuse an access token (401) before its recorded expiry: revoked on its side, or
 * replaced by another process's refresh (after which, we assume, the old one is dead). Asking the
 * token store again would hand back the same still-"fresh" token, so a 401 is answered by ONE
 * forced renewal of exactly the token that was refused (`refreshAccessToken(refused)`: single
 * flight under the connection's lock, which hands back another process's newer token instead of
 * refreshing twice) and one repetition of the request with the renewed token. Schwab did not
 * process a request it refused with 401, so even an order POST is repeated, once. A 401 on the
 * repetition is final: it propagates as `BrokerAuthError`, and the registry marks the link
 * `needs_reauth`.
 *
 * Which token a request was sent with is kept per request (AsyncLocalStorage), because the HTTP
 * client asks for the authorization header itself, once per attempt, and concurrent requests must
 * not see each other's tokens.
 *
 * Token store failures become broker errors that say "nothing was placed": a grant that is gone is
 * `BrokerAuthError` (the store has already marked the link), anything else a plain rejection.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { BrokerRejectedError } from '../../core/brokers/broker.js';
import type { Logger } from '../../core/logging/logger.js';
import { OAuthError, OAuthReauthRequiredError, OAuthUnavailableError } from '../../core/oauth/errors.js';
import { BrokerAuthError } from '../http/errors.js';

/** Where Schwab's access tokens come from (the connection's token store). */
export interface SchwabTokenSource {
  /**
   * A valid access token, asked for before every attempt, e.g.
   * `() => connectionTokens.accessToken(connectionId)`, which refreshes it under a lock when near
   * expiry; so a token that expires mid-session is replaced without the broker noticing.
   */
  readonly accessToken: () => Promise<string>;
  /**
   * A new access token after Schwab refused `refused` with 401, e.g.
   * `(refused) => connectionTokens.accessToken(connectionId, { refused })`: refreshed once however
   * many callers were refused, or another process's newer token when it already refreshed.
   */
  readonly refreshAccessToken: (refused: string) => Promise<string>;
}

/** The token of one request: the one its last attempt was sent with, or the one it must use. */
interface RequestToken {
  sent: string | undefined;
  readonly renewed: string | undefined;
}

export class SchwabAccessTokens {
  private readonly requests = new AsyncLocalStorage<RequestToken>();

  constructor(
    private readonly source: SchwabTokenSource,
    private readonly logger?: Logger,
  ) {}

  /**
   * The headers of one attempt (the HTTP client's `authorize`): the renewed token of a repetition,
   * else a current one from the store; either way remembered as the token this request was sent with.
   */
  readonly authorize = async (): Promise<Record<string, string>> => {
    const request = this.requests.getStore();
    const token = request?.renewed ?? (await this.source.accessToken());
    if (request !== undefined) request.sent = token;
    return { authorization: `Bearer ${token}` };
  };

  /**
   * Runs `send` (one request through the HTTP client); after a 401, renews the refused token once
   * and runs it once more with the renewed one.
   * @throws BrokerAuthError when the repetition is refused too, or the grant is gone
   */
  async send<T>(
    request: { readonly method: string; readonly path: string },
    send: () => Promise<T>,
  ): Promise<T> {
    const first: RequestToken = { sent: undefined, renewed: undefined };
    let refused: string;
    try {
      return await this.requests.run(first, send);
    } catch (error) {
      if (!(error instanceof BrokerAuthError) || first.sent === undefined) throw brokerErrorOf(error);
      refused = first.sent;
    }
    const where = { provider: 'schwab', method: request.method, path: request.path };
    this.logger?.info(where, 'Schwab refused the access token; renewing it once and repeating the request');
    let renewed: string;
    try {
      renewed = await this.source.refreshAccessToken(refused);
    } catch (error) {
      throw brokerErrorOf(error);
    }
    try {
      return await this.requests.run({ sent: undefined, renewed }, send);
    } catch (error) {
      if (error instanceof BrokerAuthError) {
        this.logger?.warn(where, 'Schwab refused the renewed access token too; the link needs a new sign-in');
      }
      throw brokerErrorOf(error);
    }
  }
}

/**
 * A token store failure as the broker error it means for the request: nothing was placed (the
 * request was not sent, or Schwab refused it unprocessed). Other errors pass unchanged.
 */
function brokerErrorOf(error: unknown): unknown {
  if (error instanceof OAuthReauthRequiredError) {
    return new BrokerAuthError(
      'schwab',
      'Your Schwab sign-in has expired or was revoked: link Schwab again.',
    );
  }
  if (error instanceof OAuthUnavailableError) {
    return new BrokerRejectedError(
      'schwab',
      'Schwab could not renew the sign-in right now, so nothing was placed. Try again in a minute.',
      'sign_in_unavailable',
    );
  }
  if (error instanceof OAuthError) return new BrokerRejectedError('schwab', error.userMessage, error.code);
  return error;
}
