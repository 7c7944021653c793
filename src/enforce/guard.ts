/**
 * `sockguard(io, options)`: loads and compiles the policy, registers the guard's hooks on the
 * Socket.IO server once, and returns the {@link Guard} that swaps policies, revokes sockets and
 * reports decisions.
 *
 * The hooks never change after registration (Socket.IO cannot unregister middleware); they read the
 * policy from one holder, and a reload replaces the holder's value in one assignment
 * ({@link SockguardGuard.swapPolicy}).
 */
import { EventEmitter } from "node:events";
import type { Server } from "socket.io";
import { createCompileContext, warmIssuerKeys } from "../compile/auth.js";
import { compilePolicy } from "../compile/compile.js";
import { PolicyCompileError } from "../compile/compile-error.js";
import type { CompiledPolicy } from "../compile/types.js";
import type { Decision } from "../decisions.js";
import { POLICY_OBJECT_FILE, hasErrors, type Diagnostic } from "../policy/diagnostic.js";
import { checkPolicyObject, loadPolicy } from "../policy/load.js";
import type { PolicyLoadResult } from "../policy/loaded.js";
import type { Policy } from "../policy/types.js";
import type { DecisionSink, GuardContext, Logger, PolicyHolder } from "./context.js";
import { EngineOptions } from "./engine-options.js";
import { createHandshakeGuard, type EngineMiddleware } from "./handshake.js";
import { guardNamespaces } from "./namespaces.js";
import { disconnectMatching, forEachGuardedSocket, recheckLiveSockets } from "./recheck.js";
import { matchRevocation, type RevocationTarget } from "./revocation.js";
import type { SocketState } from "./socket-state.js";
import { concreteNamespaces } from "./socket-io-internals.js";
import { watchTokenExpiry } from "./token-lifetime.js";

/** Options of {@link sockguard}. */
export interface SockguardOptions {
  /** A policy file, or an already-parsed policy object (checked the same way, never watched). */
  readonly policy: string | Policy;
  /** Re-read the policy file when it or a file it references changes. Default true for a file. */
  readonly watch?: boolean;
  /** Where warnings go (engine options that need a restart, a throwing listener). Default: `console`. */
  readonly logger?: Logger;
  /** Which decisions the `decision` event reports: denials only (default), or allows too. */
  readonly decisions?: "denials" | "all";
}

/** A new policy is in force. */
export interface ReloadEvent {
  readonly version: string;
  readonly files: readonly string[];
}

/** A reload failed; the previous policy stays in force. */
export interface ReloadFailedEvent {
  readonly diagnostics: readonly Diagnostic[];
}

/** What {@link Guard.reload} did. */
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
  /** Disconnects, with `revoked`, every live socket of the subject (optionally under one issuer); returns how many. */
  revoke(target: RevocationTarget): number;
  /** Re-reads the policy now; a policy with errors leaves the current one in force (and emits `reloadFailed`). */
  reload(): Promise<ReloadOutcome>;
  /** Stops watching and releases timers; the policy in force keeps being enforced and sockets are left alone. */
  close(): Promise<void>;
}

/** `sockguard()` rejects with this when the first policy does not load. */
export class PolicyLoadError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const shown = diagnostics.filter((d) => d.severity === "error").slice(0, 10);
    super(
      [
        "sockguard: the policy did not load, so the server is not guarded:",
        ...shown.map(formatDiagnostic),
      ].join("\n  "),
    );
    this.name = "PolicyLoadError";
    this.diagnostics = diagnostics;
  }
}

type PolicySource =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "object"; readonly value: unknown; readonly baseDir: string };

type Compiled =
  | { readonly ok: true; readonly compiled: CompiledPolicy }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

const guardedServers = new WeakSet<Server>();

