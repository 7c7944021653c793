/**
 * Rate limits counted in Redis, so every node of a fleet spends one budget: rate-limiter-flexible's
 * `RateLimiterRedis`, one per {@link RateRule} id, each insured by a `RateLimiterMemory` with the
 * same limit. While Redis is down or not ready, each node counts on in memory (the same limit per
 * node, never "no limit") and goes back to Redis by itself when it is ready again; the outage is
 * reported once, when it starts, and once when it ends.
 */
import { RateLimiterMemory, RateLimiterRedis, RLWrapperTimeouts } from "rate-limiter-flexible";
import { followReadiness, isRedisReady, type RedisClientLike } from "../cluster/redis-client.js";
import { consumeOne, refundOne, type PointLimiter } from "./memory-rate-store.js";
import type { BudgetAnswer, RateRule, RateStore } from "./types.js";

/** Where a store says that it lost its backing store and that it is back. */
export interface StoreOutageReporter {
  outage(store: "redis"): void;
  recovered(store: "redis"): void;
}

/** The prefix of every key the store writes, so sockguard's keys are easy to find (and to flush). */
export const REDIS_KEY_PREFIX = "sockguard:rate";

/**
 * How long a budget waits for Redis before it counts in this process instead: a Redis that no
 * longer answers (a network split that drops packets rather than closing the connection) never
 * holds an event, a connect or a handshake longer than this.
 */
export const REDIS_ANSWER_TIMEOUT_MS = 500;

/**
 * The Redis rate store.
 *
 * @example
 * const store = new RedisRateStore(redisClient, { outage: () => log("redis down"), recovered: () => log("redis back") });
 * await store.consume({ id: "event:/chat:message:5/10000", points: 5, durationMs: 10_000, by: "subject" }, "idp:alice");
 */
export class RedisRateStore implements RateStore {
  readonly #client: RedisClientLike;
  readonly #limiters = new Map<string, PointLimiter>();
  readonly #readiness: ReturnType<typeof followReadiness>;

  constructor(client: RedisClientLike, reporter?: StoreOutageReporter) {
    this.#client = client;
    this.#readiness = followReadiness(client, {
      down: () => reporter?.outage("redis"),
      up: () => reporter?.recovered("redis"),
    });
  }

  consume(rule: RateRule, key: string): Promise<BudgetAnswer> {
    if (!isRedisReady(this.#client)) this.#readiness.markDown();
    return consumeOne(this.#limiterFor(rule), key, rule.durationMs);
  }

  refund(rule: RateRule, key: string): Promise<void> {
    return refundOne(this.#limiterFor(rule), key);
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#limiters.keys()) if (!ids.has(id)) this.#limiters.delete(id);
  }

  async close(): Promise<void> {
    this.#readiness.stop();
    this.#limiters.clear();
  }

  #limiterFor(rule: RateRule): PointLimiter {
    let limiter = this.#limiters.get(rule.id);
    if (!limiter) {
      // Redis counts windows in whole seconds (its keys expire with EX): a sub-second window is
      // counted as one second there, and exactly in the in-memory insurance.
      const duration = Math.max(1, Math.ceil(rule.durationMs / 1000));
      const insurance = new RateLimiterMemory({ points: rule.points, duration: rule.durationMs / 1000 });
      const redis = new RateLimiterRedis({
        storeClient: this.#client,
        useRedisPackage: this.#client.isReady !== undefined,
        rejectIfRedisNotReady: true,
        keyPrefix: `${REDIS_KEY_PREFIX}:${rule.id}`,
        points: rule.points,
        duration,
        insuranceLimiter: insurance,
      });
      // A Redis that stops answering without closing the connection (a silent network split):
      // after REDIS_ANSWER_TIMEOUT_MS the point is counted by the insurance limiter instead.
      limiter = new RLWrapperTimeouts({
        limiter: redis,
        timeoutMs: REDIS_ANSWER_TIMEOUT_MS,
        insuranceLimiter: insurance,
      });
      this.#limiters.set(rule.id, limiter);
    }
    return limiter;
  }
}
