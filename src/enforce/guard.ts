/**
 * The guard: registers its hooks on a Socket.IO server once, keeps the policy in force in one
 * holder, and is the {@link Guard} handle the app holds (decisions, reloads, revocation).
 *
 * The hooks never change after registration (Socket.IO cannot unregister middleware); they read the
 * policy from the holder, and putting a new policy in force is one assignment
 * ({@link SockguardGuard.swapPolicy}). Where new policies come from (a watched file, a policy
 * object) is a {@link PolicyFollower} that `sockguard()` attaches.
 */
import { compileLoaded } from "../compile/compile-loaded.js";
import { describeError } from "../policy/error-diagnostic.js";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Server } from "socket.io";
import { MemoryRevocationStore } from "../cluster/memory-revocation-store.js";
import { warmIssuerKeys, type CompileContext } from "../compile/auth.js";
import type { CompiledPolicy } from "../compile/types.js";
import type { TokenCacheOption } from "../compile/token-cache.js";
import type { Decision } from "../decisions.js";
import { formatDiagnostic, type Diagnostic } from "../policy/diagnostic.js";
import type { PolicyLoadResult } from "../policy/loaded.js";
import type { Policy } from "../policy/types.js";
import { consoleLogger } from "../observe/console-logger.js";
import type { DecisionLogMode } from "../observe/decision-log.js";
import type { MetricsRegistry } from "../observe/metrics.js";
import { INERT_OBSERVER, type GuardObserver } from "../observe/observer.js";
import type { DecisionSink, GuardContext, Logger, PolicyHolder } from "./context.js";
import { budgetStoresFor } from "../cluster/budget-stores.js";
import { GuardBudgets } from "./budgets.js";
import { EngineOptions } from "./engine-options.js";
import { createHandshakeGuard, type EngineMiddleware } from "./handshake.js";
import { guardNamespaces } from "./namespaces.js";
import { guardNamespaceEmits, type EmitMode } from "./emits.js";
import { measureConnection, type EngineConnection } from "./packet-size.js";
import type { ClusterLink } from "../cluster/cluster-link.js";
import type { NodeStatus } from "../cluster/node-registry.js";
import type { RedisClientLike } from "../cluster/redis-client.js";
import { countGuardedSockets, disconnectRevoked, linkToFleet } from "./fleet.js";
import { forEachGuardedSocket, recheckLiveSockets } from "./recheck.js";
import { revocationEntry, type RevocationResult, type RevocationTarget } from "./revocation.js";
import type { SocketState } from "./socket-state.js";
import { concreteNamespaces } from "./socket-io-internals.js";
import { watchTokenExpiry } from "./token-lifetime.js";
import { ServedCertificate } from "./tls-context.js";
import { ShadowPolicyJudge } from "./shadow-policy.js";

/** Options of `sockguard()`. */
export interface SockguardOptions {
  /** A policy file, or an already-parsed policy object (checked the same way, never watched). */
  readonly policy: string | Policy;
  /**
   * A candidate policy (a file path or a policy object, as `policy`) judged beside the one in force
   * on the same traffic and never enforced: its would-be denials are reported as decisions with
   * `shadow: true` and its own `policyVersion`. A file is watched and reloaded like `policy` (its
   * last good version stays; a failed reload emits `reloadFailed` with `shadow: true`). Its rate
   * limits and connection quotas are not counted. See docs/rollout.md.
   */
  readonly shadow?: string | Policy;
  /**
   * For a policy object: the directory its relative `$ref`s and key files resolve against (itself
   * relative to the working directory). Default: the working directory when `sockguard()` is
   * called. A policy file's relative paths always resolve against the file's own directory.
   */
  readonly baseDir?: string;
  /** Re-read the policy file when it or a file it references changes. Default true for a file. */
  readonly watch?: boolean;
  /** Where load, reload and warning lines go (never tokens or payloads). Default: `console` (info, warn, error). */
  readonly logger?: Logger;
  /** Which decisions the `decision` event reports: denials only (default), or allows too. */
  readonly decisions?: "denials" | "all";
  /**
   * A prom-client `Registry` to register the guard's metrics on (docs/observability.md). prom-client
   * is an optional peer dependency, imported only when this is given.
   */
  readonly metrics?: MetricsRegistry;
  /**
   * One structured line per decision through `logger`, in pino's shape (fields, then message):
   * `"off"` (default), `"denials"` or `"all"`. Bounded per code: 50 lines per 10 s, then a summary line.
   */
  readonly logDecisions?: DecisionLogMode;
  /**
   * The advisory file the start-up check of the socket.io stack reads (a newer one than the data
   * shipped with sockguard, in the same format), or `false` to skip the check.
   */
  readonly advisories?: string | false;
  /**
   * What an emit (or ack reply) that breaks its declaration in the policy's `emits` (or `reply`)
   * gets: `warn` (default: delivered, one log line and an `emit_invalid` decision), `refuse` (not
   * delivered, logged and reported) or `off` (not checked).
   */
  readonly emits?: EmitMode;
  /**
   * A node-redis or ioredis client the app already has: revocations and budgets are shared by every
   * node through it, and `status()` lists the fleet (docs/cluster.md).
   */
  readonly redis?: RedisClientLike;
  /** With `redis`: how often this node writes its status entry (ms, default 5000); it expires after three. */
  readonly heartbeatMs?: number;
  /**
   * The verified-token cache, per issuer: a token presented again (a reconnect) skips the
   * signature check until its `exp`; revocation and claims are still checked at every connect.
   * Default `{ maxEntries: 100, maxBytes: 1048576 }`; `false` turns it off (docs/tokens.md).
   */
  readonly tokenCache?: TokenCacheOption;
}

