/**
 * The verdict on a socket that is already connected, under a policy that has just come into force
 * (DESIGN §3 `policy_changed`): would this policy still admit it? The same checks as its handshake
 * and connect, on what the guard kept of them: the handshake request's origin and TLS, the transport
 * the session uses now (a session that upgraded is judged on WebSocket), the namespace, and the
 * verified identity (issuer name and `iss`, then the claims; a pattern namespace's `{name}`
 * requirements against what its pattern captures from the socket's namespace name). The token itself is not kept, so a
 * change of an issuer's keys or audience is not seen here; `guard.revoke` reaches those sockets.
 */
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledPolicy, Identity } from "../compile/types.js";
import { decideClaims } from "./connect.js";
import { negotiatedAtLeast, originAllowed, type HandshakeFacts } from "./handshake.js";
import { ALLOWED, denial, failed, type TraceSink, type Verdict } from "./verdict.js";

/** What the guard kept of a live socket. */
export interface LiveSocketFacts {
  /** The socket's namespace (`socket.nsp.name`). */
  readonly namespace: string;
  /** The handshake request of the Engine.IO connection the socket came over. */
  readonly handshake: HandshakeFacts;
  /** The transport the connection uses now. */
  readonly transport: string;
  /** The identity its connect (or latest renewal) verified; undefined when anonymous. */
  readonly identity: Identity | undefined;
}

/** The codes of {@link decideLiveSocket} that refuse the whole Engine.IO connection, not one socket. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  "origin_not_allowed",
  "transport_not_allowed",
  "tls_required",
]);

/**
 * True when `verdict` refuses the connection itself (origin, transport, TLS): every socket over
 * it goes, and the connection is closed.
 */
export function refusesConnection(verdict: Verdict): boolean {
  return CONNECTION_CODES.has(verdict.code);
}

/**
 * Decides whether `policy` still admits a live socket.
 *
 * @example
 * const verdict = decideLiveSocket(policy, { namespace: "/chat", handshake, transport: "websocket", identity });
 * if (verdict !== ALLOWED) disconnectWithDenial(socket, "policy_changed");
 */
export function decideLiveSocket(policy: CompiledPolicy, facts: LiveSocketFacts, trace?: TraceSink): Verdict {
  const connection = policy.connection;
  const rules = policy.rules;
  const match = findNamespace(policy, facts.namespace);
  const namespace = match?.namespace;
  if (!originAllowed(policy, facts.handshake, namespace)) {
    return failed(trace, "origin", denial("origin_not_allowed", rules.origins));
  }
  if (!(connection.transports as ReadonlySet<string>).has(facts.transport)) {
    return failed(trace, "transport", denial("transport_not_allowed", rules.transports));
  }
  const tls = connection.tls;
  if (connection.requireTls && !facts.handshake.secure) {
    return failed(trace, "tls", denial("tls_required", tls?.rules.tls ?? rules.requireTls));
  }
  if (tls?.minVersion !== undefined && !negotiatedAtLeast(facts.handshake.tlsProtocol, tls.minVersion)) {
    return failed(trace, "tls", denial("tls_required", tls.rules.minVersion));
  }
  if (!match || !namespace) {
    return failed(trace, "namespace", denial("namespace_not_allowed", rules.namespaces));
  }
  if (trace) trace({ check: "namespace", outcome: "passed", rule: namespace.rules.namespace });
  if (namespace.auth === "none") return ALLOWED;

  const identity = facts.identity;
  if (!identity) {
    if (namespace.auth === "required")
      return failed(trace, "token", denial("token_missing", namespace.rules.auth));
    return decideClaims(namespace, undefined, match.captures, trace);
  }
  // The issuer of that name must still be trusted here and still expect the token's `iss`: one
  // re-pointed elsewhere refuses the tokens it verified before.
  const issuer = policy.auth.issuers.get(identity.issuer);
  if (!namespace.issuers.has(identity.issuer) || issuer?.iss !== identity.iss) {
    return failed(trace, "issuer", denial("issuer_not_allowed", namespace.rules.issuers));
  }
  return decideClaims(namespace, identity, match.captures, trace);
}
