/**
 * What `guard.revoke(...)` takes and gives back: a target (a subject, optionally under one issuer;
 * or one token by its `jti`) turned into the {@link RevocationEntry} the store keeps, and the count
 * of live sockets it disconnected.
 */
import type { RevocationEntry } from "../cluster/revocation-entry.js";
import type { CompiledAuth } from "../compile/types.js";

/**
 * What `guard.revoke` takes: `{ sub, issuer? }` revokes every token of the subject issued until now;
 * `{ jti, issuer? }` revokes one token. `issuer` is the issuer's name in the policy, or its `iss`;
 * omitted, the target is revoked under every issuer.
 */
export type RevocationTarget =
  | { readonly sub: string; readonly issuer?: string; readonly jti?: undefined }
  | { readonly jti: string; readonly issuer?: string; readonly sub?: undefined };

/** What `guard.revoke` resolves to. */
export interface RevocationResult {
  /** Live sockets disconnected with `revoked`. */
  readonly disconnected: number;
  /** Nodes the revocation reached (1 without a shared store). */
  readonly nodes: number;
}

/**
 * The entry that records `target`, revoked at `revokedAt` under `auth`: for its `revocationTtl`,
 * reaching the subject's tokens issued up to its clock tolerance after `revokedAt` (the issuer's
 * clock may be that far ahead). Throws a `TypeError` for a target without exactly one of a
 * non-empty string `sub` or `jti` (a `revoke({})` that silently matched nobody, or everybody,
 * would be worse than an error).
 *
 * @example
 * store.add(revocationEntry({ issuer: "idp", sub: "u1" }, Date.now(), policy.auth));
 */
export function revocationEntry(
  target: RevocationTarget,
  revokedAt: number,
  auth: Pick<CompiledAuth, "revocationTtlMs" | "clockToleranceSec">,
): RevocationEntry {
  const { sub, jti, issuer } = (target ?? {}) as { sub?: unknown; jti?: unknown; issuer?: unknown };
  if (issuer !== undefined && (typeof issuer !== "string" || issuer === "")) {
    throw new TypeError("revoke's issuer, when given, is a non-empty string");
  }
  const expiresAt = revokedAt + auth.revocationTtlMs;
  const scope = issuer === undefined ? {} : { issuer };
  if (jti === undefined) {
    if (typeof sub !== "string" || sub === "")
      throw new TypeError("revoke needs { sub } or { jti }, a non-empty string");
    return { sub, ...scope, revokedAt, issuedUntil: revokedAt + auth.clockToleranceSec * 1000, expiresAt };
  }
  if (typeof jti !== "string" || jti === "" || sub !== undefined) {
    throw new TypeError("revoke needs { sub } or { jti }, a non-empty string, not both");
  }
  return { jti, ...scope, revokedAt, expiresAt };
}