/** What {@link Guard.status} says. */
export interface GuardStatus {
  /** The version of the policy this node enforces. */
  readonly version: string;
  /** Live sockets this node's guard admitted. */
  readonly sockets: number;
  /** With the `shadow` option: the version of the candidate policy judged beside the one in force. */
  readonly shadowVersion?: string;
  /** With `redis`: every node of the fleet as read at this node's last heartbeat. */
  readonly nodes?: readonly NodeStatus[];
}

/** A new policy is in force (or, with `shadow: true`, a new candidate policy is judged in shadow). */
export interface ReloadEvent {
  readonly version: string;
  readonly files: readonly string[];
  /** True for the candidate policy of the `shadow` option. */
  readonly shadow?: boolean;
}

/** A reload failed; the previous policy stays in force (with `shadow: true`: the previous candidate stays). */
export interface ReloadFailedEvent {
  readonly diagnostics: readonly Diagnostic[];
  /** True for the candidate policy of the `shadow` option. */
  readonly shadow?: boolean;
}

/** What {@link Guard.reload} did. `changed` is false when the policy read is the one already in force. */
export type ReloadOutcome =
  | { readonly ok: true; readonly version: string; readonly changed: boolean }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** The events a guard emits. */
export interface GuardEvents {
  reload: [ReloadEvent];
  reloadFailed: [ReloadFailedEvent];
  decision: [Decision];
}

/** The handle `sockguard()` returns. */
export interface Guard extends EventEmitter<GuardEvents> {
  /** The version (content hash) of the policy in force. */
  readonly version: string;
  /**
   * Revokes a subject's tokens issued until now (`{ sub, issuer? }`) or one token (`{ jti, issuer? }`)
   * for the policy's `auth.revocationTtl`: their live sockets are disconnected with `revoked`, and
   * connects and renewals with them are refused `revoked`, also those still verifying their token.
   * Throws a `TypeError` at once for a target without a usable `sub` or `jti`.
   *
   * @example
   * const { disconnected } = await guard.revoke({ sub: "user-42" });
   */
  revoke(target: RevocationTarget): Promise<RevocationResult>;
  /**
   * This node's policy version and live sockets and, with `redis`, every live node's: a deploy has
   * converged when every node lists the same version.
   *
   * @example
   * const stale = guard.status().nodes?.filter((node) => node.version !== guard.version);
   */
  status(): GuardStatus;
  /** Re-reads the policy now; a policy with errors leaves the current one in force (and emits `reloadFailed`). */
  reload(): Promise<ReloadOutcome>;
  /** Stops watching and releases timers; the policy in force keeps being enforced and sockets are left alone. */
  close(): Promise<void>;
}

/** A compile context whose remote key sets the guard closes when it closes. */
export type GuardCompileContext = CompileContext & { readonly remoteKeySets: { close(): void } };

