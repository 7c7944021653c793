/**
 * The origin check of a namespace connect (DESIGN §1.1, Missing Origin per namespace). The
 * handshake lets a request without Origin through when the connection or some namespace allows
 * it; each connect then asks whether its own namespace does. Socket.IO's `socket.handshake` holds
 * the headers and query of the first HTTP request of the Engine.IO connection: the handshake the
 * guard judged, which this judges again under the policy in force.
 */
import type { Socket } from "socket.io";
import type { CompiledConnection, CompiledNamespace, CompiledPolicy } from "../compile/types.js";
import { originAllowed, type HandshakeFacts } from "../decide/handshake.js";
import { handshakeFacts, tlsProtocolOf, type HandshakeRequest } from "./handshake.js";

/**
 * The handshake request of the connection `socket` came over, as the HTTP checks read requests.
 *
 * @example
 * isSecureRequest(policy.connection, handshakeRequestOf(socket));
 */
export function handshakeRequestOf(socket: Socket): HandshakeRequest {
  const handshake = socket.handshake;
  return {
    headers: handshake.headers,
    socket: {
      remoteAddress: handshake.address,
      encrypted: handshake.secure,
      // Read when the handshake was judged, so still known after that connection closed.
      getProtocol: () => tlsProtocolOf(socket.conn.request) ?? null,
    },
  };
}

/** The `transport` query value of the connection's handshake request (where it started). */
function handshakeTransportOf(socket: Socket): string | undefined {
  const transport: unknown = socket.handshake.query.transport;
  return typeof transport === "string" ? transport : undefined;
}

/**
 * The facts of the handshake request of the connection `socket` came over, for the connect's
 * origin check (decide/'s `originAllowed` under the namespace's own missing-Origin rule).
 *
 * @example
 * decideConnect(policy, { namespace: "/chat", token, now, handshake: connectHandshakeFacts(policy.connection, socket) });
 */
export function connectHandshakeFacts(connection: CompiledConnection, socket: Socket): HandshakeFacts {
  return handshakeFacts(connection, handshakeRequestOf(socket), handshakeTransportOf(socket), true);
}

/**
 * True when the origin of the connection `socket` came over admits it to `namespace`: a present
 * Origin that is allowed, a browser's same-origin polling handshake, or no Origin where the
 * connection or the namespace allows it. A refusal is `origin_not_allowed` at the connect.
 *
 * @example
 * if (!connectOriginAllowed(policy, namespace, socket)) return refuseConnect(ctx, policy, socket, next, "origin_not_allowed");
 */
export function connectOriginAllowed(
  policy: CompiledPolicy,
  namespace: CompiledNamespace | undefined,
  socket: Socket,
): boolean {
  return originAllowed(policy, connectHandshakeFacts(policy.connection, socket), namespace);
}
