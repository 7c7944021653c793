/**
 * Rate limits counted on a clock the caller moves: what `sockguard test` spends event budgets with,
 * so a suite can send six messages "within ten seconds" and then wait ten "seconds" without
 * waiting at all. The counting is rate-limiter-flexible's (its store-backed limiter decides when a
 * key is over its points and how long until it frees up); this file is only the storage it counts
 * in: a map of points and expiry times, read on the given clock.
 */
import RateLimiterStoreAbstract from "rate-limiter-flexible/lib/RateLimiterStoreAbstract.js";
import { RateLimiterRes } from "rate-limiter-flexible";
import { consumeOne, refundOne } from "./memory-rate-store.js";
import type { BudgetAnswer, RateRule, RateStore } from "./types.js";

/** One key's window: the points spent in it and when it ends (ms on the clock; -1: never). */
interface Window {
  points: number;
  expiresAt: number;
}

/** What the store adapter answers rate-limiter-flexible with. */
interface StoreResult {
  readonly consumedPoints: number;
  readonly msBeforeNext: number;
}

/** A store-backed limiter of rate-limiter-flexible whose storage is a map read on `clock`. */
class ClockLimiter extends RateLimiterStoreAbstract {
  readonly #windows = new Map<string, Window>();
  readonly #clock: () => number;

  constructor(rule: RateRule, clock: () => number) {
    super({
      storeClient: {},
      points: rule.points,
      duration: rule.durationMs / 1000,
      inMemoryBlockOnConsumed: 0,
    });
    this.#clock = clock;
  }

  _getRateLimiterRes(_key: string, changedPoints: number, result: StoreResult): RateLimiterRes {
    return new RateLimiterRes(
      Math.max(this.points - result.consumedPoints, 0),
      result.msBeforeNext,
      result.consumedPoints,
      result.consumedPoints === changedPoints,
    );
  }

  _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<StoreResult> {
    const now = this.#clock();
    const current = this.#windows.get(key);
    const expired = current === undefined || (current.expiresAt >= 0 && current.expiresAt <= now);
    const window: Window =
      forceExpire || expired
        ? { points, expiresAt: msDuration > 0 ? now + msDuration : -1 }
        : { points: current.points + points, expiresAt: current.expiresAt };
    this.#windows.set(key, window);
    return Promise.resolve(this.#result(window, now));
  }

  _get(key: string): Promise<StoreResult | null> {
    const now = this.#clock();
    const window = this.#windows.get(key);
    if (!window || (window.expiresAt >= 0 && window.expiresAt <= now)) return Promise.resolve(null);
    return Promise.resolve(this.#result(window, now));
  }

  _delete(key: string): Promise<boolean> {
    return Promise.resolve(this.#windows.delete(key));
  }

  #result(window: Window, now: number): StoreResult {
    return {
      consumedPoints: window.points,
      msBeforeNext: window.expiresAt >= 0 ? Math.max(window.expiresAt - now, 0) : -1,
    };
  }
}

/**
 * A {@link RateStore} counting on `clock` (ms since the epoch) instead of the wall clock.
 *
 * @example
 * let now = Date.parse("2026-01-01T00:00:00Z");
 * const store = clockRateStore(() => now);
 * await store.consume(rule, "s:4:demo:alice"); // { allowed: true }
 * now += 10_000; // the window of a 5/10s limit has passed
 */
export function clockRateStore(clock: () => number): RateStore {
  const limiters = new Map<string, ClockLimiter>();
  const limiterFor = (rule: RateRule): ClockLimiter => {
    let limiter = limiters.get(rule.id);
    if (!limiter) {
      limiter = new ClockLimiter(rule, clock);
      limiters.set(rule.id, limiter);
    }
    return limiter;
  };
  return {
    consume: (rule: RateRule, key: string): Promise<BudgetAnswer> =>
      consumeOne(limiterFor(rule), key, rule.durationMs),
    refund: (rule: RateRule, key: string): Promise<void> => refundOne(limiterFor(rule), key),
    retain(ids: ReadonlySet<string>): void {
      for (const id of limiters.keys()) if (!ids.has(id)) limiters.delete(id);
    },
    close: async (): Promise<void> => limiters.clear(),
  };
}
