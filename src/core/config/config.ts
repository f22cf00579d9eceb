/**
 * The typed configuration the rest of the product reads. Built from the environment by
 * {@link parseEnvironment}, which reports every problem at once instead of stopping at the first.
 */
import path from 'node:path';
import type { z } from 'zod';
import {
  isVariableName,
  type ParsedEnvironment,
  type VariableName,
  variableNames,
  variables,
} from './variables.js';

/** One 32-byte AES key of the vault key ring. */
export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

export type DatabaseConfig =
  | { readonly kind: 'server'; readonly url: string; readonly poolSize: number }
  | { readonly kind: 'embedded'; readonly directory: string };

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly log: {
    readonly level: ParsedEnvironment['LOG_LEVEL'];
    readonly format: 'auto' | 'json' | 'pretty';
  };
  /** Absolute path of ARBION_DATA_DIR. */
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  /** Unset: jobs run in-process. */
  readonly redis: { readonly url: string } | undefined;
  readonly automation: {
    /** Strategies are evaluated and alerts checked once per tick. */
    readonly tickSeconds: number;
    readonly concurrency: number;
    /** BullMQ job lock; a dead worker's jobs are taken over after it. */
    readonly jobLockSeconds: number;
  };
  /** Key ring from the environment, or a key file generated in the data directory. */
  readonly vault:
    | { readonly source: 'environment'; readonly keys: readonly EncryptionKey[] }
    | { readonly source: 'keyFile'; readonly path: string };
  readonly web: {
    readonly host: string;
    readonly port: number;
    /** PUBLIC_URL when set: webhooks and OAuth callbacks use it. */
    readonly publicUrl: string | undefined;
  };
  readonly console: 'auto' | 'on' | 'off';
  readonly trading: {
    /** Decimal strings: money never passes through a float. */
    readonly paperStartingCash: string;
    readonly confirmationTtlSeconds: number;
    readonly priceToleranceBps: number;
    readonly maxOrderNotional: string;
    readonly maxPositionFraction: string;
    readonly dailyLossLimit: string;
    readonly marketDataSeed: number;
    readonly paperSlippageBps: number;
    readonly cryptoPrices: 'simulated' | 'coingecko';
  };
  /** Unset without OPENAI_API_KEY: the fast-path parser alone. */
  readonly llm:
    | {
        readonly apiKey: string;
        readonly baseUrl: string;
        readonly model: string;
        readonly timeoutMs: number;
      }
    | undefined;
  readonly channels: {
    readonly telegram:
      | { readonly token: string; readonly apiRoot: string; readonly webhookSecret: string | undefined }
      | undefined;
    readonly slack:
      | {
          readonly botToken: string;
          readonly signingSecret: string | undefined;
          readonly appToken: string | undefined;
          readonly socketMode: boolean;
          readonly apiUrl: string;
        }
      | undefined;
    readonly discord:
      | {
          readonly token: string;
          readonly applicationId: string;
          readonly publicKey: string | undefined;
          readonly apiUrl: string;
          /** Server roles whose members may trade. */
          readonly traderRoleIds: readonly string[];
        }
      | undefined;
  };
  readonly brokers: {
    readonly schwab:
      | {
          readonly clientId: string;
          readonly clientSecret: string;
          readonly redirectUri: string | undefined;
          readonly apiBase: string;
          readonly authBase: string;
        }
      | undefined;
    readonly etrade:
      | {
          readonly consumerKey: string;
          readonly consumerSecret: string;
          readonly apiBase: string;
          readonly authorizeUrl: string;
        }
      | undefined;
    readonly alpaca: { readonly paperApiBase: string; readonly liveApiBase: string };
    readonly coinbase: {
      readonly apiBase: string;
      readonly authBase: string;
      readonly oauth: { readonly clientId: string; readonly clientSecret: string } | undefined;
    };
    readonly cdp:
      | {
          readonly apiBase: string;
          readonly apiKeyId: string;
          readonly apiKeySecret: string;
          /**
           * From CDP_WALLET_SECRET. The vault's operator secret `cdp-wallet-secret` wins over it
           * (src/runtime/operator-secrets.ts); without either, wallets are not offered.
           */
          readonly walletSecret: string | undefined;
          readonly paymasterUrl: string | undefined;
        }
      | undefined;
  };
  readonly coingecko: {
    readonly apiBase: string;
    readonly apiKey: string | undefined;
    readonly plan: 'demo' | 'pro';
  };
  /** Every variable after validation, for doctor; mask secrets before showing it. */
  readonly environment: Readonly<Partial<ParsedEnvironment>>;
  /** Variables set in the environment or .env file (the rest are defaults or unset). */
  readonly explicitVariables: ReadonlySet<VariableName>;
  /** The raw values of every secret that is set, so logs can scrub them wherever they appear. */
  readonly secretValues: readonly string[];
  /** Not errors, but worth saying (unknown variables in .env, ...). */
  readonly warnings: readonly string[];
}

