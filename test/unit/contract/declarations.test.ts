/**
 * The contract keys of a namespace (`handshake`, `emits`) and of an event (`ack`, `reply`): the
 * loader checks them with positions, in the policy and in their schema files, and the compiler
 * builds one validator per position, each locating its keywords.
 */
import { expect } from "chai";
import { join } from "node:path";
import { compilePolicy } from "../../../src/compile/compile.js";
import { createCompileContext } from "../../../src/compile/auth.js";
import { loadPolicy } from "../../../src/policy/load.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const POLICY = `version: 1
namespaces:
  /chat:
    auth: none
    handshake:
      auth: { type: object, properties: { room: { type: string, maxLength: 8 } }, additionalProperties: false }
      query: { type: object }
    events:
      message:
        schema: { type: string, maxLength: 10 }
        ack: required
        reply: { schema: { $ref: schemas/reply.json } }
      typing:
        args: []
        ack: forbidden
    emits:
      message: { args: [{ type: string }, { type: integer }] }
      upload: { args: [{ binary: { maxBytes: 1KiB } }] }
`;
const REPLY = JSON.stringify({ type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] });

describe("contract declarations", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  const context = createCompileContext();
  after(() => context.remoteKeySets.close());

  it("loads and compiles handshake, ack, reply and emits, with validators located in their files", async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": POLICY, "schemas/reply.json": REPLY });
    const loaded = await loadPolicy(join(dir, "policy.yaml"));
    expect(loaded.diagnostics).to.deep.equal([]);
    expect(loaded.files).to.include(join(dir, "schemas/reply.json"));
    const chat = compilePolicy(loaded, context).namespaces.get("/chat")!;

    expect(chat.handshake?.auth?.validate?.({ room: "abc" })).to.equal(true);
    expect(chat.handshake?.auth?.validate?.({ room: 1 })).to.equal(false);
    expect(chat.handshake?.auth?.rule).to.include({ line: 6, path: "/namespaces/~1chat/handshake/auth" });

    const message = chat.events.get("message")!;
    expect(message.ack?.mode).to.equal("required");
    expect(message.ack?.rule).to.include({ line: 11, col: 9 });
    expect(chat.events.get("typing")?.ack?.mode).to.equal("forbidden");
    const reply = message.reply!.args[0]!;
    expect(reply.validate?.({ ok: true })).to.equal(true);
    expect(reply.validate?.({})).to.equal(false);
    expect(reply.errorRule(reply.validate?.errors?.[0])).to.include({
      file: join(dir, "schemas/reply.json"),
      path: "/required",
    });

    expect(chat.emits?.rule).to.include({ line: 16, path: "/namespaces/~1chat/emits" });
    const emitted = chat.emits?.declared.get("message");
    expect(emitted?.args.length).to.equal(2);
    expect(emitted?.args[1]?.validate?.(1.5)).to.equal(false);
    expect(chat.emits?.declared.get("upload")?.args[0]?.binaryMaxBytes).to.equal(1024);
  });

  it("reports each mistake at its key: reserved emit names, schema and args together, a reply without ack, bad ack modes, bad schemas", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
namespaces:
  /:
    auth: none
    handshake:
      auth: { type: object, propertiez: {} }
      cookies: {}
    events:
      ping:
        args: []
        ack: sometimes
      pong:
        args: []
        ack: forbidden
        reply: { args: [] }
      hi:
        args: []
        reply: {}
    emits:
      sockguard:denied: { args: [] }
      both: { schema: { type: string }, args: [] }
      none: {}
      big: { args: [{ binary: { maxBytes: 0 } }] }
      bad: { schema: { $ref: missing.json } }
`,
    });
    const { diagnostics } = await loadPolicy(join(dir, "policy.yaml"));
    const found = diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(found).to.include.members([
      '6:29 unknown keyword "propertiez" (did you mean "properties"?); strict mode refuses keywords it does not know',
      "15:9 event pong forbids an ack (ack: forbidden), so its reply is never sent",
      "18:9 the reply of hi needs schema or args (args: [] for one without arguments)",
      "20:7 emit sockguard:denied: sockguard:* names are reserved for the guard",
      "21:41 emit both has both schema and args: schema is shorthand for args: [schema], keep one",
      "22:7 emit none needs schema or args (args: [] for one without arguments)",
      "23:43 maxBytes must be at least 1 byte",
    ]);
    expect(found.some((line) => line.startsWith("7:7 ") && line.includes("cookies"))).to.equal(true);
    expect(found.some((line) => line.startsWith("11:14 ") && line.includes("required"))).to.equal(true);
    expect(found.some((line) => line.startsWith("24:30 ") && line.includes("missing.json"))).to.equal(true);
  });
});
