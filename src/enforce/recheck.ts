/**
 * Live sockets against a new policy, and `guard.revoke`: each admitted socket that the new policy
 * no longer admits (decide/'s {@link decideLiveSocket}: its connection's origin, transport or TLS,
 * its namespace, issuer or claims) is told why and
 * disconnected (DISCONNECT, so the client sees `io server disconnect` and does not reconnect on its
 * own); a refused connection is closed after that.
 */
import type { Socket } from "socket.io";
import type { CompiledPolicy } from "../compile/types.js";
import { decideLiveSocket, refusesConnection, type LiveSocketFacts } from "../decide/live-socket.js";
import { ALLOWED } from "../decide/verdict.js";
import type { DenialCode, Rule } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { closeConnectionsWithDenial, disconnectWithDenial, type ClosingConnections } from "./feedback.js";
import { connectHandshakeFacts } from "./connect-origin.js";
import type { SocketState } from "./socket-state.js";
import { concreteNamespaces } from "./socket-io-internals.js";
import { keepLiveSocketInShadow } from "./shadow-mode.js";

/**
 * Calls `visit` for every connected socket the guard admitted, with its state. Sockets may be
 * disconnected from inside `visit`.
 *
 * @example
 * forEachGuardedSocket(ctx, (socket, state) => { if (!state.identity) count++; });
 */
export function forEachGuardedSocket(
  ctx: GuardContext,
  visit: (socket: Socket, state: SocketState) => void,
): void {
  for (const namespace of [...concreteNamespaces(ctx.io)]) {
    for (const socket of namespace.sockets.values()) {
      const state = ctx.states.get(socket);
      if (state) visit(socket, state);
    }
  }
}

/**
 * Disconnects, with `policy_changed`, every admitted socket that `policy` no longer admits. A socket
 * whose connection (origin, transport, TLS) is refused has its whole Engine.IO connection closed
 * once the notice and DISCONNECT have gone out: nothing else may reach the server over it. Returns
 * those connections, for the engine to keep their transport open until they have closed.
 *
 * @example
 * holder.current = compiled;
 * engineOptions.apply(compiled, recheckLiveSockets(ctx, compiled));
 */
export function recheckLiveSockets(ctx: GuardContext, policy: CompiledPolicy): ClosingConnections {
  const refusedConnections = new Set<Socket["client"]>();
  disconnectMatching(ctx, "policy_changed", "recheck", (socket, state) => {
    const verdict = decideLiveSocket(policy, liveSocketFacts(policy, socket, state));
    if (verdict === ALLOWED) return undefined;
    // Under `mode: shadow` the socket stays; its would-be disconnect is reported.
    if (
      policy.modes !== undefined &&
      keepLiveSocketInShadow(ctx, policy, socket, verdict, "policy_changed", "recheck")
    )
      return undefined;
    if (refusesConnection(verdict)) refusedConnections.add(socket.client);
    return verdict.rule ?? null;
  });
  return closeConnectionsWithDenial(refusedConnections, "policy_changed");
}

/** What the guard kept of `socket`, as {@link decideLiveSocket} reads it. */
export function liveSocketFacts(policy: CompiledPolicy, socket: Socket, state: SocketState): LiveSocketFacts {
  return {
    namespace: socket.nsp.name,
    handshake: connectHandshakeFacts(policy.connection, socket),
    transport: socket.conn.transport.name,
    identity: state.identity,
  };
}

/**
 * Disconnects, with `code`, every admitted socket that `matches`, reporting a decision for each.
 * `matches` answers false or undefined to keep the socket, and true, null or the rule that refused
 * it (carried by the decision) to disconnect it. Returns how many were disconnected.
 */
export function disconnectMatching(
  ctx: GuardContext,
  code: DenialCode,
  stage: "recheck" | "revoke" | "expiry",
  matches: (socket: Socket, state: SocketState) => Rule | boolean | null | undefined,
): number {
  let count = 0;
  forEachGuardedSocket(ctx, (socket, state) => {
    if (!socket.connected) return;
    const refused = matches(socket, state);
    if (refused === false || refused === undefined) return;
    if (ctx.decisions.wantsDenials()) {
      const parts = typeof refused === "object" && refused !== null ? { rule: refused } : {};
      ctx.decisions.report(socketDecision(ctx, socket, code, stage, parts));
    }
    disconnectWithDenial(socket, code);
    count += 1;
  });
  return count;
}
