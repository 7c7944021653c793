/**
 * The verdict on one event a socket sent, in DESIGN §3's order: reserved name → declared → token
 * expiry → claims → size → ack → binary → schema, so a sender without the claims learns nothing about
 * the schema. `sockguard:reauth` is reserved here too: the caller consumes it before asking.
 */
import { isTokenExpired } from "./token-expiry.js";
import { unmetClaim } from "../compile/claims.js";
import type { RateRule } from "../budget/types.js";
import type { CompiledEvent, CompiledPolicy, Identity } from "../compile/types.js";
import type { Rule } from "../decisions.js";
import { findNamespace, type NamespaceMatch } from "../compile/namespace-lookup.js";
import { isReservedEventName } from "../policy/reserved-events.js";
import { decideArguments } from "./arguments.js";
import { ALLOWED, denial, failed, type TraceSink, type Verdict } from "./verdict.js";

/** An ack asked for where `ack: forbidden`, or missing where `ack: required`. */
const ACK_MISMATCH = Object.freeze([Object.freeze({ instancePath: "", keyword: "ack" })]);

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
  /** Milliseconds since the epoch; read only when there is an identity (its token's expiry). */
  readonly now: number;
}

/** Event facts a caller rewrites in place for each packet of a socket (nothing allocated per event). */
export type MutableEventFacts = { -readonly [K in keyof EventFacts]: EventFacts[K] };

const NO_ARGUMENTS: readonly unknown[] = Object.freeze([]);

/**
 * The facts object of a socket in `namespace`, before its first event: the caller rewrites it for
 * each packet.
 *
 * @example
 * const facts = blankEventFacts(socket.nsp.name);
 * facts.data = packet.data; // ... then decideEvent(policy, facts)
 */
export function blankEventFacts(namespace: string): MutableEventFacts {
  return {
    namespace,
    identity: undefined,
    data: NO_ARGUMENTS,
    ackRequested: false,
    bytes: 0,
    carriedBinary: false,
    now: 0,
  };
}

/** Which of an event's checks to run: all, those before its budget, or those after it. */
type Phase = 0 | 1 | 2;
const ALL: Phase = 0;
const ACCESS: Phase = 1;
const PAYLOAD: Phase = 2;

/**
 * Decides one event. The allowed verdict is the shared {@link ALLOWED}: nothing is allocated.
 * An event with a rate limit (its {@link eventBudgets}) is decided in two parts around the spending
 * of its budget instead: {@link decideEventAccess}, then {@link decideEventPayload}.
 *
 * @example
 * decideEvent(policy, { namespace: "/chat", identity, data: ["message", { text: "hi" }], ackRequested: false,
 *   bytes: 30, carriedBinary: false, now: Date.now() }) === ALLOWED;
 */
export function decideEvent(policy: CompiledPolicy, facts: EventFacts, trace?: TraceSink): Verdict {
  return decide(policy, findNamespace(policy, facts.namespace), facts, facts.data, ALL, trace);
}

/**
 * {@link decideEvent} with the namespace already found and the packet's data beside the facts
 * (their `data` is not read), for a caller deciding many events of one socket under one policy:
 * `match` must be what `findNamespace(policy, facts.namespace)` answers.
 *
 * @example
 * const match = findNamespace(policy, socket.nsp.name);
 * decideEventIn(policy, match, facts, packet.data) === ALLOWED;
 */
export function decideEventIn(
  policy: CompiledPolicy,
  match: NamespaceMatch | undefined,
  facts: Omit<EventFacts, "data">,
  data: readonly unknown[],
  trace?: TraceSink,
): Verdict {
  return decide(policy, match, facts, data, ALL, trace);
}

/**
 * The checks before an event's budget (DESIGN §3: the budget comes right after the claims):
 * reserved name, declared, token expiry, claims. Only when this allows is the budget spent.
 */
export function decideEventAccess(policy: CompiledPolicy, facts: EventFacts, trace?: TraceSink): Verdict {
  return decide(policy, findNamespace(policy, facts.namespace), facts, facts.data, ACCESS, trace);
}

