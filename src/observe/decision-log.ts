/**
 * The decision log (`logDecisions`): one structured line per decision through the guard's logger,
 * in pino's shape (the fields first, the message second), so a pino logger files them as they are
 * and the default logger prints them as one readable line.
 *
 * A line carries only what the guard itself knows and the policy declares (DESIGN §3): never a
 * token, a payload value, or a name the client chose. A namespace the policy does not declare is
 * logged as `other`; text that is not the guard's own (the verified subject, chosen by the token's
 * issuer) has its control characters escaped and is cut at {@link MAX_FIELD_LENGTH} characters.
 *
 * A flood stays bounded: each code gets {@link DECISION_LOG_LIMITS}`.perCode` lines per window of
 * `windowMs`; past that, the decisions of that code are counted, and when the window ends one
 * summary line per such code says how many were left out. So a client hammering the guard
 * produces at most `perCode` lines plus one summary per code every 10 s.
 */
import type { CompiledPolicy } from "../compile/types.js";
import type { Decision, DenialCode } from "../decisions.js";
import type { LogFields, Logger } from "../enforce/context.js";
import { decisionNamespaceLabel, eventLabel } from "./labels.js";
import { ruleLocation } from "./rule-location.js";

/** Which decisions are logged. */
export type DecisionLogMode = "off" | "denials" | "all";

/** The values `logDecisions` accepts. */
export const DECISION_LOG_MODES: readonly DecisionLogMode[] = ["off", "denials", "all"];

/** A decision as the guard reports it; `shadow` is set on a decision that was judged but not enforced. */
export type ObservedDecision = Decision;

/** How many lines a code may write per window before it is only counted. */
export interface DecisionLogLimits {
  readonly perCode: number;
  readonly windowMs: number;
}

/** The limits the guard uses: 50 lines per code every 10 seconds, then one summary line per code. */
export const DECISION_LOG_LIMITS: DecisionLogLimits = { perCode: 50, windowMs: 10_000 };

/** The longest text field written; a longer one is cut and ends with `…`. */
export const MAX_FIELD_LENGTH = 128;

interface CodeWindow {
  logged: number;
  suppressed: number;
}

/**
 * Writes decisions to a logger, bounded per code.
 *
 * @example
 * const log = new DecisionLog(pino(), "denials");
 * log.write(decision, policyInForce); // logger.info({ code, stage, namespace, ... }, "sockguard: refused payload_invalid (event)")
 * log.close(); // writes the summary of a window still open
 */
export class DecisionLog {
  readonly #logger: Logger;
  readonly #mode: DecisionLogMode;
  readonly #limits: DecisionLogLimits;
  readonly #windows = new Map<DenialCode | "allowed", CodeWindow>();
  #windowStart = 0;
  #summaryTimer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, mode: DecisionLogMode, limits: DecisionLogLimits = DECISION_LOG_LIMITS) {
    this.#logger = logger;
    this.#mode = mode;
    this.#limits = limits;
  }

  /** True when denials are logged. */
  get logsDenials(): boolean {
    return this.#mode !== "off";
  }

  /** True when allows are logged too (`all`). */
  get logsAllows(): boolean {
    return this.#mode === "all";
  }

  /** Logs `decision` (judged under `policy`), unless its mode leaves it out or its code spent its lines. */
  write(decision: ObservedDecision, policy: CompiledPolicy): void {
    if (decision.allowed ? !this.logsAllows : !this.logsDenials) return;
    const now = Date.now();
    if (now - this.#windowStart >= this.#limits.windowMs) this.#endWindow(now);
    let window = this.#windows.get(decision.code);
    if (!window) {
      window = { logged: 0, suppressed: 0 };
      this.#windows.set(decision.code, window);
    }
    if (window.logged >= this.#limits.perCode) {
      window.suppressed += 1;
      this.#summaryTimer ??= setTimeout(
        () => this.#endWindow(Date.now()),
        this.#windowStart + this.#limits.windowMs - now,
      ).unref();
      return;
    }
    window.logged += 1;
    this.#emit("info", decisionFields(decision, policy), decisionMessage(decision));
  }

  /** Writes the summary of the window still open, and stops its timer. */
  close(): void {
    this.#endWindow(Date.now());
  }

  #endWindow(now: number): void {
    clearTimeout(this.#summaryTimer);
    this.#summaryTimer = undefined;
    const windowSeconds = this.#limits.windowMs / 1000;
    for (const [code, window] of this.#windows) {
      if (window.suppressed === 0) continue;
      this.#emit(
        "warn",
        { code, suppressed: window.suppressed, windowSeconds },
        `sockguard: ${window.suppressed} more ${code} decision(s) in the last ${windowSeconds} s were not logged`,
      );
    }
    this.#windows.clear();
    this.#windowStart = now;
  }

  #emit(level: "info" | "warn", fields: LogFields, message: string): void {
    try {
      this.#logger[level](fields, message);
    } catch {
      // A broken logger must not break a decision; the `decision` event still carries it.
    }
  }
}

/**
 * The fields of a decision's line: `code`, `stage`, `allowed`, `shadow` always; `namespace`,
 * `event`, `socketId`, `address`, `subject`, `policyVersion` and `rule` (`file:line:col`) when the
 * decision has them.
 *
 * @example
 * decisionFields(decision, policy);
 * // { code: "payload_invalid", stage: "event", allowed: false, shadow: false, namespace: "/chat", event: "message", ... }
 */
export function decisionFields(decision: ObservedDecision, policy: CompiledPolicy): LogFields {
  const fields: Record<string, string | boolean> = {
    code: decision.code,
    stage: decision.stage,
    allowed: decision.allowed,
    shadow: decision.shadow === true,
  };
  const namespace = decisionNamespaceLabel(policy, decision);
  if (namespace !== "") fields.namespace = namespace;
  if (decision.event !== undefined) fields.event = eventLabel(policy, decision.namespace, decision.event);
  if (decision.socketId !== undefined) fields.socketId = safeText(decision.socketId);
  if (decision.address !== undefined) fields.address = safeText(decision.address);
  if (decision.subject !== undefined) fields.subject = safeText(decision.subject);
  if (decision.policyVersion !== undefined) fields.policyVersion = safeText(decision.policyVersion);
  if (decision.rule !== undefined) fields.rule = safeText(ruleLocation(decision.rule));
  return fields;
}

/** The message of a decision's line: the code and the stage, nothing a client chose. */
export function decisionMessage(decision: ObservedDecision): string {
  const { code, stage } = decision;
  if (decision.shadow === true) {
    return decision.allowed
      ? `sockguard: shadow allowed (${stage})`
      : `sockguard: shadow would refuse ${code} (${stage})`;
  }
  return decision.allowed ? `sockguard: allowed (${stage})` : `sockguard: refused ${code} (${stage})`;
}

/**
 * Text from outside the guard made safe for one log line: control characters (and the Unicode line
 * separators) escaped as `\uXXXX`, cut at {@link MAX_FIELD_LENGTH} characters.
 *
 * @example
 * safeText("ali\nce"); // "ali\\u000ace"
 */
export function safeText(text: string): string {
  const escaped = text.replace(
    /[\p{Cc}\u2028\u2029]/gu,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return escaped.length > MAX_FIELD_LENGTH ? `${escaped.slice(0, MAX_FIELD_LENGTH - 1)}…` : escaped;
}
