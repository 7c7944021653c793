/**
 * What the guard tells the outside about itself: one {@link GuardObserver} per guard, fed from the
 * guard's decision sink, its policy swaps, the reload cycle and the remote key sets, and writing
 * to the metrics (`metrics`) and the decision log (`logDecisions`). Without either option it is
 * inert and prom-client is never imported.
 */
import type { CompiledPolicy } from "../compile/types.js";
import type { StoreOutageReporter } from "../budget/redis-rate-store.js";
import type { KeySetDownloadListener } from "../compile/remote-jwks.js";
import type { Logger } from "../enforce/context.js";
import {
  DecisionLog,
  DECISION_LOG_MODES,
  type DecisionLogMode,
  type ObservedDecision,
} from "./decision-log.js";
import {
  GuardMetrics,
  loadPromClient,
  type MetricsRegistry,
  type ReloadResult,
  type SocketCountSource,
  type StoreName,
  type TokenCacheResult,
} from "./metrics.js";

/** The options of `sockguard()` the observer reads. */
export interface ObserveOptions {
  /** A prom-client `Registry` to register the guard's metrics on. */
  readonly metrics?: MetricsRegistry;
  /** Which decisions get a structured line through `logger`. Default `"off"`. */
  readonly logDecisions?: DecisionLogMode;
}

/**
 * Watches one guard. Every method is cheap when its output is off.
 *
 * @example
 * const observer = await createGuardObserver(options, logger);
 * observer.start(firstPolicy);
 * observer.decision(decision, policy);
 */
export class GuardObserver {
  readonly #metrics: GuardMetrics | undefined;
  readonly #log: DecisionLog | undefined;
  /** True when somebody here wants denials as decisions. */
  readonly wantsDenials: boolean;
  /** True when somebody here wants allows as decisions, or counted. */
  readonly wantsAllows: boolean;

  constructor(metrics: GuardMetrics | undefined, log: DecisionLog | undefined) {
    this.#metrics = metrics;
    this.#log = log;
    this.wantsDenials = metrics !== undefined || log?.logsDenials === true;
    this.wantsAllows = metrics !== undefined || log?.logsAllows === true;
  }

  /** A decision made under `policy`. */
  decision(decision: ObservedDecision, policy: CompiledPolicy): void {
    this.#metrics?.decision(decision, policy);
    this.#log?.write(decision, policy);
  }

  /**
   * The per-event path's allowed event, counted without a decision object. False when the full
   * decision is wanted here (the log writes allows), or nothing counts: then the caller reports it.
   */
  countAllowedEvent(namespace: string, event: unknown): boolean {
    if (this.#metrics === undefined || this.#log?.logsAllows === true) return false;
    this.#metrics.countAllowedEvent(namespace, event);
    return true;
  }

  /** `policy` is in force now. */
  policyInForce(policy: CompiledPolicy): void {
    this.#metrics?.policyInForce(policy);
  }

  /** A pass of the reload cycle ended. */
  reloaded(result: ReloadResult, seconds?: number): void {
    this.#metrics?.reloaded(result, seconds);
  }

  /** For the remote key sets: a download ended. */
  readonly jwksDownload: KeySetDownloadListener = (uri, result) => this.#metrics?.jwksDownload(uri, result);

  /** For the verified-token cache: a lookup hit or missed. */
  tokenCache(result: TokenCacheResult): void {
    this.#metrics?.tokenCache(result);
  }

  /** For a backing store (budgets, quotas, revocations): it became unavailable. */
  storeError(store: StoreName): void {
    this.#metrics?.storeError(store);
  }

  /**
   * A budget store's outage reporter (`new RedisRateStore(client, reporter)`): each outage counts
   * in `sockguard_store_errors_total`, then `inner` is told as before.
   *
   * @example
   * const rates = new RedisRateStore(redis, observer.storeOutageReporter({ outage: warn, recovered: info }));
   */
  storeOutageReporter(inner?: StoreOutageReporter): StoreOutageReporter {
    return {
      outage: (store) => {
        this.storeError(store);
        inner?.outage(store);
      },
      recovered: (store) => inner?.recovered(store),
    };
  }

  /** Where the sockets gauge counts live sockets from. */
  watchSockets(source: SocketCountSource): void {
    this.#metrics?.watchSockets(source);
  }

  /** Writes what the decision log still holds (a flood's summary) and stops its timer. */
  close(): void {
    this.#log?.close();
  }
}

/**
 * The observer `options` ask for, checking them. Imports prom-client only when `metrics` is given.
 * Throws a `TypeError` for an option of the wrong shape.
 *
 * @example
 * const observer = await createGuardObserver({ metrics: register, logDecisions: "denials" }, pino(), policy);
 */
export async function createGuardObserver(
  options: ObserveOptions,
  logger: Logger,
  policy: CompiledPolicy,
): Promise<GuardObserver> {
  const mode = options.logDecisions ?? "off";
  if (!DECISION_LOG_MODES.includes(mode)) {
    throw new TypeError(`sockguard: options.logDecisions must be one of ${DECISION_LOG_MODES.join(", ")}`);
  }
  const register = options.metrics;
  if (register !== undefined && !isRegistry(register)) {
    throw new TypeError("sockguard: options.metrics must be a prom-client Registry");
  }
  const metrics =
    register === undefined ? undefined : new GuardMetrics(await loadPromClient(), register, policy);
  return new GuardObserver(metrics, mode === "off" ? undefined : new DecisionLog(logger, mode));
}

/** An observer that observes nothing: the guard's own when it is constructed without one. */
export const INERT_OBSERVER = new GuardObserver(undefined, undefined);

function isRegistry(value: unknown): value is MetricsRegistry {
  const candidate = value as { registerMetric?: unknown; metrics?: unknown } | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.registerMetric === "function" &&
    typeof candidate.metrics === "function"
  );
}