/**
 * Guards a Socket.IO server with a policy. Call it before registering handlers; it works whether
 * the server is attached to its HTTP server yet or not. Rejects with {@link PolicyLoadError} when
 * the policy does not load (a server never starts unguarded), and with an `Error` for a Socket.IO
 * setup the guard cannot protect (connection state recovery that skips middleware).
 *
 * @example
 * const io = new Server(httpServer);
 * const guard = await sockguard(io, { policy: "policies/chat.yaml" });
 * guard.on("decision", (decision) => logger.info(decision));
 * io.of("/chat").on("connection", (socket) => { ... });
 */
export async function sockguard(io: Server, options: SockguardOptions): Promise<Guard> {
  if (guardedServers.has(io)) throw new Error("sockguard: this Socket.IO server is already guarded");
  refuseUnguardableSetup(io);
  const source = policySource(options.policy);
  const context = createCompileContext();
  const first = compileLoaded(await loadSource(source), context);
  if (!first.ok) {
    context.remoteKeySets.close();
    throw new PolicyLoadError(first.diagnostics);
  }
  if (guardedServers.has(io)) throw new Error("sockguard: this Socket.IO server is already guarded");
  guardedServers.add(io);
  return new SockguardGuard(io, options, source, first.compiled, context);
}

/**
 * Connection state recovery restores a socket without running namespace middleware unless told
 * otherwise: such a socket would skip every check of the guard.
 */
