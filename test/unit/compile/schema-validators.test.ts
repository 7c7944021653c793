import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createCompileContext } from "../../../src/compile/auth.js";
import { compilePolicy } from "../../../src/compile/compile.js";
import type { CompiledPolicy } from "../../../src/compile/types.js";
import { loadPolicy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const policyText = (textLimit: number): string => `version: 1
connection: { allowMissingOrigin: true }
namespaces:
  /chat:
    auth: none
    events:
      say: { schema: { type: object, properties: { text: { type: string, maxLength: ${textLimit} } }, required: [text] } }
      shout: { schema: { required: [text], properties: { text: { maxLength: ${textLimit}, type: string } }, type: object } }
      typing: { args: [{ type: boolean }] }
      join: { schema: { $ref: schemas/room.json } }
      leave: { schema: { $ref: schemas/room.json } }
`;
const roomSchema = (maxLength: number): string =>
  JSON.stringify({ type: "object", properties: { room: { type: "string", maxLength } }, required: ["room"] });

const validatorOf = (compiled: CompiledPolicy, event: string) =>
  compiled.namespaces.get("/chat")!.events.get(event)!.args[0]!.validate!;

describe("compile: one validator per distinct schema", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  const contexts: ReturnType<typeof createCompileContext>[] = [];
  after(() => contexts.forEach((context) => context.remoteKeySets.close()));
  const context = (): ReturnType<typeof createCompileContext> => {
    const made = createCompileContext();
    contexts.push(made);
    return made;
  };

  async function files(): Promise<{ policy: string; room: string }> {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": policyText(100),
      "schemas/room.json": roomSchema(32),
    });
    return { policy: join(dir, "policy.yaml"), room: join(dir, "schemas/room.json") };
  }

  it("shares one validator between equal schemas written in another key order", async () => {
    const { policy } = await files();
    const compiled = compilePolicy(await loadPolicy(policy), {});
    assert.equal(validatorOf(compiled, "say"), validatorOf(compiled, "shout"));
    assert.equal(validatorOf(compiled, "join"), validatorOf(compiled, "leave"));
    assert.notEqual(validatorOf(compiled, "say"), validatorOf(compiled, "typing"));
    assert.equal(validatorOf(compiled, "say")({ text: "x".repeat(101) }), false);
    assert.equal(validatorOf(compiled, "join")({ room: "lobby" }), true);
  });

  it("keeps across a reload the validators of schemas that did not change, and compiles the changed one", async () => {
    const { policy } = await files();
    const shared = context();
    const before = compilePolicy(await loadPolicy(policy), shared);
    await writeFile(
      policy,
      policyText(100).replace(
        "typing: { args: [{ type: boolean }] }",
        "typing: { args: [{ type: integer }] }",
      ),
    );
    const after = compilePolicy(await loadPolicy(policy), shared);
    assert.equal(validatorOf(after, "say"), validatorOf(before, "say"));
    assert.equal(validatorOf(after, "join"), validatorOf(before, "join"));
    assert.notEqual(validatorOf(after, "typing"), validatorOf(before, "typing"));
    assert.equal(validatorOf(after, "typing")(3), true);
    assert.equal(validatorOf(after, "typing")(true), false);
  });

  it("recompiles the schemas that reference a schema file that changed, and only those", async () => {
    const { policy, room } = await files();
    const shared = context();
    const before = compilePolicy(await loadPolicy(policy), shared);
    await writeFile(room, roomSchema(4));
    const after = compilePolicy(await loadPolicy(policy), shared);
    assert.notEqual(validatorOf(after, "join"), validatorOf(before, "join"));
    assert.equal(validatorOf(after, "join")({ room: "lobby" }), false);
    assert.equal(validatorOf(after, "say"), validatorOf(before, "say"));
    // The validator the old policy holds still judges by the old file.
    assert.equal(validatorOf(before, "join")({ room: "lobby" }), true);
  });

  it("locates a failing keyword in each argument's own schema, also when the validator is shared or reused", async () => {
    const { policy, room } = await files();
    const shared = context();
    const failingRule = (compiled: CompiledPolicy, event: string, data: unknown) => {
      const arg = compiled.namespaces.get("/chat")!.events.get(event)!.args[0]!;
      assert.equal(arg.validate!(data), false);
      const { file, line, path } = arg.errorRule(arg.validate!.errors?.[0]);
      return { file, line, path };
    };
    const before = compilePolicy(await loadPolicy(policy), shared);
    assert.deepEqual(failingRule(before, "say", { text: 3 }), {
      file: policy,
      line: 7,
      path: "/namespaces/~1chat/events/say/schema/properties/text/type",
    });
    assert.deepEqual(failingRule(before, "shout", { text: 3 }), {
      file: policy,
      line: 8,
      path: "/namespaces/~1chat/events/shout/schema/properties/text/type",
    });
    assert.deepEqual(failingRule(before, "leave", {}), { file: room, line: 1, path: "/required" });
    // A reload that reuses both validators still points into the policy as it is now.
    await writeFile(policy, `# a comment moves every line down\n${policyText(100)}`);
    const after = compilePolicy(await loadPolicy(policy), shared);
    assert.equal(validatorOf(after, "say"), validatorOf(before, "say"));
    assert.equal(failingRule(after, "shout", { text: 3 }).line, 9);
    assert.deepEqual(failingRule(after, "leave", {}), { file: room, line: 1, path: "/required" });
  });

  it("reports a broken schema written twice at both places", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
connection: { allowMissingOrigin: true }
namespaces:
  /chat:
    auth: none
    events:
      a: { schema: { type: object, required: [missing], properties: {} } }
      b: { schema: { properties: {}, required: [missing], type: object } }
`,
    });
    const loaded = await loadPolicy(join(dir, "policy.yaml"));
    const errors = loaded.diagnostics.filter((d) => d.severity === "error");
    assert.deepEqual(
      errors.map((d) => [d.line, /required lists "missing"/.test(d.message)]),
      [
        [7, true],
        [8, true],
      ],
    );
  });
});
