/**
 * Connection quotas counted in Redis, so `maxConnections` holds across the fleet. Each quota and
 * key is a sorted set of holders scored by when their lease ends; a node renews the leases of the
 * holders it has while they live, so the places of a node that crashed (SIGKILL, a lost machine)
 * free themselves once their lease ends ({@link QUOTA_LEASE_MS}). A holder that closes is removed
 * at once. While Redis is not ready, each node counts its own holders in memory with the same
 * limits (never "no limit"), and the places it takes meanwhile are written to Redis when it is back.
 */
import { MemoryQuotaStore } from "./memory-quota-store.js";
import type { StoreOutageReporter } from "./redis-rate-store.js";
import type { QuotaRule, QuotaStore } from "./types.js";

/** How long a place in Redis outlives the last renewal of its node: a crashed node's places are free after this. */
export const QUOTA_LEASE_MS = 15_000;
/** The prefix of every quota key in Redis. */
export const REDIS_QUOTA_PREFIX = "sockguard:quota";

/** Takes a place when fewer than ARGV[1] unexpired holders hold one. KEYS[1]: the set. */
const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

/** The Redis commands the quota store sends, for node-redis (v4/v5) and ioredis alike. */
interface QuotaCommands {
  evalScript(script: string, key: string, args: readonly string[]): Promise<unknown>;
  remove(key: string, holder: string): Promise<unknown>;
  pexpire(key: string, ms: number): Promise<unknown>;
}

/** A node-redis or ioredis client, as far as the quota store uses it. */
export interface RedisQuotaClient {
  readonly isReady?: boolean;
  readonly status?: string;
  on(event: "error" | "ready" | "end", listener: (...args: unknown[]) => void): unknown;
  eval(...args: never[]): Promise<unknown>;
  zRem?(key: string, member: string): Promise<unknown>;
  zrem?(key: string, member: string): Promise<unknown>;
  pExpire?(key: string, ms: number): Promise<unknown>;
  pexpire?(key: string, ms: number): Promise<unknown>;
}

function commandsFor(client: RedisQuotaClient): QuotaCommands {
  const anyEval = client.eval.bind(client) as unknown as (...args: unknown[]) => Promise<unknown>;
  if (client.isReady !== undefined) {
    // node-redis: eval(script, { keys, arguments })
    return {
      evalScript: (script, key, args) => anyEval(script, { keys: [key], arguments: [...args] }),
      remove: (key, holder) => client.zRem!(key, holder),
      pexpire: (key, ms) => client.pExpire!(key, ms),
    };
  }
  // ioredis: eval(script, numKeys, ...keys, ...args)
  return {
    evalScript: (script, key, args) => anyEval(script, 1, key, ...args),
    remove: (key, holder) => client.zrem!(key, holder),
    pexpire: (key, ms) => client.pexpire!(key, ms),
  };
}

/**
 * The Redis quota store.
 *
 * @example
 * const quotas = new RedisQuotaStore(redisClient);
 * if (!(await quotas.acquire({ id: "connection", max: 50 }, address, conn.id))) refuse("too_many_connections");
 * conn.once("close", () => quotas.release({ id: "connection", max: 50 }, address, conn.id));
 */
export class RedisQuotaStore implements QuotaStore {
  readonly #client: RedisQuotaClient;
  readonly #commands: QuotaCommands;
  readonly #reporter: StoreOutageReporter | undefined;
  /** The places this node holds, by Redis key: renewed while they live, counted here during an outage. */
  readonly #held = new Map<string, { rule: QuotaRule; key: string; holders: Set<string> }>();
  readonly #fallback = new MemoryQuotaStore();
  readonly #renewTimer: NodeJS.Timeout;
  #down = false;
  readonly #onError = (): void => this.#markDown();
  readonly #onReady = (): void => this.#markUp();

  readonly #leaseMs: number;

