import assert from "node:assert/strict";
import type { Diagnostic } from "../../../src/policy/diagnostic.js";
import { describeReloadFailure } from "../../../src/reload/reload-log.js";

const at = (
  line: number,
  col: number,
  message: string,
  severity: Diagnostic["severity"] = "error",
): Diagnostic => ({
  file: "/app/chat.yaml",
  line,
  col,
  path: "/connection/origins/0",
  message,
  severity,
});

describe("reload log lines", () => {
  it("names the first error and counts the others, ignoring warnings", () => {
    const line = describeReloadFailure([
      at(2, 1, "unused issuer", "warning"),
      at(3, 5, "first problem"),
      at(9, 2, "second problem"),
      at(12, 2, "third problem"),
    ]);
    assert.equal(
      line,
      "sockguard: policy reload failed, the last good policy stays in force: " +
        "/app/chat.yaml:3:5: error: first problem (and 2 more)",
    );
  });
});
