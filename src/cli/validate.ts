/**
 * `sockguard validate`: loads each file exactly as the guard would, and reports what it found in
 * the chosen format. A file that cannot be read at all is a usage problem (exit 2), not an invalid
 * policy (exit 1).
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Diagnostic } from "../policy/diagnostic.js";
import { displayPath } from "../policy/display-path.js";
import { loadPolicy } from "../policy/load.js";
import type { CliIo } from "./cli-io.js";
import type { FileReport, ShownDiagnostic, Summary, ValidateOptions } from "./validate-report.js";
import { formatText } from "./format-text.js";
import { formatJson } from "./format-json.js";
import { formatGithub } from "./format-github.js";

export { OUTPUT_FORMATS, type OutputFormat } from "./validate-report.js";

/**
 * Validates `files` (relative to `io.cwd`), writes the report, returns the exit status.
 *
 * @example
 * const status = await validateFiles(["policies/chat.yaml"], { format: "text", strict: false }, io);
 */
export async function validateFiles(
  files: readonly string[],
  options: ValidateOptions,
  io: CliIo,
): Promise<number> {
  const reports: FileReport[] = [];
  const root = options.root === undefined ? undefined : resolve(io.cwd, options.root);
  if (root !== undefined && !(await isDirectory(root))) {
    io.stderr(`sockguard: --root must name a directory, and ${displayPath(root, io.cwd)} is not one\n`);
    return 2;
  }
  for (const given of files) reports.push(await validateFile(given, options.strict, io.cwd, root));
  const summary: Summary = {
    files: reports.length,
    errors: count(reports, "error"),
    warnings: count(reports, "warning"),
    invalidFiles: reports.filter((report) => !report.valid).length,
    unreadableFiles: reports.filter((report) => !report.readable).length,
    strict: options.strict,
  };
  const output =
    options.format === "json"
      ? formatJson(reports, summary)
      : options.format === "github"
        ? formatGithub(reports, summary)
        : formatText(reports, summary, io.colour);
  io.stdout(output);
  if (summary.unreadableFiles > 0) return 2;
  return summary.invalidFiles > 0 ? 1 : 0;
}

async function validateFile(
  given: string,
  strict: boolean,
  cwd: string,
  root: string | undefined,
): Promise<FileReport> {
  const path = resolve(cwd, given);
  const shown = displayPath(path, cwd);
  const unreadable = await whyUnreadable(path);
  if (unreadable) {
    const diagnostic: ShownDiagnostic = {
      file: shown,
      line: 0,
      col: 0,
      path: "",
      message: `cannot read: ${unreadable}`,
      severity: "error",
    };
    return { file: shown, readable: false, valid: false, diagnostics: [diagnostic], files: [shown] };
  }
  const result = await loadPolicy(path, root === undefined ? {} : { root });
  const diagnostics = result.diagnostics.map((diagnostic) => ({
    ...diagnostic,
    file: displayPath(diagnostic.file, cwd),
  }));
  const failing = diagnostics.some((d) => d.severity === "error" || (strict && d.severity === "warning"));
  return {
    file: shown,
    readable: true,
    valid: !failing,
    diagnostics,
    files: result.files.map((file) => (result.redact ?? String)(displayPath(file, cwd))),
    version: result.version,
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

/** Why the file cannot be opened as a policy, or `undefined` when it can. */
async function whyUnreadable(path: string): Promise<string | undefined> {
  try {
    const stats = await stat(path);
    if (stats.isDirectory()) return "it is a directory";
    if (!stats.isFile()) return "it is not a regular file";
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "no such file";
    if (code === "EACCES" || code === "EPERM") return "permission denied";
    return "the file cannot be read";
  }
}

function count(reports: readonly FileReport[], severity: Diagnostic["severity"]): number {
  return reports.reduce(
    (total, report) => total + report.diagnostics.filter((d) => d.severity === severity).length,
    0,
  );
}
