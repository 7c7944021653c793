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
import { requestFacts, secureFrom, tlsProtocolOf } from "./handshake.js";

/** The `transport` query value of the connection's handshake request (where it started). */
function handshakeTransportOf(socket: Socket): string | undefined {
  const transport: unknown = socket.handshake.query.transport;
  return typeof transport === "string" ? transport : undefined;
}

/**
 * The facts of the handshake request of the connection `socket` came over, for the connect's
 * origin check (decide/'s `originAllowed` under the namespace's own missing-Origin rule), read
 * from `socket.handshake` as the HTTP checks read the request itself. Its TLS protocol is the one
 * remembered when the handshake was judged, so it is still known after that connection closed.
 *
 * @example
 * decideConnect(policy, { namespace: "/chat", token, now, handshake: connectHandshakeFacts(policy.connection, socket) });
 */
export function connectHandshakeFacts(connection: CompiledConnection, socket: Socket): HandshakeFacts {
  const handshake = socket.handshake;
  const headers = handshake.headers;
  const encrypted = handshake.secure;
  return requestFacts(
    headers,
    handshakeTransportOf(socket),
    true,
    secureFrom(connection, encrypted, handshake.address, headers),
    encrypted === true ? tlsProtocolOf(socket.conn.request) : undefined,
  );
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
