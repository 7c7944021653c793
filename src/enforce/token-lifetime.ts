/**
 * A live socket's token expires: when its deadline (`exp` plus the policy's clock tolerance)
 * passes, the socket is told `token_expired` and disconnected, unless it re-authenticated first.
 */
import type { Socket } from "socket.io";
import type { CompiledAuth } from "../compile/types.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { scheduleAt } from "./expiry-timer.js";
import { disconnectWithDenial } from "./feedback.js";
import type { SocketState } from "./socket-state.js";
import { tokenDeadline } from "../decide/token-expiry.js";
import { denial } from "../decide/verdict.js";
import { keepLiveSocketInShadow } from "./shadow-mode.js";

/**
 * (Re)arms the expiry timer of `socket` for its current identity under `auth`; an anonymous socket
 * gets none. The previous timer, if any, is cancelled.
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
  state.expiry = scheduleAt(tokenDeadline(identity, auth), () => {
    state.expiry = undefined;
    if (!socket.connected || state.identity !== identity) return;
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
  });
}
