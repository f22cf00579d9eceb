/** The LLM path's public surface for the core. */
export { createOpenAIClient, type OpenAIClientOptions } from './client.js';
export {
  FAILURE_MESSAGES,
  type LlmCommand,
  type LlmFailure,
  type LlmFailureKind,
  type LlmHistoryTurn,
  LlmInterpreter,
  type LlmInterpreterOptions,
  type LlmInterpretInput,
  type LlmResult,
  type LlmToolCallRecord,
  type LlmUsage,
} from './llm-interpreter.js';
export { buildSystemPrompt, SAFETY_RULES, wrapToolError, wrapToolResult } from './prompt.js';
export type { ToolExecutor } from './tool-executor.js';
export { buildTools, type ParsedToolCall, parseToolCall, type ToolName, toolNames } from './tools.js';
