/**
 * Finds every installed copy of the Socket.IO stack's packages under a directory's `node_modules`,
 * by reading package.json files (never npm: `npm ls` and `npm audit` need a registry, or at least
 * a complete install, that CI and production hosts often lack). Nested copies
 * (`node_modules/a/node_modules/ws`), scoped directories and pnpm's `node_modules/.pnpm` store are
 * all walked. The walk is bounded: each real directory is visited once (symlink loops end there),
 * and it stops after `maxDirectories`, saying so.
 */
import { readdir, readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import { STACK_PACKAGES, type StackPackage } from "./advisories.js";

/** One installed copy. */
export interface InstalledPackage {
  readonly name: StackPackage;
  readonly version: string;
  /** The directory it was found at (the first path that reached it, symlinks not resolved). */
  readonly dir: string;
  /** The directory it really is: two paths to one copy (pnpm's links) are one copy. */
  readonly realDir: string;
}

export interface ScanResult {
  readonly packages: readonly InstalledPackage[];
  /** True when the walk stopped at `maxDirectories`: some copies may be missing. */
  readonly truncated: boolean;
  /** Package directories of the stack whose package.json could not be read or has no valid version. */
  readonly unreadable: readonly string[];
}

/** Enough for large monorepo installs; a walk past it is more likely a loop than an install. */
export const DEFAULT_MAX_DIRECTORIES = 50_000;

const WANTED: ReadonlySet<string> = new Set(STACK_PACKAGES);

/**
 * Walks `root/node_modules` (and every nested `node_modules`) for the stack's packages.
 *
 * @example
 * const { packages } = await scanInstalledStack("/srv/app");
 * // [{ name: "engine.io", version: "6.6.5", dir: "/srv/app/node_modules/engine.io", ... }]
 */
export async function scanInstalledStack(
  root: string,
  { maxDirectories = DEFAULT_MAX_DIRECTORIES } = {},
): Promise<ScanResult> {
  const packages: InstalledPackage[] = [];
  const unreadable: string[] = [];
  const visited = new Set<string>();
  let budget = maxDirectories;
  let truncated = false;

  /** Visits a directory once by its real path; false when it was seen already or the budget is spent. */
  const enter = async (dir: string): Promise<string | undefined> => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      return undefined;
    }
    if (visited.has(real)) return undefined;
    if (budget <= 0) {
      truncated = true;
      return undefined;
    }
    budget -= 1;
    visited.add(real);
    return real;
  };

  const walkNodeModules = async (nodeModules: string): Promise<void> => {
    if ((await enter(nodeModules)) === undefined) return;
    const entries = await listDirectories(nodeModules);
    // pnpm's store last, so a copy linked from the top level is shown at its top-level path.
    for (const entry of [...entries.filter((e) => e !== ".pnpm"), ...entries.filter((e) => e === ".pnpm")]) {
      if (entry === ".bin") continue;
      const path = join(nodeModules, entry);
      if (entry === ".pnpm") {
        if ((await enter(path)) === undefined) continue;
        for (const stored of await listDirectories(path))
          await walkNodeModules(join(path, stored, "node_modules"));
      } else if (entry.startsWith("@")) {
        if ((await enter(path)) === undefined) continue;
        for (const scoped of await listDirectories(path))
          await walkPackage(join(path, scoped), `${entry}/${scoped}`);
      } else {
        await walkPackage(path, entry);
      }
    }
  };

  const walkPackage = async (dir: string, name: string): Promise<void> => {
    const real = await enter(dir);
    if (real === undefined) return;
    if (WANTED.has(name)) {
      const version = await readVersion(dir, name);
      if (version === undefined) unreadable.push(dir);
      else packages.push({ name: name as StackPackage, version, dir, realDir: real });
    }
    await walkNodeModules(join(dir, "node_modules"));
  };

  await walkNodeModules(join(root, "node_modules"));
  return { packages, truncated, unreadable };
}

/** The names of the directories (and links to directories) in `dir`; none when it cannot be read. */
async function listDirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory() || entry.isSymbolicLink())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** The version a package directory declares, when its package.json is this package's and valid. */
async function readVersion(dir: string, name: string): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      name?: unknown;
      version?: unknown;
    };
    if (manifest.name !== name || typeof manifest.version !== "string") return undefined;
    return semver.valid(manifest.version) ?? undefined;
  } catch {
    return undefined;
  }
}
