/**
 * Which `mode` a denial falls under (DESIGN §1.1, shadow mode): a handshake or upgrade follows the
 * top-level `mode`; a connect, its namespace's; an event, its own, else its namespace's, else the
 * top-level one. A namespace the policy does not list has the top-level mode. Some refusals are
 * never shadowed: `revoked` (an operator's `guard.revoke`) and `too_many_denials` (only enforced
 * denials count toward it, so it can only follow those).
 *
 * The guard asks only when `policy.modes` is present, so a policy without `mode: shadow` pays one
 * property read per denial and nothing per allowed event.
 */
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledPolicy } from "../compile/types.js";
import type { DenialCode } from "../decisions.js";
import { refusesConnection } from "./live-socket.js";
import type { Verdict } from "./verdict.js";

/** The refusals no `mode` turns into a report. */
const ALWAYS_ENFORCED: ReadonlySet<DenialCode | "allowed"> = new Set(["revoked", "too_many_denials"]);

/**
 * True when a denial `code` of a handshake or upgrade request is only reported.
 *
 * @example
 * if (handshakeShadowed(policy, verdict.code)) next(); // reported with shadow: true, let through
 */
export function handshakeShadowed(policy: CompiledPolicy, code: DenialCode | "allowed"): boolean {
  return policy.modes?.shadow === true && !ALWAYS_ENFORCED.has(code);
}

/**
 * True when a denial `code` of a connect to `namespace` (the name the client asked for) is only
 * reported: the namespace's mode, or the top-level one for a namespace the policy does not list.
 *
 * @example
 * connectShadowed(policy, "/chat", "claims_not_satisfied"); // true under `/chat: { mode: shadow }`
 */
export function connectShadowed(
  policy: CompiledPolicy,
  namespace: string,
  code: DenialCode | "allowed",
): boolean {
  const modes = policy.modes;
  if (modes === undefined || ALWAYS_ENFORCED.has(code)) return false;
  const key = findNamespace(policy, namespace)?.namespace.name;
  return (key === undefined ? undefined : modes.namespaces.get(key)?.shadow) ?? modes.shadow;
}

/**
 * True when a denial `code` of the event `event` (the name the client sent, which may be anything)
 * in `namespace` is only reported: the event's mode, else its namespace's, else the top-level one.
 *
 * @example
 * eventShadowed(policy, "/chat", "message", "payload_invalid");
 */
export function eventShadowed(
  policy: CompiledPolicy,
  namespace: string,
  event: unknown,
  code: DenialCode | "allowed",
): boolean {
  const modes = policy.modes;
  if (modes === undefined || ALWAYS_ENFORCED.has(code)) return false;
  const key = findNamespace(policy, namespace)?.namespace.name;
  const namespaceMode = key === undefined ? undefined : modes.namespaces.get(key);
  if (namespaceMode === undefined) return modes.shadow;
  return (typeof event === "string" ? namespaceMode.events.get(event) : undefined) ?? namespaceMode.shadow;
}

/**
 * True when the recheck of a live socket (after a reload, or its token's expiry) refusing it with
 * `verdict` is only reported: a connection-level code (origin, transport, TLS) follows the top-level
 * mode, anything else the socket's namespace's.
 *
 * @example
 * if (liveSocketShadowed(policy, socket.nsp.name, verdict)) report(...); // and the socket stays
 */
export function liveSocketShadowed(policy: CompiledPolicy, namespace: string, verdict: Verdict): boolean {
  return refusesConnection(verdict)
    ? handshakeShadowed(policy, verdict.code)
    : connectShadowed(policy, namespace, verdict.code);
}
