import { resolve } from "node:path";
import { watchDirectory, type DirectoryWatch } from "./directory-watch.js";
import { describeFiles, waitUntilSettled } from "./settle.js";
import { resolveWatchTargets, type WatchTarget } from "./watch-targets.js";

/**
 * chokidar drops a file's `change` events that come within 50 ms of the previous one (it does not
 * deliver them later). A quiet period at least this long means a dropped event's write happened
 * before the report, so the files read after the report include it.
 */
const MIN_QUIET_MS = 60;
/**
 * Quiet time after the last event before the files are looked at: the shortest that is safe (see
 * {@link MIN_QUIET_MS}), so an edit is in force soon after the write. Editors write a policy in one
 * go, well within it; a writer that pauses longer mid-file is what atomic saves are for.
 */
export const DEFAULT_DEBOUNCE_MS = MIN_QUIET_MS;
/** Time between the two looks that must agree before a change is reported. */
export const DEFAULT_SETTLE_INTERVAL_MS = 50;
/** Longest wait for files that keep changing; they are then reported as they are. */
export const DEFAULT_MAX_SETTLE_MS = 2000;

export interface WatchPolicyFilesOptions {
  /** The files to watch (the policy file and every file it references); they need not exist yet. */
  readonly files: readonly string[];
  /** Quiet time, in milliseconds, that ends a burst of changes. Default {@link DEFAULT_DEBOUNCE_MS}. */
  readonly debounceMs?: number;
  /** Milliseconds between the two size-and-mtime looks that must agree. Default {@link DEFAULT_SETTLE_INTERVAL_MS}. */
  readonly settleIntervalMs?: number;
  /** Longest wait, in milliseconds, for files that keep changing. Default {@link DEFAULT_MAX_SETTLE_MS}. */
  readonly maxSettleMs?: number;
  /** Called once per settled burst of changes to any watched file. */
  readonly onChange: () => void;
  /**
   * Called when a burst has been quiet for half the quiet period, once the look at the files that
   * the end of the period is compared with has been taken: `onChange` is likely to follow. The
   * files may still change; a caller that reads them now must check, when `onChange` comes, that
   * they did not change since (the reloader loads the policy early this way).
   */
  readonly onQuiet?: () => void;
  /**
   * Called at each change notification, before the quiet period that follows it: the files may be
   * half-written, and reading them now is a guess (the reloader's early load checks it later).
   */
  readonly onEvent?: () => void;
  /** Called with errors of the underlying watches (and of `onChange`); they never throw. */
  readonly onError?: (error: Error) => void;
}