/** The outcome of validating an environment: a config, or every problem found. */
export type ParseResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly problems: string[] };

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLocalUrl(url: string): boolean {
  return LOCAL_HOSTS.has(new URL(url).hostname);
}

/**
 * Validates raw variables (empty strings count as unset) and builds the {@link Config}.
 * @param raw variable name -> raw string, already merged from the process and the .env file
 * @param options.cwd resolves a relative ARBION_DATA_DIR
 */
export function parseEnvironment(
  raw: Readonly<Record<string, string | undefined>>,
  options: { cwd: string; warnings?: readonly string[] },
): ParseResult {
  const problems: string[] = [];
  const parsed: Partial<Record<VariableName, unknown>> = {};

  for (const name of variableNames) {
    const spec = variables[name];
    const value = raw[name]?.trim() === '' ? undefined : raw[name];
    const result = (spec.schema as z.ZodType).safeParse(value);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      const shown = spec.secret || value === undefined ? '' : ` (got "${value}")`;
      const messages = [...new Set(result.error.issues.map((issue) => issue.message))].join('; ');
      problems.push(`${name}: ${value === undefined ? 'is required' : messages}${shown}`);
    }
  }
  const env = parsed as Partial<ParsedEnvironment>;
  const isSet = (name: VariableName) => raw[name] !== undefined && raw[name]?.trim() !== '';

  // Pairs that only make sense together.
  const pairs: [VariableName, VariableName][] = [
    ['SCHWAB_CLIENT_ID', 'SCHWAB_CLIENT_SECRET'],
    ['ETRADE_CONSUMER_KEY', 'ETRADE_CONSUMER_SECRET'],
    ['COINBASE_OAUTH_CLIENT_ID', 'COINBASE_OAUTH_CLIENT_SECRET'],
    ['CDP_API_KEY_ID', 'CDP_API_KEY_SECRET'],
    ['DISCORD_BOT_TOKEN', 'DISCORD_APPLICATION_ID'],
  ];
  for (const [first, second] of pairs) {
    if (isSet(first) && !isSet(second)) problems.push(`${second}: is required when ${first} is set`);
    if (isSet(second) && !isSet(first)) problems.push(`${first}: is required when ${second} is set`);
  }
  if (isSet('CDP_WALLET_SECRET') && !isSet('CDP_API_KEY_ID')) {
    problems.push('CDP_API_KEY_ID: is required when CDP_WALLET_SECRET is set');
  }
  if (isSet('DISCORD_PUBLIC_KEY') && !isSet('DISCORD_BOT_TOKEN')) {
    problems.push('DISCORD_BOT_TOKEN: is required when DISCORD_PUBLIC_KEY is set');
  }

  // Slack: HTTP mode needs the signing secret, Socket Mode the app token.
  if (isSet('SLACK_BOT_TOKEN')) {
    if (env.SLACK_SOCKET_MODE === true && !isSet('SLACK_APP_TOKEN')) {
      problems.push('SLACK_APP_TOKEN: is required when SLACK_SOCKET_MODE is true');
    }
    if (env.SLACK_SOCKET_MODE === false && !isSet('SLACK_SIGNING_SECRET')) {
      problems.push('SLACK_SIGNING_SECRET: is required when SLACK_BOT_TOKEN is set (HTTP events mode)');
    }
  } else {
    for (const name of ['SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'] as const) {
      if (isSet(name)) problems.push(`SLACK_BOT_TOKEN: is required when ${name} is set`);
    }
    if (env.SLACK_SOCKET_MODE === true)
      problems.push('SLACK_BOT_TOKEN: is required when SLACK_SOCKET_MODE is true');
  }

  // Telegram: webhooks (PUBLIC_URL set) must be authenticated by a secret token.
  if (isSet('TELEGRAM_WEBHOOK_SECRET') && !isSet('TELEGRAM_BOT_TOKEN')) {
    problems.push('TELEGRAM_BOT_TOKEN: is required when TELEGRAM_WEBHOOK_SECRET is set');
  }
  if (isSet('TELEGRAM_BOT_TOKEN') && isSet('PUBLIC_URL') && !isSet('TELEGRAM_WEBHOOK_SECRET')) {
    problems.push(
      'TELEGRAM_WEBHOOK_SECRET: is required when TELEGRAM_BOT_TOKEN and PUBLIC_URL are set (webhook mode)',
    );
  }

  // Webhooks and OAuth callbacks need https on anything but this machine.
  if (env.PUBLIC_URL !== undefined && !env.PUBLIC_URL.startsWith('https://') && !isLocalUrl(env.PUBLIC_URL)) {
    problems.push(`PUBLIC_URL: must use https unless it points at this machine (got "${env.PUBLIC_URL}")`);
  }

  if (env.RISK_MAX_POSITION_FRACTION !== undefined) {
    const fraction = env.RISK_MAX_POSITION_FRACTION;
    if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(fraction) || /^0(\.0+)?$/.test(fraction)) {
      problems.push(`RISK_MAX_POSITION_FRACTION: must be above 0 and at most 1 (got "${fraction}")`);
    }
  }
  if (env.COINGECKO_API_PLAN === 'pro' && !isSet('COINGECKO_API_KEY')) {
    problems.push('COINGECKO_API_KEY: is required when COINGECKO_API_PLAN is pro');
  }
  if (env.NODE_ENV === 'production' && !isSet('ARBION_ENCRYPTION_KEYS')) {
    problems.push(
      'ARBION_ENCRYPTION_KEYS: is required when NODE_ENV is production (generate one with: openssl rand -base64 32)',
    );
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: buildConfig(env as ParsedEnvironment, raw, options) };
}

