/** Fixture installs for doctor's tests: real node_modules trees of package.json files in a temporary directory. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cleanup } from "./cleanup.js";

/**
 * Writes one package.json per entry (its directory relative to the install root → its version;
 * the package's name is what follows the last `node_modules/`) plus `extraFiles`; returns the root.
 *
 * @example
 * const root = await writeInstall(cleanup, {
 *   "node_modules/engine.io": "6.6.5",
 *   "node_modules/engine.io/node_modules/ws": "8.17.0",
 * }, { "package-lock.json": "{}" });
 */
export async function writeInstall(
  cleanup: Cleanup,
  packages: Record<string, string>,
  extraFiles: Record<string, string> = {},
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "sockguard-doctor-"));
  cleanup.add(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, "node_modules"), { recursive: true });
  for (const [dir, version] of Object.entries(packages)) {
    const name = dir.slice(dir.lastIndexOf("node_modules/") + "node_modules/".length);
    await mkdir(join(root, dir), { recursive: true });
    await writeFile(join(root, dir, "package.json"), JSON.stringify({ name, version }));
  }
  for (const [file, content] of Object.entries(extraFiles)) await writeFile(join(root, file), content);
  return root;
}
