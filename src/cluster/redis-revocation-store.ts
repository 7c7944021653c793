/**
 * Revocations shared by every node through Redis. Each node answers from its own in-memory copy
 * (a connect never waits for Redis once the copy is current), and the copy is kept current three
 * ways: the revoking node's broadcast ({@link RedisRevocationStore.learn}), a load of the Redis set
 * whenever the client becomes ready (at start and after every outage), and a periodic check that
 * reloads when the set changed. The set holds every entry in force, scored by when it expires, so
 * a node that was down or cut off when a revoke happened finds it there when it is back.
 *
 * Before its first load a node does not know what the fleet revoked: connects with a token wait
 * for that load (at most {@link FIRST_LOAD_WAIT_MS}) and are refused if it does not come. After an
 * outage, connects wait for the catch-up load the same way once Redis is ready again; while Redis
 * stays unreachable, the node answers from the copy it has (what it knew when it was cut off).
 */
import type { Identity } from "../compile/types.js";
import { MemoryRevocationStore } from "./memory-revocation-store.js";
import { followReadiness, isRedisReady, runScript, type RedisClientLike } from "./redis-client.js";
import { readRevocationEntryText, revocationEntryText, type RevocationEntry } from "./revocation-entry.js";
import type { RevocationStore } from "./revocation-store.js";

/** The sorted set of entries in force, scored by `expiresAt`. */
export const REVOCATIONS_KEY = "sockguard:revocations";
/** A counter bumped by every write to the set: a node reloads only when it moved. */
const REVOCATIONS_SEQ_KEY = "sockguard:revocations:seq";

/** How long a connect waits for a load when the node's copy is not current. */
export const FIRST_LOAD_WAIT_MS = 3_000;
/** How often a node checks the set for entries it missed (a broadcast lost while its link flapped). */
export const REVOCATION_SYNC_MS = 5_000;
/** The longest a Redis command of this store may take before it counts as failed. */
const COMMAND_TIMEOUT_MS = 2_000;
/** The pause between two load attempts while a connect waits for one. */
const RETRY_MS = 100;

/** Adds entries and drops expired ones. KEYS: set, seq; ARGV: now, then score and member pairs. */
const WRITE_SCRIPT = `
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('INCR', KEYS[2])`;

/** The entries in force, unless the counter is still ARGV[2]. KEYS: set, seq; ARGV: now, last seq. */
const LOAD_SCRIPT = `
local seq = redis.call('GET', KEYS[2]) or '0'
if seq == ARGV[2] then return { seq } end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return { seq, redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf') }`;

/** Thrown to a connect when the node cannot know the fleet's revocations: it is refused, never admitted. */
export class RevocationsUnavailableError extends Error {
  constructor() {
    super("sockguard: the fleet's revocations could not be loaded from Redis");
    this.name = "RevocationsUnavailableError";
  }
}

/** Where the store reports what it learned from Redis and what went wrong. */
export interface RevocationStoreHooks {
  /** Entries learned by a load (not by {@link RedisRevocationStore.learn}): their live sockets are to be disconnected. */
  learned?(entries: readonly RevocationEntry[]): void;
  /** Entries this node recorded while Redis was down, now written there: to be broadcast. */
  written?(entries: readonly RevocationEntry[]): void;
  warn?(message: string): void;
}

/**
 * The Redis revocation store.
 *
 * @example
 * const store = new RedisRevocationStore(redis, { learned: (entries) => disconnectRevoked(entries) });
 * await store.start();
 * await store.add(entry);            // this node at once, Redis before it resolves
 * store.isRevoked(identity, Date.now()); // a boolean, from memory, once the copy is current
 */
export class RedisRevocationStore implements RevocationStore {
  readonly #client: RedisClientLike;
  readonly #hooks: RevocationStoreHooks;
  readonly #local = new MemoryRevocationStore();
  /** Every entry this node knows, by its text, to tell new ones and to write back what Redis lost. */
  readonly #known = new Map<string, RevocationEntry>();
  readonly #readiness: ReturnType<typeof followReadiness>;
  readonly #timer: NodeJS.Timeout;
  #loadedOnce = false;
  /** True while the copy includes everything Redis held at the last load since the client became ready. */
  #current = false;
  #seq = "";
  /** Entries recorded here that Redis did not take yet. */
  readonly #unwritten = new Set<RevocationEntry>();
  #loading: Promise<boolean> | undefined;

