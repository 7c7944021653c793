/**
 * What the guard keeps about each admitted socket, in a `WeakMap` the app cannot reach. The app sees
 * a frozen copy of the identity in `socket.data.sockguard`, which the guard never reads back.
 */
import type { Socket } from "socket.io";
import type { Identity } from "../compile/types.js";
import type { ScheduledCall } from "./expiry-timer.js";
import { identityView } from "./identity-view.js";

export interface SocketState {
  /** The verified identity; undefined for an anonymous socket. Replaced when the socket re-authenticates. */
  identity: Identity | undefined;
  /** The timer that disconnects the socket when its token expires, when one is armed. */
  expiry?: ScheduledCall;
  /** When (ms since the epoch) the socket's last `sockguard:reauth` was judged; -Infinity before the first. */
  lastReauthAt: number;
  /**
   * The policy's key of the namespace the socket was admitted to (the pattern, for a dynamic one):
   * what its decisions name once a reload has removed that key.
   */
  admittedTo?: string;
}

/**
 * The state of a socket the guard has just admitted.
 *
 * @example
 * states.set(socket, createSocketState(outcome.identity));
 */
export function createSocketState(identity: Identity | undefined): SocketState {
  return { identity, lastReauthAt: Number.NEGATIVE_INFINITY };
}

/**
 * Writes `socket.data.sockguard` for the app: the frozen view of `identity`, or nothing for an
 * anonymous socket (a stale copy restored by connection state recovery is removed).
 *
 * @example
 * publishIdentity(socket, state.identity);
 */
export function publishIdentity(socket: Socket, identity: Identity | undefined): void {
  const data: unknown = socket.data;
  if (data === null || typeof data !== "object") return;
  const record = data as Record<string, unknown>;
  if (identity) record.sockguard = identityView(identity);
  else delete record.sockguard;
}
