/**
 * Rate limits counted in this process, with rate-limiter-flexible's `RateLimiterMemory`: one
 * limiter per {@link RateRule} id, so a reload that keeps a limit keeps its counters.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { ALLOWED, type BudgetAnswer, type RateRule, type RateStore } from "./types.js";

/** A limiter of rate-limiter-flexible that `consume`s one point per call. */
export interface PointLimiter {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
  reward(key: string, points?: number): Promise<RateLimiterRes>;
}

/** Gives one point back to `limiter` for `key`; a store error is dropped (the refund is best effort). */
export function refundOne(limiter: PointLimiter, key: string): Promise<void> {
  return limiter.reward(key, 1).then(
    () => undefined,
    () => undefined,
  );
}

/**
 * Turns a limiter's answer into a {@link BudgetAnswer}: rate-limiter-flexible resolves when the
 * point was spent and rejects with a `RateLimiterRes` when the budget is used up. Anything else it
 * rejects with (a store error no insurance limiter absorbed) is refused too, never admitted: a
 * budget fails closed.
 *
 * @example
 * const answer = await consumeOne(limiter, "address:10.0.0.7"); // { allowed: false, retryAfterMs: 812 }
 */
export function consumeOne(limiter: PointLimiter, key: string, durationMs: number): Promise<BudgetAnswer> {
  return limiter.consume(key, 1).then(
    () => ALLOWED,
    (rejection: unknown) => ({
      allowed: false,
      retryAfterMs:
        rejection instanceof RateLimiterRes ? Math.max(1, Math.ceil(rejection.msBeforeNext)) : durationMs,
    }),
  );
}

/**
 * The in-memory rate store, the default when `sockguard()` is given no Redis client.
 *
 * @example
 * const store = new MemoryRateStore();
 * const rule = { id: "event:/chat:message:5/10000", points: 5, durationMs: 10_000, by: "subject" } as const;
 * await store.consume(rule, "idp:alice"); // { allowed: true }
 */
export class MemoryRateStore implements RateStore {
  readonly #limiters = new Map<string, PointLimiter>();

  consume(rule: RateRule, key: string): Promise<BudgetAnswer> {
    return consumeOne(this.limiterFor(rule), key, rule.durationMs);
  }

  refund(rule: RateRule, key: string): Promise<void> {
    return refundOne(this.limiterFor(rule), key);
  }

  /** The limiter counting `rule` (created on first use). */
  limiterFor(rule: RateRule): PointLimiter {
    let limiter = this.#limiters.get(rule.id);
    if (!limiter) {
      limiter = new RateLimiterMemory({ points: rule.points, duration: rule.durationMs / 1000 });
      this.#limiters.set(rule.id, limiter);
    }
    return limiter;
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#limiters.keys()) if (!ids.has(id)) this.#limiters.delete(id);
  }

  async close(): Promise<void> {
    this.#limiters.clear();
  }
}
