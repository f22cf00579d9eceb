/**
 * The LLM path behind the conversation: when the fast path does not understand a message, the
 * model may read quotes and the account (read-only tools) and propose commands. Each proposal is
 * handed to the core as it comes (`propose`) and goes through the same cards, risk checks and
 * confirmations as the typed command: the model requests, risk disposes.
 *
 * Per-user memory is the last turns of `conversation_turns`, bounded, in the order they were
 * written; what is stored as the answer is what the user was shown (a false claim never), with a
 * line per proposal saying what the core did. Token usage is stored per turn. No secret ever
 * reaches the prompt: the executor returns market and account data only.
 */

import type { Accounts } from '../accounts/accounts.js';
import { AuditLog } from '../audit/audit-log.js';
import type { BrokerLookup } from '../brokers/broker.js';
import type { PrismaClient } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import type { SymbolResolver } from '../market-data/instruments.js';
import type { MarketDataProvider } from '../market-data/market-data.js';
import type { ChannelAddress } from '../messages.js';
import type { FallbackInterpreter } from './conversation.js';
import {
  describeProposalOutcome,
  type LlmHistoryTurn,
  type LlmInterpreter,
  type LlmResult,
  type Proposer,
  startWithQuestion,
  type ToolExecutor,
} from './llm/index.js';

export interface LlmFallbackDependencies {
  readonly prisma: PrismaClient;
  readonly interpreter: LlmInterpreter;
  readonly accounts: Accounts;
  readonly market: MarketDataProvider;
  readonly symbols: SymbolResolver;
  readonly brokerFor: BrokerLookup;
  readonly logger: Logger;
  /** Turns of history sent to the model. */
  readonly memoryTurns?: number;
}

export class LlmFallback implements FallbackInterpreter {
  private readonly audit: AuditLog;

  constructor(private readonly deps: LlmFallbackDependencies) {
    this.audit = new AuditLog(deps.prisma);
  }

  async interpret(input: {
    userId: string;
    address: ChannelAddress;
    text: string;
    propose: Proposer;
  }): Promise<{ text: string }> {
    const { prisma } = this.deps;
    // Insertion order, not createdAt: a question and its answer are one statement and share it.
    const recent = await prisma.conversationTurn.findMany({
      where: { userId: input.userId, role: { in: ['user', 'assistant'] } },
      orderBy: { seq: 'desc' },
      take: this.deps.memoryTurns ?? 12,
    });
    const history = startWithQuestion(
      recent.reverse().map(
        (turn): LlmHistoryTurn => ({
          role: turn.role === 'assistant' ? 'assistant' : 'user',
          content: turn.content,
        }),
      ),
    );

    const result = await this.deps.interpreter.interpret({
      userText: input.text,
      history,
      executor: this.executorFor(input.userId),
      propose: input.propose,
    });

    await prisma.conversationTurn.createMany({
      data: [
        {
          userId: input.userId,
          platform: input.address.platform,
          chatId: input.address.chatId,
          role: 'user',
          content: input.text,
        },
        {
          userId: input.userId,
          platform: input.address.platform,
          chatId: input.address.chatId,
          role: 'assistant',
          content: remembered(result),
          promptTokens: result.usage.promptTokens,
          completionTokens: result.usage.completionTokens,
        },
      ],
    });
    for (const call of result.toolCalls) {
      await this.audit.record({
        type: 'llm.tool_call',
        actorKind: 'llm',
        userId: input.userId,
        data: { tool: call.name, ok: call.ok, ...(call.error ? { error: call.error } : {}) },
      });
    }
    if (result.failure) {
      this.deps.logger.warn({ userId: input.userId, failure: result.failure.kind }, 'LLM turn failed safely');
    }
    if (result.claimReplaced) {
      this.deps.logger.warn(
        { userId: input.userId },
        'the model claimed a deed the core did not do; replaced',
      );
    }
    return { text: result.text };
  }

  /** Read-only data for the model: quotes and the user's own account, nothing else. */
  private executorFor(userId: string): ToolExecutor {
    const { accounts, brokerFor, market, symbols } = this.deps;
    const account = () => accounts.tradingAccount(userId);
    return {
      async quote(symbol: string) {
        const instrument = symbols.resolve(symbol);
        if (instrument === undefined) return { error: `unknown symbol ${symbol}` };
        const quote = await market.quote({ assetClass: instrument.assetClass, symbol: instrument.symbol });
        return {
          symbol: quote.symbol,
          name: instrument.name,
          bid: quote.bid.toFixed(),
          ask: quote.ask.toFixed(),
          last: quote.last.toFixed(),
          source: quote.source,
        };
      },
      async balance() {
        const current = await account();
        const balances = await (await brokerFor(current)).getBalances(current.externalId);
        return {
          mode: current.mode,
          cash: balances.cash.toFixed(2),
          buyingPower: balances.buyingPower.toFixed(2),
          equity: balances.equity.toFixed(2),
          realizedPnlToday: balances.realizedPnlToday.toFixed(2),
        };
      },
      async positions() {
        const current = await account();
        const positions = await (await brokerFor(current)).getPositions(current.externalId);
        return positions.map((position) => ({
          symbol: position.symbol,
          quantity: position.quantity.toFixed(),
          averageCost: position.averageCost.toFixed(),
          marketValue: position.marketValue?.toFixed(2) ?? null,
        }));
      },
      async openOrders() {
        const current = await account();
        const orders = await (await brokerFor(current)).listOpenOrders(current.externalId);
        return orders.map((order) => ({
          symbol: order.symbol,
          side: order.side,
          type: order.orderType,
          quantity: order.quantity?.toFixed() ?? null,
          limitPrice: order.limitPrice?.toFixed() ?? null,
          status: order.status,
        }));
      },
    };
  }
}

/** The answer as the model will see it next time: what the user was shown, and what the core did. */
function remembered(result: LlmResult): string {
  return [result.text, ...result.outcomes.map((outcome) => `(Arbion: ${describeProposalOutcome(outcome)})`)]
    .filter((line) => line !== '')
    .join('\n');
}
