/** The shipped advisory data is valid by its own schema, and a broken advisory file is refused with the reason. */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import semver from "semver";
import {
  AdvisoryFileError,
  loadAdvisories,
  SHIPPED_ADVISORIES,
  whyNotAdvisoryFile,
  type AdvisoryFile,
} from "../../../src/doctor/advisories.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const shipped = JSON.parse(readFileSync(SHIPPED_ADVISORIES, "utf8")) as AdvisoryFile;
const schema = JSON.parse(
  readFileSync(new URL("../../../schemas/advisories.schema.json", import.meta.url), "utf8"),
) as object;

describe("doctor: the advisory file", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("the shipped file is valid against schemas/advisories.schema.json", () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
    assert.equal(validate(shipped), true, JSON.stringify(validate.errors));
  });

  it("the shipped file loads, and every range and fixed version in it is semver", async () => {
    const data = await loadAdvisories();
    assert.equal(data.compiled, shipped.compiled);
    for (const advisory of data.advisories) {
      for (const range of advisory.affected) assert.notEqual(semver.validRange(range), null, range);
      // A fixed version is never inside the advisory's own affected ranges.
      for (const fixed of advisory.fixed) {
        assert.equal(
          advisory.affected.some((range) => semver.satisfies(fixed, range)),
          false,
          `${advisory.ids[0]}: ${fixed}`,
        );
      }
    }
  });

  it("the shipped file carries the engine.io polling connection exhaustion advisory (CVE-2026-59725)", () => {
    const advisory = shipped.advisories.find((a) => a.ids.includes("CVE-2026-59725"));
    assert.ok(advisory);
    assert.equal(advisory.package, "engine.io");
    assert.equal(advisory.severity, "high");
    assert.deepEqual(advisory.fixed, ["6.6.7"]);
    assert.equal(semver.satisfies("6.6.6", advisory.affected.join(" || ")), true);
    assert.equal(semver.satisfies("6.6.7", advisory.affected.join(" || ")), false);
  });

  it("refuses a range that is not semver, naming where", () => {
    const broken = structuredClone(shipped) as unknown as { advisories: { affected: string[] }[] };
    broken.advisories[1]!.affected = ["< 4.6.2 garbage >>"];
    assert.match(whyNotAdvisoryFile(broken) ?? "", /^\/advisories\/1\/affected: .* is not a semver range$/);
  });

  it("refuses a file that breaks the schema, and one that is not JSON or missing, with AdvisoryFileError", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "no-severity.json": JSON.stringify({
        ...shipped,
        advisories: [{ ...shipped.advisories[0], severity: undefined }],
      }),
      "not-json.json": "{",
    });
    await assert.rejects(loadAdvisories(join(dir, "no-severity.json")), (error: unknown) => {
      assert.ok(error instanceof AdvisoryFileError);
      assert.match(
        error.message,
        /no-severity\.json: \/advisories\/0 must have required property 'severity'/,
      );
      return true;
    });
    await assert.rejects(loadAdvisories(join(dir, "not-json.json")), /not-json\.json: not valid JSON/);
    await assert.rejects(loadAdvisories(join(dir, "missing.json")), /missing\.json: no such file/);
  });
});
