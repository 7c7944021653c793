/**
 * Live sockets against a new policy, and `guard.revoke`: each admitted socket whose connection
 * (origin, transport, TLS), namespace, issuer or claims the policy no longer accepts is told why and
 * disconnected (DISCONNECT, so the client sees `io server disconnect` and does not reconnect on its
 * own); a refused connection is closed after that.
 */
import type { Socket } from "socket.io";
import type { CompiledNamespace, CompiledPolicy, Identity } from "../compile/types.js";
import { unmetClaim } from "../compile/claims.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { DenialCode } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { closeConnectionsWithDenial, disconnectWithDenial, type ClosingConnections } from "./feedback.js";
import { connectOriginAllowed, handshakeRequestOf } from "./connect-origin.js";
import { isSecureRequest } from "./handshake.js";
import type { SocketState } from "./socket-state.js";
import { concreteNamespaces } from "./socket-io-internals.js";

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
 * True when `policy` would still admit a socket of namespace `name` holding `identity` (undefined:
 * anonymous): by its issuer (name and `iss`) and claims. A name a pattern matches is judged by that
 * pattern's namespace, its `{name}` requirements against what the pattern captures from it. The token itself is not kept, so a change
 * of an issuer's keys or audience is not seen here (`guard.revoke` reaches those sockets).
 */
export function stillAdmits(policy: CompiledPolicy, name: string, identity: Identity | undefined): boolean {
  const match = findNamespace(policy, name);
  if (!match) return false;
  const namespace = match.namespace;
  if (namespace.auth === "none") return true;
  if (!identity) return namespace.auth === "optional" && namespace.require === undefined;
  if (!namespace.issuers.has(identity.issuer)) return false;
  // The issuer of that name must still expect the token's `iss`: one re-pointed elsewhere refuses it.
  if (policy.auth.issuers.get(identity.issuer)?.iss !== identity.iss) return false;
  return (
    namespace.requirement === undefined ||
    unmetClaim(namespace.requirement, identity.claims, match.captures) === undefined
  );
}

/**
 * True when `connection` would still admit the connection `socket` came over into `namespace`: the
 * origin and TLS of its handshake request (as the handshake judged them, trusted proxies included,
 * and a missing Origin only where the connection or the namespace allows it), and the transport it
 * uses now (a session that upgraded to WebSocket is judged on WebSocket).
 *
 * @example
 * if (!connectionStillAdmits(policy, findNamespace(policy, socket.nsp.name)?.namespace, socket)) disconnectWithDenial(socket, "policy_changed");
 */
export function connectionStillAdmits(
  policy: CompiledPolicy,
  namespace: CompiledNamespace | undefined,
  socket: Socket,
): boolean {
  const connection = policy.connection;
  if (!connectOriginAllowed(policy, namespace, socket)) return false;
  if (!(connection.transports as ReadonlySet<string>).has(socket.conn.transport.name)) return false;
  return !connection.requireTls || isSecureRequest(connection, handshakeRequestOf(socket));
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
    if (connectionStillAdmits(policy, findNamespace(policy, socket.nsp.name)?.namespace, socket))
      return !stillAdmits(policy, socket.nsp.name, state.identity);
    refusedConnections.add(socket.client);
    return true;
  });
  return closeConnectionsWithDenial(refusedConnections, "policy_changed");
}

/**
 * Disconnects, with `code`, every admitted socket for which `matches` holds, reporting a decision
 * for each. Returns how many were disconnected.
 */
export function disconnectMatching(
  ctx: GuardContext,
  code: DenialCode,
  stage: "recheck" | "revoke" | "expiry",
  matches: (socket: Socket, state: SocketState) => boolean,
): number {
  let count = 0;
  forEachGuardedSocket(ctx, (socket, state) => {
    if (!socket.connected || !matches(socket, state)) return;
    if (ctx.decisions.wantsDenials()) ctx.decisions.report(socketDecision(ctx, socket, code, stage));
    disconnectWithDenial(socket, code);
    count += 1;
  });
  return count;
}
