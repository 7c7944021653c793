import assert from "node:assert/strict";
import { engineBufferFor } from "../../../src/enforce/engine-options.js";

describe("enforce: engine options", () => {
  it("sizes the engine buffer for an event of maxPayload bytes sent as base64 over polling", () => {
    for (const maxPayload of [1, 1000, 65_536, 1_000_000]) {
      const base64 = Buffer.alloc(maxPayload).toString("base64").length;
      assert.ok(engineBufferFor(maxPayload) >= base64 + 2, String(maxPayload));
    }
  });
});
