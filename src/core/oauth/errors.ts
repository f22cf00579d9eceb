/**
 * What can go wrong while linking or refreshing an OAuth connection, split the way callers must
 * react: start the sign-in again (state), link again (re-auth), try again later (unavailable), or
 * read the message (everything else). Messages carry provider error codes and HTTP statuses only,
 * never tokens, codes, verifiers or provider-supplied descriptions (which may echo them).
 */
import { ArbionError } from '../errors.js';

/** A sign-in or token call failed for a reason the user can be told about. */
export class OAuthError extends ArbionError {
  readonly code: string = 'oauth_failed';
  /** The provider's RFC 6749 error code (`access_denied`, `invalid_client`...), when it sent one. */
  readonly providerError: string | undefined;

  constructor(
    message: string,
    userMessage: string,
    options?: { readonly providerError?: string; readonly cause?: unknown },
  ) {
    super(message, userMessage, options?.cause === undefined ? undefined : { cause: options.cause });
    this.providerError = options?.providerError;
  }
}

/** Why a state (the sign-in in flight) was refused. */
export type OAuthStateFailure = 'unknown' | 'expired' | 'used' | 'wrong_session';

const OAUTH_STATE_MESSAGES: Readonly<Record<OAuthStateFailure, string>> = {
  expired: 'This sign-in took too long and has expired. Start again from the linking page.',
  used: 'This sign-in was already completed or cancelled. Start again from the linking page.',
  unknown:
    'This sign-in does not match one started here, so nothing was linked. Start again from the linking page.',
  wrong_session: 'This sign-in was started in another browser session. Start again from the linking page.',
};

/** The callback's state is not one we issued to this browser for this provider, or it is spent. */
export class OAuthStateError extends OAuthError {
  override readonly code = 'oauth_state_invalid';
  readonly reason: OAuthStateFailure;

  constructor(reason: OAuthStateFailure) {
    super(`OAuth state refused: ${reason}`, OAUTH_STATE_MESSAGES[reason]);
    this.reason = reason;
  }
}

/** The grant is gone (refresh token expired, revoked or reused): the user must link the broker again. */
export class OAuthReauthRequiredError extends OAuthError {
  override readonly code = 'oauth_reauth_required';

  constructor(message: string, options?: { readonly providerError?: string; readonly cause?: unknown }) {
    super(message, 'Your broker sign-in has expired. Link the broker again from the linking page.', options);
  }
}

/** The provider could not be reached or failed on its side (network, timeout, 5xx, 429). */
export class OAuthUnavailableError extends OAuthError {
  override readonly code = 'oauth_unavailable';
  /** HTTP status of the failed answer; undefined when there was no answer at all. */
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, options?: { readonly cause?: unknown }) {
    super(message, 'The broker could not be reached. Nothing was changed; try again in a minute.', options);
    this.status = status;
  }
}

/** The OAuth 1.0a verification code the user typed was malformed, wrong or expired. */
export class OAuthVerifierError extends OAuthError {
  override readonly code = 'oauth_verifier_invalid';

  constructor(message: string, userMessage: string) {
    super(message, userMessage);
  }
}
