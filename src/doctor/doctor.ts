/**
 * `doctor` as a function: the installed stack under a directory, checked against an advisory file,
 * with the install's warnings. The CLI formats its result; nothing here prints.
 */
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { displayPath } from "../policy/display-path.js";
import { loadAdvisories, SHIPPED_ADVISORIES, type AdvisoryFile } from "./advisories.js";
import { findVulnerable, type Finding } from "./findings.js";
import { lintInstall, type Lint } from "./lints.js";
import { scanInstalledStack, type InstalledPackage } from "./scan.js";

export interface DoctorOptions {
  /** A newer advisory file in the same format; the shipped one by default. */
  readonly advisories?: string;
  readonly maxDirectories?: number;
  /** How a directory appears in warnings; relative to `root` by default. */
  readonly showPath?: (dir: string) => string;
}

export interface DoctorReport {
  /** The directory checked, absolute. */
  readonly root: string;
  readonly advisories: AdvisoryFile;
  /** Every copy found, each once (two paths to one real directory are one copy). */
  readonly packages: readonly InstalledPackage[];
  readonly findings: readonly Finding[];
  readonly lints: readonly Lint[];
}

/** `root` has no node_modules: there is nothing installed to check (an unchecked install must not pass). */
export class NothingInstalledError extends Error {
  override readonly name = "NothingInstalledError";
}

/**
 * Checks the stack installed under `root`. Rejects with an `AdvisoryFileError` for an advisory file
 * that cannot be used, and a {@link NothingInstalledError} when `root/node_modules` does not exist.
 *
 * @example
 * const report = await runDoctor("/srv/app");
 * report.findings.length; // 0 when no installed copy is known to be vulnerable
 */
export async function runDoctor(root: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const dir = resolve(root);
  const advisories = await loadAdvisories(options.advisories ?? SHIPPED_ADVISORIES);
  try {
    await access(join(dir, "node_modules"));
  } catch {
    throw new NothingInstalledError(`${dir} has no node_modules: install the app's dependencies first`);
  }
  const scan = await scanInstalledStack(
    dir,
    options.maxDirectories === undefined ? {} : { maxDirectories: options.maxDirectories },
  );
  return {
    root: dir,
    advisories,
    packages: scan.packages,
    findings: findVulnerable(scan.packages, advisories),
    lints: await lintInstall(dir, scan, options.showPath ?? ((path) => displayPath(path, dir))),
  };
}
