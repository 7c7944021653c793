/**
 * The fleet's view of itself, kept in Redis: every guarded node writes its entry (id, the policy
 * version it enforces, its live sockets) every heartbeat, with an expiry of a few heartbeats, and
 * reads everybody's back. A node that dies stops writing and drops out once its entry expires; one
 * that closes removes its entry at once. `guard.status().nodes` is the list read at the last
 * heartbeat, so a deploy can check that every node enforces the new policy.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { isRedisReady, runScript, type RedisClientLike } from "./redis-client.js";

/** One node as the registry lists it. */
export interface NodeStatus {
  readonly id: string;
  /** The version of the policy the node enforces. */
  readonly version: string;
  readonly shadowVersion?: string;
  /** Live sockets the node's guard admitted. */
  readonly sockets: number;
  /** When the node last wrote its entry (ms since the epoch). */
  readonly seenAt: number;
}

/** What a node says about itself at each heartbeat. */
export type NodeReport = Omit<NodeStatus, "id" | "seenAt">;

/** How often a node writes its entry by default. */
export const HEARTBEAT_MS = 5_000;
/** How long an entry lives after its last write by default: a dead node is gone from the list after this. */
export const NODE_TTL_MS = 15_000;

const NODES_KEY = "sockguard:nodes";
const NODE_KEY_PREFIX = "sockguard:node:";

/** Writes one node's entry and drops the entries that expired. KEYS: the index, the node's key. */
const HEARTBEAT_SCRIPT = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl)
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
return 1`;

/** Every live entry's JSON. KEYS: the index; ARGV: now, ttl, the node key prefix. */
const LIST_SCRIPT = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local entries = {}
for i, id in ipairs(ids) do
  local entry = redis.call('GET', ARGV[3] .. id)
  if entry then table.insert(entries, entry) end
end
return entries`;

/** Removes one node's entry. */
const LEAVE_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`;

/** A node id an operator can read: host, process id and a random part (two guards in one process differ). */
export function newNodeId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * One node's membership of the fleet.
 *
 * @example
 * const registry = new NodeRegistry(redis, () => ({ version: guard.version, sockets: liveSockets() }));
 * registry.start();
 * registry.nodes; // the fleet at the last heartbeat
 */
export class NodeRegistry {
  readonly id: string;
  readonly #client: RedisClientLike;
  readonly #report: () => NodeReport;
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #nodes: readonly NodeStatus[] = [];
  #beat: Promise<void> = Promise.resolve();

  constructor(
    client: RedisClientLike,
    report: () => NodeReport,
    timing: { readonly heartbeatMs?: number; readonly ttlMs?: number; readonly id?: string } = {},
  ) {
    this.#client = client;
    this.#report = report;
    this.#heartbeatMs = timing.heartbeatMs ?? HEARTBEAT_MS;
    this.#ttlMs = timing.ttlMs ?? NODE_TTL_MS;
    this.id = timing.id ?? newNodeId();
  }

  /** The fleet as read at the last heartbeat (this node included once it wrote its entry). */
  get nodes(): readonly NodeStatus[] {
    return this.#nodes;
  }

  /** Writes the first entry now and then every heartbeat. */
  start(): Promise<void> {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.heartbeat(), this.#heartbeatMs);
      this.#timer.unref();
    }
    return this.heartbeat();
  }

  /** Writes this node's entry and reads the fleet's; skipped (the last list kept) while Redis is not ready. */
  heartbeat(): Promise<void> {
    this.#beat = this.#beat.then(() => this.#writeAndRead()).catch(() => undefined);
    return this.#beat;
  }

  /** Stops the heartbeat and removes this node's entry. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beat;
    if (!isRedisReady(this.#client)) return;
    await runScript(this.#client, LEAVE_SCRIPT, [NODES_KEY, NODE_KEY_PREFIX + this.id], [this.id]).catch(
      () => undefined,
    );
  }

  async #writeAndRead(): Promise<void> {
    if (!isRedisReady(this.#client)) return;
    const now = Date.now();
    const entry: NodeStatus = { id: this.id, ...this.#report(), seenAt: now };
    await runScript(
      this.#client,
      HEARTBEAT_SCRIPT,
      [NODES_KEY, NODE_KEY_PREFIX + this.id],
      [String(now), String(this.#ttlMs), this.id, JSON.stringify(entry)],
    );
    const listed = await runScript(
      this.#client,
      LIST_SCRIPT,
      [NODES_KEY],
      [String(now), String(this.#ttlMs), NODE_KEY_PREFIX],
    );
    this.#nodes = Object.freeze(parseEntries(listed));
  }
}

function parseEntries(listed: unknown): NodeStatus[] {
  if (!Array.isArray(listed)) return [];
  const nodes: NodeStatus[] = [];
  for (const text of listed) {
    if (typeof text !== "string") continue;
    try {
      const value = JSON.parse(text) as Partial<NodeStatus>;
      if (typeof value.id !== "string" || typeof value.version !== "string") continue;
      nodes.push(
        Object.freeze({
          id: value.id,
          version: value.version,
          ...(typeof value.shadowVersion === "string" ? { shadowVersion: value.shadowVersion } : {}),
          sockets: typeof value.sockets === "number" ? value.sockets : 0,
          seenAt: typeof value.seenAt === "number" ? value.seenAt : 0,
        }),
      );
    } catch {
      // An entry that is not sockguard's JSON is not a node.
    }
  }
  return nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
