/**
 * Hostile policy files: each is refused with a diagnostic, quickly, without a crash or a hang.
 * Everything is a real file in a temporary directory.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { checkPolicyObject, loadPolicy } from "../../../src/policy/load.js";
import type { PolicyLoadResult } from "../../../src/policy/loaded.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

/**
 * Only a guard against a hang: the loader's limits (asserted by the diagnostics below) are what
 * bound its work, and a CI machine under load can be many times slower than a quiet one.
 */
const BOUND_MS = 15_000;

async function loadTimed(path: string): Promise<PolicyLoadResult> {
  const started = performance.now();
  const result = await loadPolicy(path);
  expect(performance.now() - started, "milliseconds to load").to.be.below(BOUND_MS);
  return result;
}

function onlyError(result: PolicyLoadResult): { message: string; line: number; col: number; file: string } {
  expect(result.policy).to.equal(undefined);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  expect(errors, JSON.stringify(result.diagnostics)).to.have.length(1);
  return errors[0]!;
}

describe("hostile policy files", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function policyFile(content: string | Buffer): Promise<string> {
    const dir = await writePolicyFiles(cleanup, {});
    const path = join(dir, "policy.yaml");
    await writeFile(path, content);
    return path;
  }

  it("refuses a billion-laughs file (aliases of aliases) quickly", async () => {
    let text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n';
    for (let level = 1; level <= 9; level += 1) {
      text += `a${level}: &a${level} [${Array.from({ length: 10 }, () => `*a${level - 1}`).join(", ")}]\n`;
    }
    const error = onlyError(await loadTimed(await policyFile(text)));
    expect(error.message).to.include("aliases expand too much");
  });

  it("refuses 20,000 levels of flow nesting at the first level too deep", async () => {
    const path = await policyFile("[".repeat(20_000) + "]".repeat(20_000) + "\n");
    const error = onlyError(await loadTimed(path));
    expect(error).to.deep.include({ message: "nesting is deeper than 64 levels", line: 1, col: 65 });
  });

  it("refuses 20,000 levels of block nesting", async () => {
    const path = await policyFile("- ".repeat(20_000) + "x\n");
    const error = onlyError(await loadTimed(path));
    expect(error.message).to.equal("nesting is deeper than 64 levels");
  });

  it("refuses deep nesting inside a referenced schema file, in that file", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml":
        "version: 1\nnamespaces:\n  /:\n    auth: none\n    events:\n      e: { schema: { $ref: deep.json } }\n",
      "deep.json": '{"not":'.repeat(20_000) + "true" + "}".repeat(20_000),
    });
    const error = onlyError(await loadTimed(join(dir, "policy.yaml")));
    expect(error).to.deep.include({
      file: join(dir, "deep.json"),
      message: "nesting is deeper than 64 levels",
    });
  });

  it("refuses an alias that contains itself", async () => {
    const error = onlyError(
      await loadTimed(await policyFile("version: 1\nnamespaces: &loop { /: *loop }\n")),
    );
    expect(error.message).to.equal("nesting is deeper than 64 levels");
  });

  it("refuses a 5 MB file after reading at most 1 MiB of it", async () => {
    const path = await policyFile(Buffer.alloc(5 * 1024 * 1024, "# padding line\n"));
    const error = onlyError(await loadTimed(path));
    expect(error).to.deep.include({ message: "the file is larger than 1 MiB, the limit", line: 1, col: 1 });
  });

  it("refuses binary garbage, pointing at the first NUL byte", async () => {
    const garbage = Buffer.concat([Buffer.from("version: 1\nab"), Buffer.from([0]), randomBytes(4096)]);
    const error = onlyError(await loadTimed(await policyFile(garbage)));
    expect(error).to.deep.include({
      message: "the file holds a NUL byte: it is binary, not text",
      line: 2,
      col: 3,
    });
  });

  it("refuses text that is not UTF-8, pointing at the first bad byte", async () => {
    const latin1 = Buffer.concat([
      Buffer.from("version: 1\nnamespaces:\n  /caf"),
      Buffer.from([0xe9]),
      Buffer.from(": {}\n"),
    ]);
    const error = onlyError(await loadTimed(await policyFile(latin1)));
    expect(error).to.deep.include({ message: "the file is not valid UTF-8 text", line: 3, col: 7 });
  });

  it("refuses an empty file, and one with only comments", async () => {
    for (const content of ["", "# nothing but a comment\n\n"]) {
      const error = onlyError(await loadTimed(await policyFile(content)));
      expect(error).to.deep.include({ message: "the file is empty", line: 1, col: 1 });
    }
  });

  it("refuses a directory and a FIFO without blocking", async function () {
    if (process.platform === "win32") this.skip();
    const dir = await writePolicyFiles(cleanup, {});
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    expect(onlyError(await loadTimed(fifo)).message).to.equal(
      "cannot read the policy file: it is not a regular file",
    );
    expect(onlyError(await loadTimed(dir)).message).to.equal(
      "cannot read the policy file: it is a directory, not a file",
    );
  });

  it("stops a 1 MiB file of keys at the first value over the limit, before building anything", async () => {
    let text = "version: 1\nnamespaces: {}\nconnection:\n";
    for (let index = 0; text.length < 1000 * 1024; index += 1) text += `  k${index}: 1\n`;
    const error = onlyError(await loadTimed(await policyFile(text)));
    expect(error.message).to.equal(
      "the policy and its schema files hold more than 10000 values together, the limit",
    );
    // Counting keys and values, the lexer stops at line 10,002 (key k9998), long before the end.
    expect(error.line).to.equal(10_002);
  });

  it("reports a bounded number of problems for many unknown keys under the limit", async () => {
    let text = "version: 1\nnamespaces: {}\nconnection:\n";
    for (let index = 0; index < 4000; index += 1) text += `  k${index}: 1\n`;
    const result = await loadTimed(await policyFile(text));
    expect(result.policy).to.equal(undefined);
    expect(result.diagnostics.length).to.equal(201);
    expect(result.diagnostics.at(-1)!.message).to.match(/^\d+ more problems not shown$/);
  });

  it("refuses a 20,000-deep object and a shared-reference bomb given as objects", async () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let level = 0; level < 20_000; level += 1) deep = (deep.next = {}) as Record<string, unknown>;
    let bomb: unknown[] = ["lol"];
    for (let level = 0; level < 12; level += 1) bomb = Array.from({ length: 10 }, () => bomb);
    for (const value of [
      { version: 1, namespaces: root },
      { version: 1, namespaces: {}, connection: { origins: bomb } },
    ]) {
      const started = performance.now();
      const result = await checkPolicyObject(value);
      expect(performance.now() - started).to.be.below(BOUND_MS);
      expect(result.policy).to.equal(undefined);
      expect(result.diagnostics).to.have.length(1);
      expect(result.diagnostics[0]!.message).to.match(
        /nesting is deeper than 64 levels|more than 10000 values together, the limit/,
      );
    }
  });
});
