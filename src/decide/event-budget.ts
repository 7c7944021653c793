/**
 * The middle of an event's decision when it has a budget (DESIGN §3: the budget comes right after
 * the claims): spend it, then run the checks after it, and give the points back when those refuse.
 * The guard (with its stores) and `sockguard test` (with its clock) decide budgeted events through
 * this one function.
 */
import type { BudgetSpender } from "../budget/keys.js";
import { refundBudgets, spendBudgets } from "../budget/spend.js";
import type { RateRule, RateStore } from "../budget/types.js";
import type { CompiledPolicy } from "../compile/types.js";
import { decideEventPayload, type EventFacts } from "./event.js";
import { ALLOWED, denial, failed, type TraceSink, type Verdict } from "./verdict.js";

/** A budgeted event's verdict, and for `rate_limited` how long the sender must wait. */
export interface BudgetedVerdict {
  readonly verdict: Verdict;
  readonly retryAfterMs?: number;
}

const ALLOWED_OUTCOME: BudgetedVerdict = Object.freeze({ verdict: ALLOWED });

/**
 * Spends `limits` (the event's {@link eventBudgets}) for `spender`, then decides the event's size,
 * ack, binary and schema. Call it only once `decideEventAccess` allowed the same facts under the
 * same policy. An event refused after its budget was spent gets every point back.
 *
 * @example
 * if (decideEventAccess(policy, facts) === ALLOWED) {
 *   const { verdict, retryAfterMs } = await spendThenDecidePayload(policy, facts, eventBudgets(policy, facts), store, spender);
 * }
 */
export function spendThenDecidePayload(
  policy: CompiledPolicy,
  facts: EventFacts,
  limits: readonly RateRule[],
  store: RateStore,
  spender: BudgetSpender,
  trace?: TraceSink,
): Promise<BudgetedVerdict> {
  return spendBudgets(store, limits, spender).then((spent) => {
    if (!spent.allowed) {
      const rule = spent.limit.rule ?? policy.rules.namespaces;
      return {
        verdict: failed(trace, "budget", denial("rate_limited", rule)),
        retryAfterMs: spent.retryAfterMs,
      };
    }
    if (trace) for (const limit of limits) trace({ check: "budget", outcome: "passed", ...ruleOf(limit) });
    const verdict = decideEventPayload(policy, facts, trace);
    if (verdict === ALLOWED) return ALLOWED_OUTCOME;
    refundBudgets(store, limits, spender);
    return { verdict };
  });
}

function ruleOf(limit: RateRule): { rule?: NonNullable<RateRule["rule"]> } {
  return limit.rule === undefined ? {} : { rule: limit.rule };
}
