/** Types of build-freshness.mjs, for the tests that import it (scripts are plain JavaScript, run without a build). */

export interface BuildInputs {
  readonly directories: readonly string[];
  readonly files: readonly string[];
  readonly skip: readonly string[];
}

/** Relative path -> "size:mtimeMs". */
export type InputListing = Record<string, string>;

export interface BuildDecision {
  readonly build: boolean;
  readonly reason: string;
}

export const BUILD_INPUTS: BuildInputs;
export const BUILD_OUTPUTS: readonly string[];
export const RECORD_PATH: string;

export function collectInputs(root: string, inputs?: BuildInputs): InputListing;
export function decideBuild(facts: {
  readonly record: InputListing | undefined;
  readonly current: InputListing;
  readonly missingOutputs: readonly string[];
}): BuildDecision;
export function readRecord(root: string): InputListing | undefined;
export function buildDecision(root: string): BuildDecision;
export function beginBuild(root: string): void;
export function endBuild(root: string): boolean;
