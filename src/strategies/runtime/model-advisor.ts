/**
 * The AI-driven strategy's one network call: the model reads the snapshot and answers through the
 * forced `advise` tool. Whatever goes wrong (no answer, a malformed or refused call, a timeout),
 * the strategy holds: no advice is never a reason to trade.
 */
import type { LlmClient } from '../../core/conversation/llm/index.js';
import type { Logger } from '../../core/logging/logger.js';
import { adviceRequest, aiParamsSchema, parseModelAdvice } from '../ai-driven/ai-driven.js';
import type { ModelAdvice, StrategySnapshot } from '../strategy.js';

export interface ModelAdvisorOptions {
  /** The model's client, built on first use. */
  readonly client: LlmClient;
  readonly model: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export type ModelAdvisor = (snapshot: StrategySnapshot, params: unknown) => Promise<ModelAdvice | undefined>;

export function modelAdvisor(options: ModelAdvisorOptions): ModelAdvisor {
  return async (snapshot, params) => {
    const parsedParams = aiParamsSchema.safeParse(params);
    if (!parsedParams.success) return undefined;
    const request = adviceRequest(snapshot, parsedParams.data);
    try {
      const client = await options.client();
      const completion = await client.chat.completions.create(
        { model: options.model, ...request },
        { timeout: options.timeoutMs },
      );
      const call = completion.choices[0]?.message.tool_calls?.[0];
      if (call === undefined || call.type !== 'function') {
        options.logger.warn({ symbol: snapshot.quote.symbol }, 'the model gave no advice; holding');
        return undefined;
      }
      const advice = parseModelAdvice(call.function.name, call.function.arguments);
      if (!advice.ok) {
        options.logger.warn(
          { symbol: snapshot.quote.symbol, problem: advice.error },
          'unusable advice; holding',
        );
        return undefined;
      }
      return advice.advice;
    } catch (error) {
      options.logger.warn({ err: error, symbol: snapshot.quote.symbol }, 'the model did not answer; holding');
      return undefined;
    }
  };
}