function refuseUnguardableSetup(io: Server): void {
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

class SockguardGuard extends EventEmitter<GuardEvents> implements Guard {
  readonly #holder: PolicyHolder;
  readonly #ctx: GuardContext;
  readonly #source: PolicySource;
  readonly #compileContext: ReturnType<typeof createCompileContext>;
  readonly #engineOptions: EngineOptions;
  readonly #logger: Logger;
  #reloads: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(
    io: Server,
    options: SockguardOptions,
    source: PolicySource,
    first: CompiledPolicy,
    compileContext: ReturnType<typeof createCompileContext>,
  ) {
    super();
    this.#source = source;
    this.#compileContext = compileContext;
    this.#logger = options.logger ?? defaultLogger;
    this.#holder = { current: first };
    const reportAllows = options.decisions === "all";
    const decisions: DecisionSink = {
      wantsDenials: () => this.listenerCount("decision") > 0,
      wantsAllows: () => reportAllows && this.listenerCount("decision") > 0,
      report: (decision) => {
        try {
          this.emit("decision", decision);
        } catch (error) {
          this.#logger.error(`sockguard: a decision listener threw: ${describeError(error)}`);
        }
      },
    };
    this.#ctx = {
      io,
      holder: this.#holder,
      states: new WeakMap<object, SocketState>(),
      decisions,
      logger: this.#logger,
    };
    this.#engineOptions = new EngineOptions(io, this.#logger);
    this.#engineOptions.apply(first);
    warmIssuerKeys(first.auth);
    this.#installEngineGuard(io);
    guardNamespaces(this.#ctx);
    this.#warnAboutEarlySockets(io);
  }

  get version(): string {
    return this.#holder.current.version;
  }

  /**
   * Puts `compiled` in force: one assignment of the holder, then the engine's options, the live
   * sockets it no longer admits, and the expiry timers of those it keeps.
   */
  swapPolicy(compiled: CompiledPolicy): void {
    this.#holder.current = compiled;
    this.#engineOptions.apply(compiled);
    warmIssuerKeys(compiled.auth);
    recheckLiveSockets(this.#ctx, compiled);
    forEachGuardedSocket(this.#ctx, (socket, state) =>
      watchTokenExpiry(this.#ctx, socket, state, compiled.auth),
    );
  }

  reload(): Promise<ReloadOutcome> {
    if (this.#closed) return Promise.reject(new Error("sockguard: the guard is closed"));
    // Reloads run one after another, so the last one started is the one left in force.
    const run = this.#reloads.then(() => this.#reloadNow());
    this.#reloads = run.catch(() => undefined);
    return run;
  }

  async #reloadNow(): Promise<ReloadOutcome> {
    const result = await loadSource(this.#source);
    const applied = this.applyLoadResult(result);
    if (!applied.ok) {
      this.emit("reloadFailed", { diagnostics: applied.diagnostics });
      return applied;
    }
    if (applied.changed) this.emit("reload", { version: applied.version, files: this.#holder.current.files });
    return applied;
  }

  /**
   * Compiles a load result and, when it differs from the policy in force, puts it in force with
   * {@link swapPolicy}. A result with errors, or one that does not compile, changes nothing and
   * comes back as diagnostics. This is the whole of a reload once the files are read: a file
   * watcher calls it with each new load.
   */
  applyLoadResult(result: PolicyLoadResult): ReloadOutcome {
    const compiled = compileLoaded(result, this.#compileContext);
    if (!compiled.ok) return { ok: false, diagnostics: compiled.diagnostics };
    const changed = compiled.compiled.version !== this.#holder.current.version;
    if (changed) this.swapPolicy(compiled.compiled);
    return { ok: true, version: compiled.compiled.version, changed };
  }

  revoke(target: RevocationTarget): number {
    const matches = matchRevocation(target);
    return disconnectMatching(this.#ctx, "revoked", "revoke", (_socket, state) => matches(state.identity));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reloads;
    forEachGuardedSocket(this.#ctx, (_socket, state) => {
      state.expiry?.cancel();
      state.expiry = undefined;
    });
    this.#compileContext.remoteKeySets.close();
  }

  /** Engine middleware on the engine that exists, or on the one `attach()`/`listen()` creates later. */
  #installEngineGuard(io: Server): void {
    const middleware = createHandshakeGuard(this.#ctx);
    const install = (engine: { use(fn: EngineMiddleware): void }): void => engine.use(middleware);
    const existing = (io as unknown as { engine?: { use(fn: EngineMiddleware): void } }).engine;
    if (existing) return install(existing);
    const bind = io.bind;
    io.bind = (engine: { use(fn: EngineMiddleware): void }) => {
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

function policySource(policy: SockguardOptions["policy"]): PolicySource {
  if (typeof policy === "string") return { kind: "file", path: policy };
  if (typeof policy === "object" && policy !== null)
    return { kind: "object", value: policy, baseDir: process.cwd() };
  throw new TypeError("sockguard: options.policy must be a policy file path or a policy object");
}

async function loadSource(source: PolicySource): Promise<PolicyLoadResult> {
  try {
    return source.kind === "file"
      ? await loadPolicy(source.path)
      : await checkPolicyObject(source.value, source.baseDir);
  } catch (error) {
    const file = source.kind === "file" ? source.path : POLICY_OBJECT_FILE;
    return {
      diagnostics: [errorDiagnostic(file, [], `the policy could not be read: ${describeError(error)}`)],
      files: [],
      version: "",
    };
  }
}

/** Load result → compiled policy, or the diagnostics saying why not. */
function compileLoaded(result: PolicyLoadResult, context: ReturnType<typeof createCompileContext>): Compiled {
  if (hasErrors(result.diagnostics) || !result.policy) {
    return { ok: false, diagnostics: result.diagnostics };
  }
  try {
    return { ok: true, compiled: compilePolicy(result, context) };
  } catch (error) {
    const file = result.files[0] ?? POLICY_OBJECT_FILE;
    const path = error instanceof PolicyCompileError ? error.path : [];
    return {
      ok: false,
      diagnostics: [...result.diagnostics, errorDiagnostic(file, path, describeError(error))],
    };
  }
}

function errorDiagnostic(file: string, path: readonly string[], message: string): Diagnostic {
  const pointer = path.map((key) => `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
  return { file, line: 0, col: 0, path: pointer, message, severity: "error" };
}

function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.path ? `${d.file} at ${d.path}` : d.file;
  return `${where}: ${d.message}`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const defaultLogger: Logger = {
  info: () => undefined,
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};
