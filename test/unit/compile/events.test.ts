import assert from "node:assert/strict";
import { createEventAjv } from "../../../src/policy/ajv.js";
import { compileEventValidators } from "../../../src/compile/events.js";
import { CompileValidators } from "../../../src/compile/schema-validators.js";
import { PolicyCompileError } from "../../../src/compile/compile-error.js";

describe("compile: event validators", () => {
  const ajv = () => new CompileValidators(createEventAjv(new Map()), new Map());

  it("treats schema: S as args: [S] and compiles one validator per position", () => {
    const events = compileEventValidators(
      "/chat",
      {
        message: { schema: { type: "string" } },
        move: { args: [{ type: "integer" }, { type: "integer" }] },
        ping: { args: [] },
      },
      ajv(),
    );
    assert.equal(events.get("message")?.args.length, 1);
    assert.equal(events.get("message")?.args[0]?.validate?.("hi"), true);
    assert.equal(events.get("move")?.args[1]?.validate?.(1.5), false);
    assert.deepEqual(events.get("ping")?.args, []);
  });

  it("gives a binary position a size limit instead of a validator", () => {
    const events = compileEventValidators(
      "/",
      { upload: { args: [{ binary: { maxBytes: "1KiB" } }] } },
      ajv(),
    );
    assert.equal(events.get("upload")?.args[0]?.binaryMaxBytes, 1024);
    assert.equal(events.get("upload")?.args[0]?.validate, undefined);
  });

  it("refuses reserved names, events without arguments, bad schemas and asynchronous schemas", () => {
    const compile = (events: Record<string, unknown>): unknown =>
      compileEventValidators("/", events as never, ajv());
    for (const name of [
      "error",
      "connect",
      "disconnecting",
      "newListener",
      "sockguard:denied",
      "sockguard:reauth",
      "42",
      "1e3",
      "",
    ]) {
      assert.throws(() => compile({ [name]: { args: [] } }), PolicyCompileError, name);
    }
    assert.throws(() => compile({ e: {} }), /needs `schema` or `args`/);
    assert.throws(() => compile({ e: { schema: { type: "string", bogus: 1 } } }), /does not compile/);
    assert.throws(() => compile({ e: { schema: { $async: true, type: "string" } } }), /asynchronous/);
  });
});
