/**
 * The loader against mutations of the example policies (test/property/harness/policy-mutations.ts):
 * it never throws, answers within its limits, positions every problem inside its file, never
 * prints an environment value, and never calls valid a policy with an unknown key.
 */
import fc from "fast-check";
import { expect } from "chai";
import { loaderCase } from "./harness/policy-mutations.js";
import { caseDirectory, checkLoaderCase } from "./harness/loader-check.js";
import { assertProperty } from "./harness/seed.js";

/** Generous under `npm test` on a shared machine; `npm run fuzz` holds the loader to 2 s. */
const TEST_BOUND_MS = 10_000;

describe("property: the loader", function () {
  this.timeout(60_000);
  let directory: Awaited<ReturnType<typeof caseDirectory>>;
  before(async () => {
    directory = await caseDirectory();
  });
  after(() => directory.remove());

  it("answers every mutated policy with positioned diagnostics, never valid with an unknown key", async () => {
    let valid = 0;
    let invalid = 0;
    await assertProperty(
      fc.asyncProperty(loaderCase, async (input) => {
        const outcome = await checkLoaderCase(input, directory.dir, TEST_BOUND_MS);
        if (outcome.valid) valid += 1;
        else invalid += 1;
      }),
      250,
      "test/property/loader.test.ts",
    );
    // The cases reach both verdicts: a generator that only ever broke the policy would test little.
    expect(valid, "valid cases").to.be.above(0);
    expect(invalid, "invalid cases").to.be.above(0);
  });
});
