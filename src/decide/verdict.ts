/**
 * What a decision returns, and how it is told step by step. A {@link Verdict} is the code, the rule
 * (the policy key that decided) and, for a payload, where it failed. The allowed verdict is one
 * shared frozen object, and a denial without details is one frozen object per (code, rule), made
 * the first time it is needed: deciding allocates nothing on the paths that repeat.
 */
import type { DenialCode, PayloadErrorDetail, Rule } from "../decisions.js";

/** The outcome of a decision. `rule` is absent only on the allowed verdict. */
export interface Verdict {
  readonly code: DenialCode | "allowed";
  readonly rule?: Rule;
  readonly details?: readonly PayloadErrorDetail[];
}

/** The one allowed verdict: compare with `===`, or read `code`. */
export const ALLOWED: Verdict = Object.freeze({ code: "allowed" });

const SHARED = new WeakMap<Rule, Map<DenialCode, Verdict>>();

/**
 * The denial `code` decided by `rule`: shared and frozen when there are no details.
 *
 * @example
 * denial("origin_not_allowed", policy.rules.origins) === denial("origin_not_allowed", policy.rules.origins); // true
 */
export function denial(code: DenialCode, rule: Rule, details?: readonly PayloadErrorDetail[]): Verdict {
  if (details) return Object.freeze({ code, rule, details });
  let byCode = SHARED.get(rule);
  if (!byCode) {
    byCode = new Map();
    SHARED.set(rule, byCode);
  }
  let verdict = byCode.get(code);
  if (!verdict) {
    verdict = Object.freeze({ code, rule });
    byCode.set(code, verdict);
  }
  return verdict;
}

/** The checks a decision runs, in the order DESIGN §3 gives them. */
export type CheckName =
  | "origin"
  | "transport"
  | "tls"
  | "namespace"
  | "token"
  | "issuer"
  | "claims"
  | "event"
  | "token expiry"
  | "budget"
  | "size"
  | "ack"
  | "handshake"
  | "binary"
  | "schema";

/** One check as it ran: passed, failed (the verdict's code), or not applicable (`skipped`, with why). */
export interface TraceStep {
  readonly check: CheckName;
  readonly outcome: "passed" | "failed" | "skipped";
  /** The policy key the check read. */
  readonly rule?: Rule;
  /** A short, fixed explanation (never a client-chosen value). */
  readonly note?: string;
  /** The code, when the check failed. */
  readonly code?: DenialCode;
}

/**
 * Receives every check a decision runs, for `sockguard explain`. The decide functions take it as an
 * optional last argument and test it with one `if`, so the guard (which passes none) pays nothing.
 */
export type TraceSink = (step: TraceStep) => void;

/** Reports a failed check to `trace` (when given) and returns its verdict. */
export function failed(trace: TraceSink | undefined, check: CheckName, verdict: Verdict): Verdict {
  if (trace) {
    const code = verdict.code === "allowed" ? undefined : verdict.code;
    trace({
      check,
      outcome: "failed",
      ...(verdict.rule ? { rule: verdict.rule } : {}),
      ...(code ? { code } : {}),
    });
  }
  return verdict;
}
