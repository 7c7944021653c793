/**
 * Builds the `decision` events the guard emits. Built only when somebody listens (the caller asks
 * the sink first), and never with a token or a payload in them.
 */
import type { Socket } from "socket.io";
import type { Decision, DenialCode, PayloadErrorDetail, Rule } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { socketClientAddress } from "./client-address.js";

/** Optional parts of a decision about a socket. */
export interface SocketDecisionParts {
  /** A declared event name (never an undeclared, client-chosen one). */
  readonly event?: string;
  readonly details?: readonly PayloadErrorDetail[];
  /** For a `rate_limited` refusal: how long the client was told to wait. */
  readonly retryAfterMs?: number;
  /** The policy key that decided. */
  readonly rule?: Rule | undefined;
}

/**
 * A decision about `socket` (a connect, an event, a recheck, ...).
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
  const subject = ctx.states.get(socket)?.identity?.subject;
  const address = socketClientAddress(ctx.holder.current.connection, socket);
  return {
    allowed: code === "allowed",
    code,
    stage,
    namespace: socket.nsp.name,
    ...(parts.event === undefined ? {} : { event: parts.event }),
    socketId: socket.id,
    ...(address === undefined ? {} : { address }),
    ...(subject === undefined ? {} : { subject }),
    ...(parts.details && parts.details.length > 0 ? { details: parts.details } : {}),
    ...(parts.retryAfterMs === undefined ? {} : { retryAfterMs: parts.retryAfterMs }),
    ...(parts.rule === undefined ? {} : { rule: parts.rule }),
    policyVersion: ctx.holder.current.version,
  };
}
