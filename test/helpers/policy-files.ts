/** Policies on disk for tests: real files in a fresh temporary directory, removed after the test. */
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Cleanup } from "./cleanup.js";

/**
 * Writes `files` (relative path → content) into a new temporary directory; returns its path.
 *
 * @example
 * const dir = await writePolicyFiles(cleanup, { "policy.yaml": "version: 1\nnamespaces: {}\n" });
 * await sockguard(io, { policy: join(dir, "policy.yaml") });
 */
export async function writePolicyFiles(cleanup: Cleanup, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sockguard-test-"));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  return dir;
}
