/**
 * Reads the key files issuers name (`jwksFile`, `publicKeyFile`), relative to the policy's
 * directory, so that compiling never touches the disk and a watcher knows to follow them. A file
 * that cannot be read is reported at the value that names it, and still logged.
 */
import { resolve } from "node:path";
import type { Policy } from "./types.js";
import type { DiagnosticCollector } from "./diagnostic-collector.js";
import type { FileLog } from "./file-log.js";
import { childPointer, type SourceLocator } from "./positions.js";
import { readSourceFile } from "./read-source.js";

/** The key-file properties of an issuer. */
export const KEY_FILE_PROPERTIES = ["jwksFile", "publicKeyFile"] as const;

/**
 * Reads every key file of `policy`; returns their text by absolute path.
 *
 * @example
 * const keyFiles = await readKeyFiles(policy, "/srv/policies", locator, diagnostics, fileLog);
 */
export async function readKeyFiles(
  policy: Policy,
  baseDir: string,
  locator: SourceLocator,
  diagnostics: DiagnosticCollector,
  fileLog: FileLog,
): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for (const [name, issuer] of Object.entries(policy.auth?.issuers ?? {})) {
    for (const property of KEY_FILE_PROPERTIES) {
      const written = issuer[property];
      if (written === undefined) continue;
      const path = resolve(baseDir, written);
      if (contents.has(path) || fileLog.has(path)) continue;
      const read = await readSourceFile(path);
      fileLog.record(path, read.bytes);
      if (read.ok) {
        contents.set(path, read.text);
      } else {
        const pointer = childPointer("/auth/issuers", name, property);
        diagnostics.report(locator, pointer, `cannot read ${property} ${written}: ${read.problem}`);
      }
    }
  }
  return contents;
}
