import { EventEmitter } from "node:events";
import { resolve } from "node:path";
import { formatDiagnostic, hasErrors, type Diagnostic } from "../policy/diagnostic.js";
import type { PolicyLoadResult } from "../policy/loaded.js";
import { PolicyLoadCache } from "../policy/load-cache.js";
import {
  contentKey,
  fingerprintFiles,
  sameContent,
  sameStamps,
  type FileFingerprint,
  type FilesFingerprint,
} from "./fingerprint.js";
import { describeReloadFailure, type ReloadLogger } from "./reload-log.js";
import { watchPolicyFiles, type PolicyFileWatcher } from "./watcher.js";

/** What `apply` reports about putting a loaded policy in force. */
export interface ApplyOutcome {
  /** Errors that kept the new policy out (it did not compile, say): the last good one stays in force. */
  readonly diagnostics?: readonly Diagnostic[];
  /** Warnings about a policy that is now in force, e.g. a part that takes effect only after a restart. */
  readonly warnings?: readonly Diagnostic[];
}

export interface PolicyReloaderOptions {
  /** The policy file. */
  readonly path: string;
  /**
   * Reads and checks the policy (`loadPolicy`). A load that throws counts as a failed load. Each
   * load is given the reloader's {@link PolicyLoadCache}, which `loadPolicy` uses to re-check
   * only the event schemas an edit changed.
   */
  readonly load: (path: string, options: { readonly cache: PolicyLoadCache }) => Promise<PolicyLoadResult>;
  /** Compiles a loaded policy and puts it in force. Called only for a policy without errors. */
  readonly apply: (result: PolicyLoadResult) => Promise<ApplyOutcome> | ApplyOutcome;
  /** Watch the files for changes (default true). Without it, only `reload()` re-reads them. */
  readonly watch?: boolean;
  /** Quiet time that ends a burst of changes, in milliseconds (default 60, the shortest allowed). */
  readonly debounceMs?: number;
  /** Receives one line per reload, failed reload and watch error. Nothing is logged without one. */
  readonly logger?: ReloadLogger;
  /**
   * Told how each pass after `start()` that loaded the policy ended: `applied` (a new version is
   * in force; with the seconds from the start of the pass until `apply` returned), `unchanged` (it
   * loaded to the version in force, applied again or not) or `failed` (reported, as
   * `reloadFailed` is: a repeat of the same failure is not).
   */
  readonly onPassEnd?: (result: "applied" | "unchanged" | "failed", seconds: number) => void;
}

/** A new policy is in force. */
export interface PolicyReloadedEvent {
  /** The loader's `version` of the policy now in force. */
  readonly version: string;
  /**
   * Every file the load read or looked for, the policy first, each environment value in a name
   * replaced as the loader's diagnostics replace it (a `$ref` may name a file with `${env:...}`).
   */
  readonly files: readonly string[];
  /** The loader's and `apply`'s warnings. */
  readonly warnings: readonly Diagnostic[];
}

/** A load or apply failed; the last good policy stays in force. */
export interface PolicyReloadFailedEvent {
  /** Why, with positions; at least one has severity `error`. */
  readonly diagnostics: readonly Diagnostic[];
  /** The files watched from now on (a fix to any of them is picked up), environment values scrubbed. */
  readonly files: readonly string[];
}

export interface PolicyReloaderEvents {
  reload: [event: PolicyReloadedEvent];
  reloadFailed: [event: PolicyReloadFailedEvent];
}

type EmittedEvent = ["reload", PolicyReloadedEvent] | ["reloadFailed", PolicyReloadFailedEvent];

/** What one pass of the reload cycle did. */
export type ReloadOutcome =
  | ({ readonly status: "applied" } & PolicyReloadedEvent)
  | ({ readonly status: "failed" } & PolicyReloadFailedEvent)
  /** Nothing to do: the files held the same bytes, or loaded to the `version` already in force. */
  | { readonly status: "unchanged"; readonly version: string | undefined }
  /** The reloader was closed before the pass ran or finished; nothing was applied. */
  | { readonly status: "closed" };

