/** Diagnostics: what a problem in a policy is, and the one way it is written out as a line. */
import { displayPath } from "./display-path.js";

/**
 * A problem found in a policy, pointing at the exact place in the file that causes it.
 *
 * `line` and `col` are 1-based. For a policy given as an object (not a file), `file` is
 * `"<policy object>"` and `line`/`col` are 0: `path` then locates the value.
 */
export interface Diagnostic {
  /** Absolute path of the file (the policy file or a referenced schema file). */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** JSON Pointer of the offending value inside `file`'s document ("" for the root). */
  readonly path: string;
  readonly message: string;
  readonly severity: "error" | "warning";
}

/** The `file` of diagnostics about a policy that was given as an object rather than a file. */
export const POLICY_OBJECT_FILE = "<policy object>";

/** True when any diagnostic is an error (warnings alone never block a policy). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** How {@link formatDiagnostic} shows a diagnostic. */
export interface DiagnosticFormatOptions {
  /** Show the file relative to this directory when it lies inside it, as `displayPath` does. */
  readonly relativeTo?: string;
  /** Styles the location and the severity word (a terminal's colours, say); returns the text to print. */
  readonly paint?: (text: string, role: "location" | Diagnostic["severity"]) => string;
}

/**
 * One diagnostic as `FILE:LINE:COL: SEVERITY: MESSAGE`, the form editors and CI turn into links.
 * Without a position (line 0) the JSON Pointer locates it instead, `FILE at /PATH: SEVERITY: MESSAGE`,
 * or the file alone when the pointer is the root.
 *
 * @example
 * formatDiagnostic({ file: "/app/chat.yaml", line: 4, col: 7, path: "/connection/origins/0",
 *   message: "origin must be a URL", severity: "error" }, { relativeTo: "/app" });
 * // "chat.yaml:4:7: error: origin must be a URL"
 */
export function formatDiagnostic(diagnostic: Diagnostic, options: DiagnosticFormatOptions = {}): string {
  const { line, col, path, severity, message } = diagnostic;
  const file =
    options.relativeTo === undefined ? diagnostic.file : displayPath(diagnostic.file, options.relativeTo);
  const location = line > 0 ? `${file}:${line}:${col}` : path ? `${file} at ${path}` : file;
  const paint = options.paint ?? ((text: string) => text);
  return `${paint(location, "location")}: ${paint(severity, severity)}: ${message}`;
}