function buildConfig(
  env: ParsedEnvironment,
  raw: Readonly<Record<string, string | undefined>>,
  options: { cwd: string; warnings?: readonly string[] },
): Config {
  const dataDir = path.resolve(options.cwd, env.ARBION_DATA_DIR);
  const secretValues = variableNames
    .filter((name) => variables[name].secret)
    .map((name) => raw[name]?.trim())
    .filter((value): value is string => value !== undefined && value.length >= 6);
  // Connection strings hide their password inside the URL: scrub the password on its own too.
  for (const url of [env.DATABASE_URL, env.REDIS_URL]) {
    if (url === undefined) continue;
    const password = decodeURIComponent(new URL(url).password);
    if (password.length >= 4) secretValues.push(password);
  }
  for (const key of env.ARBION_ENCRYPTION_KEYS ?? []) secretValues.push(key.key.toString('base64'));

  const environment: Partial<ParsedEnvironment> = {};
  for (const name of variableNames) {
    if (env[name] !== undefined) (environment as Record<string, unknown>)[name] = env[name];
  }

  return {
    env: env.NODE_ENV,
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT },
    dataDir,
    database:
      env.DATABASE_URL !== undefined
        ? { kind: 'server', url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE }
        : { kind: 'embedded', directory: path.join(dataDir, 'postgres') },
    redis: env.REDIS_URL !== undefined ? { url: env.REDIS_URL } : undefined,
    automation: {
      tickSeconds: env.AUTOMATION_TICK_SECONDS,
      concurrency: env.AUTOMATION_CONCURRENCY,
      jobLockSeconds: env.AUTOMATION_JOB_LOCK_SECONDS,
    },
    vault:
      env.ARBION_ENCRYPTION_KEYS !== undefined
        ? { source: 'environment', keys: env.ARBION_ENCRYPTION_KEYS }
        : { source: 'keyFile', path: path.join(dataDir, 'vault.key') },
    web: { host: env.HOST, port: env.PORT, publicUrl: env.PUBLIC_URL },
    console: env.ARBION_CONSOLE,
    trading: {
      paperStartingCash: env.PAPER_STARTING_CASH,
      confirmationTtlSeconds: env.CONFIRMATION_TTL_SECONDS,
      priceToleranceBps: env.PRICE_TOLERANCE_BPS,
      maxOrderNotional: env.RISK_MAX_ORDER_NOTIONAL,
      maxPositionFraction: env.RISK_MAX_POSITION_FRACTION,
      dailyLossLimit: env.RISK_DAILY_LOSS_LIMIT,
      marketDataSeed: env.MARKET_DATA_SEED,
      paperSlippageBps: env.PAPER_SLIPPAGE_BPS,
      cryptoPrices: env.CRYPTO_PRICES,
    },
    llm:
      env.OPENAI_API_KEY !== undefined
        ? {
            apiKey: env.OPENAI_API_KEY,
            baseUrl: env.OPENAI_BASE_URL,
            model: env.OPENAI_MODEL,
            timeoutMs: env.OPENAI_TIMEOUT_MS,
          }
        : undefined,
    channels: {
      telegram:
        env.TELEGRAM_BOT_TOKEN !== undefined
          ? {
              token: env.TELEGRAM_BOT_TOKEN,
              apiRoot: env.TELEGRAM_API_ROOT,
              webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
            }
          : undefined,
      slack:
        env.SLACK_BOT_TOKEN !== undefined
          ? {
              botToken: env.SLACK_BOT_TOKEN,
              signingSecret: env.SLACK_SIGNING_SECRET,
              appToken: env.SLACK_APP_TOKEN,
              socketMode: env.SLACK_SOCKET_MODE,
              apiUrl: env.SLACK_API_URL,
            }
          : undefined,
      discord:
        env.DISCORD_BOT_TOKEN !== undefined && env.DISCORD_APPLICATION_ID !== undefined
          ? {
              token: env.DISCORD_BOT_TOKEN,
              applicationId: env.DISCORD_APPLICATION_ID,
              publicKey: env.DISCORD_PUBLIC_KEY,
              apiUrl: env.DISCORD_API_URL,
              traderRoleIds: env.DISCORD_TRADER_ROLE_IDS ?? [],
            }
          : undefined,
    },
    brokers: {
      schwab:
        env.SCHWAB_CLIENT_ID !== undefined && env.SCHWAB_CLIENT_SECRET !== undefined
          ? {
              clientId: env.SCHWAB_CLIENT_ID,
              clientSecret: env.SCHWAB_CLIENT_SECRET,
              redirectUri: env.SCHWAB_REDIRECT_URI,
              apiBase: env.SCHWAB_API_BASE,
              authBase: env.SCHWAB_AUTH_BASE,
            }
          : undefined,
      etrade:
        env.ETRADE_CONSUMER_KEY !== undefined && env.ETRADE_CONSUMER_SECRET !== undefined
          ? {
              consumerKey: env.ETRADE_CONSUMER_KEY,
              consumerSecret: env.ETRADE_CONSUMER_SECRET,
              apiBase: env.ETRADE_API_BASE,
              authorizeUrl: env.ETRADE_AUTHORIZE_URL,
            }
          : undefined,
      alpaca: { paperApiBase: env.ALPACA_PAPER_API_BASE, liveApiBase: env.ALPACA_LIVE_API_BASE },
      coinbase: {
        apiBase: env.COINBASE_API_BASE,
        authBase: env.COINBASE_AUTH_BASE,
        oauth:
          env.COINBASE_OAUTH_CLIENT_ID !== undefined && env.COINBASE_OAUTH_CLIENT_SECRET !== undefined
            ? { clientId: env.COINBASE_OAUTH_CLIENT_ID, clientSecret: env.COINBASE_OAUTH_CLIENT_SECRET }
            : undefined,
      },
      cdp:
        env.CDP_API_KEY_ID !== undefined && env.CDP_API_KEY_SECRET !== undefined
          ? {
              apiBase: env.CDP_API_BASE,
              apiKeyId: env.CDP_API_KEY_ID,
              apiKeySecret: env.CDP_API_KEY_SECRET,
              walletSecret: env.CDP_WALLET_SECRET,
              paymasterUrl: env.CDP_PAYMASTER_URL,
            }
          : undefined,
    },
    coingecko: {
      apiBase: env.COINGECKO_API_BASE,
      apiKey: env.COINGECKO_API_KEY,
      plan: env.COINGECKO_API_PLAN,
    },
    environment,
    explicitVariables: new Set(
      variableNames.filter((name) => raw[name] !== undefined && raw[name]?.trim() !== ''),
    ),
    secretValues: [...new Set(secretValues)],
    warnings: options.warnings ?? [],
  };
}

/** Names in `raw` that look like Arbion settings but are not in the table (typos). */
export function unknownArbionVariables(names: Iterable<string>): string[] {
  return [...names].filter((name) => name.startsWith('ARBION_') && !isVariableName(name));
}
