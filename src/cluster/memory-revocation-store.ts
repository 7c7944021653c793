/**
 * Revocations of one node, in memory: indexed by subject and by `jti`, so a connect looks up only
 * the entries that could concern it, and bounded, so revoking cannot grow the process without end.
 */
import type { Identity } from "../compile/types.js";
import { isRevokedBy, type RevocationEntry } from "./revocation-entry.js";
import type { RevocationStore } from "./revocation-store.js";

/** How many entries a memory store holds unless told otherwise. */
export const DEFAULT_MAX_REVOCATIONS = 100_000;

/**
 * A {@link RevocationStore} in this process. Expired entries are dropped when their key is looked
 * up, and all of them when the store is full; a store still full after that refuses the new entry
 * with a `RangeError` rather than forget an older one.
 *
 * @example
 * const store = new MemoryRevocationStore();
 * store.add({ sub: "u1", revokedAt: Date.now(), expiresAt: Date.now() + 86_400_000 });
 * store.isRevoked(identity, Date.now()); // true for u1's tokens issued until then
 */
export class MemoryRevocationStore implements RevocationStore {
  readonly #maxEntries: number;
  readonly #bySubject = new Map<string, RevocationEntry[]>();
  readonly #byJti = new Map<string, RevocationEntry[]>();
  #size = 0;
  #generation = 0;

  constructor(maxEntries = DEFAULT_MAX_REVOCATIONS) {
    this.#maxEntries = maxEntries;
  }

  get generation(): number {
    return this.#generation;
  }

  /** How many entries are kept (expired ones included until they are swept). */
  get size(): number {
    return this.#size;
  }

  add(entry: RevocationEntry): void {
    const index = entry.jti === undefined ? this.#bySubject : this.#byJti;
    const key = entry.jti ?? entry.sub;
    const list = index.get(key) ?? [];
    // A revocation of the same target that reaches as far and lasts as long covers everything the
    // older one did: replace it, so revoking one subject again and again takes one place.
    const older = list.findIndex((kept) => covers(entry, kept));
    if (older >= 0) {
      list[older] = entry;
    } else {
      if (this.#size >= this.#maxEntries) this.#sweep(entry.revokedAt);
      if (this.#size >= this.#maxEntries) {
        throw new RangeError(
          `sockguard: the revocation list is full (${this.#maxEntries} entries in force); the revocation was not recorded`,
        );
      }
      list.push(entry);
      this.#size += 1;
    }
    index.set(key, list);
    this.#generation += 1;
  }

  isRevoked(identity: Identity, now: number): boolean {
    const bySubject =
      identity.subject === undefined ? undefined : this.#live(this.#bySubject, identity.subject, now);
    if (bySubject && isRevokedBy(bySubject, identity, now)) return true;
    const byJti = identity.jti === undefined ? undefined : this.#live(this.#byJti, identity.jti, now);
    return byJti !== undefined && isRevokedBy(byJti, identity, now);
  }

  /** The entries of `key` still in force at `now`; expired ones are dropped on the way. */
  #live(index: Map<string, RevocationEntry[]>, key: string, now: number): RevocationEntry[] | undefined {
    const list = index.get(key);
    if (!list) return undefined;
    const live = list.filter((entry) => now < entry.expiresAt);
    if (live.length === list.length) return list;
    this.#size -= list.length - live.length;
    if (live.length === 0) index.delete(key);
    else index.set(key, live);
    return live;
  }

  #sweep(now: number): void {
    for (const index of [this.#bySubject, this.#byJti]) {
      for (const key of [...index.keys()]) this.#live(index, key, now);
    }
  }
}

/** True when `newer` revokes every token `older` does, for at least as long. */
function covers(newer: RevocationEntry, older: RevocationEntry): boolean {
  if (newer.issuer !== older.issuer || newer.expiresAt < older.expiresAt) return false;
  return newer.jti !== undefined || older.jti !== undefined || newer.issuedUntil >= older.issuedUntil;
}
