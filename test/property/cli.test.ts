/**
 * The CLI on any arguments and any policy: it exits 0, 1 or 2, and never prints a stack trace or
 * an environment value. In this process for the many cases, and as a real child process for a few.
 */
import fc from "fast-check";
import { expect } from "chai";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loaderCase, FUZZ_ENV } from "./harness/policy-mutations.js";
import { caseDirectory, checkLoaderCase } from "./harness/loader-check.js";
import { assertProperty } from "./harness/seed.js";
import { runCliCaptured } from "../helpers/run-cli.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const STACK = /\n\s+at .+[:(]\d+/;

const argument = fc.oneof(
  fc.constantFrom(
    "validate",
    "test",
    "explain",
    "doctor",
    "--format",
    "json",
    "github",
    "text",
    "junit",
    "--strict",
    "--root",
    ".",
    "..",
    "/",
    "--help",
    "--coverage-min",
    "101",
    "--policy",
    "policy.yaml",
    "missing.yaml",
    "schemas",
    "--",
    "-",
  ),
  fc.string({ maxLength: 10 }),
);

describe("property: the CLI", function () {
  this.timeout(60_000);
  let directory: Awaited<ReturnType<typeof caseDirectory>>;
  before(async () => {
    directory = await caseDirectory();
    for (const [name, value] of Object.entries(FUZZ_ENV)) process.env[name] = value;
  });
  after(async () => {
    for (const name of Object.keys(FUZZ_ENV)) Reflect.deleteProperty(process.env, name);
    await directory.remove();
  });

  it("exits 0, 1 or 2 without a stack for any arguments and policy", async () => {
    await assertProperty(
      fc.asyncProperty(fc.tuple(loaderCase, fc.array(argument, { maxLength: 6 })), async ([input, args]) => {
        await checkLoaderCase(input, directory.dir, 10_000);
        const run = await runCliCaptured(["validate", "policy.yaml", ...args], directory.dir);
        const output = run.stdout + run.stderr;
        if (![0, 1, 2].includes(run.status)) throw new Error(`exit ${run.status} for ${args.join(" ")}`);
        if (STACK.test(output)) throw new Error(`a stack trace for ${args.join(" ")}:\n${output}`);
        if (output.includes(FUZZ_ENV.SG_FUZZ_SET))
          throw new Error(`an environment value printed for ${input.label}`);
      }),
      120,
      "test/property/cli.test.ts",
    );
  });

  it("exits 1 without a stack as a real process, for a broken policy and hostile arguments", async () => {
    const broken = join(directory.dir, "broken.yaml");
    await writeFile(broken, "version: [1\n\u0000");
    for (const args of [
      ["validate", broken],
      ["validate", "--format", "\u0007", broken],
      ["validate", "--root", broken, broken],
    ]) {
      const run = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", CLI, ...args],
          { cwd: fileURLToPath(new URL("../..", import.meta.url)) },
          (error, stdout, stderr) =>
            resolve({ code: typeof error?.code === "number" ? error.code : 0, output: stdout + stderr }),
        );
      });
      expect([1, 2]).to.include(run.code);
      expect(run.output).to.not.match(STACK);
    }
  });
});
