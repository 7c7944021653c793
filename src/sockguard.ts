/**
 * `sockguard(io, options)`: the public entry point. It reads and compiles the first policy, puts
 * the guard in place, and connects the guard to where later policies come from: a policy file is
 * followed by a {@link PolicyReloader} (watched unless `watch: false`), a policy object is checked
 * again on `reload()`.
 */
import { resolve } from "node:path";
import type { Server } from "socket.io";
import { compileLoaded } from "./compile/compile-loaded.js";
import { describeError, errorDiagnostic } from "./policy/error-diagnostic.js";
import { createCompileContext } from "./compile/auth.js";
import { TokenCaches, tokenCacheLimits } from "./compile/token-cache.js";
import {
  PolicyLoadError,
  refuseUnguardableSetup,
  SockguardGuard,
  type Guard,
  type PolicyFollower,
  type ReloadEvent,
  type ReloadFailedEvent,
  type ReloadOutcome,
  type SockguardOptions,
} from "./enforce/guard.js";
import type { Policy } from "./policy/types.js";
import type { ReloadLogger } from "./reload/reload-log.js";
import { EMIT_MODES } from "./enforce/emits.js";
import { scheduleStackCheck } from "./doctor/running-stack.js";
import { consoleLogger } from "./observe/console-logger.js";
import { createGuardObserver, INERT_OBSERVER, type GuardObserver } from "./observe/observer.js";
import { POLICY_OBJECT_FILE, hasErrors } from "./policy/diagnostic.js";
import { checkPolicyObject, loadPolicy } from "./policy/load.js";
import type { PolicyLoadResult } from "./policy/loaded.js";
import { PolicyReloader } from "./reload/reloader.js";
import { refuseUnsupportedSocketIo } from "./socketio-support.js";

const guardedServers = new WeakSet<Server>();

/**
 * Guards a Socket.IO server with a policy. Call it before registering handlers, and preferably
 * before `listen()`; it works whether the server is attached to its HTTP server yet or not.
 * Rejects with a `PolicyLoadError` (its `diagnostics` say where) when the policy does not load, so
 * a server never runs unguarded, and with an `Error` for a Socket.IO the guard cannot protect: a
 * version outside `socket.io ~4.8` / `engine.io ~6.6`, or connection state recovery that skips
 * middleware.
 *
 * @example
 * const io = new Server(httpServer);
 * const guard = await sockguard(io, { policy: "policies/chat.yaml" });
 * guard.on("decision", (decision) => logger.info(decision));
 * io.of("/chat").on("connection", (socket) => { ... });
 */
