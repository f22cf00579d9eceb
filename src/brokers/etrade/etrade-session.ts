/**
 * One E*TRADE connection on the wire: the shared broker HTTP client with every request signed by
 * OAuth 1.0a (HMAC-SHA1, `Authorization` header) in its `authorize` hook, so each attempt gets a
 * fresh nonce and timestamp; E*TRADE's error answers and rate-limit page understood; and a token
 * that went idle renewed once.
 *
 * Tokens: after two idle hours E*TRADE stops accepting the access token until it is renewed; a
 * 401 is answered by one renewal and one retry. At midnight US Eastern the token dies: renewal
 * fails and the user must link E*TRADE again (`BrokerAuthError`, code `reauth_required`).
 */
import { z } from 'zod';
import { type OAuth1Consumer, OAuth1Signer, type OAuth1Tokens } from '../../core/oauth/oauth1-signer.js';
import {
  type BrokerClientOptions,
  type HttpOverrides,
  sharedHttpOptions,
} from '../http/broker-client-options.js';
import {
  BrokerHttpClient,
  type BrokerHttpRequest,
  type BrokerHttpResponse,
} from '../http/broker-http-client.js';
import { BrokerAuthError } from '../http/errors.js';
import type { RateLimits } from '../http/rate-limiter.js';
import { describeEtradeError, etradeErrorCode, recogniseRateLimitPage } from './etrade-errors.js';

/**
 * E*TRADE's documented quotas: about 2 requests per second for accounts and orders (`default`),
 * 4 per second for market data (`market`).
 */
export const ETRADE_RATE_LIMITS: RateLimits = {
  default: { limit: 2, intervalMs: 1_000 },
  market: { limit: 4, intervalMs: 1_000 },
};

/** The `oauth_problem`s of a token E*TRADE no longer accepts; one renewal may bring it back. */
const RENEWABLE_PROBLEMS = new Set(['token_inactive', 'token_rejected', 'token_expired']);

export interface EtradeBrokerOptions extends BrokerClientOptions {
  /** `https://api.etrade.com` or `https://apisb.etrade.com` (or a fake in tests). */
  readonly apiBase: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  /** The connection's access token and secret, read for every attempt (they live in the vault). */
  readonly tokens: () => Promise<OAuth1Tokens>;
  /**
   * E*TRADE order ids on this account already attributed to intents (the order store's), so that
   * reconciliation never claims another intent's order. Unset: only this instance's placements.
   */
  readonly knownOrderIds?: (accountId: string) => Promise<ReadonlySet<string>> | ReadonlySet<string>;
  readonly http?: HttpOverrides & {
    /**
     * The first pause after E*TRADE's "too many requests" page, doubled for each consecutive one
     * (up to 8 times). Default 1 s (its quota's window).
     */
    readonly rateLimitPauseSeconds?: number;
  };
}

/** Calls one E*TRADE API request (signed, renewed when idle); what the parts of the broker share. */
export type EtradeCall = <T>(request: BrokerHttpRequest<T>) => Promise<BrokerHttpResponse<T>>;

const anything = z.unknown();

export class EtradeSession {
  /** The connection's HTTP client; `http.health()` is the connection's health. */
  readonly http: BrokerHttpClient;
  private renewal: Promise<void> | undefined;

  constructor(options: EtradeBrokerOptions, now: () => Date) {
    const consumer: OAuth1Consumer = {
      consumerKey: options.consumerKey,
      consumerSecret: options.consumerSecret,
    };
    const signer = new OAuth1Signer(consumer, now);
    this.http = new BrokerHttpClient({
      provider: 'etrade',
      baseUrl: options.apiBase,
      ...sharedHttpOptions(options, ETRADE_RATE_LIMITS),
      // JSON bodies are not part of an OAuth 1.0a signature; method, URL and query are.
      authorize: async ({ method, url }) => ({
        authorization: signer.authorization(method, url, await options.tokens()),
      }),
      describeError: describeEtradeError,
      errorCode: etradeErrorCode,
      fetch: recogniseRateLimitPage(options.fetch ?? fetch, options.http?.rateLimitPauseSeconds ?? 1),
    });
  }

  /**
   * One request; a 401 for a token E*TRADE stopped accepting is answered by one renewal and one
   * retry (a 401 means the request was not processed, so repeating it is safe, even a place).
   */
  readonly call: EtradeCall = async (request) => {
    try {
      return await this.http.request(request);
    } catch (error) {
      if (!(error instanceof BrokerAuthError) || !RENEWABLE_PROBLEMS.has(error.code ?? '')) throw error;
      await this.renew();
      return await this.http.request(request);
    }
  };

  /** `GET /oauth/renew_access_token`, shared by concurrent callers. */
  private async renew(): Promise<void> {
    this.renewal ??= this.http
      .request({ method: 'GET', path: '/oauth/renew_access_token', schema: anything })
      .then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof BrokerAuthError) {
            throw new BrokerAuthError(
              'etrade',
              'Your E*TRADE sign-in has ended (E*TRADE ends every sign-in at midnight US Eastern time). Link E*TRADE again to keep trading.',
              'reauth_required',
            );
          }
          throw error;
        },
      )
      .finally(() => {
        this.renewal = undefined;
      });
    return this.renewal;
  }
}
