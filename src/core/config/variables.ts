/**
 * Every environment variable Arbion reads, in one table.
 *
 * This table is the single source of truth: the zod schema, the masked `arbion doctor` output,
 * `.env.example` and docs/configuration.md are all checked against it by tests, so a variable
 * cannot exist in one place and be missing from another.
 */
import { z } from 'zod';

/** The part of the product a variable belongs to; doctor groups its output by this. */
export type VariableGroup =
  | 'core'
  | 'database'
  | 'jobs'
  | 'web'
  | 'trading'
  | 'llm'
  | 'telegram'
  | 'slack'
  | 'discord'
  | 'schwab'
  | 'etrade'
  | 'alpaca'
  | 'coinbase'
  | 'cdp'
  | 'coingecko';

/** One environment variable: how it is validated and how it is documented. */
export interface VariableSpec<S extends z.ZodType = z.ZodType> {
  /** Which part of the product reads it. */
  readonly group: VariableGroup;
  /** One sentence for .env.example, docs and doctor. */
  readonly description: string;
  /** Secrets are masked in doctor output and scrubbed from logs. */
  readonly secret: boolean;
  /** Validates the raw string (or undefined when unset) and applies the default. */
  readonly schema: S;
  /** The default as a human reads it, for docs; absent = no default. */
  readonly defaultText?: string;
}

function variable<S extends z.ZodType>(spec: VariableSpec<S>): VariableSpec<S> {
  return spec;
}

// ---------------------------------------------------------------- reusable value schemas

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .transform((value) => value.replace(/\/+$/, ''));

const webSocketOrHttpUrl = z.url({ protocol: /^(https?|wss?)$/, error: 'must be an http(s) or ws(s) URL' });

function urlWithDefault(defaultUrl: string) {
  return httpUrl.default(defaultUrl);
}

/** A positive decimal amount kept as a string: money never passes through a JS float. */
const decimalString = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a plain decimal number such as 100000 or 0.25');

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
    error: 'must be true or false',
  })
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

function integerInRange(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** PostgreSQL connection string. */
const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// connection string')
  .pipe(z.url({ error: 'is not a valid connection string' }));

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/.*/, 'must be a redis:// or rediss:// URL')
  .pipe(z.url({ error: 'is not a valid Redis URL' }));

/** `id:base64key[,id:base64key...]`, each key exactly 32 bytes (AES-256). */
const encryptionKeyRing = z.string().transform((value, ctx) => {
  const keys: { id: string; key: Buffer }[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const separator = entry.indexOf(':');
    const id = separator > 0 ? entry.slice(0, separator) : '';
    const material = separator > 0 ? entry.slice(separator + 1) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id) || material === '') {
      ctx.addIssue({ code: 'custom', message: 'entries must look like keyId:base64key, comma separated' });
      return z.NEVER;
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== material.replace(/=+$/, '')) {
      ctx.addIssue({
        code: 'custom',
        message: `key "${id}" must be 32 bytes of base64 (openssl rand -base64 32)`,
      });
      return z.NEVER;
    }
    if (keys.some((known) => known.id === id)) {
      ctx.addIssue({ code: 'custom', message: `key id "${id}" appears twice` });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  return keys;
});

// ---------------------------------------------------------------- the table

