import type { BigIntStats } from "node:fs";
import { lstat, readlink, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

/**
 * One directory to watch, and the entries inside it whose appearance, change, removal or
 * replacement matters.
 */
export interface WatchTarget {
  /** Absolute path of an existing directory. */
  readonly dir: string;
  /** Names of entries directly inside `dir` (files, directories or symbolic links). */
  readonly names: ReadonlySet<string>;
  /**
   * The directory's device and inode when it was resolved: a directory deleted and recreated
   * under the same path is a different directory, and its old watch is dead.
   */
  readonly identity: string;
}

/** How many symbolic links are followed from one file before giving up (a loop, or a very long chain). */
const MAX_LINK_HOPS = 16;

/**
 * Works out which directories to watch, and which names inside them, so that every way the
 * given files can change is seen: writes in place, renames over them, deletion and recreation,
 * and swaps of any symbolic link on the way to them.
 *
 * Directories are watched rather than files, because an editor's rename-over save or a
 * Kubernetes symlink swap replaces the file's inode and a watch on the old inode sees nothing
 * more. For each file:
 * - its directory is watched for its name;
 * - a directory that does not exist yet is replaced by its nearest existing ancestor, watched
 *   for the next component of the path, so its creation is seen;
 * - a symbolic link (the file, or its directory) is followed: the link's own directory is
 *   watched for the link's name, and the link's target the same way. A Kubernetes ConfigMap
 *   volume (`dir/policy.yaml -> ..data/policy.yaml`, `..data -> ..2026_11_25_...`) thus yields
 *   `dir` watched for `policy.yaml` and `..data`, and the current timestamped directory watched for
 *   `policy.yaml`.
 *
 * Call it again after a change: links may point elsewhere, and directories may have appeared.
 *
 * @example
 * const targets = await resolveWatchTargets(["/etc/app/policy.yaml", "/etc/app/schemas/chat.json"]);
 * // Map { "/etc/app" => { names: Set { "policy.yaml", "schemas" }, ... } }  when schemas/ is missing
 */
export async function resolveWatchTargets(files: readonly string[]): Promise<Map<string, WatchTarget>> {
  const collected = new Map<string, { names: Set<string>; identity: string }>();
  const add = (dir: string, name: string, dirStats: BigIntStats): void => {
    let entry = collected.get(dir);
    if (entry === undefined) {
      entry = { names: new Set(), identity: `${dirStats.dev}:${dirStats.ino}` };
      collected.set(dir, entry);
    }
    entry.names.add(name);
  };
  for (const file of files) {
    const absolute = resolve(file);
    await watchEntry(dirname(absolute), basename(absolute), MAX_LINK_HOPS, add);
  }
  const targets = new Map<string, WatchTarget>();
  for (const [dir, { names, identity }] of collected) targets.set(dir, { dir, names, identity });
  return targets;
}

type AddTarget = (dir: string, name: string, dirStats: BigIntStats) => void;

/** Records what to watch so that a change of the entry `name` inside `dir` is seen. */
async function watchEntry(dir: string, name: string, hops: number, add: AddTarget): Promise<void> {
  const dirStats = await statOrUndefined(dir);
  if (dirStats === undefined || !dirStats.isDirectory()) {
    // Wait for the missing directory to appear, one level up.
    const parent = dirname(dir);
    if (parent !== dir) await watchEntry(parent, basename(dir), hops, add);
    return;
  }
  let entryDir = dir;
  if (hops > 0 && (await isSymbolicLink(dir))) {
    // Watch the link itself (a swap re-points it) and the directory it leads to now.
    await watchEntry(dirname(dir), basename(dir), hops - 1, add);
    entryDir = await realpathOrSame(dir);
  }
  add(entryDir, name, dirStats);

  const entry = join(entryDir, name);
  if (hops > 0 && (await isSymbolicLink(entry))) {
    const target = await readlinkOrUndefined(entry);
    if (target !== undefined) {
      const resolved = resolve(entryDir, target);
      await watchEntry(dirname(resolved), basename(resolved), hops - 1, add);
    }
  }
}

async function statOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(path, { bigint: true });
  } catch {
    // Missing, not a directory, or unreadable: all mean "watch further up".
    return undefined;
  }
}

async function isSymbolicLink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}

async function realpathOrSame(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}
