import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { errorCode } from "./error-code.js";

/** How long to wait for files to stop changing. */
export interface SettleOptions {
  /** Time between two looks at the files; they have settled when two looks in a row agree. */
  readonly intervalMs: number;
  /** Give up waiting after this long and report the files as they are. */
  readonly maxWaitMs: number;
  /** Aborts the wait (the watcher closed, or a newer change restarted it). */
  readonly signal: AbortSignal;
  /**
   * What the files looked like during the quiet period that just ended ({@link describeFiles}).
   * When they still look the same, that look already was the first of the two, and the wait ends
   * at once.
   */
  readonly since?: Promise<string>;
}

/** Why {@link waitUntilSettled} returned. */
export type SettleResult = "settled" | "timed-out" | "aborted";

/**
 * Waits until none of the files changes size, modification time or identity between two looks
 * `intervalMs` apart, or `maxWaitMs` has passed. A missing file counts as settled while it stays
 * missing.
 *
 * This narrows, but cannot close, the window in which a writer that pauses half-way through a
 * file is read half-written: a pause longer than the interval looks like a finished write.
 * Atomic saves (write elsewhere, then rename over the file) have no such window.
 *
 * @example
 * const controller = new AbortController();
 * const result = await waitUntilSettled(["/etc/app/policy.yaml"], {
 *   intervalMs: 50, maxWaitMs: 2000, signal: controller.signal,
 * });
 * if (result !== "aborted") reload();
 */
export async function waitUntilSettled(
  files: readonly string[],
  options: SettleOptions,
): Promise<SettleResult> {
  const deadline = Date.now() + options.maxWaitMs;
  let previous = await describeFiles(files);
  if (options.since !== undefined && (await options.since) === previous) return "settled";
  for (;;) {
    try {
      await sleep(options.intervalMs, undefined, { signal: options.signal });
    } catch {
      return "aborted";
    }
    if (options.signal.aborted) return "aborted";
    const current = await describeFiles(files);
    if (current === previous) return "settled";
    if (Date.now() >= deadline) return "timed-out";
    previous = current;
  }
}

/** One string saying what each file looks like now, equal exactly when nothing observable changed. */
export async function describeFiles(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      try {
        const stats = await stat(file, { bigint: true });
        return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
      } catch (error) {
        return `absent:${errorCode(error)}`;
      }
    }),
  );
  return parts.join("\n");
}
