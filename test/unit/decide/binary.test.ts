import assert from "node:assert/strict";
import { containsBinary, isBinaryValue } from "../../../src/decide/binary.js";

describe("enforce: finding binary values", () => {
  it("recognises Buffers, ArrayBuffers and typed arrays, and nothing else", () => {
    for (const value of [
      Buffer.from("x"),
      new ArrayBuffer(2),
      new Uint8Array(1),
      new Float64Array(1),
      new DataView(new ArrayBuffer(1)),
    ]) {
      assert.equal(isBinaryValue(value), true);
    }
    for (const value of [null, "buffer", 1, [], {}, { byteLength: 4 }])
      assert.equal(isBinaryValue(value), false);
  });

  it("finds binary at any depth of arrays and objects, own properties only", () => {
    assert.equal(containsBinary({ a: [1, { b: [Buffer.from("x")] }] }), true);
    assert.equal(containsBinary({ a: [1, { b: ["x"] }] }), false);
    const inherited = Object.create({ file: Buffer.from("x") }) as object;
    assert.equal(containsBinary(inherited), false);
  });

  it("walks 200,000 levels of nesting without exhausting the stack", () => {
    const deep = JSON.parse("[".repeat(200_000) + "]".repeat(200_000)) as unknown;
    assert.equal(containsBinary(deep), false);
    let nested: unknown = Buffer.from("bottom");
    for (let i = 0; i < 200_000; i++) nested = { next: nested };
    assert.equal(containsBinary(nested), true);
  });
});