/** How a pass treats unchanged inputs. */
interface PassRequest {
  /** Load even when the files hold the bytes the last load read. */
  readonly mustLoad: boolean;
  /** Apply even when the load yields the `version` already in force. */
  readonly reapply: boolean;
}

const AFTER_CHANGE: PassRequest = { mustLoad: false, reapply: false };
/** Load again because an earlier read happened while some files were not watched yet. */
const CONFIRM_EARLIER_READ: PassRequest = { mustLoad: true, reapply: false };
const FORCED: PassRequest = { mustLoad: true, reapply: true };
const CLOSED: ReloadOutcome = { status: "closed" };

/** What a pass knows once its load has run. */
interface PassContext {
  readonly request: PassRequest;
  /** The first pass, from `start()`: reported through its result only. */
  readonly initial: boolean;
  /** The files watched from now on, as events show them (environment values scrubbed). */
  readonly files: readonly string[];
  /** The files' bytes just after the load (see `contentKey`). */
  readonly contentRead: string;
  /** `performance.now()` when the pass began. */
  readonly startedAt: number;
}

/**
 * Owns the reload cycle of one policy file, without knowing Socket.IO: it watches the policy and
 * every file the last load read or looked for, and on a change loads the policy again and hands a
 * good result to `apply`. A failed load (or apply) leaves the last good policy in force.
 *
 * - Loads never overlap: a change during a load queues exactly one more.
 * - A change that leaves the files' bytes as the last load read them (a `touch`, a save of the
 *   same text) is skipped without loading. A load whose `version` is already in force is not
 *   applied. `reload()` loads and applies regardless.
 * - After every load, good or failed, the watch follows the load's `files`, so a `$ref` to a file
 *   that does not exist yet starts working when the file appears.
 * - Events: `reload` ({@link PolicyReloadedEvent}) and `reloadFailed` ({@link PolicyReloadFailedEvent})
 *   for every pass after `start()`. With a `logger`, each also gives one log line.
 *
 * @example
 * const reloader = new PolicyReloader({
 *   path: "policies/chat.yaml",
 *   load: loadPolicy,
 *   apply: (result) => { holder.current = compilePolicy(result); return {}; },
 *   logger: console,
 * });
 * const first = await reloader.start();
 * if (first.status !== "applied") { await reloader.close(); throw new Error("the policy did not load"); }
 * reloader.on("reloadFailed", ({ diagnostics }) => alert(diagnostics));
 * await reloader.reload(); // re-read now
 * await reloader.close();
 */
export class PolicyReloader extends EventEmitter<PolicyReloaderEvents> {
  readonly #path: string;
  readonly #load: PolicyReloaderOptions["load"];
  /** What this policy's loads remember between them (bounded: one policy's event schemas). */
  readonly #loadCache = new PolicyLoadCache();
  readonly #apply: (result: PolicyLoadResult) => Promise<ApplyOutcome> | ApplyOutcome;
  readonly #watch: boolean;
  readonly #debounceMs: number | undefined;
  readonly #logger: ReloadLogger | undefined;
  readonly #onPassEnd: PolicyReloaderOptions["onPassEnd"];
  #watcher: PolicyFileWatcher | undefined;
  /** The files watched now: the policy first, then what the last load read or looked for. */
  #files: readonly string[];
  /** Scrubs the environment values the last load read out of a text (its `redact`). */
  #redact: (text: string) => string = String;
  /** The version in force, once a policy has been applied. */
  #appliedVersion: string | undefined;
  /** What the last failed load read and reported; undefined once a load succeeds. */
  #lastFailure: string | undefined;
  /** The files' bytes as the last load read them, when that is known for sure. */
  #loadedContent: FilesFingerprint | undefined;
  #started = false;
  /** True until `start()` resolves: its passes report through its result, not through events. */
  #starting = false;
  /** The confirming load queued after a load that found new files, if it has not run yet. */
  #confirmation: Promise<ReloadOutcome> | undefined;
  #closed = false;
  #pending: { request: PassRequest; waiters: ((outcome: ReloadOutcome) => void)[] } | undefined;
  #draining: Promise<void> | undefined;
  /** A load started while the watcher's quiet period runs (see {@link EarlyLoad}), until a pass takes it. */
  #early: Promise<EarlyLoad> | undefined;

