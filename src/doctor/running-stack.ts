/**
 * The guard's start-up check: the socket.io stack this server really runs with, against the same
 * advisory data as `sockguard doctor`, one warning per finding. It never fails the start and runs
 * after it, reading a handful of package.json files once.
 *
 * "Really runs with" is decided by identity, not by path: a socket.io module counts only when the
 * app's server is an instance of its `Server`. The candidates are the copy sockguard resolves (a
 * peer dependency: normally the app's own) and the one the working directory resolves. From that
 * copy, engine.io, socket.io-parser and socket.io-adapter are resolved the way socket.io itself
 * resolves them, and ws the way engine.io and the adapter do.
 */
import { createRequire } from "node:module";
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Server } from "socket.io";
import semver from "semver";
import { displayPath } from "../policy/display-path.js";
import { AdvisoryFileError, loadAdvisories, SHIPPED_ADVISORIES, type StackPackage } from "./advisories.js";
import { describeFinding, findVulnerable } from "./findings.js";
import type { InstalledPackage } from "./scan.js";

/** Where the check writes: the guard's logger. */
export interface StackCheckLogger {
  warn(message: string): void;
}

/**
 * Schedules the check after the current start-up work; `advisories` is a newer advisory file, or
 * `false` to skip the check. Never throws, never rejects.
 *
 * @example
 * scheduleStackCheck(io, guard.logger, options.advisories);
 */
export function scheduleStackCheck(io: Server, logger: StackCheckLogger, advisories?: string | false): void {
  if (advisories === false) return;
  setImmediate(() => void checkRunningStack(io, logger, advisories));
}

/**
 * Checks the stack `io` runs with and logs one warning per finding; resolves to the number of
 * findings (undefined when the check could not run, after saying why).
 *
 * @example
 * await checkRunningStack(io, console); // warns "sockguard: engine.io 6.6.5 at node_modules/engine.io: CVE-2026-59725 (high): ..."
 */
export async function checkRunningStack(
  io: Server,
  logger: StackCheckLogger,
  advisories?: string,
): Promise<number | undefined> {
  try {
    const data = await loadAdvisories(advisories ?? SHIPPED_ADVISORIES);
    const socketIo = locateRunningSocketIo(io);
    if (socketIo === undefined) {
      logger.warn(
        'sockguard: could not find the socket.io module this server was created from, so its versions were not checked against advisories; run "sockguard doctor"',
      );
      return undefined;
    }
    const packages = readRunningStack(socketIo);
    const findings = findVulnerable(packages, data);
    const show = (dir: string): string => displayPath(dir, process.cwd());
    for (const finding of findings) {
      logger.warn(`sockguard: ${describeFinding(finding, show)} (advisories compiled ${data.compiled})`);
    }
    return findings.length;
  } catch (error) {
    const why =
      error instanceof AdvisoryFileError ? error.message : "the installed packages could not be read";
    logger.warn(`sockguard: the socket.io stack was not checked against advisories: ${why}`);
    return undefined;
  }
}

/** The socket.io package whose `Server` created `io`, if a candidate is it. */
function locateRunningSocketIo(io: Server): InstalledPackage | undefined {
  const candidates = [createRequire(import.meta.url), createRequire(join(process.cwd(), "noop.js"))];
  const tried = new Set<string>();
  for (const require of candidates) {
    let entry: string;
    try {
      entry = require.resolve("socket.io");
    } catch {
      continue;
    }
    if (tried.has(entry)) continue;
    tried.add(entry);
    const loaded = require(entry) as { Server?: unknown };
    if (typeof loaded.Server === "function" && io instanceof loaded.Server)
      return packageOf(entry, "socket.io");
  }
  return undefined;
}

/** socket.io and what it runs on, resolved from its own directory the way Node resolves them for it. */
function readRunningStack(socketIo: InstalledPackage): InstalledPackage[] {
  const engine = resolveFrom(socketIo, "engine.io");
  const adapter = resolveFrom(socketIo, "socket.io-adapter");
  const found = [
    socketIo,
    engine,
    adapter,
    resolveFrom(socketIo, "socket.io-parser"),
    engine && resolveFrom(engine, "ws"),
    adapter && resolveFrom(adapter, "ws"),
  ];
  const byDir = new Map<string, InstalledPackage>();
  for (const installed of found) if (installed) byDir.set(installed.realDir, installed);
  return [...byDir.values()];
}

/** `name` as a module in `from`'s directory would require it, if it can. */
function resolveFrom(from: InstalledPackage, name: StackPackage): InstalledPackage | undefined {
  try {
    return packageOf(createRequire(join(from.dir, "package.json")).resolve(name), name);
  } catch {
    return undefined;
  }
}

/** The package `name` that `file` belongs to: the nearest directory above it whose package.json names it. */
function packageOf(file: string, name: StackPackage): InstalledPackage | undefined {
  for (let dir = dirname(realpathSync(file)); dirname(dir) !== dir; dir = dirname(dir)) {
    let manifest: { name?: unknown; version?: unknown };
    try {
      manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as typeof manifest;
    } catch {
      continue;
    }
    if (manifest.name !== name) continue;
    const version = typeof manifest.version === "string" ? semver.valid(manifest.version) : null;
    return version === null ? undefined : { name, version, dir, realDir: dir };
  }
  return undefined;
}
