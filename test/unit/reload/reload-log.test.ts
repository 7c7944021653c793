import assert from "node:assert/strict";
import { describeReloadFailure } from "../../../src/reload/reload-log.js";
import { diagnosticAt } from "../../helpers/diagnostics.js";

describe("reload log lines", () => {
  it("names the first error and counts the others, ignoring warnings", () => {
    const line = describeReloadFailure([
      diagnosticAt(2, 1, "unused issuer", "warning"),
      diagnosticAt(3, 5, "first problem"),
      diagnosticAt(9, 2, "second problem"),
      diagnosticAt(12, 2, "third problem"),
    ]);
    assert.equal(
      line,
      "sockguard: policy reload failed, the last good policy stays in force: " +
        "/app/chat.yaml:3:5: error: first problem (and 2 more)",
    );
  });
});
