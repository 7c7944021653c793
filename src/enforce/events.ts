/**
 * The per-event path. Each admitted socket gets its own `onevent`, so a refused event reaches no
 * `onAny` listener, no `socket.use` middleware and no handler (Socket.IO runs `onAny` before
 * `socket.use`, so middleware alone could not stop it). Checks run in DESIGN §3's order: reserved
 * name → declared → token expiry → claims → size → binary → schema.
 */
import type { Socket } from "socket.io";
import { isReservedEventName, REAUTH_EVENT } from "../policy/reserved-events.js";
import type { CompiledPolicy } from "../compile/types.js";
import type { GuardContext } from "./context.js";
import { checkEventArguments } from "./arguments.js";
import { socketDecision } from "./decision-report.js";
import { packetBytes, packetCarriedBinary } from "./packet-size.js";
import { handleReauth } from "./reauth.js";
import { refuseEvent } from "./refuse-event.js";
import { ackCallback, originalOnevent, replaceOnevent, type DecodedPacket } from "./socket-io-internals.js";
import { isTokenExpired } from "./token-expiry.js";

/**
 * Puts the guard in front of every event `socket` receives. Call it before the socket's connect
 * completes (from namespace middleware), so no event arrives unguarded.
 *
 * @example
 * guardSocketEvents(ctx, socket);
 */
export function guardSocketEvents(ctx: GuardContext, socket: Socket): void {
  const dispatch = originalOnevent(socket);
  replaceOnevent(socket, (packet) => {
    if (!socket.connected) return;
    if (admitEvent(ctx, ctx.holder.current, socket, packet)) dispatch.call(socket, packet);
  });
}

/** True when the event may go on to the app; otherwise the client has been answered. */
function admitEvent(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  packet: DecodedPacket,
): boolean {
  const data = packet.data;
  if (!Array.isArray(data) || data.length === 0)
    return refuse(ctx, policy, socket, packet, "event_not_allowed");
  const name: unknown = data[0];
  if (typeof name !== "string") return refuse(ctx, policy, socket, packet, "event_not_allowed");
  if (name === REAUTH_EVENT) {
    handleReauth(ctx, socket, data.slice(1), ackOf(socket, packet));
    return false;
  }
  if (isReservedEventName(name)) return refuse(ctx, policy, socket, packet, "event_not_allowed");

  const namespace = policy.namespaces.get(socket.nsp.name);
  const state = ctx.states.get(socket);
  if (!namespace || !state) return refuse(ctx, policy, socket, packet, "event_not_allowed");
  const event = namespace.events.get(name);
  if (!event && namespace.unknownEvents !== "allow")
    return refuse(ctx, policy, socket, packet, "event_not_allowed");
  const declared = event?.name;

  const identity = state.identity;
  if (identity && isTokenExpired(identity, policy.auth)) {
    return refuse(ctx, policy, socket, packet, "token_expired", declared);
  }
  if (event?.require && !event.require(identity?.claims)) {
    return refuse(ctx, policy, socket, packet, "claims_not_satisfied", declared);
  }
  if (packetBytes(packet) > policy.connection.maxPayload) {
    return refuse(ctx, policy, socket, packet, "payload_too_large", declared);
  }
  if (event) {
    const failure = checkEventArguments(event, data, packetCarriedBinary(packet));
    if (failure) return refuse(ctx, policy, socket, packet, "payload_invalid", declared, failure);
  }

  if (ctx.decisions.wantsAllows()) {
    ctx.decisions.report(socketDecision(ctx, socket, "allowed", "event", { event: declared }));
  }
  return true;
}

function refuse(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  packet: DecodedPacket,
  code: Parameters<typeof refuseEvent>[4],
  declaredEvent?: string,
  details?: Parameters<typeof refuseEvent>[7],
): false {
  refuseEvent(ctx, policy, socket, ackOf(socket, packet), code, "event", declaredEvent, details);
  return false;
}

function ackOf(socket: Socket, packet: DecodedPacket): ((...args: unknown[]) => void) | undefined {
  return typeof packet.id === "number" ? ackCallback(socket, packet.id) : undefined;
}
