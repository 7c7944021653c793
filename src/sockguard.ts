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
  type ReloadOutcome,
  type SockguardOptions,
} from "./enforce/guard.js";
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
  const load = (): Promise<PolicyLoadResult> =>
    typeof policy === "string" ? loadPolicy(policy) : checkPolicyObject(policy, baseDir);
  const firstLoad = await loadSafely(load, typeof policy === "string" ? policy : POLICY_OBJECT_FILE);
  const first = compileLoaded(firstLoad, context);
  if (!first.ok) {
    context.remoteKeySets.close();
    throw new PolicyLoadError(first.diagnostics);
  }
  try {
    observer = await createGuardObserver(options, options.logger ?? consoleLogger, first.compiled);
  } catch (error) {
    context.remoteKeySets.close();
    throw error;
  }
  if (guardedServers.has(io)) throw new Error("sockguard: this Socket.IO server is already guarded");
  let guard: SockguardGuard;
  try {
    guard = new SockguardGuard(io, options, first.compiled, context, observer);
  } catch (error) {
    context.remoteKeySets.close();
    throw error;
  }
  guardedServers.add(io);
  if (typeof policy === "string") {
    await followPolicyFile(guard, policy, firstLoad, options.watch ?? true, observer);
  } else {
    guard.follow(followPolicyObject(guard, load, observer));
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

/** A policy file: a reloader reads it (and watches it) and hands every good load to the guard. */
async function followPolicyFile(
  guard: SockguardGuard,
  path: string,
  firstLoad: PolicyLoadResult,
  watch: boolean,
  observer: GuardObserver,
): Promise<void> {
  const reloader = new PolicyReloader({
    path,
    load: loadPolicy,
    apply: (result) => {
      const outcome = guard.applyLoadResult(result);
      return outcome.ok ? {} : { diagnostics: outcome.diagnostics };
    },
    watch,
    logger: guard.logger,
    onPassEnd: (result, seconds) => observer.reloaded(result, seconds),
  });
  reloader.on("reload", ({ version, files }) => guard.emit("reload", { version, files }));
  reloader.on("reloadFailed", ({ diagnostics }) => guard.emit("reloadFailed", { diagnostics }));
  guard.follow({
    reload: async () => {
      const before = guard.version;
      const outcome = await reloader.reload();
      switch (outcome.status) {
        case "applied":
          return { ok: true, version: outcome.version, changed: outcome.version !== before };
        case "unchanged":
          return { ok: true, version: guard.version, changed: false };
        case "failed":
          return { ok: false, diagnostics: outcome.diagnostics };
        case "closed":
          throw new Error("sockguard: the guard is closed");
      }
    },
    close: () => reloader.close(),
  });
  await reloader.start(firstLoad);
}

/** A policy object: `reload()` checks it again (its `${env:...}` values may have changed). */
function followPolicyObject(
  guard: SockguardGuard,
  load: () => Promise<PolicyLoadResult>,
  observer: GuardObserver,
): PolicyFollower {
  let queue: Promise<unknown> = Promise.resolve();
  const reloadOnce = async (): Promise<ReloadOutcome> => {
    const startedAt = performance.now();
    const result = await loadSafely(load, POLICY_OBJECT_FILE);
    if (result.policy && !hasErrors(result.diagnostics) && result.version === guard.version) {
      observer.reloaded("unchanged");
      return { ok: true, version: result.version, changed: false };
    }
    const outcome = guard.applyLoadResult(result);
    observer.reloaded(outcome.ok ? "applied" : "failed", (performance.now() - startedAt) / 1000);
    if (outcome.ok) guard.emit("reload", { version: outcome.version, files: [] });
    else guard.emit("reloadFailed", { diagnostics: outcome.diagnostics });
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
