/**
 * The guard's side of the fleet (`sockguard(io, { redis })`): the {@link ClusterLink} wired to this
 * guard's live sockets, and the count of those sockets that `guard.status()` and the fleet's
 * registry report.
 */
import type { Server } from "socket.io";
import { ClusterLink } from "../cluster/cluster-link.js";
import type { RedisClientLike } from "../cluster/redis-client.js";
import { isRevokedBy, type RevocationEntry } from "../cluster/revocation-entry.js";
import type { GuardContext, Logger } from "./context.js";
import { disconnectMatching, forEachGuardedSocket } from "./recheck.js";

/**
 * Disconnects, with `revoked`, this node's live sockets that one of `entries` revokes.
 *
 * @example
 * const disconnected = disconnectRevoked(ctx, [entry]);
 */
export function disconnectRevoked(ctx: GuardContext, entries: readonly RevocationEntry[]): number {
  const now = Date.now();
  return disconnectMatching(ctx, "revoked", "revoke", (_socket, state) =>
    isRevokedBy(entries, state.identity, now),
  );
}

/** How many live sockets this guard admitted, over every namespace. */
export function countGuardedSockets(ctx: GuardContext): number {
  let count = 0;
  forEachGuardedSocket(ctx, () => (count += 1));
  return count;
}

/**
 * The link of a guard to its fleet. `context` is read only when the fleet calls back (the
 * guard's context holds the link's revocation store, so it is made after the link).
 *
 * @example
 * const link = linkToFleet(io, redis, 5_000, logger, () => ctx);
 */
export function linkToFleet(
  io: Server,
  redis: RedisClientLike,
  heartbeatMs: number | undefined,
  logger: Logger,
  context: () => GuardContext,
): ClusterLink {
  return new ClusterLink(
    io,
    redis,
    {
      disconnectRevoked: (entries) => disconnectRevoked(context(), entries),
      report: () => ({ version: context().holder.current.version, sockets: countGuardedSockets(context()) }),
      warn: (message) => logger.warn(message),
    },
    heartbeatMs,
  );
}
