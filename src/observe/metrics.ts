/**
 * The guard's Prometheus metrics (DESIGN §2), registered on the app's prom-client `Registry`.
 * prom-client is an optional peer dependency: this module only names its types, and the module
 * itself is handed in by {@link loadPromClient}, imported when the `metrics` option is given.
 *
 * Labels carry only names the policy in force declares (see `labels.ts`). Counts made on the
 * per-event path are plain additions to a cell that is handed to prom-client when the registry is
 * scraped, so an allowed event costs a map lookup and an increment, not a label hash.
 */
import type * as PromClient from "prom-client";
import type { CompiledPolicy } from "../compile/types.js";
import { decisionNamespaceLabel, jwksIssuerLabel, eventLabel, namespaceLabel, OTHER } from "./labels.js";
import type { ObservedDecision } from "./decision-log.js";

/** The prom-client module. */
export type PromClientModule = typeof PromClient;
/** A prom-client registry (`new Registry()`, or prom-client's global `register`). */
export type MetricsRegistry = PromClient.Registry;

/** What a pass of the reload cycle ended with. */
export type ReloadResult = "applied" | "unchanged" | "failed";
/** What a lookup of the verified-token cache found. */
export type TokenCacheResult = "hit" | "miss";
/** A backing store the budgets and revocations use. */
export type StoreName = "redis";

/** The buckets of `sockguard_reload_seconds`: a reload takes milliseconds, a slow disk or schema set seconds. */
const RELOAD_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type DecisionLabels = Record<"code" | "stage" | "namespace" | "event" | "shadow", string>;

interface DecisionCell {
  readonly labels: DecisionLabels;
  /** Counted since the last scrape. */
  pending: number;
}

/** Where the sockets gauge reads the live sockets from, at each scrape: each namespace's name and size. */
export type SocketCountSource = () => Iterable<{
  readonly name: string;
  readonly sockets: { readonly size: number };
}>;

/**
 * Imports prom-client. Called only when the app gave a registry.
 *
 * @example
 * const prom = await loadPromClient();
 */
export async function loadPromClient(): Promise<PromClientModule> {
  try {
    const imported = (await import("prom-client")) as PromClientModule & { default?: PromClientModule };
    return typeof imported.Counter === "function" ? imported : (imported.default ?? imported);
  } catch {
    throw new Error(
      "sockguard: options.metrics needs prom-client, which is not installed: `npm install prom-client`",
    );
  }
}

/**
 * Every metric of one guard.
 *
 * @example
 * const metrics = new GuardMetrics(await loadPromClient(), register, policy);
 * metrics.decision(decision, policy);
 * metrics.countAllowedEvent("/chat", "message");
 */
export class GuardMetrics {
  readonly #decisions: PromClient.Counter<keyof DecisionLabels>;
  readonly #reloads: PromClient.Counter<"result">;
  readonly #policyInfo: PromClient.Gauge<"version">;
  readonly #jwks: PromClient.Counter<"issuer" | "result">;
  readonly #tokenCache: PromClient.Counter<"result">;
  readonly #storeErrors: PromClient.Counter<"store">;
  readonly #reloadSeconds: PromClient.Histogram<never>;
  /** Every decision cell ever counted, by its labels. */
  readonly #cells = new Map<string, DecisionCell>();
  /** Allowed events by namespace and declared event name, for the policy in force. */
  #allowedEvents = new Map<string, Map<string, DecisionCell>>();
  #policy: CompiledPolicy;
  #sockets: SocketCountSource = () => [];

