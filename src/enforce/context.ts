/**
 * What every part of the guard shares: the policy holder, per-socket state, and where decisions and
 * warnings go. One context per `sockguard()` call.
 */
import type { Server, Socket } from "socket.io";
import type { CompiledPolicy } from "../compile/types.js";
import type { RevocationStore } from "../cluster/revocation-store.js";
import type { Decision } from "../decisions.js";
import type { GuardBudgets } from "./budgets.js";
import type { SocketState } from "./socket-state.js";

/**
 * The one place the policy in force lives. Every hook reads `current` once at the start of a
 * decision, so a decision never mixes two policies, and a reload is one assignment.
 */
export interface PolicyHolder {
  current: CompiledPolicy;
}

/** Where the guard writes operational messages (never tokens or payloads). `console` fits. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Receives decisions; the guard asks first, so nothing is allocated when nobody listens. */
export interface DecisionSink {
  /** True when somebody listens for denials. */
  wantsDenials(): boolean;
  /** True when somebody listens and asked for allows too (`decisions: "all"`). */
  wantsAllows(): boolean;
  report(decision: Decision): void;
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
  /** Rate limits and connection quotas: the stores, and the places handshakes took. */
  readonly budgets: GuardBudgets;
}
