/**
 * Reads the key files a policy names (an issuer's `jwksFile` and `publicKeyFile`, and
 * `connection.tls`'s `certFile`, `keyFile` and `caFile`), relative to the policy's directory and
 * inside its root, so that compiling never touches the disk and a watcher knows to follow them. A
 * file that cannot be read, or lies outside the root, is reported at the value that names it; one
 * that was opened is logged.
 */
import { resolve } from "node:path";
import type { Policy } from "./types.js";
import { childPointer, type SourceLocator } from "./positions.js";
import { readBudgeted } from "./read-budgeted.js";
import type { ReadScope } from "./refs.js";

/** The key-file properties of an issuer. */
export const KEY_FILE_PROPERTIES = ["jwksFile", "publicKeyFile"] as const;
/** The file properties of `connection.tls`. */
export const TLS_FILE_PROPERTIES = ["certFile", "keyFile", "caFile"] as const;

/** One key file as the policy names it. */
interface KeyFileSite {
  /** Where the path is written. */
  readonly pointer: string;
  readonly property: string;
  /** The path as written. */
  readonly written: string;
}

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
  for (const { pointer, property, written } of keyFileSites(policy)) {
    const path = resolve(baseDir, written);
    if (contents.has(path) || fileLog.has(path)) continue;
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
  return contents;
}

function keyFileSites(policy: Policy): KeyFileSite[] {
  const sites: KeyFileSite[] = [];
  for (const [name, issuer] of Object.entries(policy.auth?.issuers ?? {})) {
    for (const property of KEY_FILE_PROPERTIES) {
      const written = issuer[property];
      if (written !== undefined)
        sites.push({ pointer: childPointer("/auth/issuers", name, property), property, written });
    }
  }
  const tls = policy.connection?.tls;
  for (const property of TLS_FILE_PROPERTIES) {
    const written = tls?.[property];
    if (written !== undefined)
      sites.push({ pointer: childPointer("/connection/tls", property), property, written });
  }
  return sites;
}
