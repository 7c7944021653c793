/**
 * Which live sockets `guard.revoke(...)` reaches: those whose verified identity names the subject,
 * and, when one is given, the issuer (its name in the policy, or the `iss` its tokens carry).
 */
import type { Identity } from "../compile/types.js";

/** What `guard.revoke` takes: a subject, optionally narrowed to one issuer. */
export interface RevocationTarget {
  /** The `sub` to disconnect. */
  readonly sub: string;
  /** The issuer's name in the policy, or its `iss`. Omitted: the subject under every issuer. */
  readonly issuer?: string;
}

/**
 * Compiles a revocation target into a matcher over socket identities. Anonymous sockets never
 * match. Throws a `TypeError` for a target without a non-empty string `sub` (a `revoke({})` that
 * silently matched nobody, or everybody, would be worse than an error).
 *
 * @example
 * const revoked = matchRevocation({ issuer: "idp", sub: "u1" });
 * for (const socket of liveSockets) if (revoked(identities.get(socket))) disconnect(socket, "revoked");
 */
export function matchRevocation(target: RevocationTarget): (identity: Identity | undefined) => boolean {
  const { sub, issuer } = (target ?? {}) as Partial<RevocationTarget>;
  if (typeof sub !== "string" || sub === "")
    throw new TypeError("revoke needs { sub } with a non-empty string sub");
  if (issuer !== undefined && (typeof issuer !== "string" || issuer === "")) {
    throw new TypeError("revoke's issuer, when given, is a non-empty string");
  }
  return (identity) =>
    identity !== undefined &&
    identity.subject === sub &&
    (issuer === undefined || identity.issuer === issuer || identity.iss === issuer);
}
