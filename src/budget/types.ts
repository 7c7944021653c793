/**
 * Budgets: how often something may happen (a rate limit) and how many may be live at once (a
 * connection quota). The policy's budgets compile to {@link RateRule}s and {@link QuotaRule}s; the
 * stores count them. Counting is rate-limiter-flexible's job: the stores here only choose which of
 * its limiters counts what, and keep each counter across reloads while its limit is unchanged.
 */

import type { Rule } from "../decisions.js";

/** Whose budget a rate limit spends (DESIGN §1.1): the verified subject, the client address, or the socket. */
export type RateKeyKind = "subject" | "address" | "socket";

/** One compiled rate limit: at most `points` per `durationMs`, counted per key of kind `by`. */
export interface RateRule {
  /**
   * What the limit counts and how much it allows, e.g. `event:/chat:message:5/10000`. Two
   * policies with a limit of the same id share its counters: a reload that leaves a limit as it
   * was keeps everybody's budget, one that changes it starts afresh.
   */
  readonly id: string;
  readonly points: number;
  readonly durationMs: number;
  readonly by: RateKeyKind;
  /** The policy key it was written as (for the decisions it makes); absent for a rule built by hand. */
  readonly rule?: Rule;
}

/** One compiled quota: at most `max` live holders per key (connections per address, sockets per subject). */
export interface QuotaRule {
  /** What the quota counts, e.g. `connection` or `namespace:/chat`; the count is kept per id and key. */
  readonly id: string;
  readonly max: number;
  /** The policy key it was written as; absent for a rule built by hand. */
  readonly rule?: Rule;
}

/** The answer of a budget: allowed, or refused with the wait before the next point frees up. */
export type BudgetAnswer =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * Counts rate limits. `consume` spends one point of `rule` for `key`. An implementation never
 * answers "no limit" when its backing store fails: it counts on in memory instead.
 */
export interface RateStore {
  consume(rule: RateRule, key: string): Promise<BudgetAnswer>;
  /**
   * Gives back the point a `consume` of `rule` for `key` spent, when a check after the budget
   * refused what it was spent on. Never rejects: a refund the store cannot take is dropped.
   */
  refund(rule: RateRule, key: string): Promise<void>;
  /** Forgets the limits whose ids are not in `ids` (called after a reload puts a policy in force). */
  retain(ids: ReadonlySet<string>): void;
  close(): Promise<void>;
}

/**
 * Counts live holders (connections, sockets) per quota and key. `acquire` takes a place, or
 * answers false when all `max` are taken; `release` frees the place `holder` took (once).
 */
export interface QuotaStore {
  acquire(rule: QuotaRule, key: string, holder: string): Promise<boolean>;
  release(rule: QuotaRule, key: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

/** The one allowed answer, shared: an allowed budget check allocates nothing for its answer. */
export const ALLOWED: BudgetAnswer = Object.freeze({ allowed: true });
