/**
 * When a verified token stops being good on a live socket: its `exp` plus the policy's clock
 * tolerance, the same line jose draws at connect. The expiry timer and the per-event check both use
 * this, so an event can never slip through after the moment the timer would have disconnected.
 */
import type { CompiledAuth, Identity } from "../compile/types.js";

/**
 * The instant (ms since the epoch) after which `identity`'s token is expired under `auth`.
 *
 * @example
 * scheduleAt(tokenDeadline(identity, policy.auth), () => disconnect(socket, "token_expired"));
 */
export function tokenDeadline(identity: Identity, auth: CompiledAuth): number {
  return identity.expiresAt + auth.clockToleranceSec * 1000;
}

/**
 * True once `identity`'s token is expired under `auth` (for an event that arrives after the
 * deadline but before the expiry timer fired).
 *
 * @example
 * if (identity && isTokenExpired(identity, policy.auth)) return deny(socket, "token_expired");
 */
export function isTokenExpired(identity: Identity, auth: CompiledAuth, nowMs: number = Date.now()): boolean {
  return nowMs >= tokenDeadline(identity, auth);
}
