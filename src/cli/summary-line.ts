/** The last line of the text and GitHub outputs: how many files, and what was found in them. */
import type { Summary } from "./validate-report.js";

/**
 * @example
 * summaryLine({ files: 2, errors: 3, warnings: 1, invalidFiles: 1, unreadableFiles: 0, strict: false });
 * // "2 files checked: 3 errors, 1 warning (1 file invalid)"
 */
export function summaryLine(summary: Summary): string {
  const checked = `${plural(summary.files, "file")} checked`;
  if (summary.errors === 0 && summary.warnings === 0) return `${checked}: no problems`;
  const found = [
    ...(summary.errors > 0 ? [plural(summary.errors, "error")] : []),
    ...(summary.warnings > 0 ? [plural(summary.warnings, "warning")] : []),
  ].join(", ");
  const invalid =
    summary.invalidFiles > 0
      ? ` (${plural(summary.invalidFiles, "file")} invalid${summary.strict && summary.errors === 0 ? ": --strict fails on warnings" : ""})`
      : "";
  return `${checked}: ${found}${invalid}`;
}

/**
 * @example
 * plural(2, "file"); // "2 files"
 */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