  constructor(options: PolicyReloaderOptions) {
    super();
    this.#path = resolve(options.path);
    this.#load = options.load;
    this.#apply = options.apply;
    this.#watch = options.watch ?? true;
    this.#debounceMs = options.debounceMs;
    this.#logger = options.logger;
    this.#onPassEnd = options.onPassEnd;
    this.#files = [this.#path];
  }

  /** Every file watched now (the policy first); they change after each load. */
  get files(): readonly string[] {
    return this.#files;
  }

  /** The `version` of the policy in force, or undefined before one was applied. */
  get version(): string | undefined {
    return this.#appliedVersion;
  }

  /**
   * Starts watching, and puts a policy in force.
   *
   * Without `initial`: watches the policy file, then loads and applies it. Watching begins before
   * the first read, so an edit made while the policy loads is not missed; when the load finds
   * referenced files, they are read once more after they are watched. Resolves with where that
   * ends: `applied`, or `failed` (the caller should then `close()`: a server must not run
   * unguarded). Emits no event until it has resolved.
   *
   * With `initial`, a load the caller made and has already put in force (it must have a policy and
   * no error): watches its files, then loads once more to catch an edit made between that load and
   * the watch. Resolves `unchanged` when there was none, and reports like any later reload when
   * there was one.
   *
   * @example
   * const first = await loadPolicy(path);      // the caller compiles and applies it, then:
   * await reloader.start(first);
   */
  async start(initial?: PolicyLoadResult): Promise<ReloadOutcome> {
    if (this.#started) throw new Error("PolicyReloader.start() was already called");
    if (initial !== undefined && (!initial.policy || hasErrors(initial.diagnostics))) {
      throw new TypeError("PolicyReloader.start(initial) takes a load that succeeded and is in force");
    }
    this.#started = true;
    if (initial !== undefined) {
      this.#appliedVersion = initial.version;
      this.#redact = initial.redact ?? String;
      this.#files = this.#filesAfter({ result: initial });
    }
    if (this.#watch) {
      this.#watcher = watchPolicyFiles({
        files: this.#files,
        ...(this.#debounceMs === undefined ? {} : { debounceMs: this.#debounceMs }),
        onChange: () => void this.#request(AFTER_CHANGE),
        onEvent: () => this.#loadEarly(false),
        onQuiet: () => this.#loadEarly(true),
        onError: (error) =>
          this.#log("warn", `sockguard: watching the policy files failed: ${error.message}`),
      });
      await this.#watcher.whenReady();
    } else if (initial !== undefined) {
      return { status: "unchanged", version: this.#appliedVersion };
    }
    if (initial !== undefined) return this.#request(CONFIRM_EARLIER_READ);

    this.#starting = true;
    try {
      let outcome = await this.#request(FORCED);
      // The first load usually finds referenced files: settle on what a second look confirms.
      while (this.#confirmation !== undefined && outcome.status !== "closed") {
        const confirmation = this.#confirmation;
        this.#confirmation = undefined;
        const confirmed = await confirmation;
        if (confirmed.status !== "unchanged") outcome = confirmed;
      }
      return outcome;
    } finally {
      this.#starting = false;
    }
  }

  /**
   * Reads the policy and everything it references again now, and applies it even if its version
   * is already in force (values from the environment may have changed). Waits for a load under
   * way and runs after it.
   */
  reload(): Promise<ReloadOutcome> {
    if (!this.#started) return Promise.reject(new Error("PolicyReloader.reload() called before start()"));
    return this.#request(FORCED);
  }

  /** Stops watching and waits for a load under way; queued loads resolve as `closed`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#watcher?.close();
    await this.#early;
    await this.#draining;
    this.#resolvePending(CLOSED);
  }

  #request(request: PassRequest): Promise<ReloadOutcome> {
    if (this.#closed) return Promise.resolve(CLOSED);
    return new Promise((resolveOutcome) => {
      if (this.#pending === undefined) {
        this.#pending = { request, waiters: [resolveOutcome] };
      } else {
        const queued = this.#pending.request;
        this.#pending.request = {
          mustLoad: queued.mustLoad || request.mustLoad,
          reapply: queued.reapply || request.reapply,
        };
        this.#pending.waiters.push(resolveOutcome);
      }
      this.#draining ??= this.#drain().finally(() => {
        this.#draining = undefined;
      });
    });
  }

  /** Runs queued passes one at a time until none is left. */
  async #drain(): Promise<void> {
    while (this.#pending !== undefined && !this.#closed) {
      const { request, waiters } = this.#pending;
      this.#pending = undefined;
      let outcome: ReloadOutcome;
      try {
        outcome = await this.#pass(request, this.#starting);
      } catch (error) {
        // Only a bug gets here; the waiters still get an answer and the cycle goes on.
        const diagnostics = [
          problem(this.#path, `the reload failed unexpectedly: ${this.#redact(firstLine(error))}`),
        ];
        outcome = { status: "failed", diagnostics, files: this.#files.map(this.#redact) };
        this.#log("error", describeReloadFailure(diagnostics));
      }
      for (const resolveOutcome of waiters) resolveOutcome(outcome);
    }
    if (this.#closed) this.#resolvePending(CLOSED);
  }

  #resolvePending(outcome: ReloadOutcome): void {
    const pending = this.#pending;
    this.#pending = undefined;
    for (const resolveOutcome of pending?.waiters ?? []) resolveOutcome(outcome);
  }

  /**
   * Starts loading the policy before the watcher reports the change, so the load is done, or under
   * way, when it does: at the first notification of a burst (for a save in one step, the files are
   * complete already), and again half-way through the quiet period (`quiet`) if the files changed
   * since that load read them. Only when no pass runs, and one early load at a time: loads never
   * overlap.
   */
  #loadEarly(quiet: boolean): void {
    if (this.#closed || this.#draining !== undefined) return;
    const previous = this.#early;
    if (previous === undefined) {
      this.#early = this.#loadOnce(this.#files);
    } else if (quiet) {
      // After the one under way (or done): load again only if the files moved since it read them.
      this.#early = previous.then(async (early) => {
        if (this.#closed) return early;
        const now = await fingerprintFiles(early.files);
        return sameStamps(now, early.after) ? early : this.#loadOnce(early.files);
      });
    }
  }

  /** One early load of `files`, with their fingerprints before and after it. */
  async #loadOnce(files: readonly string[]): Promise<EarlyLoad> {
    const startedAt = performance.now();
    const before = await fingerprintFiles(files);
    // The bytes the last load read (a touch): the pass will skip them, there is nothing to load.
    if (this.#loadedContent !== undefined && sameContent(before, this.#loadedContent)) {
      return { files, startedAt, before, after: before };
    }
    const loaded = await this.#loadSafely();
    return { files, startedAt, before, loaded, after: await fingerprintFiles(files) };
  }

  /**
   * The early load, if one was made, and forgets it: what it loaded is what a load now would,
   * when the same files held the same bytes, with the same stamps, before it, after it and now.
   */
  async #takeEarly(): Promise<EarlyLoad | undefined> {
    const early = await this.#early;
    this.#early = undefined;
    return early;
  }

