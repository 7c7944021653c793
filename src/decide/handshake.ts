/**
 * The verdict on an HTTP handshake or WebSocket upgrade request: origin, then transport, then TLS
 * (DESIGN §1, §7). The caller reads the request; everything here is a fact it hands over.
 */
import type { CompiledNamespace, CompiledPolicy } from "../compile/types.js";
import { ALLOWED, denial, failed, type TraceSink, type Verdict } from "./verdict.js";

/** What the caller reads from the request. */
export interface HandshakeFacts {
  /** The `Origin` header, as sent; undefined when absent. */
  readonly origin: string | undefined;
  /** The `Host` header. */
  readonly host: string | undefined;
  /** The `Sec-Fetch-Site` header (set by browsers, never by scripts). */
  readonly secFetchSite: string | undefined;
  /** The request's `transport` query value. */
  readonly transport: string | undefined;
  /** True for the first request of a session, by engine.io's own predicate (`!req._query.sid`). */
  readonly firstRequest: boolean;
  /** TLS, or `X-Forwarded-Proto: https` written by a trusted proxy. */
  readonly secure: boolean;
  /**
   * The protocol the request's own TLS connection negotiated (`TLSv1.2`, `TLSv1.3`, as Node's
   * `getProtocol()` names it); undefined when it did not come over TLS itself.
   */
  readonly tlsProtocol?: string;
  /** The client's address (the right-most untrusted X-Forwarded-For entry behind trusted proxies); for budgets. */
  readonly address?: string;
}

/**
 * Decides one handshake or upgrade request.
 *
 * @example
 * decideHandshake(policy, { origin: "https://evil.example", host: "chat.example.com", secFetchSite: undefined,
 *   transport: "websocket", firstRequest: true, secure: true }).code; // "origin_not_allowed"
 */
export function decideHandshake(policy: CompiledPolicy, facts: HandshakeFacts, trace?: TraceSink): Verdict {
  const connection = policy.connection;
  const rules = policy.rules;
  if (!originAllowed(policy, facts))
    return failed(trace, "origin", denial("origin_not_allowed", rules.origins));
  if (trace) trace({ check: "origin", outcome: "passed", rule: rules.origins, note: originNote(facts) });

  const transport = facts.transport;
  if (transport === undefined || !connection.transports.has(transport as never)) {
    return failed(trace, "transport", denial("transport_not_allowed", rules.transports));
  }
  if (trace) trace({ check: "transport", outcome: "passed", rule: rules.transports });

  const tls = connection.tls;
  const tlsRule = tls?.rules.tls ?? rules.requireTls;
  if (connection.requireTls && !facts.secure) {
    return failed(trace, "tls", denial("tls_required", tlsRule));
  }
  if (tls?.minVersion !== undefined && !negotiatedAtLeast(facts.tlsProtocol, tls.minVersion)) {
    return failed(trace, "tls", denial("tls_required", tls.rules.minVersion));
  }
  if (trace) {
    trace({
      check: "tls",
      outcome: connection.requireTls ? "passed" : "skipped",
      rule: tls?.minVersion === undefined ? tlsRule : tls.rules.minVersion,
      ...(connection.requireTls ? {} : { note: "the policy does not require TLS" }),
    });
  }
  return ALLOWED;
}

/** TLS protocol versions, oldest first, as Node's `getProtocol()` names them. */
const TLS_PROTOCOLS: readonly string[] = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/**
 * True when `protocol` is `minVersion` or newer. An unknown protocol, or none (the request did not
 * come over TLS itself, so its version cannot be known), is not.
 *
 * @example
 * negotiatedAtLeast("TLSv1.2", "TLSv1.3"); // false
 */
export function negotiatedAtLeast(protocol: string | undefined, minVersion: string): boolean {
  const index = protocol === undefined ? -1 : TLS_PROTOCOLS.indexOf(protocol);
  return index !== -1 && index >= TLS_PROTOCOLS.indexOf(minVersion);
}

/**
 * True when the origin is admitted: a present Origin matches an allowed origin; a missing one is
 * admitted when the policy allows that, or for a browser's same-origin polling handshake
 * (`Sec-Fetch-Site: same-origin` on the first polling request, with a Host that is an allowed origin).
 */
export function originAllowed(
  policy: CompiledPolicy,
  facts: HandshakeFacts,
  namespace?: CompiledNamespace,
): boolean {
  const connection = policy.connection;
  if (facts.origin !== undefined) return connection.matchOrigin(facts.origin);
  // The handshake admits a missing Origin when the connection or any namespace does; a connect,
  // only when the connection or its own namespace does (DESIGN §1.1, Missing Origin per namespace).
  const allowMissing = namespace
    ? connection.allowMissingOrigin || namespace.allowMissingOrigin === true
    : connection.handshakeAllowsMissingOrigin;
  if (allowMissing) return true;
  if (!facts.firstRequest || facts.transport !== "polling" || facts.secFetchSite !== "same-origin")
    return false;
  return facts.host !== undefined && connection.matchHost(facts.host, facts.secure ? "https" : "http");
}

function originNote(facts: HandshakeFacts): string {
  if (facts.origin !== undefined) return "the Origin is an allowed origin";
  return facts.secFetchSite === "same-origin" && facts.transport === "polling"
    ? "no Origin: a same-origin polling handshake, or allowMissingOrigin"
    : "no Origin, and allowMissingOrigin admits that";
}
