/**
 * The verdict on one event a socket sent, in DESIGN §3's order: reserved name → declared → token
 * expiry → claims → size → binary → schema, so a sender without the claims learns nothing about
 * the schema. `sockguard:reauth` is reserved here too: the caller consumes it before asking.
 */
import { isTokenExpired } from "./token-expiry.js";
import { unmetClaim } from "../compile/claims.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledPolicy, Identity } from "../compile/types.js";
import { isReservedEventName } from "../policy/reserved-events.js";
import { decideArguments } from "./arguments.js";
import { ALLOWED, denial, failed, type TraceSink, type Verdict } from "./verdict.js";

/** What the caller knows of an event. Nothing in it is copied: a caller may reuse one object per socket. */
export interface EventFacts {
  /** The socket's namespace name (`socket.nsp.name`). */
  readonly namespace: string;
  /** The socket's verified identity; undefined for an anonymous socket. */
  readonly identity: Identity | undefined;
  /** The packet's data: the event name, then the arguments (the ack callback is not among them). */
  readonly data: readonly unknown[];
  /** True when the packet asked for an acknowledgement. */
  readonly ackRequested: boolean;
  /** The packet's size on the wire, JSON and binary attachments together. */
  readonly bytes: number;
  /** True when the packet arrived with binary attachments. */
  readonly carriedBinary: boolean;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/**
 * Decides one event. The allowed verdict is the shared {@link ALLOWED}: nothing is allocated.
 *
 * @example
 * decideEvent(policy, { namespace: "/chat", identity, data: ["message", { text: "hi" }], ackRequested: false,
 *   bytes: 30, carriedBinary: false, now: Date.now() }) === ALLOWED;
 */
export function decideEvent(policy: CompiledPolicy, facts: EventFacts, trace?: TraceSink): Verdict {
  const match = findNamespace(policy, facts.namespace);
  if (!match) return failed(trace, "event", denial("event_not_allowed", policy.rules.namespaces));
  const namespace = match.namespace;
  const data = facts.data;
  const name: unknown = data.length > 0 ? data[0] : undefined;
  if (typeof name !== "string" || isReservedEventName(name)) {
    return failed(trace, "event", denial("event_not_allowed", namespace.rules.events));
  }
  const event = namespace.events.get(name);
  if (!event && namespace.unknownEvents !== "allow") {
    return failed(trace, "event", denial("event_not_allowed", namespace.rules.events));
  }
  if (trace) {
    trace({
      check: "event",
      outcome: "passed",
      rule: event ? event.rules.event : namespace.rules.events,
      note: event ? "declared" : "undeclared, and unknownEvents: allow admits it",
    });
  }

  const identity = facts.identity;
  if (identity && isTokenExpired(identity, policy.auth, facts.now)) {
    return failed(trace, "token expiry", denial("token_expired", policy.rules.clockTolerance));
  }
  if (trace) {
    trace({
      check: "token expiry",
      outcome: identity ? "passed" : "skipped",
      rule: policy.rules.clockTolerance,
      ...(identity ? {} : { note: "anonymous: no token to expire" }),
    });
  }

  const requirement = event?.requirement;
  if (requirement) {
    const unmet = unmetClaim(requirement, identity?.claims, match.captures);
    if (unmet) return failed(trace, "claims", denial("claims_not_satisfied", unmet));
  }
  if (trace) {
    trace(
      requirement
        ? { check: "claims", outcome: "passed", rule: requirement.rule }
        : { check: "claims", outcome: "skipped", note: "the event requires no claims of its own" },
    );
  }

  if (facts.bytes > policy.connection.maxPayload) {
    return failed(trace, "size", denial("payload_too_large", policy.rules.maxPayload));
  }
  if (trace) trace({ check: "size", outcome: "passed", rule: policy.rules.maxPayload });

  if (!event) {
    if (trace) trace({ check: "schema", outcome: "skipped", note: "an undeclared event has no schema" });
    return ALLOWED;
  }
  return decideArguments(event, data, facts.carriedBinary, trace);
}