/** The candidate policy's own compile context, and where its later versions come from. */
interface CandidatePolicy {
  readonly context: GuardCompileContext;
  follower: PolicyFollower | undefined;
}

/** Where later policies come from: re-read on demand, and stopped when the guard closes. */
export interface PolicyFollower {
  reload(): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

/** The parts of an engine.io server the guard hooks. */
interface GuardedEngine {
  use(fn: EngineMiddleware): void;
  on(event: "connection", listener: (conn: EngineConnection) => void): unknown;
  on(event: "connection_error", listener: (error: { readonly req: IncomingMessage }) => void): unknown;
}

/** `sockguard()` rejects with this when the first policy does not load. */
export class PolicyLoadError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  /** `what` names the policy that did not load (the candidate of the `shadow` option, say). */
  constructor(
    diagnostics: readonly Diagnostic[],
    what = "the policy did not load, so the server is not guarded",
  ) {
    const shown = diagnostics.filter((d) => d.severity === "error").slice(0, 10);
    super([`sockguard: ${what}:`, ...shown.map((diagnostic) => formatDiagnostic(diagnostic))].join("\n  "));
    this.name = "PolicyLoadError";
    this.diagnostics = diagnostics;
  }
}

/**
 * Refuses a Socket.IO setup the guard cannot protect: connection state recovery restores a socket
 * without running namespace middleware unless told otherwise, so it would skip every check.
 */
export function refuseUnguardableSetup(io: Server): void {
  const recovery = io._opts.connectionStateRecovery;
  if (recovery && recovery.skipMiddlewares !== false) {
    throw new Error(
      "sockguard: connectionStateRecovery is on with skipMiddlewares (Socket.IO's default), so a recovered " +
        "socket would reconnect without passing the guard. Create the server with " +
        "`connectionStateRecovery: { skipMiddlewares: false }` to keep recovery: the guard then judges " +
        "recovered sockets like new ones.",
    );
  }
}

/**
 * The guard of one Socket.IO server. Constructing it registers every hook, with `first` in force
 * (and its certificate served); it throws a {@link PolicyLoadError} when `first` cannot be served
 * on the server (`connection.tls` on a plain HTTP server).
 *
 * @example
 * const guard = new SockguardGuard(io, { logger: console }, compiled, context);
 * guard.follow(follower); // where reload() gets new policies
 */
export class SockguardGuard extends EventEmitter<GuardEvents> implements Guard {
  readonly #holder: PolicyHolder;
  readonly #ctx: GuardContext;
  readonly #compileContext: CompileContext & { readonly remoteKeySets: { close(): void } };
  readonly #engineOptions: EngineOptions;
  readonly #servedCertificate: ServedCertificate;
  readonly #logger: Logger;
  readonly #cluster: ClusterLink | undefined;
  readonly #observer: GuardObserver;
  #follower: PolicyFollower | undefined;
  readonly #shadow: CandidatePolicy | undefined;
  #closed = false;

