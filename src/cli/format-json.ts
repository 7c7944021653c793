/** The JSON output: one object with the overall result and, per file, its diagnostics and dependencies. */
import type { FileReport, Summary } from "./validate-report.js";

/**
 * @example
 * JSON.parse(formatJson(reports, summary)).valid; // true when every file is valid
 */
export function formatJson(reports: readonly FileReport[], summary: Summary): string {
  const document = {
    valid: summary.invalidFiles === 0,
    strict: summary.strict,
    errors: summary.errors,
    warnings: summary.warnings,
    files: reports.map((report) => ({
      file: report.file,
      valid: report.valid,
      readable: report.readable,
      ...(report.version === undefined ? {} : { version: report.version }),
      dependencies: report.files,
      diagnostics: report.diagnostics,
    })),
  };
  return JSON.stringify(document, null, 2) + "\n";
}
