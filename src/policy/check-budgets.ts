/**
 * Semantic checks of the policy's budgets (DESIGN §1.1): every rate limit is a rate with a count of
 * at least 1 and a window longer than zero (`0/1m` and `5/0s` limit nothing, or everything). The
 * structure (`by` is subject, address or socket; `maxConnections` an integer of at least 1) is the
 * JSON Schema's.
 */
import type { Policy, RateLimitPolicy } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import { childPointer } from "./positions.js";
import { parseRate } from "./units.js";

/**
 * @example
 * checkBudgets(policy, report);
 */
export function checkBudgets(policy: Policy, report: Report): void {
  const connectionRate = policy.connection?.rateLimit;
  if (connectionRate !== undefined) checkRate(connectionRate, "/connection/rateLimit", report);
  for (const [name, namespace] of Object.entries(policy.namespaces)) {
    const at = (...segments: string[]): string => childPointer("/namespaces", name, ...segments);
    if (namespace.rateLimit !== undefined) checkRateLimit(namespace.rateLimit, at("rateLimit"), report);
    if (namespace.eventRateLimit !== undefined)
      checkRateLimit(namespace.eventRateLimit, at("eventRateLimit"), report);
    for (const [event, declaration] of Object.entries(namespace.events ?? {})) {
      if (declaration.rateLimit !== undefined)
        checkRateLimit(declaration.rateLimit, at("events", event, "rateLimit"), report);
    }
  }
}

function checkRateLimit(limit: RateLimitPolicy, pointer: string, report: Report): void {
  if (typeof limit === "string") checkRate(limit, pointer, report);
  else checkRate(limit.rate, childPointer(pointer, "rate"), report);
}

function checkRate(rate: string, pointer: string, report: Report): void {
  if (parseRate(rate) === undefined) {
    report(pointer, "a rate limit is COUNT/DURATION with a count of at least 1 and a window, such as 5/10s");
  }
}
