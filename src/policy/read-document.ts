/**
 * Reads and parses one YAML or JSON file of a policy (the policy itself or a schema file), logging
 * it for the watcher and the version, and spending the load's budget. Problems inside the file are
 * reported in it; a file that cannot be opened is returned as such, for the caller to report where
 * it was referred to.
 */
import type { JsonValue } from "./types.js";
import type { DiagnosticCollector } from "./diagnostic-collector.js";
import type { FileLog } from "./file-log.js";
import type { SourceLocator } from "./positions.js";
import { readBudgeted } from "./read-budgeted.js";
import { LoadBudget } from "./limits.js";
import { parseYamlSource } from "./yaml-document.js";

export type DocumentRead =
  | { readonly kind: "unreadable"; readonly problem: string; readonly missing: boolean }
  | { readonly kind: "read"; readonly value?: JsonValue; readonly locator?: SourceLocator };

/**
 * `path` is the file as the policy names it (logged, and where diagnostics point); `open`, when
 * given, is the same file with its symbolic links followed, the one actually read.
 *
 * @example
 * const read = await readDocument("/srv/policies/schemas/message.json", diagnostics, fileLog, budget);
 * if (read.kind === "read" && read.value !== undefined) use(read.value, read.locator);
 */
export async function readDocument(
  path: string,
  diagnostics: DiagnosticCollector,
  fileLog: FileLog,
  budget: LoadBudget = new LoadBudget(),
  open: string = path,
): Promise<DocumentRead> {
  const read = await readBudgeted(open, budget);
  fileLog.record(path, read.bytes);
  if (!read.ok) {
    if (read.bytes === undefined) return { kind: "unreadable", problem: read.problem, missing: read.missing };
    diagnostics.add(path, read.position ?? { line: 1, col: 1 }, "", read.problem);
    return { kind: "read" };
  }
  return { kind: "read", ...parseYamlSource(path, read.text, diagnostics, budget) };
}
