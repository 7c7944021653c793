/**
 * Spending a decision's budgets, in order, all or none: the guard (on the per-event path, at connect
 * and at the handshake) and `sockguard test` (with its own clock) spend through these two functions,
 * so both decide budgets the same way.
 */
import { budgetKey, type BudgetSpender } from "./keys.js";
import type { RateRule, RateStore } from "./types.js";

/** What spending came to: every budget had a point, or the first that had none and how long to wait. */
export type SpendOutcome =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly limit: RateRule; readonly retryAfterMs: number };

const SPENT: SpendOutcome = Object.freeze({ allowed: true });

/**
 * Spends one point of each of `limits` for `spender`, in order. When one has none left, the points
 * spent before it are given back and that limit is the answer: a refused event costs no budget.
 *
 * @example
 * const outcome = await spendBudgets(store, event.budgets, spender);
 * if (!outcome.allowed) refuse("rate_limited", outcome.limit.rule, outcome.retryAfterMs);
 */
export function spendBudgets(
  store: RateStore,
  limits: readonly RateRule[],
  spender: BudgetSpender,
): Promise<SpendOutcome> {
  // One limit (the usual case) is one store call and one callback, without an async frame.
  if (limits.length === 1) return spendOne(store, limits[0]!, spender);
  return spendInOrder(store, limits, spender);
}

function spendOne(store: RateStore, limit: RateRule, spender: BudgetSpender): Promise<SpendOutcome> {
  return store
    .consume(limit, budgetKey(limit.by, spender))
    .then((answer) =>
      answer.allowed ? SPENT : { allowed: false, limit, retryAfterMs: answer.retryAfterMs },
    );
}

async function spendInOrder(
  store: RateStore,
  limits: readonly RateRule[],
  spender: BudgetSpender,
): Promise<SpendOutcome> {
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i]!;
    const answer = await store.consume(limit, budgetKey(limit.by, spender));
    if (!answer.allowed) {
      refundBudgets(store, limits.slice(0, i), spender);
      return { allowed: false, limit, retryAfterMs: answer.retryAfterMs };
    }
  }
  return SPENT;
}

/**
 * Gives back the points {@link spendBudgets} spent, when a check after the budget refused what they
 * were spent on (an event whose schema fails keeps the sender's budget for valid ones).
 */
export function refundBudgets(store: RateStore, limits: readonly RateRule[], spender: BudgetSpender): void {
  for (const limit of limits) void store.refund(limit, budgetKey(limit.by, spender));
}
