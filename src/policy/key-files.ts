/**
 * Reads the key files issuers name (`jwksFile`, `publicKeyFile`), relative to the policy's
 * directory and inside its root, so that compiling never touches the disk and a watcher knows to
 * follow them. A file that cannot be read, or lies outside the root, is reported at the value that
 * names it; one that was opened is logged.
 */
import { resolve } from "node:path";
import type { Policy } from "./types.js";
import { childPointer, type SourceLocator } from "./positions.js";
import { readBudgeted } from "./read-budgeted.js";
import type { ReadScope } from "./refs.js";

/** The key-file properties of an issuer. */
export const KEY_FILE_PROPERTIES = ["jwksFile", "publicKeyFile"] as const;

/**
 * Reads every key file of `policy`; returns their text by absolute path.
 *
 * @example
 * const keyFiles = await readKeyFiles(policy, "/srv/policies", locator, scope);
 */
export async function readKeyFiles(
  policy: Policy,
  baseDir: string,
  locator: SourceLocator,
  scope: ReadScope,
): Promise<Map<string, string>> {
  const { diagnostics, fileLog } = scope;
  const contents = new Map<string, string>();
  for (const [name, issuer] of Object.entries(policy.auth?.issuers ?? {})) {
    for (const property of KEY_FILE_PROPERTIES) {
      const written = issuer[property];
      if (written === undefined) continue;
      const path = resolve(baseDir, written);
      if (contents.has(path) || fileLog.has(path)) continue;
      const pointer = childPointer("/auth/issuers", name, property);
      const admitted = await scope.root.admit(path);
      if (!admitted.ok) {
        diagnostics.report(locator, pointer, `cannot read ${property} ${written}: ${admitted.problem}`);
        continue;
      }
      const read = await readBudgeted(admitted.open, scope.budget);
      fileLog.record(path, read.bytes);
      if (read.ok) {
        contents.set(path, read.text);
      } else {
        diagnostics.report(locator, pointer, `cannot read ${property} ${written}: ${read.problem}`);
      }
    }
  }
  return contents;
}
