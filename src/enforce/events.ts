/**
 * The per-event path. Each admitted socket gets its own `onevent`, so a refused event reaches no
 * `onAny` listener, no `socket.use` middleware and no handler (Socket.IO runs `onAny` before
 * `socket.use`, so middleware alone could not stop it). The verdict is decide/'s
 * ({@link decideEvent}: reserved name → declared → token expiry → claims → size → binary →
 * schema); this file only gathers the facts and applies the verdict.
 */
import type { Socket } from "socket.io";
import { ALLOWED, decideEvent, type EventFacts } from "../decide/index.js";
import { REAUTH_EVENT } from "../policy/reserved-events.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { packetBytes, packetCarriedBinary } from "./packet-size.js";
import { handleReauth } from "./reauth.js";
import { replyCheckedDispatch } from "./emits.js";
import { refuseEvent } from "./refuse-event.js";
import { ackCallback, originalOnevent, replaceOnevent, type DecodedPacket } from "./socket-io-internals.js";

/** The facts of one event, rewritten in place for each packet of a socket (nothing is allocated per event). */
type MutableEventFacts = { -readonly [K in keyof EventFacts]: EventFacts[K] };

const NO_DATA: readonly unknown[] = Object.freeze([]);

/**
 * Puts the guard in front of every event `socket` receives. Call it before the socket's connect
 * completes (from namespace middleware), so no event arrives unguarded.
 *
 * @example
 * guardSocketEvents(ctx, socket);
 */
export function guardSocketEvents(ctx: GuardContext, socket: Socket): void {
  const dispatch = replyCheckedDispatch(ctx, socket, originalOnevent(socket));
  const facts: MutableEventFacts = {
    namespace: socket.nsp.name,
    identity: undefined,
    data: NO_DATA,
    ackRequested: false,
    bytes: 0,
    carriedBinary: false,
    now: 0,
  };
  replaceOnevent(socket, (packet) => {
    if (!socket.connected) return;
    if (admitEvent(ctx, socket, packet, facts)) dispatch.call(socket, packet);
  });
}

/** True when the event may go on to the app; otherwise the client has been answered. */
function admitEvent(
  ctx: GuardContext,
  socket: Socket,
  packet: DecodedPacket,
  facts: MutableEventFacts,
): boolean {
  const policy = ctx.holder.current;
  const data = Array.isArray(packet.data) ? (packet.data as unknown[]) : NO_DATA;
  // The guard's own renewal event is consumed here; decide/ refuses every other reserved name.
  if (data[0] === REAUTH_EVENT) {
    handleReauth(ctx, socket, data.slice(1), ackOf(socket, packet));
    return false;
  }
  const state = ctx.states.get(socket);
  facts.identity = state?.identity;
  facts.data = data;
  facts.ackRequested = typeof packet.id === "number";
  facts.bytes = packetBytes(packet);
  facts.carriedBinary = packetCarriedBinary(packet);
  facts.now = Date.now();
  const verdict = state ? decideEvent(policy, facts) : undefined;
  facts.data = NO_DATA;
  if (verdict === ALLOWED) {
    if (ctx.decisions.wantsAllows() && !ctx.decisions.countAllowedEvent(socket.nsp.name, data[0])) {
      const declared = declaredEventName(ctx, socket, data);
      ctx.decisions.report(socketDecision(ctx, socket, "allowed", "event", { event: declared }));
    }
    return true;
  }
  const code = verdict && verdict.code !== "allowed" ? verdict.code : "event_not_allowed";
  refuseEvent(
    ctx,
    policy,
    socket,
    ackOf(socket, packet),
    code,
    "event",
    declaredEventName(ctx, socket, data),
    verdict?.details,
    undefined,
    verdict?.rule,
  );
  return false;
}

/** The event's name when the policy declares it (a client-chosen name is never echoed). */
function declaredEventName(ctx: GuardContext, socket: Socket, data: readonly unknown[]): string | undefined {
  const name = data[0];
  if (typeof name !== "string") return undefined;
  return findNamespace(ctx.holder.current, socket.nsp.name)?.namespace.events.get(name)?.name;
}

function ackOf(socket: Socket, packet: DecodedPacket): ((...args: unknown[]) => void) | undefined {
  return typeof packet.id === "number" ? ackCallback(socket, packet.id) : undefined;
}
