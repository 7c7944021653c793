/**
 * Which stores count the budgets (rate limits, connection quotas): in Redis when `sockguard()` is
 * given a client, so every node of the fleet spends one budget, and in this process otherwise.
 */
import { MemoryQuotaStore } from "../budget/memory-quota-store.js";
import { MemoryRateStore } from "../budget/memory-rate-store.js";
import { RedisQuotaStore } from "../budget/redis-quota-store.js";
import { RedisRateStore, type StoreOutageReporter } from "../budget/redis-rate-store.js";
import type { QuotaStore, RateStore } from "../budget/types.js";
import type { RedisClientLike } from "./redis-client.js";

/** The two budget stores of one guard. */
export interface BudgetStores {
  readonly rate: RateStore;
  readonly quota: QuotaStore;
}

/**
 * The budget stores for a guard: Redis ones sharing `redis` (with their in-memory insurance while
 * Redis is down, the outage told to `reporter` once, however many stores notice it), or memory
 * ones without a client.
 *
 * @example
 * const { rate, quota } = budgetStoresFor(options.redis, { outage: warnOnce, recovered: info });
 * await rate.consume(rule, "idp:alice");
 */
export function budgetStoresFor(redis?: RedisClientLike, reporter?: StoreOutageReporter): BudgetStores {
  if (redis === undefined) return { rate: new MemoryRateStore(), quota: new MemoryQuotaStore() };
  const once = reporter && reportOncePerOutage(reporter);
  return { rate: new RedisRateStore(redis, once), quota: new RedisQuotaStore(redis, once) };
}

/**
 * One reporter for several stores on one client: both notice the same outage (and the same
 * return), and it is told once.
 */
function reportOncePerOutage(reporter: StoreOutageReporter): StoreOutageReporter {
  let down = false;
  return {
    outage: (store) => {
      if (down) return;
      down = true;
      reporter.outage(store);
    },
    recovered: (store) => {
      if (!down) return;
      down = false;
      reporter.recovered(store);
    },
  };
}
