/** Which installed copies an advisory file names as vulnerable. Ranges are node-semver's, never parsed by hand. */
import semver from "semver";
import type { Advisory, AdvisoryFile } from "./advisories.js";
import type { InstalledPackage } from "./scan.js";

/** One installed copy in one advisory's affected ranges. */
export interface Finding {
  readonly package: InstalledPackage;
  readonly advisory: Advisory;
  /** The fixed versions worth upgrading to from this version: the lowest above it, or all of them when none is. */
  readonly upgradeTo: readonly string[];
}

/**
 * Every (copy, advisory) pair where the copy's version is in one of the advisory's ranges.
 * Prereleases count (`6.6.7-rc.1` is below `6.6.7`).
 *
 * @example
 * findVulnerable(scan.packages, await loadAdvisories());
 * // [{ package: { name: "engine.io", version: "6.6.5", ... }, advisory: { ids: ["GHSA-…", "CVE-2026-59725"], ... }, upgradeTo: ["6.6.7"] }]
 */
export function findVulnerable(packages: readonly InstalledPackage[], advisories: AdvisoryFile): Finding[] {
  const findings: Finding[] = [];
  for (const installed of packages) {
    for (const advisory of advisories.advisories) {
      if (advisory.package !== installed.name) continue;
      const affected = advisory.affected.some((range) =>
        semver.satisfies(installed.version, range, { includePrerelease: true }),
      );
      if (affected)
        findings.push({ package: installed, advisory, upgradeTo: upgradeTo(installed.version, advisory) });
    }
  }
  return findings;
}

function upgradeTo(version: string, advisory: Advisory): string[] {
  const above = advisory.fixed.filter((fixed) => semver.gt(fixed, version)).sort(semver.compare);
  return above.length > 0 ? [above[0]!] : [...advisory.fixed];
}

/**
 * The identifier shown first for an advisory: its CVE when it has one (what scanners and
 * changelogs quote), else its first id.
 *
 * @example
 * primaryId({ ids: ["GHSA-r635-g3xr-vw7x", "CVE-2026-59725"], ... }); // "CVE-2026-59725"
 */
export function primaryId(advisory: Advisory): string {
  return advisory.ids.find((id) => id.startsWith("CVE-")) ?? advisory.ids[0]!;
}

/**
 * One finding as one line, the same in doctor's output and the guard's start-up warning.
 * `show` turns the copy's directory into how it is printed.
 *
 * @example
 * describeFinding(finding, (dir) => relative(cwd, dir));
 * // "engine.io 6.6.5 at node_modules/engine.io: CVE-2026-59725 (high): polling connection exhaustion: ...; fixed in 6.6.7"
 */
export function describeFinding(finding: Finding, show: (dir: string) => string): string {
  const { package: installed, advisory } = finding;
  return (
    `${installed.name} ${installed.version} at ${show(installed.dir)}: ` +
    `${primaryId(advisory)} (${advisory.severity}): ${advisory.summary}; ` +
    (finding.upgradeTo.length > 0 ? `fixed in ${finding.upgradeTo.join(" / ")}` : "no fixed version yet")
  );
}
