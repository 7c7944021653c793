/**
 * Builds the `decision` events the guard emits. Built only when somebody listens (the caller asks
 * the sink first), and never with a token or a payload in them.
 */
import type { Socket } from "socket.io";
import type { Decision, DenialCode, PayloadErrorDetail, Rule } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { socketClientAddress } from "./client-address.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { Identity } from "../compile/types.js";

/** Optional parts of a decision about a socket. */
export interface SocketDecisionParts {
  /** A declared event name (never an undeclared, client-chosen one). */
  readonly event?: string;
  readonly details?: readonly PayloadErrorDetail[];
  /** For a `rate_limited` refusal: how long the client was told to wait. */
  readonly retryAfterMs?: number;
  /** The policy key that decided. */
  readonly rule?: Rule | undefined;
  /** A refused connect's verified token (the socket has no state yet): its subject is reported. */
  readonly identity?: Identity | undefined;
}

/**
 * A decision about `socket` (a connect, an event, a recheck, ...). Its `namespace` is the policy's
 * key for the socket's namespace (the pattern, for a dynamic one); a name the policy does not list
 * was the client's choice and is left out.
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
): Decision {
  const state = ctx.states.get(socket);
  const subject = (state?.identity ?? parts.identity)?.subject;
  const policy = ctx.holder.current;
  const address = socketClientAddress(policy.connection, socket);
  const namespace = findNamespace(policy, socket.nsp.name)?.namespace.name ?? state?.admittedTo;
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
  };
}
