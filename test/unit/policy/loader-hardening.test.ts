/**
 * What fuzzing the loader found, each pinned by a real file: a malformed percent-escape in a
 * `$ref`, YAML errors positioned past their line, inputs that took seconds, environment values
 * carried by an alias into a message, and `$ref`s or key files that read outside the policy's tree.
 */
import { expect } from "chai";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkPolicyObject, loadPolicy } from "../../../src/policy/load.js";
import type { PolicyLoadResult } from "../../../src/policy/loaded.js";
import { MAX_REF_CHAIN, MAX_SCHEMA_FILES } from "../../../src/policy/limits.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { runCliCaptured } from "../../helpers/run-cli.js";

const HEAD = "version: 1\nnamespaces:\n  /:\n    auth: none\n    events:\n";

/** A policy whose one event `e` has `schema` written as given (one line of YAML flow). */
function withSchema(schema: string): string {
  return `${HEAD}      e: { schema: ${schema} }\n`;
}

function errors(result: PolicyLoadResult): { message: string; line: number; col: number; file: string }[] {
  expect(result.policy).to.equal(undefined);
  return result.diagnostics.filter((d) => d.severity === "error");
}

function onlyError(result: PolicyLoadResult): { message: string; line: number; col: number; file: string } {
  const found = errors(result);
  expect(found, JSON.stringify(result.diagnostics)).to.have.length(1);
  return found[0]!;
}

