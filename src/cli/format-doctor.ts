/**
 * The three outputs of `sockguard doctor`. Text: one line per finding
 * (`engine.io 6.6.5 at node_modules/engine.io: CVE-2026-59725 (high): ...; fixed in 6.6.7`), one
 * `warning:` line per lint, then a summary. GitHub: the same lines as `::error`/`::warning`
 * annotations. JSON: one object with every copy, finding and warning.
 */
import type { DoctorReport } from "../doctor/doctor.js";
import { describeFinding } from "../doctor/findings.js";
import type { OutputFormat } from "./validate.js";
import { escapeData } from "./format-github.js";
import { plural } from "./summary-line.js";

/** How the report shows a directory (relative to the working directory when inside it). */
export type ShowPath = (dir: string) => string;

/**
 * @example
 * formatDoctor(report, "text", { strict: false, show });
 */
export function formatDoctor(
  report: DoctorReport,
  format: OutputFormat,
  { strict, show }: { strict: boolean; show: ShowPath },
): string {
  if (format === "json") return formatDoctorJson(report, strict, show);
  const findings = report.findings.map((finding) => describeFinding(finding, show));
  const warnings = report.lints.map((lint) => lint.message);
  const lines =
    format === "github"
      ? [
          ...findings.map((line) => `::error title=sockguard doctor::${escapeData(line)}`),
          ...warnings.map((line) => `::warning title=sockguard doctor::${escapeData(line)}`),
        ]
      : [...findings, ...warnings.map((line) => `warning: ${line}`)];
  lines.push(doctorSummary(report, strict));
  return lines.join("\n") + "\n";
}

function doctorSummary(report: DoctorReport, strict: boolean): string {
  const checked = `${plural(report.packages.length, "package")} checked against advisories compiled ${report.advisories.compiled}`;
  const vulnerableCopies = new Set(report.findings.map((f) => f.package.realDir)).size;
  const found = [
    ...(report.findings.length > 0
      ? [`${plural(vulnerableCopies, "vulnerable package")} (${plural(report.findings.length, "finding")})`]
      : []),
    ...(report.lints.length > 0 ? [plural(report.lints.length, "warning")] : []),
  ];
  if (found.length === 0) return `${checked}: no problems`;
  const strictNote = strict && report.findings.length === 0 ? " (--strict fails on warnings)" : "";
  return `${checked}: ${found.join(", ")}${strictNote}`;
}

function formatDoctorJson(report: DoctorReport, strict: boolean, show: ShowPath): string {
  const document = {
    vulnerable: report.findings.length > 0,
    strict,
    advisories: { compiled: report.advisories.compiled },
    packages: report.packages.map((p) => ({ name: p.name, version: p.version, path: show(p.dir) })),
    findings: report.findings.map((finding) => ({
      package: finding.package.name,
      version: finding.package.version,
      path: show(finding.package.dir),
      ids: finding.advisory.ids,
      severity: finding.advisory.severity,
      summary: finding.advisory.summary,
      affected: finding.advisory.affected,
      fixed: finding.advisory.fixed,
      upgradeTo: finding.upgradeTo,
      source: finding.advisory.source,
    })),
    warnings: report.lints.map((lint) => ({
      code: lint.code,
      message: lint.message,
      paths: lint.dirs.map(show),
    })),
  };
  return JSON.stringify(document, null, 2) + "\n";
}
