/**
 * The brokers a user can link, and how: an OAuth 2.0 sign-in, an OAuth 1.0a sign-in with a
 * verification code, or API keys typed into a form (a broker may offer a sign-in and keys side by
 * side). Each broker describes itself in src/brokers/<name>/linking.ts; the runtime collects them
 * into a {@link ProviderCatalog}.
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

export type LinkMethodKind = LinkMethod['kind'];

export interface LinkableProvider {
  readonly id: Exclude<BrokerProvider, 'paper'>;
  readonly name: string;
  /** One line for the linking page. */
  readonly description: string;
  /** The preferred way to link; undefined when this server is not set up for the broker (no client id, say). */
  readonly linking: LinkMethod | undefined;
  /**
   * Other ways offered beside `linking` (Coinbase: its CDP key form beside "Sign in with Coinbase").
   * A connection keeps the way it was linked, so these may come and go with the configuration.
   */
  readonly alternatives?: readonly LinkMethod[];
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

  /** The providers this server lets link one way (the token keeper's OAuth brokers). */
  offering(kind: LinkMethodKind): LinkableProvider['id'][] {
    return this.providers
      .filter((provider) => linkMethod(provider, kind) !== undefined)
      .map((provider) => provider.id);
  }

  /** The authorization origins of the OAuth providers (the page's CSP must allow redirects there). */
  authorizationOrigins(): string[] {
    const origins = new Set<string>();
    for (const method of this.providers.flatMap(linkMethods)) {
      if (method.kind === 'oauth2') origins.add(new URL(method.spec.authorizationEndpoint).origin);
      if (method.kind === 'oauth1') origins.add(new URL(method.spec.authorizeUrl).origin);
    }
    return [...origins];
  }
}

/** Every way this server lets the provider be linked, the preferred first. */
export function linkMethods(provider: LinkableProvider | undefined): LinkMethod[] {
  if (provider?.linking === undefined) return [];
  return [provider.linking, ...(provider.alternatives ?? [])];
}

/** The provider's way of linking of one kind, when this server offers it. */
export function linkMethod<K extends LinkMethodKind>(
  provider: LinkableProvider | undefined,
  kind: K,
): Extract<LinkMethod, { kind: K }> | undefined {
  return linkMethods(provider).find(
    (method): method is Extract<LinkMethod, { kind: K }> => method.kind === kind,
  );
}