export async function sockguard(io: Server, options: SockguardOptions): Promise<Guard> {
  const policy = options?.policy;
  if (typeof policy !== "string" && (typeof policy !== "object" || policy === null)) {
    throw new TypeError("sockguard: options.policy must be a policy file path or a policy object");
  }
  const baseDir = objectBaseDir(policy, options.baseDir);
  const shadow = options.shadow;
  if (shadow !== undefined && typeof shadow !== "string" && (typeof shadow !== "object" || shadow === null)) {
    throw new TypeError("sockguard: options.shadow must be a policy file path or a policy object");
  }
  if (options.emits !== undefined && !EMIT_MODES.includes(options.emits)) {
    throw new TypeError(`sockguard: options.emits must be one of ${EMIT_MODES.join(", ")}`);
  }
  if (guardedServers.has(io)) throw new Error("sockguard: this Socket.IO server is already guarded");
  refuseUnsupportedSocketIo(io);
  refuseUnguardableSetup(io);
  checkFleetOptions(options);

  // Key sets download only once the guard warms them, by when the observer is in place.
  let observer: GuardObserver = INERT_OBSERVER;
  const context = createCompileContext(
    {},
    (uri, result) => observer.jwksDownload(uri, result),
    new TokenCaches(tokenCacheLimits(options.tokenCache), (result) => observer.tokenCache(result)),
  );
  const load = policyLoader(policy, baseDir);
  const firstLoad = await loadSafely(load, typeof policy === "string" ? policy : POLICY_OBJECT_FILE);
  const first = compileLoaded(firstLoad, context);
  if (!first.ok) {
    context.remoteKeySets.close();
    throw new PolicyLoadError(first.diagnostics);
  }
  // The candidate compiles with its own context: no key set is shared with the policy in force.
  const shadowContext = shadow === undefined ? undefined : createCompileContext();
  const loadShadow = shadow === undefined ? undefined : policyLoader(shadow, baseDir);
  const shadowLoad =
    loadShadow && (await loadSafely(loadShadow, typeof shadow === "string" ? shadow : POLICY_OBJECT_FILE));
  const candidate = shadowLoad && shadowContext ? compileLoaded(shadowLoad, shadowContext) : undefined;
  if (candidate && !candidate.ok) {
    context.remoteKeySets.close();
    shadowContext?.remoteKeySets.close();
    throw new PolicyLoadError(
      candidate.diagnostics,
      "the shadow policy did not load, so the guard did not start",
    );
  }
  const closeContexts = (): void => {
    context.remoteKeySets.close();
    shadowContext?.remoteKeySets.close();
  };
  try {
    observer = await createGuardObserver(options, options.logger ?? consoleLogger, first.compiled);
  } catch (error) {
    closeContexts();
    throw error;
  }
  if (guardedServers.has(io)) {
    closeContexts();
    throw new Error("sockguard: this Socket.IO server is already guarded");
  }
  let guard: SockguardGuard;
  try {
    const shadowed =
      candidate?.ok === true && shadowContext
        ? { compiled: candidate.compiled, context: shadowContext }
        : undefined;
    guard = new SockguardGuard(io, options, first.compiled, context, observer, shadowed);
  } catch (error) {
    closeContexts();
    throw error;
  }
  guardedServers.add(io);
  const watch = options.watch ?? true;
  const inForce = enforcedTarget(guard, observer);
  guard.follow(
    typeof policy === "string"
      ? await followPolicyFile(inForce, policy, firstLoad, watch)
      : followPolicyObject(inForce, load),
  );
  if (shadow !== undefined && loadShadow && shadowLoad) {
    const target = shadowTarget(guard);
    guard.followShadow(
      typeof shadow === "string"
        ? await followPolicyFile(target, shadow, shadowLoad, watch)
        : followPolicyObject(target, loadShadow),
    );
  }
  scheduleStackCheck(io, guard.logger, options.advisories);
  await guard.joinFleet();
  return guard;
}

/** `redis` must be a client sockguard can use, and `heartbeatMs` a sensible period. */
function checkFleetOptions(options: SockguardOptions): void {
  const { redis, heartbeatMs } = options;
  if (redis !== undefined && (typeof redis?.eval !== "function" || typeof redis.on !== "function")) {
    throw new TypeError("sockguard: options.redis must be a node-redis or ioredis client");
  }
  if (heartbeatMs !== undefined && !(Number.isInteger(heartbeatMs) && heartbeatMs >= 100)) {
    throw new TypeError(
      "sockguard: options.heartbeatMs must be a whole number of milliseconds, at least 100",
    );
  }
}

/**
 * The directory a policy object's relative paths resolve against, fixed when the guard starts so a
 * later `process.chdir()` cannot move them. `baseDir` with a policy file is refused: the file's
 * paths resolve against its own directory, and silently ignoring the option would mislead.
 */
function objectBaseDir(policy: SockguardOptions["policy"], baseDir: unknown): string {
  if (baseDir !== undefined && typeof baseDir !== "string") {
    throw new TypeError("sockguard: options.baseDir must be a directory path");
  }
  if (typeof policy === "string" && baseDir !== undefined) {
    throw new TypeError(
      "sockguard: options.baseDir applies to a policy object; a policy file's relative paths resolve against its own directory",
    );
  }
  return resolve(baseDir ?? process.cwd());
}

/** Reads a policy file, or checks a policy object again. */
function policyLoader(policy: string | Policy, baseDir: string): () => Promise<PolicyLoadResult> {
  return () => (typeof policy === "string" ? loadPolicy(policy) : checkPolicyObject(policy, baseDir));
}

/** What a follower puts its loads into and tells its outcomes to: the policy in force, or the candidate. */
interface FollowTarget {
  readonly logger: ReloadLogger;
  /** The version the target holds now. */
  version(): string;
  apply(result: PolicyLoadResult): ReloadOutcome;
  reloaded(event: ReloadEvent): void;
  failed(event: ReloadFailedEvent): void;
  /** How a pass ended, for the metrics. */
  passEnded?(result: "applied" | "unchanged" | "failed", seconds?: number): void;
}

