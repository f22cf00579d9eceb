/** The LLM path's public surface for the core. */
export { claimsAction, truthfulAnswer } from './claims.js';
export { createOpenAIClient, type LlmClient, type OpenAIClientOptions } from './client.js';
export { MalformedCompletionError } from './completion-stream.js';
export { FAILURE_MESSAGES, type LlmFailure, type LlmFailureKind } from './failures.js';
export {
  type LlmHistoryTurn,
  LlmInterpreter,
  type LlmInterpreterOptions,
  type LlmInterpretInput,
  type LlmResult,
  type LlmToolCallRecord,
  type LlmUsage,
  startWithQuestion,
} from './llm-interpreter.js';
export { buildSystemPrompt, SAFETY_RULES, wrapToolError, wrapToolResult } from './prompt.js';
export {
  type CoreReply,
  describeProposalOutcome,
  type LlmCommand,
  outcomeOf,
  type ProposalOutcome,
  type Proposer,
} from './proposals.js';
export type { ToolExecutor } from './tool-executor.js';
export { buildTools, type ParsedToolCall, parseToolCall, type ToolName, toolNames } from './tools.js';
