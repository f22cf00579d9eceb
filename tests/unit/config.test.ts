import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../src/core/config/config.js';
import { describeConfiguration } from '../../src/core/config/describe.js';
import { loadConfig } from '../../src/core/config/load.js';
import { variableNames, variables } from '../../src/core/config/variables.js';
import { ConfigError } from '../../src/core/errors.js';
import { readiness } from '../../src/core/health/readiness.js';
import { projectRoot } from '../../src/core/paths.js';

const cwd = '/srv/arbion';
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

function parse(env: Record<string, string>) {
  return parseEnvironment(env, { cwd });
}

function problemsOf(env: Record<string, string>): string[] {
  const result = parse(env);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

function configOf(env: Record<string, string>) {
  const result = parse(env);
  if (!result.ok) throw new Error(`unexpected problems:\n${result.problems.join('\n')}`);
  return result.config;
}

describe('configuration with no variables at all', () => {
  const config = configOf({});

  it('selects the embedded defaults', () => {
    expect(config.database).toEqual({ kind: 'embedded', directory: '/srv/arbion/data/postgres' });
    expect(config.redis).toBeUndefined();
    expect(config.llm).toBeUndefined();
    expect(config.vault).toEqual({ source: 'keyFile', path: '/srv/arbion/data/vault.key' });
    expect(config.web).toEqual({ host: '127.0.0.1', port: 3000, publicUrl: undefined });
    expect(config.channels).toEqual({ telegram: undefined, slack: undefined, discord: undefined });
    expect(config.brokers.schwab).toBeUndefined();
  });

  it('keeps money as decimal strings', () => {
    expect(config.trading.paperStartingCash).toBe('100000');
    expect(config.trading.maxPositionFraction).toBe('0.25');
    expect(config.trading.confirmationTtlSeconds).toBe(120);
  });

  it('has no secrets to scrub and no explicit variables', () => {
    expect(config.secretValues).toEqual([]);
    expect(config.explicitVariables.size).toBe(0);
  });
});

describe('invalid settings', () => {
  it('reports every problem at once, naming each variable', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://localhost/x',
      REDIS_URL: 'localhost:6379',
      CONFIRMATION_TTL_SECONDS: '5',
      PAPER_STARTING_CASH: '1e5',
      OPENAI_BASE_URL: 'not a url',
    });
    expect(problems).toHaveLength(7);
    for (const name of [
      'PORT',
      'LOG_LEVEL',
      'DATABASE_URL',
      'REDIS_URL',
      'CONFIRMATION_TTL_SECONDS',
      'PAPER_STARTING_CASH',
      'OPENAI_BASE_URL',
    ]) {
      expect(problems.some((problem) => problem.startsWith(`${name}:`))).toBe(true);
    }
    expect(problems.find((problem) => problem.startsWith('CONFIRMATION_TTL_SECONDS'))).toContain(
      'at least 10',
    );
  });

  it('shows the bad value of a plain setting but never of a secret', () => {
    const problems = problemsOf({ PORT: '99999', TELEGRAM_BOT_TOKEN: 'hunter2-not-a-token' });
    expect(problems.find((problem) => problem.startsWith('PORT'))).toContain('"99999"');
    const telegram = problems.find((problem) => problem.startsWith('TELEGRAM_BOT_TOKEN')) ?? '';
    expect(telegram).toContain('must look like');
    expect(telegram).not.toContain('hunter2');
  });

  it('treats empty values as unset', () => {
    const config = configOf({ DATABASE_URL: '', PORT: '  ', OPENAI_API_KEY: '' });
    expect(config.database.kind).toBe('embedded');
    expect(config.web.port).toBe(3000);
    expect(config.llm).toBeUndefined();
  });

  it.each([
    [{ SCHWAB_CLIENT_ID: 'app' }, 'SCHWAB_CLIENT_SECRET: is required when SCHWAB_CLIENT_ID is set'],
    [
      { ETRADE_CONSUMER_SECRET: 's3cret' },
      'ETRADE_CONSUMER_KEY: is required when ETRADE_CONSUMER_SECRET is set',
    ],
    [{ DISCORD_BOT_TOKEN: 'abc.def' }, 'DISCORD_APPLICATION_ID: is required when DISCORD_BOT_TOKEN is set'],
    [
      { SLACK_BOT_TOKEN: 'xoxb-1-2-3' },
      'SLACK_SIGNING_SECRET: is required when SLACK_BOT_TOKEN is set (HTTP events mode)',
    ],
    [
      { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SOCKET_MODE: 'true' },
      'SLACK_APP_TOKEN: is required when SLACK_SOCKET_MODE is true',
    ],
    [{ SLACK_SIGNING_SECRET: 'abc' }, 'SLACK_BOT_TOKEN: is required when SLACK_SIGNING_SECRET is set'],
    [
      {
        TELEGRAM_BOT_TOKEN: '123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        PUBLIC_URL: 'https://bot.example.com',
      },
      'TELEGRAM_WEBHOOK_SECRET: is required when TELEGRAM_BOT_TOKEN and PUBLIC_URL are set (webhook mode)',
    ],
    [{ PUBLIC_URL: 'http://bot.example.com' }, 'PUBLIC_URL: must use https unless it points at this machine'],
    [{ RISK_MAX_POSITION_FRACTION: '1.5' }, 'RISK_MAX_POSITION_FRACTION: must be above 0 and at most 1'],
    [{ RISK_MAX_POSITION_FRACTION: '0' }, 'RISK_MAX_POSITION_FRACTION: must be above 0 and at most 1'],
    [{ COINGECKO_API_PLAN: 'pro' }, 'COINGECKO_API_KEY: is required when COINGECKO_API_PLAN is pro'],
    [{ NODE_ENV: 'production' }, 'ARBION_ENCRYPTION_KEYS: is required when NODE_ENV is production'],
    [{ CDP_WALLET_SECRET: 'w' }, 'CDP_API_KEY_ID: is required when CDP_WALLET_SECRET is set'],
  ])('refuses the inconsistent settings %j', (env, expected) => {
    expect(problemsOf(env).some((problem) => problem.startsWith(expected))).toBe(true);
  });

  it('accepts http PUBLIC_URL on this machine', () => {
    expect(configOf({ PUBLIC_URL: 'http://127.0.0.1:3000/' }).web.publicUrl).toBe('http://127.0.0.1:3000');
  });
});

