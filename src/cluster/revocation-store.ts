/**
 * Where revocations are kept. The guard asks the store at every connect and renewal, after the token
 * is verified, so the interface lets a shared store (Redis, for every node) answer asynchronously
 * while the in-memory store answers at once.
 */
import type { Identity } from "../compile/types.js";
import type { RevocationEntry } from "./revocation-entry.js";

/**
 * A list of revocations, each kept until its `expiresAt`.
 *
 * @example
 * await store.add({ sub: "u1", revokedAt: now, expiresAt: now + ttl });
 * if (await store.isRevoked(identity, Date.now())) refuse("revoked");
 */
export interface RevocationStore {
  /** Records a revocation. Rejects (or throws) when it cannot be recorded: a revocation is never dropped silently. */
  add(entry: RevocationEntry): void | Promise<void>;
  /** True when an entry in force at `now` revokes `identity` ({@link isRevokedBy}). */
  isRevoked(identity: Identity, now: number): boolean | Promise<boolean>;
  /**
   * Changes whenever this node learns of a revocation (its own, or another node's through a shared
   * store). A connect whose checks spanned a change is judged again, so a revoke also covers
   * connects that were still verifying their token when it ran.
   */
  readonly generation: number;
}
