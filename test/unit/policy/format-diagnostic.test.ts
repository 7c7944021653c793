import assert from "node:assert/strict";
import { formatDiagnostic } from "../../../src/policy/diagnostic.js";
import { diagnosticAt } from "../../helpers/diagnostics.js";

describe("formatting a diagnostic", () => {
  it("writes FILE:LINE:COL: SEVERITY: MESSAGE", () => {
    assert.equal(
      formatDiagnostic(diagnosticAt(4, 7, "origin must be a URL")),
      "/app/chat.yaml:4:7: error: origin must be a URL",
    );
  });

  it("locates a diagnostic without a position by its JSON Pointer, or by the file alone", () => {
    assert.equal(
      formatDiagnostic(diagnosticAt(0, 0, "needs a restart", "warning")),
      "/app/chat.yaml at /connection/origins/0: warning: needs a restart",
    );
    assert.equal(
      formatDiagnostic({ ...diagnosticAt(0, 0, "unreadable"), path: "" }),
      "/app/chat.yaml: error: unreadable",
    );
  });

  it("shows the file relative to a directory it lies in, and absolute outside it", () => {
    assert.equal(
      formatDiagnostic(diagnosticAt(4, 7, "bad"), { relativeTo: "/app" }),
      "chat.yaml:4:7: error: bad",
    );
    assert.equal(
      formatDiagnostic(diagnosticAt(4, 7, "bad"), { relativeTo: "/elsewhere" }),
      "/app/chat.yaml:4:7: error: bad",
    );
  });

  it("lets a caller style the location and the severity, leaving the message alone", () => {
    const line = formatDiagnostic(diagnosticAt(4, 7, "bad", "warning"), {
      paint: (text, role) => `<${role}>${text}`,
    });
    assert.equal(line, "<location>/app/chat.yaml:4:7: <warning>warning: bad");
  });
});
