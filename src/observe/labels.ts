/**
 * Metric label values from the policy in force: only names the policy declares ever become a
 * label, everything else is {@link OTHER}, so a client inventing namespaces or events cannot grow
 * the number of series.
 */
import type { CompiledPolicy } from "../compile/types.js";

/** The label value of any name the policy in force does not declare. */
export const OTHER = "other";

/**
 * `name` when the policy declares that namespace, else `other`.
 *
 * @example
 * namespaceLabel(policy, "/chat"); // "/chat"
 * namespaceLabel(policy, "/room-<anything>"); // "other"
 */
export function namespaceLabel(policy: CompiledPolicy, name: string | undefined): string {
  if (name === undefined) return "";
  if (policy.namespaces.has(name)) return name;
  // A pattern key (`/tenant-{tenant}`) is a name the policy declares too.
  return policy.patterns?.some((pattern) => pattern.namespace.name === name) === true ? name : OTHER;
}

/**
 * `event` when the namespace declares it, `""` for a decision without an event (a connect, a
 * handshake), else `other`.
 *
 * @example
 * eventLabel(policy, "/chat", "message"); // "message"
 */
export function eventLabel(policy: CompiledPolicy, namespace: string | undefined, event: unknown): string {
  if (event === undefined) return "";
  if (typeof event !== "string" || namespace === undefined) return OTHER;
  return policy.namespaces.get(namespace)?.events.has(event) === true ? event : OTHER;
}

/**
 * The declared issuer names that fetch their keys from `uri`, joined by `,` when several share it;
 * `other` when no issuer of the policy in force uses it (any more).
 */
export function jwksIssuerLabel(policy: CompiledPolicy, uri: string): string {
  const names: string[] = [];
  for (const issuer of policy.auth.issuers.values()) if (issuer.jwksUri === uri) names.push(issuer.name);
  return names.length > 0 ? names.join(",") : OTHER;
}

/**
 * The namespace label of a decision: its declared namespace, `other` for a socket's decision about
 * a namespace the policy does not list (which carries no name), `""` for a handshake's.
 */
export function decisionNamespaceLabel(
  policy: CompiledPolicy,
  decision: { readonly namespace?: string; readonly stage: string },
): string {
  if (decision.namespace === undefined && decision.stage !== "handshake" && decision.stage !== "upgrade") {
    return OTHER;
  }
  return namespaceLabel(policy, decision.namespace);
}
