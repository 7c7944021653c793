/** Diagnostics written by hand, for tests of what is done with them (formatting, reload lines). */
import type { Diagnostic } from "../../src/policy/diagnostic.js";

/**
 * A diagnostic in `/app/chat.yaml` at `line`:`col` (0:0 for none), about `/connection/origins/0`.
 *
 * @example
 * diagnosticAt(4, 7, "origin must be a URL"); // an error at /app/chat.yaml:4:7
 */
export function diagnosticAt(
  line: number,
  col: number,
  message: string,
  severity: Diagnostic["severity"] = "error",
): Diagnostic {
  return { file: "/app/chat.yaml", line, col, path: "/connection/origins/0", message, severity };
}