  constructor(prom: PromClientModule, register: MetricsRegistry, policy: CompiledPolicy) {
    this.#policy = policy;
    const registers = [register];
    const flush = (): void => this.#flushDecisions();
    this.#decisions = new prom.Counter({
      name: "sockguard_decisions_total",
      help: "Decisions of the guard, by code (allowed or the denial code), stage, declared namespace and event, and shadow",
      labelNames: ["code", "stage", "namespace", "event", "shadow"],
      registers,
      collect: flush,
    });
    this.#reloads = new prom.Counter({
      name: "sockguard_policy_reloads_total",
      help: "Passes of the reload cycle, by result: applied, unchanged or failed",
      labelNames: ["result"],
      registers,
    });
    this.#policyInfo = new prom.Gauge({
      name: "sockguard_policy_info",
      help: "1 for the version of the policy in force",
      labelNames: ["version"],
      registers,
    });
    const countSockets = (gauge: PromClient.Gauge<"namespace">): void => this.#countSockets(gauge);
    new prom.Gauge({
      name: "sockguard_sockets",
      help: "Connected sockets, by declared namespace",
      labelNames: ["namespace"],
      registers,
      collect(this: PromClient.Gauge<"namespace">) {
        countSockets(this);
      },
    });
    this.#jwks = new prom.Counter({
      name: "sockguard_jwks_requests_total",
      help: "Downloads of remote JWK sets, by declared issuer and result (ok or error)",
      labelNames: ["issuer", "result"],
      registers,
    });
    this.#tokenCache = new prom.Counter({
      name: "sockguard_token_cache_total",
      help: "Lookups of the verified-token cache, by result (hit or miss)",
      labelNames: ["result"],
      registers,
    });
    this.#storeErrors = new prom.Counter({
      name: "sockguard_store_errors_total",
      help: "Outages of a backing store (budgets, quotas, revocations), by store",
      labelNames: ["store"],
      registers,
    });
    this.#reloadSeconds = new prom.Histogram({
      name: "sockguard_reload_seconds",
      help: "Seconds from the start of a reload's read until the new policy is in force",
      buckets: RELOAD_BUCKETS,
      registers,
    });
    this.policyInForce(policy);
  }

  /** Counts a decision (judged under `policy`). */
  decision(decision: ObservedDecision, policy: CompiledPolicy): void {
    const namespace = decisionNamespaceLabel(policy, decision);
    this.#cell(
      decision.code,
      decision.stage,
      namespace,
      eventLabel(policy, decision.namespace, decision.event),
      decision.shadow === true,
    ).pending += 1;
  }

  /**
   * Counts an allowed event without building its decision: the per-event path. `event` is the
   * name the client sent; an undeclared one (admitted by `unknownEvents: allow`) counts as `other`.
   */
  countAllowedEvent(namespace: string, event: unknown): void {
    const cell = typeof event === "string" ? this.#allowedEvents.get(namespace)?.get(event) : undefined;
    if (cell !== undefined) {
      cell.pending += 1;
      return;
    }
    const policy = this.#policy;
    const namespaceName = namespaceLabel(policy, namespace);
    const eventName = eventLabel(policy, namespace, event);
    const counted = this.#cell("allowed", "event", namespaceName, eventName, false);
    counted.pending += 1;
    // Only declared names are remembered: a client's invented names never grow the map.
    if (typeof event === "string" && namespaceName !== OTHER && eventName !== OTHER) {
      let byEvent = this.#allowedEvents.get(namespace);
      if (!byEvent) {
        byEvent = new Map();
        this.#allowedEvents.set(namespace, byEvent);
      }
      byEvent.set(event, counted);
    }
  }

  /** A new policy is in force: the info metric moves to its version, and labels follow its names. */
  policyInForce(policy: CompiledPolicy): void {
    this.#policy = policy;
    this.#allowedEvents = new Map();
    this.#policyInfo.reset();
    this.#policyInfo.set({ version: policy.version }, 1);
  }

  /** Counts a pass of the reload cycle; an applied one with how long it took. */
  reloaded(result: ReloadResult, seconds?: number): void {
    this.#reloads.inc({ result });
    if (result === "applied" && seconds !== undefined) this.#reloadSeconds.observe(seconds);
  }

  /** Counts a download of the JWK set at `uri`, labelled with the declared issuers that use it. */
  jwksDownload(uri: string, result: "ok" | "error"): void {
    this.#jwks.inc({ issuer: jwksIssuerLabel(this.#policy, uri), result });
  }

  tokenCache(result: TokenCacheResult): void {
    this.#tokenCache.inc({ result });
  }

  storeError(store: StoreName): void {
    this.#storeErrors.inc({ store });
  }

  /** Where the sockets gauge counts from. */
  watchSockets(source: SocketCountSource): void {
    this.#sockets = source;
  }

  #cell(code: string, stage: string, namespace: string, event: string, shadow: boolean): DecisionCell {
    const key = `${code}\u0000${stage}\u0000${namespace}\u0000${event}\u0000${shadow}`;
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = { labels: { code, stage, namespace, event, shadow: String(shadow) }, pending: 0 };
      this.#cells.set(key, cell);
      // A series exists from its first decision on, even before the next scrape.
      this.#decisions.inc(cell.labels, 0);
    }
    return cell;
  }

  #flushDecisions(): void {
    for (const cell of this.#cells.values()) {
      if (cell.pending === 0) continue;
      this.#decisions.inc(cell.labels, cell.pending);
      cell.pending = 0;
    }
  }

  /** Each declared namespace's sockets (0 when none); a namespace no longer declared has no series. */
  #countSockets(gauge: PromClient.Gauge<"namespace">): void {
    const counts = new Map<string, number>();
    for (const name of this.#policy.namespaces.keys()) counts.set(name, 0);
    for (const namespace of this.#sockets()) {
      if (namespace.sockets.size === 0) continue;
      const label = namespaceLabel(this.#policy, namespace.name);
      counts.set(label, (counts.get(label) ?? 0) + namespace.sockets.size);
    }
    gauge.reset();
    for (const [namespace, sockets] of counts) gauge.set({ namespace }, sockets);
  }
}