describe("loader hardening", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  describe("$ref paths", () => {
    it("reports a malformed percent-escape at the $ref, not as an internal error", async () => {
      const dir = await writePolicyFiles(cleanup, { "p.yaml": withSchema("{ $ref: schemas/%zz.json }") });
      const error = onlyError(await loadPolicy(join(dir, "p.yaml")));
      expect(error).to.deep.include({ line: 6, col: 28 });
      expect(error.message).to.equal(
        '$ref "schemas/%zz.json" is not a valid relative path (a % starts an escape such as %20)',
      );
    });

    it("reports an encoded slash and a malformed escape in the fragment the same way", async () => {
      for (const written of ["a%2fb.json", "a.json#/%e0%a4%a"]) {
        const dir = await writePolicyFiles(cleanup, {
          "p.yaml": withSchema(`{ $ref: "${written}" }`),
          "a.json": "{}",
        });
        expect(onlyError(await loadPolicy(join(dir, "p.yaml"))).message).to.include(
          "is not a valid relative path",
        );
      }
    });
  });

  describe("positions", () => {
    for (const [what, text] of [
      ["an unclosed flow map at the end of the file", "version: 1\nnamespaces: { a: [1, 2\n"],
      ["an unclosed quote", 'version: 1\nnamespaces: "abc\n\n\n'],
      ["a tab indentation", "version: 1\nnamespaces:\n\t/: {}\n"],
      ["a file without a final newline", "version: 1\nnamespaces: [ {"],
      ["CRLF line ends", "version: 1\r\nnamespaces: { a: [\r\n"],
    ] as const) {
      it(`puts every YAML error inside its line: ${what}`, async () => {
        const dir = await writePolicyFiles(cleanup, { "p.yaml": text });
        const found = errors(await loadPolicy(join(dir, "p.yaml")));
        expect(found).to.not.have.length(0);
        const lines = text.replace(/\n$/, "").split("\n");
        for (const error of found) {
          expect(error.line, error.message).to.be.within(1, lines.length);
          const length = lines[error.line - 1]!.replace(/\r$/, "").length;
          expect(error.col, `${error.line}:${error.col} ${error.message}`).to.be.within(
            1,
            Math.max(1, length),
          );
        }
      });
    }
  });

  describe("limits", () => {
    it("refuses more than 10,000 values at the first one over", async () => {
      let body = `${HEAD}      e:\n        schema:\n          type: object\n          properties:\n`;
      for (let index = 0; index < 8_000; index += 1) body += `            p${index}: { type: string }\n`;
      const dir = await writePolicyFiles(cleanup, { "p.yaml": body });
      const error = onlyError(await loadPolicy(join(dir, "p.yaml")));
      expect(error.message).to.equal(
        "the policy and its schema files hold more than 10000 values together, the limit",
      );
      expect(error.line).to.be.within(4_000, 6_000);
    });

    it("counts the values of the policy and its schema files together", async () => {
      const big = JSON.stringify({ enum: Array.from({ length: 6_000 }, (_, index) => index) });
      const dir = await writePolicyFiles(cleanup, {
        "p.yaml": `${HEAD}      a: { schema: { $ref: a.json } }\n      b: { schema: { $ref: b.json } }\n`,
        "a.json": big,
        "b.json": big,
      });
      const error = onlyError(await loadPolicy(join(dir, "p.yaml")));
      expect(error.file).to.equal(join(dir, "b.json"));
      expect(error.message).to.include("more than 10000 values together");
    });

    it("counts every use of an alias as the values it stands for", async () => {
      let text = `x-list: &big [${Array.from({ length: 2_000 }, (_, index) => index).join(", ")}]\n`;
      text += `version: 1\nnamespaces:\n  /:\n    auth: none\n    events:\n`;
      for (let index = 0; index < 6; index += 1) text += `      e${index}: { schema: { enum: *big } }\n`;
      const dir = await writePolicyFiles(cleanup, { "p.yaml": text });
      const found = errors(await loadPolicy(join(dir, "p.yaml")));
      expect(found.map((error) => error.message)).to.include(
        "the policy and its schema files hold more than 10000 values together, the limit",
      );
    });

    it(`refuses a $ref chain longer than ${MAX_REF_CHAIN} files, at the $ref that goes too far`, async () => {
      const files: Record<string, string> = { "p.yaml": withSchema("{ $ref: s/c0.json }") };
      for (let index = 0; index < 40; index += 1)
        files[`s/c${index}.json`] = JSON.stringify({ $ref: `c${index + 1}.json` });
      files["s/c40.json"] = "{}";
      const dir = await writePolicyFiles(cleanup, files);
      const error = onlyError(await loadPolicy(join(dir, "p.yaml")));
      expect(error.message).to.equal(`$ref chain is longer than ${MAX_REF_CHAIN} files, the limit`);
      expect(error.file).to.equal(join(dir, `s/c${MAX_REF_CHAIN - 1}.json`));
    });

    it(`refuses more than ${MAX_SCHEMA_FILES} schema files`, async () => {
      const files: Record<string, string> = {};
      let text = HEAD;
      for (let index = 0; index < MAX_SCHEMA_FILES + 1; index += 1) {
        text += `      e${index}: { schema: { $ref: s${index}.json } }\n`;
        files[`s${index}.json`] = "{}";
      }
      files["p.yaml"] = text;
      const dir = await writePolicyFiles(cleanup, files);
      const error = onlyError(await loadPolicy(join(dir, "p.yaml")));
      expect(error.message).to.equal(`a policy may use at most ${MAX_SCHEMA_FILES} schema files`);
      expect(error.line).to.equal(6 + MAX_SCHEMA_FILES);
    });

    it("refuses files that are larger than 1 MiB together", async () => {
      const padding = (size: number): string => JSON.stringify({ description: "x".repeat(size) });
      const dir = await writePolicyFiles(cleanup, {
        "p.yaml": `${HEAD}      a: { schema: { $ref: a.json } }\n      b: { schema: { $ref: b.json } }\n`,
        "a.json": padding(600 * 1024),
        "b.json": padding(600 * 1024),
      });
      const error = onlyError(await loadPolicy(join(dir, "p.yaml")));
      expect(error).to.deep.include({
        file: join(dir, "b.json"),
        message: "the policy and its files are larger than 1 MiB together, the limit",
      });
    });

    it("holds a policy object to the same values limit", async () => {
      const properties = Object.fromEntries(
        Array.from({ length: 12_000 }, (_, index) => [`p${index}`, { type: "string" }]),
      );
      const result = await checkPolicyObject({
        version: 1,
        namespaces: { "/": { auth: "none", events: { e: { schema: { type: "object", properties } } } } },
      });
      expect(onlyError(result).message).to.include("more than 10000 values together, the limit");
    });
  });

  describe("environment values", () => {
    const SECRET = "s3cr3t-value-from-the-environment";

    it("never prints a value an alias carried from ${env:...} into a $ref", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "p.yaml": `x-secret: &s \${env:SG_HARDENING_SECRET}\n${withSchema("{ $ref: *s }")}`,
      });
      const result = await loadPolicy(join(dir, "p.yaml"), { env: { SG_HARDENING_SECRET: SECRET } });
      const messages = result.diagnostics.map((d) => d.message);
      expect(messages.join("\n")).to.not.include(SECRET);
      expect(messages).to.include("cannot read schema file <value from the environment>: no such file");
    });

    it("never prints it in validate's output either, in any format", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "p.yaml": `x-secret: &s \${env:SG_HARDENING_SECRET}\n${withSchema("{ $ref: *s }")}`,
      });
      process.env.SG_HARDENING_SECRET = SECRET;
      cleanup.add(() => delete process.env.SG_HARDENING_SECRET);
      for (const format of ["text", "json", "github"]) {
        const run = await runCliCaptured(["validate", "p.yaml", "--format", format], dir);
        expect(run.status).to.equal(1);
        expect(run.stdout + run.stderr).to.not.include(SECRET);
        expect(run.stdout + run.stderr).to.not.include(SECRET.slice(0, 24));
      }
    });

    it("never prints one carried into a key file path, a schema keyword, or a value shown shortened", async () => {
      const long = "k".repeat(30) + "-" + "q".repeat(200);
      const dir = await writePolicyFiles(cleanup, {
        "p.yaml":
          "version: 1\n" +
          "auth: { issuers: { a: { issuer: urn:a, jwksFile: '${env:SG_H_KEY}', audience: any, algorithms: [RS256] } } }\n" +
          "namespaces:\n  /:\n    issuers: [a]\n    events:\n" +
          "      e: { schema: { type: '${env:SG_H_TYPE}' } }\n" +
          "      f: { schema: { $ref: '${env:SG_H_LONG}' } }\n",
      });
      const result = await loadPolicy(join(dir, "p.yaml"), {
        env: { SG_H_KEY: "keys/" + SECRET + ".json", SG_H_TYPE: SECRET, SG_H_LONG: long },
      });
      const text = result.diagnostics.map((d) => d.message).join("\n");
      expect(result.diagnostics).to.not.have.length(0);
      expect(text).to.not.include(SECRET);
      expect(text).to.not.include(long.slice(0, 24));
    });
    it("never prints a schema file name that came from ${env:...}, in a diagnostic's file either", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "p.yaml": withSchema("{ $ref: '${env:SG_H_SCHEMA}.json' }"),
        [`${SECRET}.json`]: '{ "type": "strin" }\n',
      });
      const result = await loadPolicy(join(dir, "p.yaml"), { env: { SG_H_SCHEMA: SECRET } });
      const error = onlyError(result);
      expect(error.file).to.equal(join(dir, "<value from the environment>.json"));
      expect(error.message).to.include('"type" must be one of');
      expect(JSON.stringify(result.diagnostics)).to.not.include(SECRET);
    });
  });

  describe("the root files stay in", () => {
    it("refuses a $ref that leaves the policy's directory, without opening it", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "policies/p.yaml": withSchema("{ $ref: ../../../../../../../../proc/self/status }"),
      });
      const result = await loadPolicy(join(dir, "policies/p.yaml"));
      const error = onlyError(result);
      expect(error).to.deep.include({ line: 6, col: 28 });
      expect(error.message).to.match(
        /^\$ref to \/proc\/self\/status: it is outside .*policies, the directory/,
      );
      expect(result.files).to.deep.equal([join(dir, "policies/p.yaml")]);
    });

    it("refuses a $ref through a symbolic link that leads outside", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "policies/p.yaml": withSchema("{ $ref: schemas/m.json }"),
        "outside/m.json": '{ "type": "string" }',
      });
      await mkdir(join(dir, "policies/schemas"));
      await symlink(join(dir, "outside/m.json"), join(dir, "policies/schemas/m.json"));
      const error = onlyError(await loadPolicy(join(dir, "policies/p.yaml")));
      expect(error.message).to.include("a symbolic link leads it outside");
    });

    it("follows a symbolic link that stays inside (a Kubernetes ConfigMap's ..data)", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "policies/p.yaml": withSchema("{ $ref: m.json }"),
        "policies/..2026_01_01/m.json": '{ "type": "string" }',
      });
      await symlink("..2026_01_01/m.json", join(dir, "policies/m.json"));
      const result = await loadPolicy(join(dir, "policies/p.yaml"));
      expect(result.diagnostics).to.deep.equal([]);
      expect(result.files).to.include(join(dir, "policies/m.json"));
    });

    it("refuses a key file outside the directory, at the value that names it", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "policies/p.yaml":
          "version: 1\nauth: { issuers: { a: { issuer: urn:a, jwksFile: ../jwks.json, audience: any, algorithms: [RS256] } } }\n" +
          "namespaces: { /: { events: { e: { args: [] } } } }\n",
        "jwks.json": '{ "keys": [] }',
      });
      const result = await loadPolicy(join(dir, "policies/p.yaml"));
      const error = errors(result).find((found) => found.message.includes("outside"));
      expect(error, JSON.stringify(result.diagnostics)).to.deep.include({ line: 2, col: 50 });
      expect(result.files).to.not.include(join(dir, "jwks.json"));
    });

    it("admits what a named root holds: loadPolicy's root and validate --root", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "services/chat/p.yaml": withSchema("{ $ref: ../shared/m.json }"),
        "services/shared/m.json": '{ "type": "string" }',
      });
      const path = join(dir, "services/chat/p.yaml");
      expect(onlyError(await loadPolicy(path)).message).to.include("is outside");
      expect((await loadPolicy(path, { root: join(dir, "services") })).diagnostics).to.deep.equal([]);

      expect((await runCliCaptured(["validate", "services/chat/p.yaml"], dir)).status).to.equal(1);
      const run = await runCliCaptured(["validate", "services/chat/p.yaml", "--root", "services"], dir);
      expect(run).to.deep.equal({ status: 0, stdout: "1 file checked: no problems\n", stderr: "" });
    });

    it("exits 2 when --root is not a directory, or given to another command", async () => {
      const dir = await writePolicyFiles(cleanup, { "p.yaml": withSchema("{ type: string }") });
      const missing = await runCliCaptured(["validate", "p.yaml", "--root", "nowhere"], dir);
      expect(missing.status).to.equal(2);
      expect(missing.stderr).to.include("--root must name a directory");
      expect((await runCliCaptured(["doctor", "--root", "."], dir)).status).to.equal(2);
    });

    it("confines a policy object to its baseDir", async () => {
      const dir = await writePolicyFiles(cleanup, {
        "inside/m.json": '{ "type": "string" }',
        "m.json": "{}",
      });
      const policy = (ref: string): unknown => ({
        version: 1,
        namespaces: { "/": { auth: "none", events: { e: { schema: { $ref: ref } } } } },
      });
      expect((await checkPolicyObject(policy("m.json"), join(dir, "inside"))).diagnostics).to.deep.equal([]);
      const result = await checkPolicyObject(policy("../m.json"), join(dir, "inside"));
      expect(onlyError(result).message).to.include("is outside");
      expect(result.files).to.not.include(join(dir, "m.json"));
    });
  });

  it("writes what it finds about a file that does not exist yet relative to the root", async () => {
    const dir = await writePolicyFiles(cleanup, { "p.yaml": withSchema("{ $ref: later.json }") });
    const result = await loadPolicy(join(dir, "p.yaml"));
    expect(onlyError(result).message).to.equal("cannot read schema file later.json: no such file");
    expect(result.files).to.include(join(dir, "later.json"));
    await writeFile(join(dir, "later.json"), "{}");
    expect((await loadPolicy(join(dir, "p.yaml"))).diagnostics).to.deep.equal([]);
  });
});
