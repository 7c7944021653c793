/** Reading one file of a policy against what is left of the load's byte budget. */
import { LoadBudget, MAX_LOAD_BYTES } from "./limits.js";
import { describeBytes, MAX_SOURCE_BYTES, readSourceFile, type SourceRead } from "./read-source.js";

/**
 * Reads `path` with at most the bytes the load has left, and spends what was read.
 *
 * @example
 * const read = await readBudgeted("/srv/policies/keys/jwks.json", budget);
 */
export async function readBudgeted(path: string, budget: LoadBudget): Promise<SourceRead> {
  const limit = Math.min(MAX_SOURCE_BYTES, budget.bytesLeft);
  const tooLarge =
    limit < MAX_SOURCE_BYTES
      ? `the policy and its files are larger than ${describeBytes(MAX_LOAD_BYTES)} together, the limit`
      : undefined;
  const read = await readSourceFile(path, limit, tooLarge);
  if (read.bytes !== undefined) budget.spendBytes(read.bytes.length);
  return read;
}