  constructor(
    io: Server,
    options: Pick<SockguardOptions, "logger" | "decisions" | "emits" | "redis" | "heartbeatMs">,
    first: CompiledPolicy,
    compileContext: CompileContext & { readonly remoteKeySets: { close(): void } },
    observer: GuardObserver = INERT_OBSERVER,
    candidate?: { readonly compiled: CompiledPolicy; readonly context: GuardCompileContext },
  ) {
    super();
    this.#compileContext = compileContext;
    this.#logger = options.logger ?? consoleLogger;
    this.#servedCertificate = new ServedCertificate(io, this.#logger);
    const refused = this.#servedCertificate.apply(first);
    if (refused.length > 0) throw new PolicyLoadError(refused);
    this.#holder = { current: first };
    this.#observer = observer;
    const reportAllows = options.decisions === "all";
    const listening = (): boolean => this.listenerCount("decision") > 0;
    const decisions: DecisionSink = {
      wantsDenials: () => observer.wantsDenials || listening(),
      wantsAllows: () => observer.wantsAllows || (reportAllows && listening()),
      countAllowedEvent: (namespace, event) =>
        !(reportAllows && listening()) && observer.countAllowedEvent(namespace, event),
      report: (decision, policy = this.#holder.current) => {
        observer.decision(decision, policy);
        if (decision.allowed && !reportAllows) return;
        try {
          this.emit("decision", decision);
        } catch (error) {
          this.#logger.error(`sockguard: a decision listener threw: ${describeError(error)}`);
        }
      },
    };
    this.#cluster =
      options.redis && linkToFleet(io, options.redis, options.heartbeatMs, this.#logger, () => this.#ctx);
    this.#ctx = {
      io,
      holder: this.#holder,
      states: new WeakMap<object, SocketState>(),
      decisions,
      logger: this.#logger,
      revocations: this.#cluster?.revocations ?? new MemoryRevocationStore(),
      budgets: new GuardBudgets(
        budgetStoresFor(
          options.redis,
          observer.storeOutageReporter({
            outage: () =>
              this.#logger.warn(
                "sockguard: Redis is unreachable; budgets are counted on this node until it is back",
              ),
            recovered: () => this.#logger.info("sockguard: Redis is back; budgets are shared again"),
          }),
        ),
      ),
      emits: options.emits ?? "warn",
      ...(candidate
        ? { shadow: new ShadowPolicyJudge({ current: candidate.compiled }, () => this.#ctx) }
        : {}),
    };
    this.#shadow = candidate && { context: candidate.context, follower: undefined };
    this.#engineOptions = new EngineOptions(io, this.#logger);
    this.#engineOptions.apply(first);
    observer.policyInForce(first);
    observer.watchSockets(() => concreteNamespaces(io));
    warmIssuerKeys(first.auth);
    if (candidate) warmIssuerKeys(candidate.compiled.auth);
    this.#installEngineGuard(io);
    guardNamespaces(this.#ctx);
    guardNamespaceEmits(this.#ctx);
    this.#warnAboutEarlySockets(io);
  }

  get version(): string {
    return this.#holder.current.version;
  }

  /** The logger the guard writes to (the app's, or the default). */
  get logger(): Logger {
    return this.#logger;
  }

  /** With `redis`: loads the fleet's revocations (for a bounded time) and joins the fleet's registry. */
  async joinFleet(): Promise<void> {
    if (this.#cluster && !(await this.#cluster.start())) {
      this.#logger.warn(
        "sockguard: Redis did not answer at start: connects with a token wait for the fleet's revocations and are refused until they load",
      );
    }
  }

  /** Sets where {@link reload} gets new policies from. */
  follow(follower: PolicyFollower): void {
    this.#follower = follower;
  }

  /** With the `shadow` option: sets where {@link reload} gets new candidate policies from. */
  followShadow(follower: PolicyFollower): void {
    if (this.#shadow) this.#shadow.follower = follower;
  }

  /** The version of the candidate policy judged in shadow; undefined without the `shadow` option. */
  get shadowVersion(): string | undefined {
    return this.#ctx.shadow?.holder.current.version;
  }

  /**
   * Compiles a load result of the candidate policy and judges the traffic with it from now on: one
   * assignment, nothing else changes (its certificate is not served, its budgets not counted). A
   * result with errors leaves the previous candidate in place.
   */
  applyShadowLoadResult(result: PolicyLoadResult): ReloadOutcome {
    const judge = this.#ctx.shadow;
    if (!judge || !this.#shadow) return { ok: false, diagnostics: [] };
    const outcome = compileLoaded(result, this.#shadow.context);
    if (!outcome.ok) return { ok: false, diagnostics: outcome.diagnostics };
    const changed = outcome.compiled.version !== judge.holder.current.version;
    judge.holder.current = outcome.compiled;
    warmIssuerKeys(outcome.compiled.auth);
    return { ok: true, version: outcome.compiled.version, changed };
  }

  /**
   * Puts `compiled` in force: one assignment of the holder, then the live sockets it no longer
   * admits, the engine's options (a removed transport stays open for the connections being closed
   * on it), and the expiry timers of the sockets it keeps.
   */
  swapPolicy(compiled: CompiledPolicy): void {
    this.#holder.current = compiled;
    // Limits the new policy keeps keep their counters; the others are forgotten.
    this.#ctx.budgets.retain(compiled.rateLimitIds);
    this.#observer.policyInForce(compiled);
    const closing = recheckLiveSockets(this.#ctx, compiled);
    this.#engineOptions.apply(compiled, closing);
    warmIssuerKeys(compiled.auth);
    forEachGuardedSocket(this.#ctx, (socket, state) =>
      watchTokenExpiry(this.#ctx, socket, state, compiled.auth),
    );
    void this.#cluster?.heartbeat();
  }

  /**
   * Compiles a load result and puts it in force with {@link swapPolicy}. A result with errors, or
   * one that does not compile, changes nothing and comes back as diagnostics. This is the whole of
   * a reload once the files are read.
   */
  applyLoadResult(result: PolicyLoadResult): ReloadOutcome {
    const outcome = compileLoaded(result, this.#compileContext);
    if (!outcome.ok) return { ok: false, diagnostics: outcome.diagnostics };
    const refused = this.#servedCertificate.apply(outcome.compiled);
    if (refused.length > 0) return { ok: false, diagnostics: [...result.diagnostics, ...refused] };
    const changed = outcome.compiled.version !== this.#holder.current.version;
    this.swapPolicy(outcome.compiled);
    return { ok: true, version: outcome.compiled.version, changed };
  }

  reload(): Promise<ReloadOutcome> {
    if (this.#closed) return Promise.reject(new Error("sockguard: the guard is closed"));
    // The candidate is re-read beside the policy in force; its outcome goes to its own events.
    void this.#shadow?.follower?.reload().catch(() => undefined);
    if (!this.#follower) return Promise.resolve({ ok: true, version: this.version, changed: false });
    return this.#follower.reload();
  }

  revoke(target: RevocationTarget): Promise<RevocationResult> {
    const now = Date.now();
    const entry = revocationEntry(target, now, this.#holder.current.auth);
    let recorded: void | Promise<void>;
    try {
      recorded = this.#ctx.revocations.add(entry);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const disconnected = disconnectRevoked(this.#ctx, [entry]);
    const cluster = this.#cluster;
    return Promise.resolve(recorded).then(async () => {
      // Written to Redis first: a node that misses the broadcast finds the entry there.
      const remote = cluster ? await cluster.broadcast(entry) : { disconnected: 0, answered: 0 };
      return { disconnected: disconnected + remote.disconnected, nodes: 1 + remote.answered };
    });
  }

  status(): GuardStatus {
    const shadowVersion = this.shadowVersion;
    const local = {
      version: this.version,
      sockets: countGuardedSockets(this.#ctx),
      ...(shadowVersion === undefined ? {} : { shadowVersion }),
    };
    return this.#cluster ? { ...local, nodes: this.#cluster.nodes } : local;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#follower?.close();
    await this.#shadow?.follower?.close();
    this.#shadow?.context.remoteKeySets.close();
    await this.#cluster?.close();
    forEachGuardedSocket(this.#ctx, (_socket, state) => {
      state.expiry?.cancel();
      state.expiry = undefined;
    });
    this.#compileContext.remoteKeySets.close();
    this.#observer.close();
  }

  /** Engine middleware on the engine that exists, or on the one `attach()`/`listen()` creates later. */
  #installEngineGuard(io: Server): void {
    const middleware = createHandshakeGuard(this.#ctx);
    const budgets = this.#ctx.budgets;
    const install = (engine: GuardedEngine): void => {
      engine.use(middleware);
      // engine.io emits `connection` before the connection can receive a message: every packet is measured.
      engine.on("connection", measureConnection);
      // A connection place its handshake took is freed when the connection closes.
      engine.on("connection", (conn) => budgets.bindConnection(conn));
      // One engine.io refused after the guard let it through (the app's allowRequest) never opens.
      engine.on("connection_error", (error) => budgets.releaseHandshake(error.req));
    };
    const existing = (io as unknown as { engine?: GuardedEngine }).engine;
    if (existing) return install(existing);
    const bind = io.bind;
    io.bind = (engine: GuardedEngine) => {
      // attach() has set io.httpServer: a policy that cannot be served on it stops the start here.
      const refused = this.#servedCertificate.apply(this.#holder.current);
      if (refused.length > 0) throw new PolicyLoadError(refused);
      bind.call(io, engine);
      install(engine);
      this.#engineOptions.engineAttached();
      return io;
    };
  }

  #warnAboutEarlySockets(io: Server): void {
    for (const namespace of concreteNamespaces(io)) {
      if (namespace.sockets.size > 0) {
        this.#logger.warn(
          `sockguard: ${namespace.sockets.size} socket(s) of ${namespace.name} connected before sockguard() and are not guarded`,
        );
      }
    }
  }
}
