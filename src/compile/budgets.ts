/**
 * The policy's budgets → {@link RateRule}s and {@link QuotaRule}s. A rule's id names what it
 * counts and how much it allows, so a reload that leaves a limit as it was keeps its counters and
 * one that changes it counts afresh (DESIGN §1.1; issue: editing an unrelated event must not reset
 * everybody's budget). Quota ids name only what they count: a lowered `maxConnections` applies to
 * the places already held.
 */
import type { QuotaRule, RateKeyKind, RateRule } from "../budget/types.js";
import type { Rule } from "../decisions.js";
import type { RateLimitPolicy } from "../policy/types.js";
import { parseRate } from "../policy/units.js";
import { PolicyCompileError } from "./compile-error.js";

/** What a rate limit counts: handshakes, connects to a namespace, a namespace's events, one event. */
export type RateScope =
  | { readonly kind: "handshake" }
  | { readonly kind: "connect" | "events"; readonly namespace: string }
  | { readonly kind: "event"; readonly namespace: string; readonly event: string };

/**
 * Compiles one rate limit; `path` is where it stands in the policy (for the error of a rate the
 * loader would have refused). `fixedBy` overrides the key (the handshake limit always counts by address).
 *
 * @example
 * compileRateRule("5/10s", { kind: "event", namespace: "/chat", event: "message" }, [...]);
 * // { id: '["event","/chat","message","subject",5,10000]', points: 5, durationMs: 10000, by: "subject" }
 */
export function compileRateRule(
  limit: RateLimitPolicy,
  scope: RateScope,
  path: readonly string[],
  fixedBy?: RateKeyKind,
  rule?: Rule,
): RateRule {
  const text = typeof limit === "string" ? limit : limit.rate;
  const rate = parseRate(text);
  if (rate === undefined) throw new PolicyCompileError([...path], "expected a rate such as 5/10s");
  const by = fixedBy ?? (typeof limit === "string" ? undefined : limit.by) ?? "subject";
  const id = JSON.stringify([...scopeParts(scope), by, rate.count, rate.windowMs]);
  return Object.freeze({
    id,
    points: rate.count,
    durationMs: rate.windowMs,
    by,
    ...(rule === undefined ? {} : { rule }),
  });
}

/**
 * Compiles one quota.
 *
 * @example
 * compileQuotaRule(5, { kind: "namespace", namespace: "/chat" }); // { id: '["namespace","/chat"]', max: 5 }
 */
export function compileQuotaRule(
  max: number,
  scope: { readonly kind: "connection" } | { readonly kind: "namespace"; readonly namespace: string },
  rule?: Rule,
): QuotaRule {
  const id = JSON.stringify(scope.kind === "connection" ? ["connection"] : ["namespace", scope.namespace]);
  return Object.freeze({ id, max, ...(rule === undefined ? {} : { rule }) });
}

function scopeParts(scope: RateScope): readonly string[] {
  switch (scope.kind) {
    case "handshake":
      return ["handshake"];
    case "connect":
    case "events":
      return [scope.kind, scope.namespace];
    case "event":
      return ["event", scope.namespace, scope.event];
  }
}
