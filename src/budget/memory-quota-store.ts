/**
 * Connection quotas counted in this process: for each quota and key, the set of holders (engine.io
 * connection ids, socket ids) that hold a place. A holder that closes frees its place at once.
 */
import type { QuotaRule, QuotaStore } from "./types.js";

/**
 * The in-memory quota store, the default when `sockguard()` is given no Redis client.
 *
 * @example
 * const quotas = new MemoryQuotaStore();
 * const rule = { id: "connection", max: 2 };
 * await quotas.acquire(rule, "10.0.0.7", "conn-1"); // true
 * await quotas.release(rule, "10.0.0.7", "conn-1");
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly #holders = new Map<string, Set<string>>();

  acquire(rule: QuotaRule, key: string, holder: string): Promise<boolean> {
    return Promise.resolve(this.acquireNow(rule, key, holder));
  }

  /** {@link acquire} without the promise, for callers that stay synchronous when they can. */
  acquireNow(rule: QuotaRule, key: string, holder: string): boolean {
    const slot = slotOf(rule, key);
    let holders = this.#holders.get(slot);
    if (!holders) {
      holders = new Set();
      this.#holders.set(slot, holders);
    }
    if (holders.has(holder)) return true;
    if (holders.size >= rule.max) return false;
    holders.add(holder);
    return true;
  }

  release(rule: QuotaRule, key: string, holder: string): Promise<void> {
    this.releaseNow(rule, key, holder);
    return Promise.resolve();
  }

  /** {@link release} without the promise. */
  releaseNow(rule: QuotaRule, key: string, holder: string): void {
    const slot = slotOf(rule, key);
    const holders = this.#holders.get(slot);
    if (!holders) return;
    holders.delete(holder);
    if (holders.size === 0) this.#holders.delete(slot);
  }

  /** How many places of `rule` are held for `key`. */
  count(rule: QuotaRule, key: string): number {
    return this.#holders.get(slotOf(rule, key))?.size ?? 0;
  }

  async close(): Promise<void> {
    this.#holders.clear();
  }
}

/** The quota's id and the key, joined so no pair of them can produce another pair's slot. */
function slotOf(rule: QuotaRule, key: string): string {
  return `${rule.id.length}:${rule.id}:${key}`;
}