  async #pass(request: PassRequest, initial: boolean): Promise<ReloadOutcome> {
    let startedAt = performance.now();
    // A pass waits for an early load under way: loads never overlap.
    const early = await this.#takeEarly();
    const before = await fingerprintFiles(this.#files);
    if (!request.mustLoad && this.#loadedContent !== undefined && sameContent(before, this.#loadedContent)) {
      return { status: "unchanged", version: this.#appliedVersion };
    }

    const usable =
      early?.loaded !== undefined &&
      !request.mustLoad &&
      sameList(early.files, this.#files) &&
      sameStamps(early.before, early.after) &&
      sameStamps(early.before, before);
    if (usable) startedAt = early.startedAt;
    const loaded = usable ? early.loaded : await this.#loadSafely();
    if (this.#closed) return CLOSED;
    if ("result" in loaded) this.#redact = loaded.result.redact ?? String;
    const files = this.#filesAfter(loaded);
    const added = files.some((file) => !this.#files.includes(file));
    this.#files = files;
    if (this.#watcher !== undefined) {
      this.#watcher.setFiles(files);
      await this.#watcher.whenReady();
    }
    // The bytes the load read are known only if nothing was written while it ran. A file the
    // load found for the first time was not watched while it was read: read everything again
    // now that it is (the version check makes that second load cheap).
    const after = await fingerprintFiles(files);
    this.#loadedContent = !added && sameStamps(restrictTo(before, files), after) ? after : undefined;
    if (added && this.#watcher !== undefined) {
      const confirmation = this.#request(CONFIRM_EARLIER_READ);
      if (this.#starting) this.#confirmation = confirmation;
    }

    const shownFiles = files.map(this.#redact);
    const pass: PassContext = {
      request,
      initial,
      files: shownFiles,
      contentRead: contentKey(after),
      startedAt,
    };
    if ("thrown" in loaded) return this.#fail([loaded.thrown], pass);
    const result = loaded.result;
    // No policy without errors breaks the loader's contract (an empty file parsed to null, say):
    // never put "nothing" in force.
    if (!result.policy || hasErrors(result.diagnostics)) {
      const diagnostics = hasErrors(result.diagnostics)
        ? result.diagnostics
        : [problem(this.#path, "the loader returned no policy and no error")];
      return this.#fail(diagnostics, pass);
    }
    const loadWarnings = result.diagnostics.filter((diagnostic) => diagnostic.severity === "warning");

    if (!request.reapply && result.version === this.#appliedVersion) {
      if (this.#lastFailure !== undefined) {
        // Fixed back to exactly the policy in force: say the failure is over.
        this.#lastFailure = undefined;
        this.#succeed(
          { version: result.version, files: shownFiles, warnings: loadWarnings },
          "restored",
          initial,
        );
      }
      // A confirming load re-reads what an earlier pass already counted.
      if (!initial && request !== CONFIRM_EARLIER_READ) this.#passEnded("unchanged", pass);
      return { status: "unchanged", version: this.#appliedVersion };
    }

    if (this.#closed) return CLOSED;
    let applied: ApplyOutcome;
    try {
      applied = await this.#apply(result);
    } catch (error) {
      const message = `the policy could not be applied: ${this.#redact(firstLine(error))}`;
      return this.#fail([problem(this.#path, message)], pass);
    }
    if (applied.diagnostics !== undefined && hasErrors(applied.diagnostics)) {
      return this.#fail(applied.diagnostics, pass);
    }
    const changed = result.version !== this.#appliedVersion;
    this.#appliedVersion = result.version;
    this.#lastFailure = undefined;
    const event: PolicyReloadedEvent = {
      version: result.version,
      files: shownFiles,
      warnings: [...loadWarnings, ...(applied.warnings ?? [])],
    };
    // A forced reload of the version in force applies it again, but changes nothing in force.
    if (!initial) this.#passEnded(changed ? "applied" : "unchanged", pass);
    this.#succeed(event, initial ? "loaded" : "reloaded", initial);
    return { status: "applied", ...event };
  }

  async #loadSafely(): Promise<{ result: PolicyLoadResult } | { thrown: Diagnostic }> {
    try {
      return { result: await this.#load(this.#path, { cache: this.#loadCache }) };
    } catch (error) {
      return {
        thrown: problem(this.#path, `the policy could not be loaded: ${this.#redact(firstLine(error))}`),
      };
    }
  }

  /** The files to watch after a load: the policy first, then what the load read or looked for. */
  #filesAfter(loaded: { result: PolicyLoadResult } | { thrown: Diagnostic }): readonly string[] {
    // A load that threw says nothing about the files: keep watching the ones known so far.
    const reported = "result" in loaded ? loaded.result.files : this.#files;
    return [...new Set([this.#path, ...reported.map((file) => resolve(file))])];
  }

  #fail(diagnostics: readonly Diagnostic[], pass: PassContext): ReloadOutcome {
    const event: PolicyReloadFailedEvent = { diagnostics, files: pass.files };
    // The same failure from the same bytes, found again by a confirming load or a second event
    // of one save, is not news; a forced reload always reports.
    const failure = `${pass.contentRead}\n${JSON.stringify(diagnostics)}`;
    const repeated = failure === this.#lastFailure && !pass.request.reapply;
    this.#lastFailure = failure;
    if (!pass.initial && !repeated) {
      this.#passEnded("failed", pass);
      this.#log("error", describeReloadFailure(diagnostics));
      this.#emitSafely("reloadFailed", event);
    }
    return { status: "failed", ...event };
  }

  #succeed(event: PolicyReloadedEvent, verb: "loaded" | "reloaded" | "restored", initial: boolean): void {
    const restored = verb === "restored" ? ", the policy in force again matches the file" : "";
    this.#log(
      "info",
      `sockguard: policy ${verb} from ${this.#path} (version ${event.version.slice(0, 12)}, ${event.files.length} file(s))${restored}`,
    );
    for (const warning of event.warnings) this.#log("warn", `sockguard: ${formatDiagnostic(warning)}`);
    if (!initial) this.#emitSafely("reload", event);
  }

  #emitSafely(...args: EmittedEvent): void {
    try {
      if (args[0] === "reload") this.emit("reload", args[1]);
      else this.emit("reloadFailed", args[1]);
    } catch (error) {
      // A listener's bug must not stop the reload cycle.
      this.#log("error", `sockguard: a ${args[0]} listener threw: ${firstLine(error)}`);
    }
  }

  #passEnded(result: "applied" | "unchanged" | "failed", pass: PassContext): void {
    try {
      this.#onPassEnd?.(result, (performance.now() - pass.startedAt) / 1000);
    } catch {
      // Counting a pass must not stop the reload cycle.
    }
  }

  #log(level: keyof ReloadLogger, message: string): void {
    try {
      this.#logger?.[level](message);
    } catch {
      // A broken logger must not stop the reload cycle; the events still carry everything.
    }
  }
}

/** A load made before the watcher reported the change, with the files' fingerprints around it. */
interface EarlyLoad {
  /** The files fingerprinted (those watched when it started). */
  readonly files: readonly string[];
  /** `performance.now()` when it began. */
  readonly startedAt: number;
  readonly before: FilesFingerprint;
  /** Absent when the files held the bytes the last load read: nothing was loaded. */
  readonly loaded?: { result: PolicyLoadResult } | { thrown: Diagnostic };
  readonly after: FilesFingerprint;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function restrictTo(fingerprint: FilesFingerprint, files: readonly string[]): FilesFingerprint {
  const restricted = new Map<string, FileFingerprint>();
  for (const file of files) {
    const entry = fingerprint.get(file);
    if (entry !== undefined) restricted.set(file, entry);
  }
  return restricted;
}

/** A problem without a position in the file (the whole file could not be read, say). */
function problem(file: string, message: string): Diagnostic {
  return { file, line: 0, col: 0, path: "", message, severity: "error" };
}

/**
 * The first line of an error's message: the rest may quote the file (a YAML parser's excerpt), and
 * a policy's neighbourhood is no place to copy into logs.
 */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0] ?? "";
}
