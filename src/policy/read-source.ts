/**
 * Reads a file the loader depends on (the policy, a schema file, a key file) with bounds: only
 * regular files (a FIFO or a device never blocks the loader), at most {@link MAX_SOURCE_BYTES}
 * bytes read, and text that is UTF-8 without NUL bytes. Every failure is a short reason, never an
 * exception.
 */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { Position } from "./positions.js";
import { textPosition } from "./positions.js";

/** The largest policy, schema or key file accepted: 1 MiB. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

export type SourceRead =
  | { readonly ok: true; readonly bytes: Buffer; readonly text: string }
  | {
      readonly ok: false;
      /** What went wrong, for a message: "no such file", "the file is larger than 1 MiB", ... */
      readonly problem: string;
      /** Where in the file, when the problem is inside it (a NUL byte, invalid UTF-8). */
      readonly position?: Position;
      /** The bytes read, when the file exists (they count in the policy's version). */
      readonly bytes?: Buffer;
      /** True when the file does not exist (a watcher may wait for it to appear). */
      readonly missing: boolean;
    };

/**
 * Flags for opening a file that may be hostile. O_NONBLOCK keeps `open` from waiting for a writer
 * when the path is a FIFO; it changes nothing for regular files. Windows has no such flag, and no
 * FIFOs to worry about.
 */
export const SOURCE_OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a text file of at most `maxBytes` bytes; `tooLarge` says why a larger one is refused.
 *
 * @example
 * const read = await readSourceFile("/srv/policies/chat.yaml");
 * if (read.ok) parse(read.text); else report(read.problem);
 */
export async function readSourceFile(
  path: string,
  maxBytes = MAX_SOURCE_BYTES,
  tooLarge = `the file is larger than ${describeBytes(maxBytes)}, the limit`,
): Promise<SourceRead> {
  let handle;
  try {
    handle = await open(path, SOURCE_OPEN_FLAGS);
  } catch (error) {
    return { ok: false, problem: describeOpenError(error), missing: isMissing(error) };
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) return { ok: false, problem: "it is a directory, not a file", missing: false };
    if (!stats.isFile()) return { ok: false, problem: "it is not a regular file", missing: false };
    const bytes = await readAtMost(handle, maxBytes + 1);
    if (bytes.length > maxBytes) {
      return { ok: false, problem: tooLarge, bytes, missing: false };
    }
    return decodeText(bytes);
  } catch (error) {
    return { ok: false, problem: describeOpenError(error), missing: false };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The file's text, or where it stops being text: a NUL byte, or bytes that are not UTF-8. */
export function decodeText(bytes: Buffer): SourceRead {
  const nul = bytes.indexOf(0);
  const invalid = firstInvalidUtf8(bytes);
  const notText = (at: number, problem: string): SourceRead => {
    // The bad byte stands for one character, so the position points at it.
    const upTo = bytes.subarray(0, at).toString("utf8") + "\uFFFD";
    return { ok: false, problem, position: textPosition(upTo, upTo.length - 1), bytes, missing: false };
  };
  if (nul !== -1 && (invalid === -1 || nul <= invalid))
    return notText(nul, "the file holds a NUL byte: it is binary, not text");
  if (invalid !== -1) return notText(invalid, "the file is not valid UTF-8 text");
  const text = bytes.toString("utf8");
  // A byte order mark is not content, and editors do not count it in columns.
  return { ok: true, bytes, text: text.startsWith("\uFEFF") ? text.slice(1) : text };
}

/**
 * The first `limit` bytes of an open file (fewer when it is shorter).
 *
 * @example
 * const head = await readAtMost(handle, MAX_SOURCE_BYTES + 1);
 */
export async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit);
  let filled = 0;
  while (filled < limit) {
    const { bytesRead } = await handle.read(buffer, filled, limit - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    let length: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) [length, min] = [2, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [length, min] = [3, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [length, min] = [4, 0x10000];
    else return index;
    if (index + length > bytes.length) return index;
    let codePoint = lead & (0xff >> (length + 1));
    for (let next = 1; next < length; next += 1) {
      const byte = bytes[index + next]!;
      if ((byte & 0xc0) !== 0x80) return index;
      codePoint = (codePoint << 6) | (byte & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (codePoint < min || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) return index;
    index += length;
  }
  return -1;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function describeOpenError(error: unknown): string {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case "ENOENT":
    case "ENOTDIR":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory, not a file";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "ENAMETOOLONG":
      return "the path is too long";
    default:
      return "the file cannot be read";
  }
}

/** `1048576` → `1 MiB`. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
