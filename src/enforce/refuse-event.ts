/**
 * Refusing something a connected socket sent: tell the client, report the decision, and count the
 * refusal against `maxDenials`, disconnecting the socket once it has been refused too often.
 */
import type { Socket } from "socket.io";
import type { CompiledPolicy } from "../compile/types.js";
import type { DenialCode, PayloadErrorDetail } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { answerRefusedEvent, disconnectWithDenial } from "./feedback.js";

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
): void {
  answerRefusedEvent(socket, ack, code, details, declaredEvent, retryAfterMs);
  if (ctx.decisions.wantsDenials()) {
    ctx.decisions.report(
      socketDecision(ctx, socket, code, stage, { event: declaredEvent, details, retryAfterMs }),
    );
  }
  const state = ctx.states.get(socket);
  if (state && state.denials.record(Date.now(), policy.connection.maxDenials)) {
    if (ctx.decisions.wantsDenials())
      ctx.decisions.report(socketDecision(ctx, socket, "too_many_denials", stage));
    disconnectWithDenial(socket, "too_many_denials");
  }
}
