/**
 * Refusing something a client sent: tell the client, report the decision, and count the refusal
 * against its connection's `maxDenials`, closing the whole connection once it has been refused too
 * often.
 */
import type { Socket } from "socket.io";
import type { CompiledPolicy } from "../compile/types.js";
import type { DenialCode, PayloadErrorDetail, Rule } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { recordConnectionDenial } from "./denial-limiter.js";
import { answerRefusedEvent, closeConnectionWithDenial, isConnectionClosing } from "./feedback.js";

/**
 * Refuses an event (or a re-authentication) from `socket` under `policy`.
 *
 * @example
 * refuseEvent(ctx, policy, socket, ack, "event_not_allowed", "event");
 */
export function refuseEvent(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  ack: ((...args: unknown[]) => void) | undefined,
  code: DenialCode,
  stage: "event" | "reauth",
  declaredEvent?: string,
  details?: readonly PayloadErrorDetail[],
  retryAfterMs?: number,
  rule?: Rule,
): void {
  answerRefusedEvent(socket, ack, code, details, declaredEvent, retryAfterMs);
  if (ctx.decisions.wantsDenials()) {
    ctx.decisions.report(
      socketDecision(ctx, socket, code, stage, { event: declaredEvent, details, retryAfterMs, rule }),
    );
  }
  countDenial(ctx, policy, socket, stage);
}

/**
 * Counts a refusal of `socket` (an event, a re-authentication, or its namespace connect) against
 * its connection's `maxDenials`. Over the budget, every namespace socket of the connection is sent
 * `too_many_denials` and disconnected, and the connection is closed. Call it after the refusal
 * itself was answered (an ack, `next(err)`), so that answer goes out before the close.
 *
 * @example
 * next(new SockguardDenial(code));
 * countDenial(ctx, policy, socket, "connect");
 */
export function countDenial(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  stage: "connect" | "event" | "reauth",
): void {
  const client = socket.client;
  // Refusals racing the close (packets of one burst) are not counted or reported again.
  if (isConnectionClosing(client)) return;
  if (!recordConnectionDenial(client, Date.now(), policy.connection.maxDenials)) return;
  if (ctx.decisions.wantsDenials())
    ctx.decisions.report(socketDecision(ctx, socket, "too_many_denials", stage));
  closeConnectionWithDenial(client, "too_many_denials");
}
