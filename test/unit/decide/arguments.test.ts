import assert from "node:assert/strict";
import { createEventAjv } from "../../../src/policy/ajv.js";
import { compileEventValidators } from "../../../src/compile/events.js";
import { CompileValidators } from "../../../src/compile/schema-validators.js";
import { ALLOWED, decideArguments } from "../../../src/decide/index.js";
import type { CompiledEvent } from "../../../src/compile/types.js";

/** The details of a refusal, or undefined for an allowed verdict. */
function checkEventArguments(
  event: CompiledEvent,
  data: readonly unknown[],
  carriedBinary: boolean,
): unknown {
  const verdict = decideArguments(event, data, carriedBinary);
  if (verdict === ALLOWED) return undefined;
  assert.equal(verdict.code, "payload_invalid");
  return verdict.details;
}

describe("decide: event arguments", () => {
  const events = compileEventValidators(
    "/",
    {
      message: { schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } },
      upload: { args: [{ type: "string" }, { binary: { maxBytes: 4 } }] },
      tree: {
        schema: { $ref: "#/$defs/node", $defs: { node: { type: "array", items: { $ref: "#/$defs/node" } } } },
      },
    },
    new CompileValidators(createEventAjv(new Map()), new Map()),
  );
  const message = events.get("message")!;
  const upload = events.get("upload")!;

  it("admits arguments that hold, and never changes them", () => {
    const data = ["message", { text: "hi", extra: [1] }];
    const copy = structuredClone(data);
    assert.equal(checkEventArguments(message, data, false), undefined);
    assert.deepEqual(data, copy);
  });

  it("reports arity, then binary, then schema failures, with positions inside the argument list", () => {
    assert.deepEqual(checkEventArguments(message, ["message"], false), [
      { instancePath: "", keyword: "minItems" },
    ]);
    assert.deepEqual(checkEventArguments(message, ["message", {}, {}], false), [
      { instancePath: "", keyword: "maxItems" },
    ]);
    assert.deepEqual(checkEventArguments(message, ["message", { text: 1 }], false), [
      { instancePath: "/0/text", keyword: "type" },
    ]);
    assert.deepEqual(checkEventArguments(upload, ["upload", 1, Buffer.alloc(5)], true), [
      { instancePath: "/1", keyword: "maxBytes" },
    ]);
    assert.deepEqual(checkEventArguments(upload, ["upload", "name", Buffer.alloc(4)], true), undefined);
  });

  it("refuses binary where a schema is declared before running the schema", () => {
    assert.deepEqual(checkEventArguments(message, ["message", { text: "x", f: Buffer.alloc(1) }], true), [
      { instancePath: "/0", keyword: "binary" },
    ]);
  });

  it("refuses a non-binary value at a binary position", () => {
    assert.deepEqual(checkEventArguments(upload, ["upload", "name", "text"], false), [
      { instancePath: "/1", keyword: "binary" },
    ]);
  });

  it("refuses, without details, a payload that makes validation throw", () => {
    const deep = JSON.parse("[".repeat(20_000) + "]".repeat(20_000)) as unknown;
    assert.deepEqual(checkEventArguments(events.get("tree")!, ["tree", deep], false), []);
  });
});
