import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { MAX_SOURCE_BYTES, readAtMost, SOURCE_OPEN_FLAGS } from "../policy/read-source.js";
import { errorCode } from "./error-code.js";

/** What one file held, and when, at the moment it was looked at. */
export interface FileFingerprint {
  /**
   * `sha256:<hex>` of the bytes (of the first ones only past the loader's size limit),
   * `not-a-file` for a FIFO, device or directory, or `absent:<error code>` when the file could not
   * be opened.
   */
  readonly content: string;
  /** `content` plus device, inode, size and modification time: differs after any write, even of the same bytes. */
  readonly stamp: string;
}

/** Fingerprints of a set of files, by absolute path. */
export type FilesFingerprint = ReadonlyMap<string, FileFingerprint>;

/**
 * Reads each file and records a hash of its bytes and its stat stamp. Never throws: a missing or
 * unreadable file is recorded as absent with its error code, so its appearance is a difference.
 * Files are opened and read as the loader does (see `readSourceFile`): a FIFO or a device named by
 * the policy never blocks, and no more is read than the loader would accept.
 *
 * @example
 * const before = await fingerprintFiles(["/etc/app/policy.yaml"]);
 * // ... later
 * const now = await fingerprintFiles(["/etc/app/policy.yaml"]);
 * if (sameContent(before, now)) console.log("a touch, or a save of identical bytes");
 */
export async function fingerprintFiles(files: readonly string[]): Promise<FilesFingerprint> {
  const entries = await Promise.all(
    files.map(async (file): Promise<[string, FileFingerprint]> => [file, await fingerprintFile(file)]),
  );
  return new Map(entries);
}

/** True when both cover the same files and each holds the same bytes (or is absent for the same reason). */
export function sameContent(a: FilesFingerprint, b: FilesFingerprint): boolean {
  return sameBy(a, b, (entry) => entry.content);
}

/** True when both cover the same files and none was written, replaced or removed in between. */
export function sameStamps(a: FilesFingerprint, b: FilesFingerprint): boolean {
  return sameBy(a, b, (entry) => entry.stamp);
}

/** One string naming every file and its bytes' hash: equal exactly when {@link sameContent} holds. */
export function contentKey(fingerprint: FilesFingerprint): string {
  return [...fingerprint].map(([file, entry]) => `${file}\t${entry.content}`).join("\n");
}

function sameBy(a: FilesFingerprint, b: FilesFingerprint, key: (entry: FileFingerprint) => string): boolean {
  if (a.size !== b.size) return false;
  for (const [file, entry] of a) {
    const other = b.get(file);
    if (other === undefined || key(other) !== key(entry)) return false;
  }
  return true;
}

async function fingerprintFile(file: string): Promise<FileFingerprint> {
  try {
    const handle = await open(file, SOURCE_OPEN_FLAGS);
    try {
      const stats = await handle.stat({ bigint: true });
      const bytes = stats.isFile() ? await readAtMost(handle, MAX_SOURCE_BYTES + 1) : undefined;
      const content =
        bytes === undefined ? "not-a-file" : `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      return { content, stamp: `${content}:${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}` };
    } finally {
      await handle.close();
    }
  } catch (error) {
    const absent = `absent:${errorCode(error)}`;
    return { content: absent, stamp: absent };
  }
}
