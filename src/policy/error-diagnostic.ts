/** Diagnostics for problems that have no position in a file, and the one way an error becomes text. */
import type { Diagnostic } from "./diagnostic.js";
import { childPointer } from "./positions.js";

/**
 * A diagnostic for a problem that has no position in a file (a file that cannot be read, a compile error).
 *
 * @example
 * errorDiagnostic("/srv/chat.yaml", ["auth", "issuers", "idp"], "the key does not parse");
 */
export function errorDiagnostic(file: string, path: readonly string[], message: string): Diagnostic {
  return { file, line: 0, col: 0, path: childPointer("", ...path), message, severity: "error" };
}

/**
 * An error's message, for logs and diagnostics.
 *
 * @example
 * describeError(new Error("boom")); // "boom"
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
