/**
 * Seeds for property tests: fixed in `npm test` (the same cases on every run), another one with
 * `SOCKGUARD_PROPERTY_SEED`, and on failure a message that says which seed failed and how to
 * run it again.
 */
import fc from "fast-check";

/** The seed `npm test` runs with, unless SOCKGUARD_PROPERTY_SEED names another. */
export const DEFAULT_SEED = 19_2026;

export function propertySeed(): number {
  const given = process.env.SOCKGUARD_PROPERTY_SEED;
  return given === undefined || given === "" ? DEFAULT_SEED : Number(given);
}

/**
 * Runs `property` for `numRuns` cases from the seed; a failure is rethrown with the seed, the
 * shrunk case and the command that reruns it.
 *
 * @example
 * await assertProperty(fc.asyncProperty(loaderCase, check), 200, "test/property/loader.test.ts");
 */
export async function assertProperty<T>(
  property: fc.IAsyncPropertyWithHooks<[T]> | fc.IAsyncProperty<[T]>,
  numRuns: number,
  testFile: string,
  seed = propertySeed(),
): Promise<void> {
  const details = await fc.check(property, { seed, numRuns, endOnFailure: false });
  if (!details.failed) return;
  const error = details.errorInstance;
  const cause = error instanceof Error ? error.message : String(error);
  throw new Error(
    `property failed with seed ${seed} after ${details.numRuns} case(s) (path ${details.counterexamplePath ?? "-"}):\n` +
      `${cause}\n` +
      `rerun: SOCKGUARD_PROPERTY_SEED=${seed} npx mocha ${testFile}\n` +
      `  or:  npm run fuzz -- --seconds 60 --seed ${seed}`,
  );
}
