/**
 * What a guarded app commonly gets wrong that doctor can see from the install alone: no lock file
 * (in the directory or above it, where a workspace keeps it: without one every install may resolve a different, possibly vulnerable, engine.io), several copies of
 * socket.io (the guard protects one; another may serve a second server unguarded, and each copy
 * has its own engine.io), and a socket.io outside the range the guard is tested against.
 */
import { access } from "node:fs/promises";
import { dirname, join } from "node:path";
import semver from "semver";
import type { ScanResult } from "./scan.js";
import { SUPPORTED_SOCKET_IO } from "../socketio-support.js";

export const LOCK_FILES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  "bun.lock",
];

export type LintCode =
  "no_lock_file" | "several_socket_io" | "unsupported_socket_io" | "scan_truncated" | "unreadable_package";

/** A warning about the install; `message` names paths as given (relative to the checked directory by the caller). */
export interface Lint {
  readonly code: LintCode;
  readonly message: string;
  /** The package directories it is about, if any. */
  readonly dirs: readonly string[];
}

/**
 * The warnings for the install under `root`. `show` turns a directory into how it is printed.
 *
 * @example
 * await lintInstall("/srv/app", scan, (dir) => relative("/srv/app", dir));
 * // [{ code: "no_lock_file", message: "no lock file (package-lock.json, ...): ...", dirs: [] }]
 */
export async function lintInstall(
  root: string,
  scan: ScanResult,
  show: (dir: string) => string,
): Promise<Lint[]> {
  const lints: Lint[] = [];
  if (!(await hasLockFile(root))) {
    lints.push({
      code: "no_lock_file",
      message: `no lock file (${LOCK_FILES.join(", ")}): each install may resolve different versions of the stack; commit one and install with npm ci`,
      dirs: [],
    });
  }
  const socketIo = scan.packages.filter((p) => p.name === "socket.io");
  const copies = new Map(socketIo.map((p) => [p.realDir, p]));
  if (copies.size > 1) {
    const listed = [...copies.values()].map((p) => `${p.version} at ${show(p.dir)}`);
    lints.push({
      code: "several_socket_io",
      message: `${copies.size} copies of socket.io (${listed.join(", ")}): the guard protects the one its server was created from; deduplicate them (npm dedupe)`,
      dirs: [...copies.values()].map((p) => p.dir),
    });
  }
  for (const copy of copies.values()) {
    if (!semver.satisfies(copy.version, SUPPORTED_SOCKET_IO)) {
      lints.push({
        code: "unsupported_socket_io",
        message: `socket.io ${copy.version} at ${show(copy.dir)} is outside the range sockguard supports (${SUPPORTED_SOCKET_IO}): the guard may not see every request the way this version reads it`,
        dirs: [copy.dir],
      });
    }
  }
  for (const dir of scan.unreadable) {
    lints.push({
      code: "unreadable_package",
      message: `${show(dir)}: its package.json cannot be read or has no valid version, so it was not checked`,
      dirs: [dir],
    });
  }
  if (scan.truncated) {
    lints.push({
      code: "scan_truncated",
      message: "the node_modules walk stopped at its directory limit: some copies may not have been checked",
      dirs: [],
    });
  }
  return lints;
}

/** A lock file in `root` or a directory above it (a workspace keeps one lock file at its root). */
async function hasLockFile(root: string): Promise<boolean> {
  for (let dir = root; ; dir = dirname(dir)) {
    for (const file of LOCK_FILES) {
      try {
        await access(join(dir, file));
        return true;
      } catch {
        // not this one
      }
    }
    if (dirname(dir) === dir) return false;
  }
}