describe('encryption key ring', () => {
  it('parses id:base64 pairs in order; the first one encrypts', () => {
    const config = configOf({ ARBION_ENCRYPTION_KEYS: `k2:${KEY_B}, k1:${KEY_A}` });
    expect(config.vault.source).toBe('environment');
    if (config.vault.source !== 'environment') return;
    expect(config.vault.keys.map((key) => key.id)).toEqual(['k2', 'k1']);
    expect(config.vault.keys[0]?.key.equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it.each([
    [`k1:${Buffer.alloc(16).toString('base64')}`, 'must be 32 bytes'],
    [`${KEY_A}`, 'keyId:base64key'],
    [`k1:${KEY_A},k1:${KEY_B}`, 'appears twice'],
    ['k1:!!!notbase64!!!', 'must be 32 bytes'],
  ])('rejects %s', (value, message) => {
    const problems = problemsOf({ ARBION_ENCRYPTION_KEYS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
    expect(problems[0]).not.toContain(KEY_A);
  });
});

describe('secrets', () => {
  const config = configOf({
    DATABASE_URL: 'postgresql://arbion:pg-pass-word@db.internal:5432/arbion',
    REDIS_URL: 'redis://:redis-pass-word@cache.internal:6379',
    OPENAI_API_KEY: 'sk-test-0123456789abcdefghij',
    ARBION_ENCRYPTION_KEYS: `k1:${KEY_A}`,
    SCHWAB_CLIENT_ID: 'schwab-app-key',
    SCHWAB_CLIENT_SECRET: 'schwab-app-secret',
  });

  it('collects every secret value, including passwords inside URLs', () => {
    expect(config.secretValues).toEqual(
      expect.arrayContaining([
        'pg-pass-word',
        'redis-pass-word',
        'sk-test-0123456789abcdefghij',
        KEY_A,
        'schwab-app-secret',
      ]),
    );
    expect(config.secretValues).not.toContain('schwab-app-key');
  });

  it('masks them in the doctor view', () => {
    const shown = JSON.stringify(describeConfiguration(config));
    for (const secret of config.secretValues) expect(shown).not.toContain(secret);
    const rows = Object.fromEntries(describeConfiguration(config).map((row) => [row.name, row]));
    expect(rows.DATABASE_URL?.shown).toBe('postgresql://arbion:***@db.internal:5432/arbion');
    expect(rows.OPENAI_API_KEY?.shown).toBe('set (28 characters, hidden)');
    expect(rows.ARBION_ENCRYPTION_KEYS?.shown).toBe('1 key(s): k1 (material hidden)');
    expect(rows.SCHWAB_CLIENT_ID?.shown).toBe('schwab-app-key');
    expect(rows.PORT).toMatchObject({ shown: '3000', isDefault: true });
    expect(rows.SCHWAB_CLIENT_ID?.isDefault).toBe(false);
  });
});

describe('readiness', () => {
  it('says exactly what each channel and broker is missing', () => {
    const items = Object.fromEntries(
      readiness(configOf({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abc' })).map((item) => [
        item.name,
        item,
      ]),
    );
    expect(items.slack).toMatchObject({ configured: true, missing: [] });
    expect(items.telegram).toMatchObject({ configured: false, missing: ['TELEGRAM_BOT_TOKEN'] });
    expect(items.schwab?.missing).toEqual(['SCHWAB_CLIENT_ID', 'SCHWAB_CLIENT_SECRET']);
    expect(items.paper?.configured).toBe(true);
    expect(items.openai?.note).toContain('only plain commands');
  });

  it('names the webhook paths the channels really serve, and warns about Discord without trader roles', () => {
    const items = Object.fromEntries(
      readiness(
        configOf({
          PUBLIC_URL: 'https://arbion.example',
          TELEGRAM_BOT_TOKEN: '123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678',
          TELEGRAM_WEBHOOK_SECRET: 'webhook-secret-token-0123',
          SLACK_BOT_TOKEN: 'xoxb-1',
          SLACK_SIGNING_SECRET: 'abc',
          DISCORD_BOT_TOKEN: 'discord-token',
          DISCORD_APPLICATION_ID: '123456789012345678',
        }),
      ).map((item) => [item.name, item]),
    );
    expect(items.telegram?.note).toBe('webhook at https://arbion.example/webhooks/telegram');
    expect(items.slack?.note).toContain('https://arbion.example/slack/events');
    expect(items.discord?.note).toMatch(/^gateway; DISCORD_TRADER_ROLE_IDS unset/);
    const withRoles = readiness(
      configOf({
        DISCORD_BOT_TOKEN: 'discord-token',
        DISCORD_APPLICATION_ID: '123456789012345678',
        DISCORD_TRADER_ROLE_IDS: '111111111111111111, 222222222222222222',
      }),
    ).find((item) => item.name === 'discord');
    expect(withRoles?.note).toBe('gateway');
  });
});

describe('loadConfig', () => {
  function tempDir(): string {
    return mkdtempSync(path.join(tmpdir(), 'arbion-config-'));
  }

  it('reads .env, lets the environment win, and warns about unknown names', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, '.env'),
      'PORT=4000\nLOG_LEVEL=debug\nARBION_DATADIR=./typo\nSOMETHING_ELSE=1\n',
    );
    const config = loadConfig({ cwd: dir, env: { LOG_LEVEL: 'warn', ARBION_TYPO: 'x', PATH: '/bin' } });
    expect(config.web.port).toBe(4000);
    expect(config.log.level).toBe('warn');
    expect(config.warnings).toEqual([
      'ARBION_DATADIR in .env is not an Arbion setting; ignored',
      'SOMETHING_ELSE in .env is not an Arbion setting; ignored',
      'ARBION_TYPO is not an Arbion setting; ignored',
    ]);
  });

  it('throws one ConfigError listing every problem of a broken .env', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, '.env'), 'PORT=-1\nDATABASE_URL=nope\nSLACK_BOT_TOKEN=xoxb-1\n');
    let thrown: unknown;
    try {
      loadConfig({ cwd: dir, env: {} });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problems = (thrown as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect((thrown as ConfigError).message).toContain('Invalid configuration (3 problems)');
  });

  it('fails when an explicitly named env file does not exist', () => {
    expect(() => loadConfig({ cwd: tempDir(), env: {}, envFile: 'missing.env' })).toThrow(ConfigError);
  });
});

describe('documentation', () => {
  const example = readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
  const docs = readFileSync(path.join(projectRoot, 'docs', 'configuration.md'), 'utf8');

  it.each(variableNames)('%s is documented in .env.example and docs/configuration.md', (name) => {
    expect(example).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    expect(docs).toContain(`\`${name}\``);
    expect(docs).toContain(variables[name].description.split('.')[0] ?? '');
  });

  it('.env.example documents nothing that does not exist', () => {
    const names = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]);
    expect(names.filter((name) => !variableNames.includes(name as never))).toEqual([]);
  });
});
