/**
 * An Arbion for the channel contract: a test database, a pinned simulated market and clock, the
 * product's inbox and inbound queue (Arbion's own) and web server, and one platform driver (fake
 * server + real adapter). Without a model (the default) only the fast path answers; with one, the
 * product's own LLM path talks to the given OpenAI-compatible endpoint (the fake OpenAI server).
 */
import { Writable } from 'node:stream';
import { parseEnvironment } from '../../src/core/config/config.js';
import { createLogger, type Logger } from '../../src/core/logging/logger.js';
import { SimulatedMarket } from '../../src/core/market-data/providers/index.js';
import { getSymbolDirectory } from '../../src/core/market-data/symbols/directory.js';
import { type Arbion, createArbion } from '../../src/runtime/arbion.js';
import { createWebServer } from '../../web-linking/server.js';
import { MARKET_OPEN } from '../support/arbion-harness.js';
import { type Backend, createTestDatabase, type TestDatabase } from '../support/databases.js';
import type { ContractDriver, DriverFactory } from './driver.js';

/**
 * The logger of contract runs: silent, or everything on stderr with CONTRACT_LOG_LEVEL set.
 * `secretValues` are scrubbed like the product scrubs its configured secrets.
 */
export function contractLogger(secretValues: readonly string[] = []): Logger {
  const verbose = process.env.CONTRACT_LOG_LEVEL !== undefined;
  return createLogger({
    level: verbose ? 'debug' : 'silent',
    format: 'json',
    secretValues: [...secretValues],
    destination: verbose
      ? process.stderr
      : new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  });
}

export interface ContractHarness {
  readonly arbion: Arbion;
  readonly driver: ContractDriver;
  readonly market: SimulatedMarket;
  readonly clock: { now: Date };
  readonly test: TestDatabase;
  destroy(): Promise<void>;
}

/** The model behind the fast path, configured the way an operator does (OPENAI_* variables). */
export interface ContractModel {
  /** The endpoint's base URL (`FakeOpenAIServer.baseURL`). */
  readonly baseURL: string;
  /** The bearer key the endpoint expects. */
  readonly apiKey: string;
}

export async function createContractHarness(
  backend: Backend,
  factory: DriverFactory,
  env: Record<string, string> = {},
  model?: ContractModel,
): Promise<ContractHarness> {
  const modelEnv: Record<string, string> =
    model === undefined
      ? {}
      : {
          OPENAI_API_KEY: model.apiKey,
          OPENAI_BASE_URL: model.baseURL,
          OPENAI_MODEL: 'gpt-test',
          OPENAI_TIMEOUT_MS: '30000',
        };
  const parsed = parseEnvironment({ LOG_LEVEL: 'silent', ...env, ...modelEnv }, { cwd: '/tmp' });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const test = await createTestDatabase(backend);
  const clock = { now: MARKET_OPEN };
  const market = new SimulatedMarket({ seed: 7, symbols: getSymbolDirectory(), clock: () => clock.now });
  const logger = contractLogger();
  const arbion = createArbion({
    config: parsed.config,
    database: test.database,
    logger,
    market,
    // undefined: the LLM path the configuration asks for; null: none, whatever `env` says.
    fallback: model === undefined ? null : undefined,
    clock: () => clock.now,
  });
  const inbound = arbion.inbound.queue;
  const web = await createWebServer({
    logger,
    health: async () => ({
      status: 'ok',
      version: 'test',
      pid: process.pid,
      uptimeSeconds: 0,
      database: {
        ok: true,
        kind: test.database.kind,
        description: 'test',
        detail: 'test',
        pendingMigrations: [],
      },
    }),
  });
  let url: string | undefined;
  const driver = await factory.create({
    arbion,
    inbound,
    web,
    webUrl: () => {
      if (url === undefined) throw new Error('the web server is not listening yet');
      return url;
    },
  });
  url = await web.listen({ host: '127.0.0.1', port: 0 });
  return {
    arbion,
    driver,
    market,
    clock,
    test,
    async destroy() {
      await driver.close();
      await inbound.idle();
      await web.close();
      await test.destroy();
    },
  };
}