export interface PolicyFileWatcher {
  /** Watches this set of files from now on instead of the previous one. */
  setFiles(files: readonly string[]): void;
  /**
   * Resolves once every directory the current files need is being watched: a change made after
   * that is reported. A change made before it may not be, so a caller that read the files
   * earlier should read them again after it.
   */
  whenReady(): Promise<void>;
  /** Stops watching and releases every watch and timer. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Watches policy files for every way they really change, and calls `onChange` once the changes
 * have stopped: writes in place, rename-over saves (write a temporary file, rename it over the
 * old one), vim's backup-rename-write, deletion and later recreation, and the symbolic link swap
 * of a Kubernetes ConfigMap volume. Files, and directories, that do not exist yet are waited for.
 *
 * A burst of events ends after `debounceMs` of quiet; then every file's size, modification time
 * and identity must be what they were half-way through that quiet period (so they were still for
 * its second half) or, failing that, the same in two looks `settleIntervalMs` apart (at most
 * `maxSettleMs`), and only then is `onChange` called. An event during that wait starts over. The
 * watcher does not read contents: a `touch` or a save of identical bytes is reported too, and the
 * caller decides whether anything changed (`PolicyReloader` compares the files' bytes and the
 * loader's `version`).
 *
 * @example
 * const watcher = watchPolicyFiles({
 *   files: ["policies/chat.yaml"],
 *   onChange: () => void reloadPolicy(),
 *   onError: (err) => logger.warn(`watching the policy failed: ${err.message}`),
 * });
 * await watcher.whenReady();
 * // after each load: watcher.setFiles(result.files)
 * await watcher.close();
 */
export function watchPolicyFiles(options: WatchPolicyFilesOptions): PolicyFileWatcher {
  return new PolicyFilesWatcher(options);
}

class PolicyFilesWatcher implements PolicyFileWatcher {
  readonly #debounceMs: number;
  readonly #settleIntervalMs: number;
  readonly #maxSettleMs: number;
  readonly #onChange: () => void;
  readonly #onQuiet: () => void;
  readonly #onEvent: () => void;
  readonly #onError: (error: Error) => void;
  #files: readonly string[];
  /** The live watch of each directory, by its path. */
  readonly #watches = new Map<string, DirectoryWatch>();
  /** The chain of re-aims: each waits for the previous one, so watches are never replaced twice at once. */
  #aiming: Promise<void> = Promise.resolve();
  #debounceTimer: NodeJS.Timeout | undefined;
  /** What the files looked like half-way through the quiet period (see {@link waitUntilSettled}'s `since`). */
  #lastEventLook: Promise<string> | undefined;
  #lookTimer: NodeJS.Timeout | undefined;
  /** Aborts the settle wait in progress, when a newer event restarts the burst or the watcher closes. */
  #settling: AbortController | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WatchPolicyFilesOptions) {
    this.#debounceMs = Math.max(
      MIN_QUIET_MS,
      checkMilliseconds("debounceMs", options.debounceMs ?? DEFAULT_DEBOUNCE_MS),
    );
    this.#settleIntervalMs = checkMilliseconds(
      "settleIntervalMs",
      options.settleIntervalMs ?? DEFAULT_SETTLE_INTERVAL_MS,
    );
    this.#maxSettleMs = checkMilliseconds("maxSettleMs", options.maxSettleMs ?? DEFAULT_MAX_SETTLE_MS);
    this.#onChange = options.onChange;
    this.#onQuiet = options.onQuiet ?? (() => undefined);
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
    this.#files = normaliseFiles(options.files);
    void this.#aim();
  }

  setFiles(files: readonly string[]): void {
    if (this.#closing !== undefined) return;
    this.#files = normaliseFiles(files);
    void this.#aim();
  }

  async whenReady(): Promise<void> {
    for (;;) {
      const aiming = this.#aiming;
      await aiming;
      await Promise.all([...this.#watches.values()].map((dirWatch) => dirWatch.ready));
      if (aiming === this.#aiming) return;
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#release();
    return this.#closing;
  }

  async #release(): Promise<void> {
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = undefined;
    clearTimeout(this.#lookTimer);
    this.#lookTimer = undefined;
    this.#settling?.abort();
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    await Promise.all(watches.map((dirWatch) => dirWatch.close()));
    // A re-aim in progress closes the watches it was replacing, then sees the watcher closed.
    await this.#aiming;
  }

  /** Re-aims the watches at the current files, after any re-aim already under way. */
  #aim(): Promise<void> {
    this.#aiming = this.#aiming.then(() => this.#reaim()).catch((error: unknown) => this.#reportError(error));
    return this.#aiming;
  }

  async #reaim(): Promise<void> {
    if (this.#closing !== undefined) return;
    const targets = await resolveWatchTargets(this.#files);
    if (this.#closing !== undefined) return;
    const started: DirectoryWatch[] = [];
    const retired: DirectoryWatch[] = [];
    for (const [dir, target] of targets) {
      const current = this.#watches.get(dir);
      if (current !== undefined && sameTarget(current.target, target)) continue;
      const fresh = watchDirectory(
        target,
        () => this.#noteEvent(),
        (error) => this.#reportError(error),
      );
      started.push(fresh);
      this.#watches.set(dir, fresh);
      if (current !== undefined) retired.push(current);
    }
    for (const [dir, current] of this.#watches) {
      if (targets.has(dir)) continue;
      this.#watches.delete(dir);
      retired.push(current);
    }
    // The new watches are ready before the old ones go, so no change falls between them; events
    // seen twice meanwhile only extend the burst.
    await Promise.all(started.map((dirWatch) => dirWatch.ready));
    await Promise.all(retired.map((dirWatch) => dirWatch.close()));
  }

  /** A watched entry changed: (re)start the quiet period that ends the burst. */
  #noteEvent(): void {
    if (this.#closing !== undefined) return;
    this.#settling?.abort();
    this.#settling = undefined;
    clearTimeout(this.#debounceTimer);
    clearTimeout(this.#lookTimer);
    // A look at the files half-way through the quiet period: if they look the same when it ends,
    // they were still for that half, and no further wait is needed. Not right at the event: a
    // write in place truncates, then writes, and the first notification often comes in between.
    this.#lastEventLook = undefined;
    this.#lookTimer = setTimeout(
      () => {
        this.#lookTimer = undefined;
        const look = describeFiles(this.#files);
        this.#lastEventLook = look;
        void look.then(() => {
          if (this.#lastEventLook === look && this.#closing === undefined) this.#notify(this.#onQuiet);
        });
      },
      Math.floor(this.#debounceMs / 2),
    );
    this.#debounceTimer = setTimeout(() => void this.#settleAndReport(), this.#debounceMs);
    this.#notify(this.#onEvent);
  }

  async #settleAndReport(): Promise<void> {
    this.#debounceTimer = undefined;
    const settling = new AbortController();
    this.#settling = settling;
    // Links may point elsewhere now, and directories may have appeared or gone: watch the new
    // places before anyone reads the files, so nothing written from here on goes unseen.
    await this.#aim();
    if (settling.signal.aborted) return;
    const result = await waitUntilSettled(this.#files, {
      since: this.#lastEventLook,
      intervalMs: this.#settleIntervalMs,
      maxWaitMs: this.#maxSettleMs,
      signal: settling.signal,
    });
    if (result === "aborted" || settling.signal.aborted || this.#closing !== undefined) return;
    this.#settling = undefined;
    try {
      this.#onChange();
    } catch (error) {
      this.#reportError(error);
    }
  }

  #notify(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#reportError(error);
    }
  }

  #reportError(error: unknown): void {
    if (this.#closing !== undefined) return;
    try {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // An error handler that throws must not take the watcher down with it.
    }
  }
}

function sameTarget(a: WatchTarget, b: WatchTarget): boolean {
  if (a.identity !== b.identity || a.names.size !== b.names.size) return false;
  for (const name of a.names) if (!b.names.has(name)) return false;
  return true;
}

function normaliseFiles(files: readonly string[]): readonly string[] {
  return [...new Set(files.map((file) => resolve(file)))];
}

function checkMilliseconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number of milliseconds, 0 or more (got ${value})`);
  }
  return value;
}