  /**
   * `leaseMs` (default {@link QUOTA_LEASE_MS}) bounds how long a crashed node's places stay taken;
   * leases are renewed every `renewMs` (default a third of the lease).
   */
  constructor(
    client: RedisQuotaClient,
    reporter?: StoreOutageReporter,
    lease: { readonly leaseMs?: number; readonly renewMs?: number } = {},
  ) {
    this.#client = client;
    this.#leaseMs = lease.leaseMs ?? QUOTA_LEASE_MS;
    this.#commands = commandsFor(client);
    this.#reporter = reporter;
    client.on("error", this.#onError);
    client.on("end", this.#onError);
    client.on("ready", this.#onReady);
    this.#renewTimer = setInterval(() => void this.#renew(), lease.renewMs ?? Math.ceil(this.#leaseMs / 3));
    this.#renewTimer.unref();
  }

  async acquire(rule: QuotaRule, key: string, holder: string): Promise<boolean> {
    const slot = slotKey(rule, key);
    if (!this.#isReady()) return this.#acquireLocally(slot, rule, key, holder);
    try {
      const taken = await this.#commands.evalScript(ACQUIRE_SCRIPT, slot, [
        String(rule.max),
        String(Date.now()),
        String(this.#leaseMs),
        holder,
      ]);
      if (Number(taken) !== 1) return false;
      this.#remember(slot, rule, key, holder);
      return true;
    } catch {
      this.#markDown();
      return this.#acquireLocally(slot, rule, key, holder);
    }
  }

  async release(rule: QuotaRule, key: string, holder: string): Promise<void> {
    const slot = slotKey(rule, key);
    const entry = this.#held.get(slot);
    entry?.holders.delete(holder);
    if (entry && entry.holders.size === 0) this.#held.delete(slot);
    this.#fallback.releaseNow(rule, key, holder);
    if (!this.#isReady()) return;
    await this.#commands.remove(slot, holder).catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.#renewTimer);
    const client = this.#client as RedisQuotaClient & {
      off?: (event: string, listener: (...args: unknown[]) => void) => unknown;
    };
    client.off?.("error", this.#onError);
    client.off?.("end", this.#onError);
    client.off?.("ready", this.#onReady);
  }

  #acquireLocally(slot: string, rule: QuotaRule, key: string, holder: string): boolean {
    this.#markDown();
    if (!this.#fallback.acquireNow(rule, key, holder)) return false;
    this.#remember(slot, rule, key, holder);
    return true;
  }

  #remember(slot: string, rule: QuotaRule, key: string, holder: string): void {
    let entry = this.#held.get(slot);
    if (!entry) {
      entry = { rule, key, holders: new Set() };
      this.#held.set(slot, entry);
    }
    entry.holders.add(holder);
  }

  /**
   * Renews this node's leases. After an outage it also writes the places taken meanwhile, whatever
   * the fleet holds: those connections are live, so the fleet may stand over its quota until some
   * close, and refuses new ones until then.
   */
  async #renew(): Promise<void> {
    if (!this.#isReady()) return;
    const now = Date.now();
    for (const [slot, entry] of this.#held) {
      for (const holder of entry.holders) {
        await this.#commands
          .evalScript(ACQUIRE_SCRIPT, slot, [
            String(Number.MAX_SAFE_INTEGER),
            String(now),
            String(this.#leaseMs),
            holder,
          ])
          .catch(() => undefined);
      }
      await this.#commands.pexpire(slot, this.#leaseMs).catch(() => undefined);
    }
  }

  #isReady(): boolean {
    const client = this.#client;
    return client.isReady === true || client.status === "ready";
  }

  #markDown(): void {
    if (this.#down) return;
    this.#down = true;
    this.#reporter?.outage("redis");
  }

  #markUp(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#reporter?.recovered("redis");
    void this.#renew();
  }
}

function slotKey(rule: QuotaRule, key: string): string {
  return `${REDIS_QUOTA_PREFIX}:${rule.id.length}:${rule.id}:${key}`;
}
