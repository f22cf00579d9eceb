/**
 * Every strategy kind Arbion runs, by the name the data model stores. Adding a kind: write its
 * pure `StrategyDefinition` beside the others and list it here.
 */
import { aiDriven } from './ai-driven/ai-driven.js';
import { collar } from './collar/collar.js';
import type { StrategyDefinition, StrategyKind } from './strategy.js';
import { wheel } from './wheel/wheel.js';

/** Definitions differ in their parameter and state types; the runtime treats both as opaque. */
export type AnyStrategyDefinition = StrategyDefinition<unknown, unknown>;

export const STRATEGY_KINDS: Readonly<Record<StrategyKind, AnyStrategyDefinition>> = {
  wheel: wheel as unknown as AnyStrategyDefinition,
  collar: collar as unknown as AnyStrategyDefinition,
  ai_driven: aiDriven as unknown as AnyStrategyDefinition,
};

export function strategyKind(kind: StrategyKind): AnyStrategyDefinition {
  return STRATEGY_KINDS[kind];
}
