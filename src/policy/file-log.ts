/**
 * The files one load depended on, in the order they were looked at, with what was read from each:
 * the `files` a watcher needs (missing ones included, so it can wait for them) and the `version`
 * hash that says whether two loads saw the same inputs.
 */
import { createHash } from "node:crypto";

export class FileLog {
  readonly #entries = new Map<string, Buffer | undefined>();

  /** Records a file by absolute path: its bytes, or `undefined` when it is missing or unreadable. */
  record(path: string, bytes: Buffer | undefined): void {
    if (!this.#entries.has(path)) this.#entries.set(path, bytes);
  }

  has(path: string): boolean {
    return this.#entries.has(path);
  }

  /** Absolute paths, in the order they were first recorded. */
  get files(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Hex sha256 over each path and its contents (or a marker for a missing file), plus `extra` (a
   * policy given as an object). Lengths are hashed too, so no two inputs can run together.
   */
  version(extra?: string): string {
    const hash = createHash("sha256");
    for (const [path, bytes] of this.#entries) {
      hash.update(`${Buffer.byteLength(path)}:${path}\0`);
      if (bytes === undefined) hash.update("missing\0");
      else hash.update(`${bytes.length}:`).update(bytes).update("\0");
    }
    if (extra !== undefined) hash.update(`object:${Buffer.byteLength(extra)}:`).update(extra);
    return hash.digest("hex");
  }
}
