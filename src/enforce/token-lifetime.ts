/**
 * A live socket's token expires: when its deadline (`exp` plus the policy's clock tolerance)
 * passes, the socket is told `token_expired` and disconnected, unless it re-authenticated first.
 */
import type { Socket } from "socket.io";
import type { CompiledAuth } from "../compile/types.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { scheduleAt, type ScheduledCall } from "./expiry-timer.js";
import { disconnectWithDenial } from "./feedback.js";
import type { SocketState } from "./socket-state.js";
import { tokenDeadline } from "../decide/token-expiry.js";
import { denial } from "../decide/verdict.js";
import { keepLiveSocketInShadow } from "./shadow-mode.js";

/**
 * (Re)arms the expiry of `socket` for its current identity under `auth`; an anonymous socket gets
 * none. The previous deadline, if any, is cancelled. The socket holds one schedule entry and no
 * closure: the function that runs at the deadline is shared by every socket of the guard.
 *
 * @example
 * state.identity = renewed;
 * watchTokenExpiry(ctx, socket, state, policy.auth);
 */
export function watchTokenExpiry(
  ctx: GuardContext,
  socket: Socket,
  state: SocketState,
  auth: CompiledAuth,
): void {
  state.expiry?.cancel();
  state.expiry = undefined;
  const identity = state.identity;
  if (!identity) return;
  state.expiry = scheduleAt(tokenDeadline(identity, auth), handlersOf(ctx).expire, socket);
}

/**
 * Cancels the expiry of a socket that disconnected. A listener shared by every socket of the guard
 * (`this` is the socket), so a socket holds no closure for it.
 *
 * @example
 * socket.on("disconnect", expiryCanceller(ctx));
 */
export function expiryCanceller(ctx: GuardContext): (this: Socket) => void {
  return handlersOf(ctx).cancel;
}

interface ExpiryHandlers {
  readonly expire: (socket: Socket, call: ScheduledCall) => void;
  readonly cancel: (this: Socket) => void;
}

const handlers = new WeakMap<GuardContext, ExpiryHandlers>();

function handlersOf(ctx: GuardContext): ExpiryHandlers {
  let held = handlers.get(ctx);
  if (!held) {
    held = {
      expire: (socket, call) => expire(ctx, socket, call),
      cancel(this: Socket) {
        ctx.states.get(this)?.expiry?.cancel();
      },
    };
    handlers.set(ctx, held);
  }
  return held;
}

/** The deadline `call` of `socket` is reached: told `token_expired` and disconnected, unless it renewed since. */
function expire(ctx: GuardContext, socket: Socket, call: ScheduledCall): void {
  const state = ctx.states.get(socket);
  // A renewal or a recheck re-arms (cancelling this call first); a stale call does nothing.
  if (!state || state.expiry !== call) return;
  state.expiry = undefined;
  if (!socket.connected) return;
  const policy = ctx.holder.current;
  const expired = denial("token_expired", policy.rules.clockTolerance);
  if (
    policy.modes !== undefined &&
    keepLiveSocketInShadow(ctx, policy, socket, expired, "token_expired", "expiry")
  )
    return;
  if (ctx.decisions.wantsDenials())
    ctx.decisions.report(socketDecision(ctx, socket, "token_expired", "expiry"));
  disconnectWithDenial(socket, "token_expired");
}
