import { formatDiagnostic, type Diagnostic } from "../policy/diagnostic.js";

/** Where reload lines go: any object with these three methods, as pino, winston or `console` have. */
export interface ReloadLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The one line saying a reload failed: the first error, and how many more there are. */
export function describeReloadFailure(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === "error");
  const first = errors[0] ?? diagnostics[0];
  const detail = first === undefined ? "no reason given" : formatDiagnostic(first);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `sockguard: policy reload failed, the last good policy stays in force: ${detail}${more}`;
}