/**
 * The checks after an event's budget: size, binary, schema. Call it only after
 * {@link decideEventAccess} allowed the same facts under the same policy.
 */
export function decideEventPayload(policy: CompiledPolicy, facts: EventFacts, trace?: TraceSink): Verdict {
  return decide(policy, findNamespace(policy, facts.namespace), facts, facts.data, PAYLOAD, trace);
}

/**
 * The rate limits an event spends once {@link decideEventAccess} allows it, in order (the
 * namespace's `eventRateLimit`, then the event's own `rateLimit`); an empty, shared array when none.
 */
export function eventBudgets(policy: CompiledPolicy, facts: EventFacts): readonly RateRule[] {
  const namespace = findNamespace(policy, facts.namespace)?.namespace;
  if (!namespace) return NO_BUDGETS;
  const name: unknown = facts.data.length > 0 ? facts.data[0] : undefined;
  if (typeof name !== "string") return NO_BUDGETS;
  return namespace.events.get(name)?.budgets ?? namespace.eventBudgets;
}

const NO_BUDGETS: readonly RateRule[] = Object.freeze([]);

function decide(
  policy: CompiledPolicy,
  match: NamespaceMatch | undefined,
  facts: Omit<EventFacts, "data">,
  data: readonly unknown[],
  phase: Phase,
  trace?: TraceSink,
): Verdict {
  if (!match) return failed(trace, "event", denial("event_not_allowed", policy.rules.namespaces));
  const namespace = match.namespace;
  const name: unknown = data.length > 0 ? data[0] : undefined;
  if (typeof name !== "string") {
    return failed(trace, "event", denial("event_not_allowed", namespace.rules.events));
  }
  // No policy can declare a reserved name (compile/ refuses it): only an undeclared one is asked.
  const event = namespace.events.get(name);
  if (!event && (namespace.unknownEvents !== "allow" || isReservedEventName(name))) {
    return failed(trace, "event", denial("event_not_allowed", namespace.rules.events));
  }
  if (phase !== PAYLOAD) {
    const access = decideAccess(policy, facts, event, namespace.rules.events, match.captures, trace);
    if (access !== ALLOWED || phase === ACCESS) return access;
  }

  if (facts.bytes > policy.connection.maxPayload) {
    return failed(trace, "size", denial("payload_too_large", policy.rules.maxPayload));
  }
  if (trace) trace({ check: "size", outcome: "passed", rule: policy.rules.maxPayload });

  if (!event) {
    if (trace) trace({ check: "schema", outcome: "skipped", note: "an undeclared event has no schema" });
    return ALLOWED;
  }
  const ack = event.ack;
  if (ack && (ack.mode === "required") !== facts.ackRequested) {
    return failed(trace, "ack", denial("payload_invalid", ack.rule, ACK_MISMATCH));
  }
  if (trace) {
    trace(
      ack
        ? { check: "ack", outcome: "passed", rule: ack.rule }
        : { check: "ack", outcome: "skipped", note: "ack: optional" },
    );
  }
  return decideArguments(event, data, facts.carriedBinary, trace);
}

function decideAccess(
  policy: CompiledPolicy,
  facts: Omit<EventFacts, "data">,
  event: CompiledEvent | undefined,
  eventsRule: Rule,
  captures: NamespaceMatch["captures"],
  trace?: TraceSink,
): Verdict {
  if (trace) {
    trace({
      check: "event",
      outcome: "passed",
      rule: event ? event.rules.event : eventsRule,
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
    const unmet = unmetClaim(requirement, identity?.claims, captures);
    if (unmet) return failed(trace, "claims", denial("claims_not_satisfied", unmet));
  }
  if (trace) {
    trace(
      requirement
        ? { check: "claims", outcome: "passed", rule: requirement.rule }
        : { check: "claims", outcome: "skipped", note: "the event requires no claims of its own" },
    );
  }
  return ALLOWED;
}
