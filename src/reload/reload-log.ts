import type { Diagnostic } from "../policy/diagnostic.js";

/** Where reload lines go: any object with these three methods, as pino, winston or `console` have. */
export interface ReloadLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * One diagnostic as `FILE:LINE:COL: SEVERITY: MESSAGE`, the form editors and CI turn into links.
 * Without a position (line 0) the JSON Pointer locates it instead: `FILE at /PATH: SEVERITY: MESSAGE`.
 *
 * @example
 * formatDiagnostic({ file: "/app/chat.yaml", line: 4, col: 7, path: "/connection/origins/0",
 *   message: "origin must be a URL", severity: "error" });
 * // "/app/chat.yaml:4:7: error: origin must be a URL"
 */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const { file, line, col, path } = diagnostic;
  const where = line > 0 ? `${file}:${line}:${col}` : path ? `${file} at ${path}` : file;
  return `${where}: ${diagnostic.severity}: ${diagnostic.message}`;
}

/** The one line saying a reload failed: the first error, and how many more there are. */
export function describeReloadFailure(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === "error");
  const first = errors[0] ?? diagnostics[0];
  const detail = first === undefined ? "no reason given" : formatDiagnostic(first);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `sockguard: policy reload failed, the last good policy stays in force: ${detail}${more}`;
}
