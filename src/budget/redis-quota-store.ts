/**
 * Connection quotas counted in Redis, so `maxConnections` holds across the fleet. Each quota and
 * key is a sorted set of holders scored by when their lease ends; a node renews the leases of the
 * holders it has while they live, so the places of a node that crashed (SIGKILL, a lost machine)
 * free themselves once their lease ends ({@link QUOTA_LEASE_MS}). A holder that closes is removed
 * at once. While Redis is not ready, each node counts its own holders in memory with the same
 * limits (never "no limit"), and the places it takes meanwhile are written to Redis when it is back.
 */
import { MemoryQuotaStore } from "./memory-quota-store.js";
import { followReadiness, isRedisReady, runScript, type RedisClientLike } from "../cluster/redis-client.js";
import { REDIS_ANSWER_TIMEOUT_MS, type StoreOutageReporter } from "./redis-rate-store.js";
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

/** Frees one holder's place. */
const RELEASE_SCRIPT = "return redis.call('ZREM', KEYS[1], ARGV[1])";
/** Keeps the set alive for another lease. */
const EXPIRE_SCRIPT = "return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))";

/**
 * The Redis quota store.
 *
 * @example
 * const quotas = new RedisQuotaStore(redisClient);
 * if (!(await quotas.acquire({ id: "connection", max: 50 }, address, conn.id))) refuse("too_many_connections");
 * conn.once("close", () => quotas.release({ id: "connection", max: 50 }, address, conn.id));
 */
export class RedisQuotaStore implements QuotaStore {
  readonly #client: RedisClientLike;
  readonly #readiness: ReturnType<typeof followReadiness>;
  /** The places this node holds, by Redis key: renewed while they live, counted here during an outage. */
  readonly #held = new Map<string, { rule: QuotaRule; key: string; holders: Set<string> }>();
  readonly #fallback = new MemoryQuotaStore();
  readonly #renewTimer: NodeJS.Timeout;

  readonly #leaseMs: number;

  /**
   * `leaseMs` (default {@link QUOTA_LEASE_MS}) bounds how long a crashed node's places stay taken;
   * leases are renewed every `renewMs` (default a third of the lease).
   */
  constructor(
    client: RedisClientLike,
    reporter?: StoreOutageReporter,
    lease: { readonly leaseMs?: number; readonly renewMs?: number } = {},
  ) {
    this.#client = client;
    this.#leaseMs = lease.leaseMs ?? QUOTA_LEASE_MS;
    this.#readiness = followReadiness(client, {
      down: () => reporter?.outage("redis"),
      up: () => {
        reporter?.recovered("redis");
        void this.#renew();
      },
    });
    this.#renewTimer = setInterval(() => void this.#renew(), lease.renewMs ?? Math.ceil(this.#leaseMs / 3));
    this.#renewTimer.unref();
  }

  async acquire(rule: QuotaRule, key: string, holder: string): Promise<boolean> {
    const slot = slotKey(rule, key);
    if (!isRedisReady(this.#client)) return this.#acquireLocally(slot, rule, key, holder);
    try {
      const taken = await withinAnswerTime(
        runScript(
          this.#client,
          ACQUIRE_SCRIPT,
          [slot],
          [String(rule.max), String(Date.now()), String(this.#leaseMs), holder],
        ),
      );
      // Redis answered: an outage marked by a late answer (the client never disconnected) is over.
      this.#readiness.markUp();
      if (Number(taken) !== 1) return false;
      this.#remember(slot, rule, key, holder);
      return true;
    } catch {
      this.#readiness.markDown();
      return this.#acquireLocally(slot, rule, key, holder);
    }
  }

  async release(rule: QuotaRule, key: string, holder: string): Promise<void> {
    const slot = slotKey(rule, key);
    const entry = this.#held.get(slot);
    entry?.holders.delete(holder);
    if (entry && entry.holders.size === 0) this.#held.delete(slot);
    this.#fallback.releaseNow(rule, key, holder);
    if (!isRedisReady(this.#client)) return;
    await runScript(this.#client, RELEASE_SCRIPT, [slot], [holder]).catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.#renewTimer);
    this.#readiness.stop();
  }

  #acquireLocally(slot: string, rule: QuotaRule, key: string, holder: string): boolean {
    this.#readiness.markDown();
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
    if (!isRedisReady(this.#client)) return;
    const now = Date.now();
    for (const [slot, entry] of this.#held) {
      for (const holder of entry.holders) {
        await runScript(
          this.#client,
          ACQUIRE_SCRIPT,
          [slot],
          [String(Number.MAX_SAFE_INTEGER), String(now), String(this.#leaseMs), holder],
        ).catch(() => undefined);
      }
      await runScript(this.#client, EXPIRE_SCRIPT, [slot], [String(this.#leaseMs)]).catch(() => undefined);
    }
  }
}

/**
 * `answer`, or a rejection once Redis has taken {@link REDIS_ANSWER_TIMEOUT_MS} (the place is then
 * taken in this process; one Redis takes later anyway is not renewed, and its lease expires).
 */
function withinAnswerTime<T>(answer: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error("Redis did not answer in time")), REDIS_ANSWER_TIMEOUT_MS);
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

function slotKey(rule: QuotaRule, key: string): string {
  return `${REDIS_QUOTA_PREFIX}:${rule.id.length}:${rule.id}:${key}`;
}
