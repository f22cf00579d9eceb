/**
 * The brokers a user can link, and how: an OAuth 2.0 sign-in, an OAuth 1.0a sign-in with a
 * verification code, or API keys typed into a form. Each broker describes itself in
 * src/brokers/<name>/linking.ts; the runtime collects them into a {@link ProviderCatalog}.
 */
import type { z } from 'zod';
import type { BrokerProvider } from '../db/generated/enums.js';
import type { OAuth1ProviderSpec, OAuth2ProviderSpec } from '../oauth/index.js';

/** One input of an API-key form. */
export interface KeyFieldSpec {
  readonly name: string;
  readonly label: string;
  /** Secrets are never echoed back into the form, not even after a validation error. */
  readonly kind: 'text' | 'secret' | 'multiline-secret' | 'select';
  readonly options?: readonly { readonly value: string; readonly label: string }[];
  readonly placeholder?: string;
  readonly help?: string;
}

/** Credentials as they are sealed in the vault: field name -> value. */
export type KeyCredentials = Readonly<Record<string, string>>;

/** What the broker said when the keys were tried. */
export type KeyTestResult =
  | { readonly ok: true; readonly detail?: string }
  | { readonly ok: false; readonly reason: 'rejected' | 'unreachable'; readonly message: string };

export interface KeyLinking {
  readonly kind: 'keys';
  readonly fields: readonly KeyFieldSpec[];
  /** Validates the submitted form; each issue's path names the field it is about. */
  readonly schema: z.ZodType<KeyCredentials>;
  /** Tries the keys against the broker with a read-only call. Never throws for a refusal. */
  test(credentials: KeyCredentials): Promise<KeyTestResult>;
  /** What the page may show of the keys, e.g. "PK••••3F9A". */
  mask(credentials: KeyCredentials): string;
}

export interface OAuth2Linking {
  readonly kind: 'oauth2';
  readonly spec: OAuth2ProviderSpec;
  /** A read-only call proving the access token works (e.g. list accounts); absent: the token refresh alone. */
  probe?(accessToken: string): Promise<KeyTestResult>;
}

export interface OAuth1Linking {
  readonly kind: 'oauth1';
  readonly spec: OAuth1ProviderSpec;
}

export type LinkMethod = KeyLinking | OAuth2Linking | OAuth1Linking;

export interface LinkableProvider {
  readonly id: Exclude<BrokerProvider, 'paper'>;
  readonly name: string;
  /** One line for the linking page. */
  readonly description: string;
  /** Undefined when this server is not set up for the broker (no client id, say). */
  readonly linking: LinkMethod | undefined;
  /** Why linking is unavailable, for the page. */
  readonly unavailableReason?: string;
}

/** The linkable brokers, in the order the page lists them. */
export class ProviderCatalog {
  private readonly byId: ReadonlyMap<string, LinkableProvider>;

  constructor(readonly providers: readonly LinkableProvider[]) {
    this.byId = new Map(providers.map((provider) => [provider.id, provider]));
  }

  get(id: string): LinkableProvider | undefined {
    return this.byId.get(id);
  }

  /** The authorization origins of the OAuth providers (the page's CSP must allow redirects there). */
  authorizationOrigins(): string[] {
    const origins = new Set<string>();
    for (const provider of this.providers) {
      const linking = provider.linking;
      if (linking?.kind === 'oauth2') origins.add(new URL(linking.spec.authorizationEndpoint).origin);
      if (linking?.kind === 'oauth1') origins.add(new URL(linking.spec.authorizeUrl).origin);
    }
    return [...origins];
  }
}