  constructor(client: RedisClientLike, hooks: RevocationStoreHooks = {}, syncMs = REVOCATION_SYNC_MS) {
    this.#client = client;
    this.#hooks = hooks;
    this.#readiness = followReadiness(client, {
      down: () => (this.#current = false),
      up: () => void this.load(),
    });
    this.#timer = setInterval(() => void this.load(), syncMs);
    this.#timer.unref();
  }

  get generation(): number {
    return this.#local.generation;
  }

  /** True once the copy has been loaded from Redis at least once. */
  get loaded(): boolean {
    return this.#loadedOnce;
  }

  /** The first load: resolves true once done, false when Redis did not answer within `waitMs`. */
  start(waitMs = FIRST_LOAD_WAIT_MS): Promise<boolean> {
    return this.#loadWithin(waitMs);
  }

  /**
   * Records `entry` on this node at once (throwing a `RangeError` when the copy is full), then in
   * Redis. When Redis cannot take it now, the entry stays in force here, is written by the next
   * load once Redis is back (so it reaches the other nodes then), and `add` still resolves.
   */
  add(entry: RevocationEntry): Promise<void> {
    this.#remember(entry);
    if (!isRedisReady(this.#client)) return Promise.resolve(this.#keepUnwritten(entry));
    return this.#write([entry]).then(
      () => undefined,
      () => this.#keepUnwritten(entry),
    );
  }

  /** Records an entry another node broadcast (it is in Redis already). True when it was new here. */
  learn(entry: RevocationEntry): boolean {
    return this.#remember(entry);
  }

  isRevoked(identity: Identity, now: number): boolean | Promise<boolean> {
    if (isRedisReady(this.#client)) {
      if (this.#current) return this.#local.isRevoked(identity, now);
    } else {
      this.#current = false;
      this.#readiness.markDown();
      // Cut off from Redis: what this node knew is all it can know; that is the guarantee meanwhile.
      if (this.#loadedOnce) return this.#local.isRevoked(identity, now);
    }
    return this.#loadWithin(FIRST_LOAD_WAIT_MS).then((loaded) => {
      if (!loaded && !this.#loadedOnce) throw new RevocationsUnavailableError();
      return this.#local.isRevoked(identity, Date.now());
    });
  }

  /**
   * Reads the set when it changed since the last load, adds the entries this node did not know
   * (telling `hooks.learned`), and writes back the entries Redis lacks (written while it was down,
   * or lost when it restarted without persistence). Resolves false when Redis did not answer.
   */
  load(): Promise<boolean> {
    this.#loading ??= this.#loadOnce().finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#readiness.stop();
  }

  async #loadOnce(): Promise<boolean> {
    if (!isRedisReady(this.#client)) return false;
    const now = Date.now();
    let answer: unknown;
    try {
      const last = this.#current && this.#unwritten.size === 0 ? this.#seq : "";
      answer = await withTimeout(
        runScript(this.#client, LOAD_SCRIPT, [REVOCATIONS_KEY, REVOCATIONS_SEQ_KEY], [String(now), last]),
      );
    } catch {
      return false;
    }
    if (!Array.isArray(answer)) return false;
    const [seq, members] = answer as [unknown, unknown];
    if (Array.isArray(members)) {
      const remote = new Set<string>();
      const learned: RevocationEntry[] = [];
      for (const member of members) {
        if (typeof member !== "string") continue;
        remote.add(member);
        if (this.#known.has(member)) continue;
        const entry = readRevocationEntryText(member);
        if (entry && this.#rememberLoaded(entry)) learned.push(entry);
      }
      const missing = [...this.#liveKnown(now)].filter(([text]) => !remote.has(text)).map(([, e]) => e);
      if (
        missing.length > 0 &&
        !(await this.#write(missing).then(
          () => true,
          () => false,
        ))
      )
        return false;
      const written = [...this.#unwritten];
      this.#unwritten.clear();
      if (learned.length > 0) this.#hooks.learned?.(learned);
      if (written.length > 0) this.#hooks.written?.(written);
    }
    this.#seq = String(seq);
    this.#loadedOnce = true;
    this.#current = true;
    return true;
  }

  /** Loads, retrying while Redis is ready, until one load succeeds (true) or `waitMs` passed (false). */
  #loadWithin(waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    const attempts = async (): Promise<boolean> => {
      while (Date.now() < deadline) {
        if (await this.load()) return true;
        await sleep(Math.max(0, Math.min(RETRY_MS, deadline - Date.now())));
      }
      return false;
    };
    return Promise.race([attempts(), sleep(waitMs).then(() => false)]);
  }

  #write(entries: readonly RevocationEntry[]): Promise<unknown> {
    const args = [String(Date.now())];
    for (const entry of entries) args.push(String(entry.expiresAt), revocationEntryText(entry));
    return withTimeout(runScript(this.#client, WRITE_SCRIPT, [REVOCATIONS_KEY, REVOCATIONS_SEQ_KEY], args));
  }

  #keepUnwritten(entry: RevocationEntry): void {
    if (this.#unwritten.size === 0) {
      this.#hooks.warn?.(
        "sockguard: Redis did not take a revocation: it is in force on this node and is written to Redis (and so reaches the other nodes) when Redis is back",
      );
    }
    this.#unwritten.add(entry);
  }

  /** Adds `entry` to the copy; false when it was known already. */
  #remember(entry: RevocationEntry): boolean {
    const text = revocationEntryText(entry);
    if (this.#known.has(text)) return false;
    this.#local.add(entry);
    this.#known.set(text, entry);
    return true;
  }

  /** {@link #remember} for a loaded entry: a copy that is full keeps what it holds and says so. */
  #rememberLoaded(entry: RevocationEntry): boolean {
    try {
      return this.#remember(entry);
    } catch (error) {
      this.#hooks.warn?.(error instanceof Error ? error.message : String(error));
      return false;
    }
  }

  /** The known entries still in force; expired ones are forgotten on the way. */
  *#liveKnown(now: number): Generator<[string, RevocationEntry]> {
    for (const [text, entry] of this.#known) {
      if (entry.expiresAt <= now) this.#known.delete(text);
      else yield [text, entry];
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("sockguard: Redis did not answer in time")),
      COMMAND_TIMEOUT_MS,
    );
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
