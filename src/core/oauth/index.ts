/**
 * OAuth for broker linking: sign-ins in flight (states), OAuth 2.0 and OAuth 1.0a flows, and the
 * access tokens of linked connections. Import from here; the files beside it are its parts.
 */
export {
  ACCESS_TOKEN_MIN_REMAINING_MS,
  ConnectionTokens,
  type OAuth2Credentials,
  type OAuth2Refresher,
  oauth2CredentialsSchema,
} from './connection-tokens.js';
export { checkEndpoint, isLoopbackUrl } from './endpoints.js';
export {
  OAuthError,
  OAuthReauthRequiredError,
  OAuthStateError,
  type OAuthStateFailure,
  OAuthUnavailableError,
  OAuthVerifierError,
} from './errors.js';
export {
  type BeginOAuthState,
  type ConsumedOAuthState,
  hashOAuthState,
  OAUTH_STATE_TTL_MS,
  OAuthStates,
} from './oauth-states.js';
export { OAuth1Flow, type OAuth1FlowDeps, type OAuth1ProviderSpec } from './oauth1-flow.js';
export { type OAuth1Consumer, OAuth1Signer, type OAuth1Tokens } from './oauth1-signer.js';
export {
  OAuth2Flow,
  type OAuth2FlowDeps,
  type OAuth2ProviderSpec,
  type OAuth2Tokens,
} from './oauth2-flow.js';
