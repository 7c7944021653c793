/**
 * `sockguard:reauth`: a live socket presenting a fresh token before its current one expires. The
 * token must pass the namespace's connect rules and belong to the same issuer and subject; then it
 * replaces the socket's identity and its expiry timer. A refused renewal leaves the socket as it
 * was (it still expires on time) and counts against `maxDenials`.
 */
import type { Socket } from "socket.io";
import { REAUTH_EVENT } from "../policy/reserved-events.js";
import { verifyReauthToken } from "./authenticate.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { refuseEvent } from "./refuse-event.js";
import { publishIdentity } from "./socket-state.js";
import { watchTokenExpiry } from "./token-lifetime.js";

/**
 * Handles a `sockguard:reauth` event: `args` are the event's arguments (without the ack): one
 * object `{ token }`. `ack`, when the client asked for one, gets `{ ok: true, expiresAt }` or
 * `{ error: { code, message } }`.
 *
 * @example
 * // client side
 * socket.emit("sockguard:reauth", { token }, (reply) => { if (reply.error) console.warn(reply.error.code); });
 */
export function handleReauth(
  ctx: GuardContext,
  socket: Socket,
  args: readonly unknown[],
  ack: ((...args: unknown[]) => void) | undefined,
): void {
  const policy = ctx.holder.current;
  const state = ctx.states.get(socket);
  const namespace = policy.namespaces.get(socket.nsp.name);
  const current = state?.identity;
  const payload = args[0];
  if (
    !state ||
    !namespace ||
    !current ||
    args.length !== 1 ||
    typeof payload !== "object" ||
    payload === null
  ) {
    return refuseEvent(ctx, policy, socket, ack, "token_invalid", "reauth", REAUTH_EVENT);
  }
  const token: unknown = (payload as { token?: unknown }).token;
  void verifyReauthToken(token, namespace, policy.auth, current).then((outcome) => {
    if (!socket.connected) return;
    // The policy or the identity changed while the token was verified: judge again from the start.
    if (ctx.holder.current !== policy || state.identity !== current)
      return handleReauth(ctx, socket, args, ack);
    if (!outcome.ok) return refuseEvent(ctx, policy, socket, ack, outcome.code, "reauth", REAUTH_EVENT);
    state.identity = outcome.identity;
    publishIdentity(socket, outcome.identity);
    watchTokenExpiry(ctx, socket, state, policy.auth);
    if (ctx.decisions.wantsAllows()) {
      ctx.decisions.report(socketDecision(ctx, socket, "allowed", "reauth", { event: REAUTH_EVENT }));
    }
    ack?.({ ok: true, expiresAt: outcome.identity.expiresAt });
  });
}
