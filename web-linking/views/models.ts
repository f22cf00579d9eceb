/**
 * What each page of the linking site renders: plain, serialisable values the routes fill in.
 *
 * Templates only read these; they never reach into services. Dates are ISO strings so a route can
 * pass database values through unchanged and the view decides how to show them. Secrets never
 * appear here: a stored credential is only ever a `maskedCredential`.
 */

/** The signed-in person, shown in the top bar. */
export interface Viewer {
  displayName: string;
  platform: 'telegram' | 'slack' | 'discord' | 'console' | 'web';
  /** ISO; when the web session ends unless renewed. */
  sessionExpiresAt: string;
}

/** A one-off message shown above the page content after a redirect. */
export interface Flash {
  kind: 'success' | 'error' | 'info';
  text: string;
}

export type ConnectionStatusView = 'pending' | 'active' | 'needs_reauth' | 'error' | 'revoked';

/** One stored broker connection of the viewer. */
export interface ConnectionView {
  id: string;
  status: ConnectionStatusView;
  mode: 'paper' | 'live';
  health: 'unknown' | 'healthy' | 'degraded' | 'down';
  healthDetail?: string;
  /** ISO */
  lastHealthCheckAt?: string;
  /** ISO */
  accessTokenExpiresAt?: string;
  /** ISO; the page shows "Re-link by <date>" when this is within 2 days. */
  refreshTokenExpiresAt?: string;
  label?: string;
  /** e.g. "PK••••••3F9A"; never the secret itself. */
  maskedCredential?: string;
  /** How this connection was linked, when the broker offers more than one way; else the provider's `method`. */
  linkedWith?: 'oauth2' | 'oauth1' | 'keys';
  /** ISO */
  createdAt: string;
  lastError?: string;
}

/** A broker the server can link, with the viewer's connection to it if any. */
export interface ProviderView {
  id: 'schwab' | 'etrade' | 'alpaca' | 'coinbase' | 'cdp_wallet';
  name: string;
  description: string;
  /** The preferred way to link. */
  method: 'oauth2' | 'oauth1' | 'keys';
  /** Ways offered beside `method` (Coinbase: API keys beside its sign-in). */
  otherMethods?: ('oauth2' | 'oauth1' | 'keys')[];
  available: boolean;
  /** e.g. "Not set up on this server" */
  unavailableReason?: string;
  connection?: ConnectionView;
}

/**
 * GET /connections. Per provider card: Connect (POST /connections/:provider/connect for OAuth,
 * GET /connections/:provider/keys for keys; both when the broker offers both); with a connection:
 * Test (POST /connections/:id/test), Rotate keys (GET /connections/:provider/keys?rotate=<id>) or
 * Reconnect (POST /connections/:provider/connect) as it was linked, Unlink (POST
 * /connections/:id/unlink).
 */
export interface ConnectionsPage {
  viewer: Viewer;
  csrfToken: string;
  flash?: Flash;
  providers: ProviderView[];
}

/** The landing page of a link from the chat: one POST /link with the token, then a session. */
export interface LinkContinuePage {
  csrfToken: string;
  token: string;
  viewer: Omit<Viewer, 'sessionExpiresAt'>;
  /** ISO; when the link stops working. */
  expiresAt: string;
}

/** One input of the API key form. */
export interface KeyField {
  name: string;
  label: string;
  kind: 'text' | 'secret' | 'multiline-secret' | 'select';
  options?: { value: string; label: string }[];
  placeholder?: string;
  help?: string;
  /** Re-filled after a failed submit; never set for secret kinds (the view ignores it there). */
  value?: string;
  error?: string;
}

/** GET /connections/:provider/keys: paste API keys, or rotate them for an existing connection. */
export interface KeysFormPage {
  viewer: Viewer;
  csrfToken: string;
  provider: { id: string; name: string };
  rotateConnectionId?: string;
  fields: KeyField[];
  formError?: string;
  /** POST target */
  action: string;
}

/** OAuth 1.0a out-of-band flow (E*TRADE): open the broker, then paste the verification code. */
export interface OAuth1VerifierPage {
  viewer: Viewer;
  csrfToken: string;
  provider: { id: string; name: string };
  authorizeUrl: string;
  state: string;
  action: string;
  error?: string;
}

/** Any failure; `message` and `hint` must already be safe to show (no internals). */
export interface ErrorPage {
  status: number;
  title: string;
  message: string;
  hint?: string;
  /** The request id, so support can find the log lines. */
  reference?: string;
}

/** A calm full-page message, e.g. after signing out. */
export interface NoticePage {
  viewer?: Viewer;
  /** With a viewer: lets the top bar offer Sign out. */
  csrfToken?: string;
  title: string;
  message: string;
  tone: 'success' | 'info';
}
