/**
 * Structured logging with pino: JSON for machines, pretty in a terminal.
 *
 * Two layers keep secrets out of logs:
 * 1. `redact` removes fields whose *name* says they hold a secret (token, password, authorization...).
 * 2. A scrubber replaces any configured secret *value*, and strings shaped like well-known tokens,
 *    wherever they appear: in messages, nested fields, error messages and URLs (a Telegram bot token
 *    sits in every Bot API URL).
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Field names that always hold secrets, at any of the first three levels. */
const SECRET_FIELD_NAMES = [
  'password',
  'passphrase',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'access_token',
  'refresh_token',
  'id_token',
  'apiKey',
  'api_key',
  'apiSecret',
  'clientSecret',
  'client_secret',
  'privateKey',
  'private_key',
  'walletSecret',
  'credentials',
  'credential',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'codeVerifier',
  'code_verifier',
  'oauth_token_secret',
  'x-telegram-bot-api-secret-token',
  'x-slack-signature',
  'x-wallet-auth',
  'apca-api-secret-key',
];

export const REDACT_PATHS: string[] = SECRET_FIELD_NAMES.flatMap((name) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`;
  const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
  return [key.startsWith('[') ? key.slice(2, -2) : key, join('*'), join('*.*')];
});

/** Shapes of tokens we may hold even when they are not in the configuration (per-user credentials). */
const TOKEN_PATTERNS: RegExp[] = [
  /(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}/g, // Telegram bot token (also inside /bot<token>/ URLs)
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, // Slack tokens
  /\bxapp-[A-Za-z0-9-]{10,}\b/g, // Slack app token
  /\bsk-[A-Za-z0-9_-]{20,}\b/g, // OpenAI keys
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, // bearer credentials
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];

const REPLACEMENT = '[REDACTED]';
const MAX_DEPTH = 8;

/** Replaces secret values and token-shaped strings in any value, recursively. */
export function createScrubber(secretValues: readonly string[]): (value: unknown) => unknown {
  // Longest first, so a secret that contains another is replaced whole.
  const secrets = [...secretValues].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);

  const scrubString = (text: string): string => {
    let result = text;
    for (const secret of secrets) {
      if (result.includes(secret)) result = result.split(secret).join(REPLACEMENT);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret && result.includes(encoded)) result = result.split(encoded).join(REPLACEMENT);
    }
    for (const pattern of TOKEN_PATTERNS) result = result.replace(pattern, REPLACEMENT);
    return result;
  };

  const scrub = (value: unknown, depth: number, seen: WeakSet<object>): unknown => {
    if (typeof value === 'string') return scrubString(value);
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
    if (value instanceof Error) {
      return {
        type: value.name,
        message: scrubString(value.message),
        stack: value.stack === undefined ? undefined : scrubString(value.stack),
        ...('code' in value ? { code: value.code } : {}),
      };
    }
    if (value instanceof Date || Buffer.isBuffer(value)) return value;
    const output: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) output[key] = scrub(inner, depth + 1, seen);
    return output;
  };

  return (value) => scrub(value, 0, new WeakSet());
}

export interface CreateLoggerOptions {
  readonly level: LoggerOptions['level'];
  /** `auto`: pretty when stdout is a terminal. */
  readonly format: 'auto' | 'json' | 'pretty';
  /** Values to scrub wherever they appear (from the configuration). */
  readonly secretValues: readonly string[];
  /** Where to write; defaults to stdout. Tests pass a memory stream. */
  readonly destination?: DestinationStream;
  /** Fields on every line. */
  readonly base?: Record<string, unknown>;
}

/** Creates the root logger. Children (`logger.child({ userId })`) inherit redaction and scrubbing. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const scrub = createScrubber(options.secretValues);
  const usePretty =
    options.format === 'pretty' ||
    (options.format === 'auto' && options.destination === undefined && process.stdout.isTTY);

  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? { service: 'arbion' },
    redact: { paths: REDACT_PATHS, censor: REPLACEMENT },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: (error: unknown) => scrub(error), error: (error: unknown) => scrub(error) },
    formatters: { log: (object) => scrub(object) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? (scrub(arg) as string) : arg)) as Parameters<
            typeof method
          >,
        );
      },
    },
  };

  if (usePretty) {
    const stream = pretty({
      colorize: options.destination === undefined && process.stdout.isTTY,
      sync: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,service',
      destination: options.destination ?? 1,
    });
    return pino(loggerOptions, stream);
  }
  return pino(loggerOptions, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