export const variables = {
  // core
  NODE_ENV: variable({
    group: 'core',
    description:
      'development, production or test. Production refuses embedded shortcuts such as a generated key file.',
    secret: false,
    schema: z.enum(['development', 'production', 'test']).default('development'),
    defaultText: 'development',
  }),
  LOG_LEVEL: variable({
    group: 'core',
    description: 'Log threshold: fatal, error, warn, info, debug or trace.',
    secret: false,
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    defaultText: 'info',
  }),
  LOG_FORMAT: variable({
    group: 'core',
    description: 'auto (pretty in a terminal, JSON otherwise), json or pretty.',
    secret: false,
    schema: z.enum(['auto', 'json', 'pretty']).default('auto'),
    defaultText: 'auto',
  }),
  ARBION_DATA_DIR: variable({
    group: 'core',
    description: 'Folder for the embedded database and the generated key file.',
    secret: false,
    schema: z.string().min(1).default('./data'),
    defaultText: './data',
  }),
  ARBION_ENCRYPTION_KEYS: variable({
    group: 'core',
    description:
      'Vault key ring, keyId:base64(32 bytes) pairs separated by commas; the first encrypts, all decrypt. ' +
      'Unset in development: a key file is generated in ARBION_DATA_DIR. Required in production.',
    secret: true,
    schema: encryptionKeyRing.optional(),
  }),
  ARBION_CONSOLE: variable({
    group: 'core',
    description: 'Console chat in `arbion start`: auto (when run in a terminal), on or off.',
    secret: false,
    schema: z.enum(['auto', 'on', 'off']).default('auto'),
    defaultText: 'auto',
  }),

  // database and jobs
  DATABASE_URL: variable({
    group: 'database',
    description:
      'PostgreSQL server connection string. Unset: embedded PostgreSQL (PGlite) in ARBION_DATA_DIR.',
    secret: true,
    schema: postgresUrl.optional(),
  }),
  DATABASE_POOL_SIZE: variable({
    group: 'database',
    description: 'Connections per process to the PostgreSQL server.',
    secret: false,
    schema: integerInRange(1, 200).default(10),
    defaultText: '10',
  }),
  REDIS_URL: variable({
    group: 'jobs',
    description:
      'Redis for BullMQ jobs and cross-process locks. Unset: in-process jobs (single process only).',
    secret: true,
    schema: redisUrl.optional(),
  }),
  AUTOMATION_TICK_SECONDS: variable({
    group: 'jobs',
    description: 'How often strategies are evaluated and alerts checked, in seconds.',
    secret: false,
    schema: integerInRange(1, 3600).default(60),
    defaultText: '60',
  }),
  AUTOMATION_JOB_LOCK_SECONDS: variable({
    group: 'jobs',
    description:
      "How long a running job is locked to its worker (BullMQ). A dead worker's jobs are taken over by another worker after about this long.",
    secret: false,
    schema: integerInRange(1, 600).default(30),
    defaultText: '30',
  }),
  AUTOMATION_CONCURRENCY: variable({
    group: 'jobs',
    description: 'Strategy evaluations and alert checks one process runs at the same time.',
    secret: false,
    schema: integerInRange(1, 256).default(8),
    defaultText: '8',
  }),

  // web
  HOST: variable({
    group: 'web',
    description: 'Interface the web server (linking page, webhooks) listens on.',
    secret: false,
    schema: z.string().min(1).default('127.0.0.1'),
    defaultText: '127.0.0.1',
  }),
  PORT: variable({
    group: 'web',
    description: 'Port of the web server; 0 picks a free one.',
    secret: false,
    schema: integerInRange(0, 65535).default(3000),
    defaultText: '3000',
  }),
  PUBLIC_URL: variable({
    group: 'web',
    description:
      'Public https URL of this server, for webhooks and OAuth callbacks. Unset: http://HOST:PORT (local use only).',
    secret: false,
    schema: httpUrl.optional(),
  }),

  // trading defaults
  PAPER_STARTING_CASH: variable({
    group: 'trading',
    description: 'Cash in every new paper account, in USD.',
    secret: false,
    schema: decimalString.default('100000'),
    defaultText: '100000',
  }),
  CONFIRMATION_TTL_SECONDS: variable({
    group: 'trading',
    description: 'How long a confirmation card can be confirmed; after that it counts as denied.',
    secret: false,
    schema: integerInRange(10, 3600).default(120),
    defaultText: '120',
  }),
  PRICE_TOLERANCE_BPS: variable({
    group: 'trading',
    description: 'Price move (basis points) allowed between the card and execution before asking again.',
    secret: false,
    schema: integerInRange(0, 10000).default(50),
    defaultText: '50',
  }),
  RISK_MAX_ORDER_NOTIONAL: variable({
    group: 'trading',
    description: 'Default largest order value in USD, per order.',
    secret: false,
    schema: decimalString.default('25000'),
    defaultText: '25000',
  }),
  RISK_MAX_POSITION_FRACTION: variable({
    group: 'trading',
    description: 'Default largest share of account equity one position may reach (0 to 1).',
    secret: false,
    schema: decimalString.default('0.25'),
    defaultText: '0.25',
  }),
  RISK_DAILY_LOSS_LIMIT: variable({
    group: 'trading',
    description: 'Default daily realized loss in USD after which new orders are refused.',
    secret: false,
    schema: decimalString.default('2000'),
    defaultText: '2000',
  }),
  PAPER_SLIPPAGE_BPS: variable({
    group: 'trading',
    description: 'Slippage the paper broker applies to market orders, in basis points.',
    secret: false,
    schema: integerInRange(0, 1000).default(2),
    defaultText: '2',
  }),
  CRYPTO_PRICES: variable({
    group: 'trading',
    description: 'Where crypto prices come from: simulated (offline, the default) or coingecko.',
    secret: false,
    schema: z.enum(['simulated', 'coingecko']).default('simulated'),
    defaultText: 'simulated',
  }),
  MARKET_DATA_SEED: variable({
    group: 'trading',
    description: 'Seed of the offline simulated market (embedded default market data).',
    secret: false,
    schema: integerInRange(0, 2 ** 31 - 1).default(42),
    defaultText: '42',
  }),

  // LLM
  OPENAI_API_KEY: variable({
    group: 'llm',
    description: 'Enables natural-language understanding. Unset: the fast-path parser alone.',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  OPENAI_BASE_URL: variable({
    group: 'llm',
    description: 'Any OpenAI-compatible server.',
    secret: false,
    schema: urlWithDefault('https://api.openai.com/v1'),
    defaultText: 'https://api.openai.com/v1',
  }),
  OPENAI_MODEL: variable({
    group: 'llm',
    description: 'Chat Completions model with function calling.',
    secret: false,
    schema: nonEmpty.default('gpt-4.1-mini'),
    defaultText: 'gpt-4.1-mini',
  }),
  OPENAI_TIMEOUT_MS: variable({
    group: 'llm',
    description: 'Per-request timeout for the LLM.',
    secret: false,
    schema: integerInRange(1000, 300000).default(20000),
    defaultText: '20000',
  }),

  // Telegram
  TELEGRAM_BOT_TOKEN: variable({
    group: 'telegram',
    description: 'Bot token from @BotFather; starts the Telegram channel.',
    secret: true,
    schema: z
      .string()
      .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'must look like 123456:ABC... (the token @BotFather gave you)')
      .optional(),
  }),
  TELEGRAM_API_ROOT: variable({
    group: 'telegram',
    description: 'Bot API server.',
    secret: false,
    schema: urlWithDefault('https://api.telegram.org'),
    defaultText: 'https://api.telegram.org',
  }),
  TELEGRAM_WEBHOOK_SECRET: variable({
    group: 'telegram',
    description:
      'Secret token Telegram sends with each webhook (X-Telegram-Bot-Api-Secret-Token). Webhooks are used when PUBLIC_URL is set.',
    secret: true,
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -')
      .optional(),
  }),

  // Slack
  SLACK_BOT_TOKEN: variable({
    group: 'slack',
    description: 'Bot token (xoxb-...); starts the Slack channel.',
    secret: true,
    schema: z.string().startsWith('xoxb-', 'must start with xoxb-').optional(),
  }),
  SLACK_SIGNING_SECRET: variable({
    group: 'slack',
    description: 'Verifies inbound HTTP requests from Slack.',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  SLACK_APP_TOKEN: variable({
    group: 'slack',
    description: 'App-level token (xapp-...) for Socket Mode.',
    secret: true,
    schema: z.string().startsWith('xapp-', 'must start with xapp-').optional(),
  }),
  SLACK_SOCKET_MODE: variable({
    group: 'slack',
    description: 'Use Socket Mode instead of HTTP events.',
    secret: false,
    schema: booleanFlag.default(false),
    defaultText: 'false',
  }),
  SLACK_API_URL: variable({
    group: 'slack',
    description: 'Slack Web API base.',
    secret: false,
    schema: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .transform((value) => (value.endsWith('/') ? value : `${value}/`))
      .default('https://slack.com/api/'),
    defaultText: 'https://slack.com/api/',
  }),

  // Discord
  DISCORD_BOT_TOKEN: variable({
    group: 'discord',
    description: 'Bot token; starts the Discord channel.',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  DISCORD_APPLICATION_ID: variable({
    group: 'discord',
    description: 'Application id, for slash command registration.',
    secret: false,
    schema: z
      .string()
      .regex(/^\d{5,25}$/, 'must be the numeric application id')
      .optional(),
  }),
  DISCORD_PUBLIC_KEY: variable({
    group: 'discord',
    description: 'Ed25519 public key (hex) for the HTTP interactions endpoint.',
    secret: false,
    schema: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters')
      .optional(),
  }),
  DISCORD_TRADER_ROLE_IDS: variable({
    group: 'discord',
    description:
      'Comma-separated ids of the server roles that may trade. Members with Administrator or Manage Server are admins; everyone else is a viewer.',
    secret: false,
    schema: z
      .string()
      .regex(/^\s*\d{5,25}(\s*,\s*\d{5,25})*\s*$/, 'must be comma-separated numeric role ids')
      .transform((value) => value.split(',').map((id) => id.trim()))
      .optional(),
  }),
  DISCORD_API_URL: variable({
    group: 'discord',
    description: 'Discord REST base.',
    secret: false,
    schema: urlWithDefault('https://discord.com/api'),
    defaultText: 'https://discord.com/api',
  }),

  // Schwab
  SCHWAB_CLIENT_ID: variable({
    group: 'schwab',
    description: 'App key of your Schwab developer app.',
    secret: false,
    schema: nonEmpty.optional(),
  }),
  SCHWAB_CLIENT_SECRET: variable({
    group: 'schwab',
    description: 'App secret of your Schwab developer app.',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  SCHWAB_REDIRECT_URI: variable({
    group: 'schwab',
    description: 'Callback registered with Schwab, exactly. Unset: PUBLIC_URL + /oauth/schwab/callback.',
    secret: false,
    schema: z.url({ error: 'must be a URL' }).optional(),
  }),
  SCHWAB_API_BASE: variable({
    group: 'schwab',
    description: 'Schwab API host (trader/v1 and marketdata/v1 below it).',
    secret: false,
    schema: urlWithDefault('https://api.schwabapi.com'),
    defaultText: 'https://api.schwabapi.com',
  }),
  SCHWAB_AUTH_BASE: variable({
    group: 'schwab',
    description: 'Schwab OAuth base (authorize and token below it).',
    secret: false,
    schema: urlWithDefault('https://api.schwabapi.com/v1/oauth'),
    defaultText: 'https://api.schwabapi.com/v1/oauth',
  }),

  // E*TRADE
  ETRADE_CONSUMER_KEY: variable({
    group: 'etrade',
    description: 'E*TRADE consumer key.',
    secret: false,
    schema: nonEmpty.optional(),
  }),
  ETRADE_CONSUMER_SECRET: variable({
    group: 'etrade',
    description: 'E*TRADE consumer secret.',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  ETRADE_API_BASE: variable({
    group: 'etrade',
    description: 'E*TRADE API host (sandbox: https://apisb.etrade.com).',
    secret: false,
    schema: urlWithDefault('https://api.etrade.com'),
    defaultText: 'https://api.etrade.com',
  }),
  ETRADE_AUTHORIZE_URL: variable({
    group: 'etrade',
    description: 'Page where the user authorizes the request token and gets a verifier code.',
    secret: false,
    schema: urlWithDefault('https://us.etrade.com/e/t/etws/authorize'),
    defaultText: 'https://us.etrade.com/e/t/etws/authorize',
  }),

  // Alpaca (users enter their own keys on the linking page)
  ALPACA_PAPER_API_BASE: variable({
    group: 'alpaca',
    description: 'Alpaca paper trading host.',
    secret: false,
    schema: urlWithDefault('https://paper-api.alpaca.markets'),
    defaultText: 'https://paper-api.alpaca.markets',
  }),
  ALPACA_LIVE_API_BASE: variable({
    group: 'alpaca',
    description: 'Alpaca live trading host.',
    secret: false,
    schema: urlWithDefault('https://api.alpaca.markets'),
    defaultText: 'https://api.alpaca.markets',
  }),

  // Coinbase Advanced Trade (CDP keys are entered per user; OAuth needs an app)
  COINBASE_API_BASE: variable({
    group: 'coinbase',
    description: 'Coinbase Advanced Trade host (api/v3/brokerage below it).',
    secret: false,
    schema: urlWithDefault('https://api.coinbase.com'),
    defaultText: 'https://api.coinbase.com',
  }),
  COINBASE_AUTH_BASE: variable({
    group: 'coinbase',
    description: 'Coinbase OAuth host (oauth2/auth and oauth2/token below it).',
    secret: false,
    schema: urlWithDefault('https://login.coinbase.com'),
    defaultText: 'https://login.coinbase.com',
  }),
  COINBASE_OAUTH_CLIENT_ID: variable({
    group: 'coinbase',
    description: 'OAuth client id, to offer "Sign in with Coinbase" linking.',
    secret: false,
    schema: nonEmpty.optional(),
  }),
  COINBASE_OAUTH_CLIENT_SECRET: variable({
    group: 'coinbase',
    description: 'OAuth client secret.',
    secret: true,
    schema: nonEmpty.optional(),
  }),

  // CDP v2 wallet (smart accounts)
  CDP_API_BASE: variable({
    group: 'cdp',
    description: 'CDP platform API base.',
    secret: false,
    schema: urlWithDefault('https://api.cdp.coinbase.com/platform'),
    defaultText: 'https://api.cdp.coinbase.com/platform',
  }),
  CDP_API_KEY_ID: variable({
    group: 'cdp',
    description: 'CDP API key id for the wallet service.',
    secret: false,
    schema: nonEmpty.optional(),
  }),
  CDP_API_KEY_SECRET: variable({
    group: 'cdp',
    description: 'CDP API key secret (Ed25519 or EC PEM).',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  CDP_WALLET_SECRET: variable({
    group: 'cdp',
    description:
      'CDP wallet secret that signs X-Wallet-Auth. Prefer the vault: `arbion secrets set cdp-wallet-secret` (a stored secret wins over this variable).',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  CDP_PAYMASTER_URL: variable({
    group: 'cdp',
    description: 'Paymaster for gas sponsorship of user operations. Unset: the SDK default per network.',
    secret: false,
    schema: webSocketOrHttpUrl.optional(),
  }),

  // CoinGecko
  COINGECKO_API_BASE: variable({
    group: 'coingecko',
    description: 'CoinGecko API base (Pro: https://pro-api.coingecko.com/api/v3).',
    secret: false,
    schema: urlWithDefault('https://api.coingecko.com/api/v3'),
    defaultText: 'https://api.coingecko.com/api/v3',
  }),
  COINGECKO_API_KEY: variable({
    group: 'coingecko',
    description: 'Demo or Pro API key.',
    secret: true,
    schema: nonEmpty.optional(),
  }),
  COINGECKO_API_PLAN: variable({
    group: 'coingecko',
    description: 'demo or pro: which key header to send.',
    secret: false,
    schema: z.enum(['demo', 'pro']).default('demo'),
    defaultText: 'demo',
  }),
} as const;

export type VariableName = keyof typeof variables;

/** The parsed environment, one field per variable, defaults applied. */
export type ParsedEnvironment = {
  -readonly [K in VariableName]: z.output<(typeof variables)[K]['schema']>;
};

export const variableNames = Object.keys(variables) as VariableName[];

export function isVariableName(name: string): name is VariableName {
  return Object.hasOwn(variables, name);
}
