import assert from "node:assert/strict";
import type { Diagnostic } from "../../../src/policy/diagnostic.js";
import { describeReloadFailure, formatDiagnostic } from "../../../src/reload/reload-log.js";

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
  it("formats a diagnostic as FILE:LINE:COL: SEVERITY: MESSAGE", () => {
    assert.equal(
      formatDiagnostic(at(4, 7, "origin must be a URL")),
      "/app/chat.yaml:4:7: error: origin must be a URL",
    );
  });

  it("locates a diagnostic without a position by its JSON Pointer, or by the file alone", () => {
    assert.equal(
      formatDiagnostic(at(0, 0, "needs a restart", "warning")),
      "/app/chat.yaml at /connection/origins/0: warning: needs a restart",
    );
    assert.equal(
      formatDiagnostic({ ...at(0, 0, "unreadable"), path: "" }),
      "/app/chat.yaml: error: unreadable",
    );
  });

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
