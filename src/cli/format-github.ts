/**
 * The GitHub Actions output: one workflow command per problem, which GitHub shows as an annotation
 * on the file and line (`::error file=F,line=L,col=C,title=sockguard::MESSAGE`), then the summary.
 */
import type { FileReport, Summary } from "./validate-report.js";
import { summaryLine } from "./summary-line.js";

/**
 * @example
 * formatGithub(reports, summary);
 * // "::error file=policies/chat.yaml,line=12,col=7,title=sockguard::unknown key ...\n1 file checked: 1 error (1 file invalid)\n"
 */
export function formatGithub(reports: readonly FileReport[], summary: Summary): string {
  const lines: string[] = [];
  for (const report of reports) {
    for (const diagnostic of report.diagnostics) {
      const properties = [`file=${escapeProperty(diagnostic.file)}`];
      if (diagnostic.line > 0) properties.push(`line=${diagnostic.line}`, `col=${diagnostic.col}`);
      properties.push("title=sockguard");
      lines.push(`::${diagnostic.severity} ${properties.join(",")}::${escapeData(diagnostic.message)}`);
    }
  }
  lines.push(summaryLine(summary));
  return lines.join("\n") + "\n";
}

/** The escaping GitHub's workflow commands expect in a message. */
export function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** Property values (the file) also escape `:` and `,`, which separate properties. */
function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}
