/**
 * What `guard.revoke` records, and the one rule that says whether a verified identity is revoked by
 * such records at a given time (DESIGN §1.1, Revocation). The rule is pure: no store, no clock of
 * its own, so every store (in memory, or shared by nodes) and every caller judges the same way.
 */
import type { Identity } from "../compile/types.js";

/** Every token of a subject (optionally under one issuer) issued no later than `issuedUntil`. */
export interface SubjectRevocation {
  readonly sub: string;
  readonly jti?: undefined;
  /** The issuer's name in the policy, or its `iss`. Omitted: the subject under every issuer. */
  readonly issuer?: string;
  /** When the revocation was made, in milliseconds since the epoch. */
  readonly revokedAt: number;
  /**
   * The latest `iat` (in milliseconds) revoked: `revokedAt` plus the policy's clock tolerance, since
   * the issuer's clock may run that far ahead of this one.
   */
  readonly issuedUntil: number;
  /** When it stops refusing tokens (`revokedAt` plus the policy's `revocationTtl`). */
  readonly expiresAt: number;
}

/** One token, by its `jti` (optionally under one issuer), whatever its `iat`. */
export interface TokenRevocation {
  readonly jti: string;
  readonly sub?: undefined;
  /** The issuer's name in the policy, or its `iss`. Omitted: that `jti` under every issuer. */
  readonly issuer?: string;
  readonly revokedAt: number;
  readonly expiresAt: number;
}

/** One revocation, as stores keep it. */
export type RevocationEntry = SubjectRevocation | TokenRevocation;

/**
 * True when one of `entries` revokes `identity` at `now`: an entry in force (`now` before its
 * `expiresAt`) that names the identity's `jti`, or its subject with an `iat` not after the
 * entry's `issuedUntil` (a token without `iat` cannot show it is newer, so it is revoked too).
 * `iat` counts whole seconds, so a token issued in that last second is revoked as well. Anonymous
 * sockets are never revoked.
 *
 * @example
 * const now = Date.now();
 * const entry = { sub: "u1", revokedAt: now, issuedUntil: now, expiresAt: now + 86_400_000 };
 * isRevokedBy([entry], identity, Date.now()); // true for every token of u1 issued until now
 */
export function isRevokedBy(
  entries: Iterable<RevocationEntry>,
  identity: Identity | undefined,
  now: number,
): boolean {
  if (identity === undefined) return false;
  for (const entry of entries) {
    if (now >= entry.expiresAt) continue;
    if (entry.issuer !== undefined && entry.issuer !== identity.issuer && entry.issuer !== identity.iss)
      continue;
    if (entry.jti !== undefined) {
      if (identity.jti === entry.jti) return true;
    } else if (
      identity.subject === entry.sub &&
      (identity.issuedAt === undefined || identity.issuedAt <= entry.issuedUntil)
    ) {
      return true;
    }
  }
  return false;
}

/**
 * The entry `value` describes, or undefined when it is not one: what another node sent or Redis
 * holds is read field by field, never trusted as it is.
 *
 * @example
 * const entry = readRevocationEntry(JSON.parse(member));
 */
export function readRevocationEntry(value: unknown): RevocationEntry | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { sub, jti, issuer, revokedAt, issuedUntil, expiresAt } = value as Record<string, unknown>;
  if (!isTime(revokedAt) || !isTime(expiresAt)) return undefined;
  if (issuer !== undefined && !isName(issuer)) return undefined;
  const scope = issuer === undefined ? {} : { issuer };
  if (isName(jti) && sub === undefined) return { jti, ...scope, revokedAt, expiresAt };
  if (isName(sub) && jti === undefined && isTime(issuedUntil))
    return { sub, ...scope, revokedAt, issuedUntil, expiresAt };
  return undefined;
}

/**
 * One text per entry, the same for equal entries whatever their keys' order: how shared stores
 * name an entry (a Redis set member), so writing one twice keeps it once.
 */
export function revocationEntryText(entry: RevocationEntry): string {
  return entry.jti === undefined
    ? JSON.stringify([entry.sub, entry.issuer ?? null, entry.revokedAt, entry.issuedUntil, entry.expiresAt])
    : JSON.stringify([null, entry.issuer ?? null, entry.revokedAt, entry.jti, entry.expiresAt]);
}

/** The entry {@link revocationEntryText} wrote, or undefined for any other text. */
export function readRevocationEntryText(text: string): RevocationEntry | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(fields) || fields.length !== 5) return undefined;
  const [sub, issuer, revokedAt, last, expiresAt] = fields as unknown[];
  const scope = issuer === null ? {} : { issuer };
  return sub === null
    ? readRevocationEntry({ jti: last, ...scope, revokedAt, expiresAt })
    : readRevocationEntry({ sub, ...scope, revokedAt, issuedUntil: last, expiresAt });
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function isName(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}
