import { watch } from "chokidar";
import { basename, dirname } from "node:path";
import type { WatchTarget } from "./watch-targets.js";

/** A live watch on one directory, reporting events about a fixed set of names inside it. */
export interface DirectoryWatch {
  readonly target: WatchTarget;
  /** Resolves once the directory has been scanned: changes from then on are reported. */
  readonly ready: Promise<void>;
  /** Releases the watch; no event is reported afterwards. */
  close(): Promise<void>;
}

/**
 * Watches `target.dir` (not its subdirectories) and calls `onEvent` whenever one of
 * `target.names` is added, changed, removed or replaced, or the directory itself goes away.
 *
 * Symbolic links are reported as links (chokidar's `followSymlinks: false`): a swap of
 * `..data` is an event on `..data`, and the target's directory has a watch of its own (see
 * `resolveWatchTargets`). chokidar's own unlink-then-add merging (`atomic`) is off because the
 * caller debounces every burst anyway.
 *
 * @example
 * const dirWatch = watchDirectory(target, () => scheduleCheck(), (err) => report(err));
 * await dirWatch.ready;
 * await dirWatch.close();
 */
export function watchDirectory(
  target: WatchTarget,
  onEvent: () => void,
  onError: (error: Error) => void,
): DirectoryWatch {
  const { dir, names } = target;
  let closed = false;
  const watcher = watch(dir, {
    depth: 0,
    ignoreInitial: true,
    followSymlinks: false,
    atomic: false,
    persistent: true,
    ignored: (path) => path !== dir && !(dirname(path) === dir && names.has(basename(path))),
  });
  watcher.on("all", () => {
    if (!closed) onEvent();
  });
  watcher.on("error", (error) => {
    if (!closed) onError(error instanceof Error ? error : new Error(String(error)));
  });
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolveReady) => {
    markReady = resolveReady;
  });
  watcher.once("ready", () => markReady());
  return {
    target,
    ready,
    async close() {
      closed = true;
      // Nobody waiting for a watch that will never be ready should wait forever.
      markReady();
      await watcher.close();
    },
  };
}
