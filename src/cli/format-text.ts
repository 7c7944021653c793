/**
 * The text output: one line per problem, `FILE:LINE:COL: error|warning: MESSAGE` as
 * `formatDiagnostic` writes it (a file that could not be read has no position), then a summary
 * line. Colour only when asked (a terminal).
 */
import type { FileReport, Summary } from "./validate-report.js";
import { formatDiagnostic, type DiagnosticFormatOptions } from "../policy/diagnostic.js";
import { summaryLine } from "./summary-line.js";

const STYLES = {
  red: "\u001b[31m",
  yellow: "\u001b[33m",
  green: "\u001b[32m",
  bold: "\u001b[1m",
  dim: "\u001b[2m",
  reset: "\u001b[0m",
};

const ROLE_STYLES = { location: "bold", error: "red", warning: "yellow" } as const;

/**
 * @example
 * formatText(reports, summary, false);
 * // "policies/chat.yaml:12:7: error: unknown key \"orgins\" in connection (did you mean \"origins\"?)\n1 file checked: 1 error (1 file invalid)\n"
 */
export function formatText(reports: readonly FileReport[], summary: Summary, colour: boolean): string {
  const paint = (style: keyof typeof STYLES, text: string): string =>
    colour ? `${STYLES[style]}${text}${STYLES.reset}` : text;
  const format: DiagnosticFormatOptions = {
    paint: (text, role) => paint(ROLE_STYLES[role], text),
  };
  const lines: string[] = [];
  for (const report of reports) {
    for (const diagnostic of report.diagnostics) lines.push(formatDiagnostic(diagnostic, format));
  }
  const failed = summary.invalidFiles > 0 || summary.unreadableFiles > 0;
  lines.push(paint(failed ? "red" : "green", summaryLine(summary)));
  return lines.join("\n") + "\n";
}
