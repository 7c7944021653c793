/**
 * What one guarded node shares with the fleet when `sockguard()` is given a Redis client: the
 * revocations (a {@link RedisRevocationStore} kept current by the adapter's broadcast and by
 * Redis), and its entry in the {@link NodeRegistry} that `guard.status()` lists. The guard hands
 * in what only it knows: how to disconnect the live sockets an entry revokes, and what to report.
 */
import type { Server } from "socket.io";
import { NodeRegistry, type NodeReport, type NodeStatus } from "./node-registry.js";
import { isRedisReady, type RedisClientLike } from "./redis-client.js";
import { RedisRevocationStore } from "./redis-revocation-store.js";
import {
  BROADCAST_TIMEOUT_MS,
  NOBODY,
  RevocationBroadcast,
  type RemoteRevocation,
} from "./revocation-broadcast.js";
import { revocationEntryText, type RevocationEntry } from "./revocation-entry.js";

/**
 * How often a node writes its status entry (and checks Redis for revocations it missed) by
 * default; the entry lives three heartbeats.
 */
export const DEFAULT_HEARTBEAT_MS = 5_000;

/** What the guard gives the link. */
export interface ClusterHooks {
  /** Disconnects this node's live sockets that `entries` revoke; returns how many. */
  disconnectRevoked(entries: readonly RevocationEntry[]): number;
  /** What this node reports at each heartbeat. */
  report(): NodeReport;
  warn(message: string): void;
}

/**
 * One node's link to the fleet.
 *
 * @example
 * const link = new ClusterLink(io, redis, hooks);
 * await link.start();
 * const remote = await link.broadcast(entry);
 */
export class ClusterLink {
  readonly revocations: RedisRevocationStore;
  readonly #registry: NodeRegistry;
  readonly #broadcast: RevocationBroadcast;
  readonly #redis: RedisClientLike;
  /**
   * Sockets disconnected for entries a load found before their broadcast arrived (the revoking
   * node writes Redis first): the broadcast's answer still counts them.
   */
  readonly #disconnectedByLoad = new Map<string, number>();

  constructor(io: Server, redis: RedisClientLike, hooks: ClusterHooks, heartbeatMs = DEFAULT_HEARTBEAT_MS) {
    this.#redis = redis;
    // The set is checked every heartbeat too (one counter read while nothing changed).
    this.revocations = new RedisRevocationStore(
      redis,
      {
        learned: (entries) => {
          for (const entry of entries) this.#noteLoaded(entry, hooks.disconnectRevoked([entry]));
        },
        // Made while Redis was down: the other nodes hear of them now rather than at their next check.
        written: (entries) => {
          for (const entry of entries) void this.#broadcast.send(entry);
        },
        warn: hooks.warn,
      },
      heartbeatMs,
    );
    this.#broadcast = new RevocationBroadcast(io, (entry) => {
      try {
        this.revocations.learn(entry);
      } catch (error) {
        hooks.warn(error instanceof Error ? error.message : String(error));
      }
      return this.#takeLoaded(entry) + hooks.disconnectRevoked([entry]);
    });
    this.#registry = new NodeRegistry(redis, hooks.report, { heartbeatMs, ttlMs: 3 * heartbeatMs });
  }

  /** This node's id in the fleet. */
  get id(): string {
    return this.#registry.id;
  }

  /** The fleet as read at the last heartbeat. */
  get nodes(): readonly NodeStatus[] {
    return this.#registry.nodes;
  }

  /**
   * Loads the fleet's revocations (waiting a bounded time for Redis) and joins the registry.
   * Resolves false when Redis did not answer: connects with a token then wait for the load, and
   * are refused while it does not come.
   */
  async start(): Promise<boolean> {
    const [loaded] = await Promise.all([this.revocations.start(), this.#registry.start()]);
    return loaded;
  }

  /**
   * Sends a revocation this node recorded to every other node. Skipped while sockguard's Redis
   * client is down: the adapter runs on the same Redis in every deployment sockguard documents,
   * and the other nodes find the entry in Redis when this node writes it there, once it is back.
   */
  broadcast(entry: RevocationEntry): Promise<RemoteRevocation> {
    if (!isRedisReady(this.#redis)) return Promise.resolve(NOBODY);
    return this.#broadcast.send(entry);
  }

  /** Writes this node's entry now (after a reload, so the fleet sees the new version at once). */
  heartbeat(): Promise<void> {
    return this.#registry.heartbeat();
  }

  #noteLoaded(entry: RevocationEntry, disconnected: number): void {
    if (disconnected === 0) return;
    const text = revocationEntryText(entry);
    this.#disconnectedByLoad.set(text, disconnected);
    // The broadcast comes within its timeout, or never: keep the count no longer than that.
    setTimeout(() => this.#disconnectedByLoad.delete(text), 2 * BROADCAST_TIMEOUT_MS).unref();
  }

  #takeLoaded(entry: RevocationEntry): number {
    const text = revocationEntryText(entry);
    const count = this.#disconnectedByLoad.get(text) ?? 0;
    this.#disconnectedByLoad.delete(text);
    return count;
  }

  async close(): Promise<void> {
    this.#broadcast.close();
    this.revocations.close();
    await this.#registry.close();
  }
}
