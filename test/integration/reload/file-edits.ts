// How editors, tools and Kubernetes really change files, done for real on disk.
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** A fresh directory under the system temp dir; remove it with `removeTempDir`. */
export function makeTempDir(prefix = "sockguard-reload-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Truncates and rewrites the file itself (same inode): `echo > file`, many simple editors. */
export function saveInPlace(file: string, text: string): Promise<void> {
  return writeFile(file, text);
}

let renameCounter = 0;

/** Writes a temporary file next to it, then renames it over the file (VS Code, most tools, atomic deploys). */
export async function saveByRenameOver(file: string, text: string): Promise<void> {
  renameCounter += 1;
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.${renameCounter}.tmp`);
  await writeFile(temporary, text);
  await rename(temporary, file);
}

/** vim's default with `backupcopy=no`: rename the file to `file~`, write a new file, delete the backup. */
export async function saveLikeVim(file: string, text: string): Promise<void> {
  const backup = `${file}~`;
  await rename(file, backup);
  await writeFile(file, text);
  await unlink(backup);
}

/**
 * A Kubernetes ConfigMap volume: `dir/NAME -> ..data/NAME`, `..data -> ..<timestamp>`, the
 * files in the timestamped directory. `update` does what the kubelet does: write a new
 * timestamped directory, point a new `..data_tmp` link at it, rename that over `..data`, then
 * delete the old directory.
 */
export class ConfigMapVolume {
  #generation = 0;
  #current: string | undefined;

  private constructor(readonly dir: string) {}

  static async create(dir: string, files: Readonly<Record<string, string>>): Promise<ConfigMapVolume> {
    const volume = new ConfigMapVolume(dir);
    await volume.update(files);
    for (const name of Object.keys(files)) await symlink(join("..data", name), join(dir, name));
    return volume;
  }

  /** Publishes new contents; `keepOldDir` leaves the previous timestamped directory in place (as a slow kubelet might). */
  async update(files: Readonly<Record<string, string>>, { keepOldDir = false } = {}): Promise<void> {
    this.#generation += 1;
    const stamp = join(
      this.dir,
      `..2026_11_25_10_00_${String(this.#generation).padStart(2, "0")}.${process.pid}`,
    );
    await mkdir(stamp);
    for (const [name, text] of Object.entries(files)) await writeFile(join(stamp, name), text);
    const temporaryLink = join(this.dir, "..data_tmp");
    await symlink(basename(stamp), temporaryLink);
    await rename(temporaryLink, join(this.dir, "..data"));
    if (this.#current !== undefined && !keepOldDir) await rm(this.#current, { recursive: true });
    this.#current = stamp;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Points the directory symlink `link` at `target` atomically (`ln -s target link.tmp && mv -T
 * link.tmp link`): how a release swaps a whole directory of policy files at once.
 */
export async function swapDirectoryLink(link: string, target: string): Promise<void> {
  const temporary = `${link}.tmp`;
  await symlink(target, temporary);
  await rename(temporary, link);
}

/** Polls `condition` until it holds, or fails after `timeoutMs` saying what was awaited. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