/** The policy in force: loads go to the guard, outcomes to its events and the reload metrics. */
function enforcedTarget(guard: SockguardGuard, observer: GuardObserver): FollowTarget {
  return {
    logger: guard.logger,
    version: () => guard.version,
    apply: (result) => guard.applyLoadResult(result),
    reloaded: (event) => guard.emit("reload", event),
    failed: (event) => guard.emit("reloadFailed", event),
    passEnded: (result, seconds) => observer.reloaded(result, seconds),
  };
}

/**
 * The candidate of the `shadow` option: loads go to the guard's shadow judge, outcomes to the same
 * events with `shadow: true`, and its log lines say `sockguard (shadow policy):`.
 */
function shadowTarget(guard: SockguardGuard): FollowTarget {
  const relabel = (message: string): string => message.replace(/^sockguard: /, "sockguard (shadow policy): ");
  const logger = guard.logger;
  return {
    logger: {
      info: (message) => logger.info(relabel(message)),
      warn: (message) => logger.warn(relabel(message)),
      error: (message) => logger.error(relabel(message)),
    },
    version: () => guard.shadowVersion ?? "",
    apply: (result) => guard.applyShadowLoadResult(result),
    reloaded: (event) => guard.emit("reload", { ...event, shadow: true }),
    failed: (event) => guard.emit("reloadFailed", { ...event, shadow: true }),
  };
}

/** A policy file: a reloader reads it (and watches it) and hands every good load to the target. */
async function followPolicyFile(
  target: FollowTarget,
  path: string,
  firstLoad: PolicyLoadResult,
  watch: boolean,
): Promise<PolicyFollower> {
  const reloader = new PolicyReloader({
    path,
    load: loadPolicy,
    apply: (result) => {
      const outcome = target.apply(result);
      return outcome.ok ? {} : { diagnostics: outcome.diagnostics };
    },
    watch,
    logger: target.logger,
    onPassEnd: (result, seconds) => target.passEnded?.(result, seconds),
  });
  reloader.on("reload", ({ version, files }) => target.reloaded({ version, files }));
  reloader.on("reloadFailed", ({ diagnostics }) => target.failed({ diagnostics }));
  await reloader.start(firstLoad);
  return {
    reload: async () => {
      const before = target.version();
      const outcome = await reloader.reload();
      switch (outcome.status) {
        case "applied":
          return { ok: true, version: outcome.version, changed: outcome.version !== before };
        case "unchanged":
          return { ok: true, version: target.version(), changed: false };
        case "failed":
          return { ok: false, diagnostics: outcome.diagnostics };
        case "closed":
          throw new Error("sockguard: the guard is closed");
      }
    },
    close: () => reloader.close(),
  };
}

/** A policy object: `reload()` checks it again (its `${env:...}` values may have changed). */
function followPolicyObject(target: FollowTarget, load: () => Promise<PolicyLoadResult>): PolicyFollower {
  let queue: Promise<unknown> = Promise.resolve();
  const reloadOnce = async (): Promise<ReloadOutcome> => {
    const startedAt = performance.now();
    const result = await loadSafely(load, POLICY_OBJECT_FILE);
    if (result.policy && !hasErrors(result.diagnostics) && result.version === target.version()) {
      target.passEnded?.("unchanged");
      return { ok: true, version: result.version, changed: false };
    }
    const outcome = target.apply(result);
    target.passEnded?.(outcome.ok ? "applied" : "failed", (performance.now() - startedAt) / 1000);
    if (outcome.ok) target.reloaded({ version: outcome.version, files: [] });
    else target.failed({ diagnostics: outcome.diagnostics });
    return outcome;
  };
  return {
    reload: () => {
      // One after another, so the last one started is the one left in force.
      const run = queue.then(reloadOnce);
      queue = run.catch(() => undefined);
      return run;
    },
    close: async () => {
      await queue;
    },
  };
}

async function loadSafely(load: () => Promise<PolicyLoadResult>, file: string): Promise<PolicyLoadResult> {
  try {
    return await load();
  } catch (error) {
    return {
      diagnostics: [errorDiagnostic(file, [], `the policy could not be read: ${describeError(error)}`)],
      files: [],
      version: "",
    };
  }
}
