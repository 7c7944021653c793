/**
 * What every part of the guard shares: the policy holder, per-socket state, and where decisions and
 * warnings go. One context per `sockguard()` call.
 */
import type { Server, Socket } from "socket.io";
import type { CompiledPolicy } from "../compile/types.js";
import type { RevocationStore } from "../cluster/revocation-store.js";
import type { Decision } from "../decisions.js";
import type { GuardBudgets } from "./budgets.js";
import type { ShadowPolicyJudge } from "./shadow-policy.js";
import type { SocketState } from "./socket-state.js";

/**
 * The one place the policy in force lives. Every hook reads `current` once at the start of a
 * decision, so a decision never mixes two policies, and a reload is one assignment.
 */
export interface PolicyHolder {
  current: CompiledPolicy;
}

/** The structured fields of a log line: pino's first argument. Never a token, payload or client-chosen text. */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/**
 * Where the guard writes operational messages (never tokens or payloads). `console` fits, and so
 * does a pino (or pino-compatible) logger as it is. Most lines are a message alone; the decision
 * log (`logDecisions`) writes pino's shape, the fields first and the message second.
 */
export interface Logger {
  info(fieldsOrMessage: LogFields | string, message?: string): void;
  warn(fieldsOrMessage: LogFields | string, message?: string): void;
  error(fieldsOrMessage: LogFields | string, message?: string): void;
}

/** Receives decisions; the guard asks first, so nothing is allocated when nobody listens. */
export interface DecisionSink {
  /** True when somebody listens for denials. */
  wantsDenials(): boolean;
  /** True when somebody listens and asked for allows too (`decisions: "all"`), or counts them (`metrics`). */
  wantsAllows(): boolean;
  /**
   * The per-event path's allowed event, when {@link wantsAllows}: counted without building its
   * decision when only the metrics want it (true), else false and the caller reports it in full.
   * `event` is the name the client sent.
   */
  countAllowedEvent(namespace: string, event: unknown): boolean;
  /**
   * Reports `decision`, judged under `policy` (the policy in force by default; the candidate
   * policy for its shadow decisions), whose declared names the metrics and the log label it by.
   */
  report(decision: Decision, policy?: CompiledPolicy): void;
}

export interface GuardContext {
  readonly io: Server;
  readonly holder: PolicyHolder;
  /** The guard's own per-socket state; `socket.data` is only ever written, never read. */
  readonly states: WeakMap<Socket, SocketState>;
  readonly decisions: DecisionSink;
  readonly logger: Logger;
  /** What `guard.revoke` recorded; asked at every connect and renewal once the token is verified. */
  readonly revocations: RevocationStore;
  /** What an emit or ack reply that breaks its declaration gets (the `emits` option). */
  readonly emits: "warn" | "refuse" | "off";
  /** Rate limits and connection quotas: the stores, and the places handshakes took. */
  readonly budgets: GuardBudgets;
  /** The candidate policy of the `shadow` option, judged beside the one in force; absent without one. */
  readonly shadow?: ShadowPolicyJudge;
}
