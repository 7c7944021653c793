/**
 * Builds the `decision` events the guard emits. Built only when somebody listens (the caller asks
 * the sink first), and never with a token or a payload in them.
 */
import type { Socket } from "socket.io";
import type { Decision, DenialCode, PayloadErrorDetail, Rule } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { socketClientAddress } from "./client-address.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledPolicy, Identity } from "../compile/types.js";

/** Optional parts of a decision about a socket. */
export interface SocketDecisionParts {
  /** A declared event name (never an undeclared, client-chosen one). */
  readonly event?: string;
  readonly details?: readonly PayloadErrorDetail[];
  /** For a `rate_limited` refusal: how long the client was told to wait. */
  readonly retryAfterMs?: number;
  /** The policy key that decided. */
  readonly rule?: Rule | undefined;
  /**
   * A refused connect's verified token (the socket has no state yet): its subject is reported. For
   * a decision of the candidate policy, the identity that policy verified (never the guard's).
   */
  readonly identity?: Identity | undefined;
  /** True for a denial reported and not enforced (`mode: shadow`, or the candidate policy's). */
  readonly shadow?: boolean;
}

/**
 * A decision about `socket` (a connect, an event, a recheck, ...) judged under `policy` (the one
 * in force by default). Its `namespace` is that policy's key for the socket's namespace (the
 * pattern, for a dynamic one); a name the policy does not list was the client's choice and is left
 * out. Its `subject` is the guard's identity's (a refused connect's comes in `parts`); under
 * another policy, only the identity in `parts` counts.
 *
 * @example
 * if (ctx.decisions.wantsDenials()) ctx.decisions.report(socketDecision(ctx, socket, "payload_invalid", "event", { event: "message" }));
 */
export function socketDecision(
  ctx: GuardContext,
  socket: Socket,
  code: DenialCode | "allowed",
  stage: Decision["stage"],
  parts: SocketDecisionParts = {},
  policy: CompiledPolicy = ctx.holder.current,
): Decision {
  const state = ctx.states.get(socket);
  const inForce = policy === ctx.holder.current;
  const subject = (inForce ? (state?.identity ?? parts.identity) : parts.identity)?.subject;
  const address = socketClientAddress(policy.connection, socket);
  const namespace =
    findNamespace(policy, socket.nsp.name)?.namespace.name ?? (inForce ? state?.admittedTo : undefined);
  return {
    allowed: code === "allowed",
    code,
    stage,
    ...(namespace === undefined ? {} : { namespace }),
    ...(parts.event === undefined ? {} : { event: parts.event }),
    socketId: socket.id,
    ...(address === undefined ? {} : { address }),
    ...(subject === undefined ? {} : { subject }),
    ...(parts.details && parts.details.length > 0 ? { details: parts.details } : {}),
    ...(parts.retryAfterMs === undefined ? {} : { retryAfterMs: parts.retryAfterMs }),
    ...(parts.rule === undefined ? {} : { rule: parts.rule }),
    policyVersion: policy.version,
    ...(parts.shadow === true ? { shadow: true } : {}),
  };
}

/**
 * The event's name when `policy` declares it in `namespace` (a client-chosen name is never echoed).
 *
 * @example
 * declaredEventName(policy, "/chat", "message"); // "message"
 * declaredEventName(policy, "/chat", "made-up"); // undefined
 */
export function declaredEventName(
  policy: CompiledPolicy,
  namespace: string,
  name: unknown,
): string | undefined {
  if (typeof name !== "string") return undefined;
  return findNamespace(policy, namespace)?.namespace.events.get(name)?.name;
}
