/**
 * Rate limits counted in Redis, so every node of a fleet spends one budget: rate-limiter-flexible's
 * `RateLimiterRedis`, one per {@link RateRule} id, each insured by a `RateLimiterMemory` with the
 * same limit. While Redis is down or not ready, each node counts on in memory (the same limit per
 * node, never "no limit") and goes back to Redis by itself when it is ready again; the outage is
 * reported once, when it starts, and once when it ends.
 */
import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import { consumeOne, type PointLimiter } from "./memory-rate-store.js";
import type { BudgetAnswer, RateRule, RateStore } from "./types.js";

/**
 * The part of a Redis client the store needs: a node-redis v4/v5 client (`isReady`) or an ioredis
 * client (`status`). rate-limiter-flexible drives it; the store only watches whether it is ready.
 */
export interface RedisClientLike {
  readonly isReady?: boolean;
  readonly status?: string;
  on(event: "error" | "ready" | "end", listener: (...args: unknown[]) => void): unknown;
}

/** Where the store says that it lost Redis and that it is back. */
export interface StoreOutageReporter {
  outage(store: "redis"): void;
  recovered(store: "redis"): void;
}

/** The prefix of every key the store writes, so sockguard's keys are easy to find (and to flush). */
export const REDIS_KEY_PREFIX = "sockguard:rate";

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
  readonly #reporter: StoreOutageReporter | undefined;
  #down = false;
  readonly #onError = (): void => this.#markDown();
  readonly #onReady = (): void => this.#markUp();

  constructor(client: RedisClientLike, reporter?: StoreOutageReporter) {
    this.#client = client;
    this.#reporter = reporter;
    client.on("error", this.#onError);
    client.on("end", this.#onError);
    client.on("ready", this.#onReady);
  }

  consume(rule: RateRule, key: string): Promise<BudgetAnswer> {
    if (!this.#isReady()) this.#markDown();
    return consumeOne(this.#limiterFor(rule), key, rule.durationMs);
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#limiters.keys()) if (!ids.has(id)) this.#limiters.delete(id);
  }

  async close(): Promise<void> {
    const client = this.#client as RedisClientLike & {
      off?: (event: string, listener: (...args: unknown[]) => void) => unknown;
    };
    client.off?.("error", this.#onError);
    client.off?.("end", this.#onError);
    client.off?.("ready", this.#onReady);
    this.#limiters.clear();
  }

  #limiterFor(rule: RateRule): PointLimiter {
    let limiter = this.#limiters.get(rule.id);
    if (!limiter) {
      // Redis counts windows in whole seconds (its keys expire with EX): a sub-second window is
      // counted as one second there, and exactly in the in-memory insurance.
      const duration = Math.max(1, Math.ceil(rule.durationMs / 1000));
      limiter = new RateLimiterRedis({
        storeClient: this.#client,
        useRedisPackage: this.#client.isReady !== undefined,
        rejectIfRedisNotReady: true,
        keyPrefix: `${REDIS_KEY_PREFIX}:${rule.id}`,
        points: rule.points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ points: rule.points, duration: rule.durationMs / 1000 }),
      });
      this.#limiters.set(rule.id, limiter);
    }
    return limiter;
  }

  #isReady(): boolean {
    const client = this.#client;
    return client.isReady === true || client.status === "ready";
  }

  #markDown(): void {
    if (this.#down) return;
    this.#down = true;
    this.#reporter?.outage("redis");
  }

  #markUp(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#reporter?.recovered("redis");
  }
}
