/**
 * `sockguard:reauth`: a live socket presenting a fresh token before its current one expires. The
 * token must pass the namespace's connect rules and belong to the same issuer and subject; then it
 * replaces the socket's identity and its expiry timer. A refused renewal leaves the socket as it
 * was (it still expires on time) and counts against `maxDenials`.
 *
 * A socket may have one renewal judged every {@link REAUTH_INTERVAL_MS}: verifying a token can cost
 * a signature check and a key download, and a renewal is needed once per token lifetime, so an
 * attempt sooner than that after the previous one is refused (`rate_limited`, with `retryAfterMs`:
 * when the next attempt will be judged) without the token being looked at.
 */
import type { Socket } from "socket.io";
import type { CompiledPolicy, Identity } from "../compile/types.js";
import { REAUTH_EVENT } from "../policy/reserved-events.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import { verifyReauthToken } from "./authenticate.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { refuseEvent } from "./refuse-event.js";
import { publishIdentity, type SocketState } from "./socket-state.js";
import { watchTokenExpiry } from "./token-lifetime.js";

/** The shortest time between two renewals of one socket that the guard judges. */
export const REAUTH_INTERVAL_MS = 3_000;

type Ack = ((...args: unknown[]) => void) | undefined;

/**
 * Handles a `sockguard:reauth` event: `args` are the event's arguments (without the ack): one
 * object `{ token }`. `ack`, when the client asked for one, gets `{ ok: true, expiresAt }` or
 * `{ error: { code, message } }`.
 *
 * @example
 * // client side
 * socket.emit("sockguard:reauth", { token }, (reply) => { if (reply.error) console.warn(reply.error.code); });
 */
export function handleReauth(ctx: GuardContext, socket: Socket, args: readonly unknown[], ack: Ack): void {
  const policy = ctx.holder.current;
  const state = ctx.states.get(socket);
  if (!state) return refuseEvent(ctx, policy, socket, ack, "token_invalid", "reauth", REAUTH_EVENT);
  const now = Date.now();
  const wait = state.lastReauthAt + REAUTH_INTERVAL_MS - now;
  if (wait > 0) {
    return refuseEvent(ctx, policy, socket, ack, "rate_limited", "reauth", REAUTH_EVENT, undefined, wait);
  }
  // Every attempt the guard judges starts the interval, a refused one too: a client cannot make the
  // guard verify tokens faster by sending bad ones.
  state.lastReauthAt = now;
  judgeReauth(ctx, socket, state, args, ack);
}

function judgeReauth(
  ctx: GuardContext,
  socket: Socket,
  state: SocketState,
  args: readonly unknown[],
  ack: Ack,
): void {
  const policy = ctx.holder.current;
  const namespace = findNamespace(policy, socket.nsp.name);
  const current = state.identity;
  const payload = args[0];
  if (!namespace || !current || args.length !== 1 || typeof payload !== "object" || payload === null) {
    return refuseEvent(ctx, policy, socket, ack, "token_invalid", "reauth", REAUTH_EVENT);
  }
  const token: unknown = (payload as { token?: unknown }).token;
  const revocations = ctx.revocations.generation;
  void verifyReauthToken(token, policy, socket.nsp.name, ctx.revocations, current).then((outcome) => {
    if (!socket.connected) return;
    // The policy, the identity or the revocations changed while the token was verified: judge again
    // from the start (the same attempt, so the interval does not apply again).
    if (
      ctx.holder.current !== policy ||
      state.identity !== current ||
      ctx.revocations.generation !== revocations
    )
      return judgeReauth(ctx, socket, state, args, ack);
    if (!outcome.ok) return refuseEvent(ctx, policy, socket, ack, outcome.code, "reauth", REAUTH_EVENT);
    acceptReauth(ctx, socket, state, policy, outcome.identity);
    ack?.({ ok: true, expiresAt: outcome.identity.expiresAt });
  });
}

function acceptReauth(
  ctx: GuardContext,
  socket: Socket,
  state: SocketState,
  policy: CompiledPolicy,
  identity: Identity,
): void {
  state.identity = identity;
  publishIdentity(socket, identity);
  watchTokenExpiry(ctx, socket, state, policy.auth);
  if (ctx.decisions.wantsAllows()) {
    ctx.decisions.report(socketDecision(ctx, socket, "allowed", "reauth", { event: REAUTH_EVENT }));
  }
}
