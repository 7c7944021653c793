/**
 * The loader's documented limits, and the budget one load spends against them. Each limit bounds
 * the work an input can cause (parsing, following `$ref`s, compiling schemas) so that every policy,
 * however hostile, is answered within a couple of seconds; the first thing over a limit gets a
 * diagnostic at its position and the rest of that file is not looked at.
 *
 * Limits are per load: the policy and every schema and key file it refers to, together.
 */
import { MAX_NESTING_DEPTH } from "./json-value.js";
import { MAX_DIAGNOSTICS } from "./diagnostic-collector.js";

/** The most alias uses in one file; a "billion laughs" file needs far more. */
export const MAX_ALIAS_COUNT = 100;

/** The bytes the policy and all its files may hold together: 1 MiB. */
export const MAX_LOAD_BYTES = 1024 * 1024;

/**
 * The values (every map value and list item, each alias use counted again) the policy and its
 * schema files may hold together. Compiling event schemas costs about this much: 10,000 values
 * compile in well under a second.
 */
export const MAX_LOAD_VALUES = 10_000;

/** How many files deep a chain of `$ref`s may go from the policy (policy → a.json → b.json is 2). */
export const MAX_REF_CHAIN = 16;

/** More schema files than this in one policy is refused (each one is read and compiled). */
export const MAX_SCHEMA_FILES = 64;

/** Every limit, for documentation and the reliability harnesses. */
export const LOADER_LIMITS = {
  bytes: MAX_LOAD_BYTES,
  values: MAX_LOAD_VALUES,
  nestingDepth: MAX_NESTING_DEPTH,
  refChain: MAX_REF_CHAIN,
  schemaFiles: MAX_SCHEMA_FILES,
  aliasUses: MAX_ALIAS_COUNT,
  diagnostics: MAX_DIAGNOSTICS,
} as const;

/**
 * What is left of one load's limits. Each file read spends bytes, each document built spends values.
 *
 * @example
 * const budget = new LoadBudget();
 * const read = await readSourceFile(path, budget.bytesLeft);
 * budget.spendBytes(read.bytes.length);
 */
export class LoadBudget {
  #bytes = MAX_LOAD_BYTES;
  #values = MAX_LOAD_VALUES;

  get bytesLeft(): number {
    return this.#bytes;
  }

  get valuesLeft(): number {
    return this.#values;
  }

  spendBytes(count: number): void {
    this.#bytes = Math.max(0, this.#bytes - count);
  }

  spendValues(count: number): void {
    this.#values = Math.max(0, this.#values - count);
  }
}

/** The message for a document over the values limit. */
export function tooManyValuesMessage(): string {
  return `the policy and its schema files hold more than ${MAX_LOAD_VALUES} values together, the limit`;
}
