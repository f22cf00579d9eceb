/**
 * `npm run bench`, the LLM path: plain-language orders through the real OpenAI client against an
 * instant fake model (tests/fakes/openai) that proposes the order at once, on the PostgreSQL server.
 *
 * Reports completions per proposal (the target is 1: the card goes out after the first
 * completion), message -> card p50/p99 (the model's own time excluded: it answers instantly), and
 * the system prompt plus tool schemas per request in tokens, counted with a real tokenizer
 * (gpt-tokenizer, o200k_base: GPT-4o's), target <= 1,500.
 *
 * Prints a table and writes bench-results/llm.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { countTokens } from 'gpt-tokenizer';
import { parseEnvironment } from '../src/core/config/config.js';
import { SimulatedMarket } from '../src/core/market-data/providers/index.js';
import { getSymbolDirectory } from '../src/core/market-data/symbols/directory.js';
import type { ChannelAddress, ChannelPort, InboundMessage, OutboundMessage } from '../src/core/messages.js';
import { createArbion } from '../src/runtime/arbion.js';
import { FakeOpenAIServer, type RecordedRequest } from '../tests/fakes/openai/fake-openai-server.js';
import { MARKET_OPEN, openBenchDatabase, percentile, silentLogger } from './support.js';

const API_KEY = 'sk-bench-0123456789abcdef';
const TOKEN_TARGET = 1500;

/** Records when each card goes out. */
class CardClock implements ChannelPort {
  private next = 0;
  lastCardAt = 0;
  cards = 0;
  async send(_address: ChannelAddress, message: OutboundMessage) {
    if (message.kind === 'card') {
      this.cards++;
      this.lastCardAt = performance.now();
    }
    return { messageId: String(++this.next) };
  }
  async edit() {}
  async notify() {}
}

/** The instant model: a proposal for a fresh question, a short line after a tool result. */
function instantModel(request: RecordedRequest) {
  const body = request.body as { messages?: { role: string }[] } | undefined;
  const last = body?.messages?.at(-1);
  if (last?.role === 'tool') return { type: 'text' as const, text: 'Please check the card.' };
  return {
    type: 'tool_calls' as const,
    calls: [
      {
        name: 'propose_order',
        arguments: JSON.stringify({
          side: 'buy',
          symbol: 'AAPL',
          assetClass: 'equity',
          quantity: '1',
          notional: null,
          fractionOfPosition: null,
          orderType: 'market',
          limitPrice: null,
          stopPrice: null,
          timeInForce: 'day',
          option: null,
        }),
      },
    ],
  };
}

/** Tokens of what every request repeats: the system/developer messages and the tool schemas. */
function fixedTokens(request: RecordedRequest | undefined): number {
  const body = request?.body as
    | { messages?: { role: string; content?: unknown }[]; tools?: unknown }
    | undefined;
  const system = (body?.messages ?? [])
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) =>
      typeof message.content === 'string' ? message.content : JSON.stringify(message.content),
    )
    .join('\n');
  return countTokens(system) + countTokens(JSON.stringify(body?.tools ?? []));
}

async function main(): Promise<void> {
  const iterations = Number(process.env.BENCH_LLM_ITERATIONS ?? 200);
  const fake = await FakeOpenAIServer.start({ apiKey: API_KEY });
  const { database, cleanup } = await openBenchDatabase('server', { prefix: 'arbion-bench-llm' });
  const parsed = parseEnvironment(
    {
      LOG_LEVEL: 'silent',
      CONFIRMATION_TTL_SECONDS: '3600',
      RISK_MAX_POSITION_FRACTION: '1',
      PAPER_STARTING_CASH: '100000000',
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_MODEL: 'gpt-bench',
    },
    { cwd: tmpdir() },
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const arbion = createArbion({
    config: parsed.config,
    database,
    logger: silentLogger([API_KEY]),
    market: new SimulatedMarket({ seed: 1, symbols: getSymbolDirectory(), clock: () => MARKET_OPEN }),
    clock: () => MARKET_OPEN,
  });
  const channel = new CardClock();
  arbion.channels.register('console', channel);
  const address: ChannelAddress = { platform: 'console', workspaceId: '', chatId: 'bench-llm' };
  let delivery = 0;
  const say = async (text: string) => {
    const message: InboundMessage = {
      kind: 'text',
      deliveryId: `llm${++delivery}`,
      address,
      sender: { platformUserId: 'bench-llm-user' },
      receivedAt: MARKET_OPEN,
      chatType: 'direct',
      messageId: String(delivery),
      text,
    };
    const { handled } = await arbion.inbound.queue.accept(message);
    await handled;
  };
  await say('balance'); // creates the user and the paper account
  const cardMs: number[] = [];
  const warmUp = 10;
  let completionsMeasured = 0;
  let proposals = 0;
  for (let i = 0; i < iterations + warmUp; i++) {
    // Queue the script for this message: the fake serves a function per request.
    fake.enqueue(instantModel, instantModel, instantModel);
    const requestsBefore = fake.completionRequests.length;
    const cardsBefore = channel.cards;
    const t0 = performance.now();
    await say("I'd like to pick up one share of Apple, please");
    if (channel.cards !== cardsBefore + 1) throw new Error(`message ${i} did not end in one card`);
    fake.clearScript();
    if (i >= warmUp) {
      cardMs.push(channel.lastCardAt - t0);
      completionsMeasured += fake.completionRequests.length - requestsBefore;
      proposals++;
    }
  }
  const tokens = fixedTokens(fake.completionRequests.at(-1));
  await arbion.automation.stop(2000);
  await cleanup();
  await fake.close();

  const sorted = [...cardMs].sort((a, b) => a - b);
  const report = {
    iterations: proposals,
    completionsPerProposal: completionsMeasured / Math.max(1, proposals),
    messageToCardMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
    fixedPromptTokens: tokens,
    tokenizer: 'gpt-tokenizer o200k_base',
  };
  const rows: [string, string, string, string][] = [
    ['completions per proposal (LLM path)', report.completionsPerProposal.toFixed(2), '', '1'],
    [
      'message -> card, LLM path, instant model (server)',
      `${report.messageToCardMs.p50.toFixed(2)} ms`,
      `${report.messageToCardMs.p99.toFixed(2)} ms`,
      '',
    ],
    ['system prompt + tool schemas per request (tokens)', String(tokens), '', `<= ${TOKEN_TARGET}`],
  ];
  const width = Math.max(...rows.map((row) => row[0].length));
  console.log(`${'measure'.padEnd(width)}  ${'p50/value'.padEnd(10)}  ${'p99'.padEnd(10)}  target`);
  for (const [name, value, p99, target] of rows)
    console.log(`${name.padEnd(width)}  ${value.padEnd(10)}  ${p99.padEnd(10)}  ${target}`);
  console.log(`\n${proposals} messages after ${warmUp} warm-up; tokens counted with ${report.tokenizer}`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/llm.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log('report: bench-results/llm.json');
}

await main();
