/**
 * The verified-token cache, as Envoy's `jwt_authn` keeps one (`jwt_cache_config`): a token whose
 * signature and claim set jose accepted is remembered, keyed by the whole token, so the same
 * token presented again (a reconnect storm after a deploy or a network blip) skips the signature
 * check. Only that step is skipped: revocation and every claims requirement still run on the
 * cached identity, at every connect.
 *
 * One {@link VerifiedTokenCache} serves one compiled issuer, bounded in entries and in bytes, and
 * never holds a token over {@link MAX_CACHED_TOKEN_LENGTH}. An entry lives until the instant jose
 * would call the token expired (`exp` plus the clock tolerance), and no longer than the key that
 * verified it: for a remote key set, a refresh that no longer lists that key drops it. The
 * {@link TokenCaches} registry lives as long as the guard and hands a compile the cache of each
 * issuer: the same one while the issuer's `iss`, audience, algorithms, tolerance and keys stay as
 * they were, an empty one as soon as any of them changes.
 */
import type { VerifyResult } from "./types.js";

/** The `tokenCache` option of `sockguard()`: limits (each defaulted), or `false` for no cache. */
export type TokenCacheOption = TokenCacheLimitsOption | false;

/** Limits of the verified-token cache, per issuer. */
export interface TokenCacheLimitsOption {
  /** Tokens kept per issuer at most. Default 100 (Envoy's default). */
  readonly maxEntries?: number;
  /** Bytes kept per issuer at most, counted as {@link cachedTokenBytes} says. Default 1 MiB. */
  readonly maxBytes?: number;
}

export interface TokenCacheLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export const DEFAULT_TOKEN_CACHE_LIMITS: TokenCacheLimits = Object.freeze({
  maxEntries: 100,
  maxBytes: 1024 * 1024,
});

/** Tokens longer than this (4 KiB, as Envoy) are verified every time and never cached. */
export const MAX_CACHED_TOKEN_LENGTH = 4096;

/** What one entry is counted as beside its token: the decoded claims and the entry itself. */
const ENTRY_OVERHEAD_BYTES = 256;

/** What a lookup found. */
export type TokenCacheLookup = "hit" | "miss";

/**
 * What a cache needs of a remote key set: which keys it holds now (by their
 * `publicKeyFingerprint`), a number that changes with each download, and a way to have it
 * refreshed when it is due, since a token served from the cache never asks the set for a key.
 */
export interface KeyTrust {
  readonly generation: number;
  holdsKey(fingerprint: string): boolean;
  /** Starts a background refresh when the set is older than its maximum age; never waits. */
  keepFresh(): void;
}

/**
 * The limits the `tokenCache` option asks for, or `false`. Throws a `TypeError` for anything else.
 *
 * @example
 * tokenCacheLimits(undefined); // { maxEntries: 100, maxBytes: 1048576 }
 * tokenCacheLimits({ maxEntries: 5000 }); // { maxEntries: 5000, maxBytes: 1048576 }
 * tokenCacheLimits(false); // false: every token is verified every time
 */
export function tokenCacheLimits(option: unknown): TokenCacheLimits | false {
  if (option === undefined) return DEFAULT_TOKEN_CACHE_LIMITS;
  if (option === false) return false;
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    throw new TypeError("sockguard: options.tokenCache must be { maxEntries?, maxBytes? } or false");
  }
  const { maxEntries, maxBytes, ...rest } = option as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new TypeError(
      `sockguard: options.tokenCache has no option ${unknown.map((k) => `"${k}"`).join(", ")}`,
    );
  }
  return Object.freeze({
    maxEntries: positiveInteger(maxEntries, "maxEntries", DEFAULT_TOKEN_CACHE_LIMITS.maxEntries),
    maxBytes: positiveInteger(maxBytes, "maxBytes", DEFAULT_TOKEN_CACHE_LIMITS.maxBytes),
  });
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`sockguard: options.tokenCache.${name} must be a whole number, at least 1`);
  }
  return value;
}

/** What an entry of `token` counts against `maxBytes`: the token, its claims and the entry. */
export function cachedTokenBytes(token: string): number {
  return 2 * token.length + ENTRY_OVERHEAD_BYTES;
}

interface Entry {
  readonly result: VerifyResult;
  /** Milliseconds since the epoch from which jose would refuse the token as expired. */
  readonly validUntil: number;
  /** The key that verified it, for a remote key set. */
  readonly keyFingerprint: string | undefined;
  readonly bytes: number;
}

/**
 * The verified tokens of one issuer, least recently used first.
 *
 * @example
 * const cache = new VerifiedTokenCache(DEFAULT_TOKEN_CACHE_LIMITS);
 * cache.lookup(token, Date.now()) ?? cache.remember(token, await verify(token), validUntil);
 */
export class VerifiedTokenCache {
  readonly #limits: TokenCacheLimits;
  readonly #keys: KeyTrust | undefined;
  readonly #onLookup: ((result: TokenCacheLookup) => void) | undefined;
  readonly #entries = new Map<string, Entry>();
  /**
   * Where eviction stands in the map's insertion order: every entry before it is gone (evicted, or
   * moved to the end when it was used), so its next entry is the least recently used. A fresh
   * iterator would have to step over every deleted slot from the start of the map's table, which
   * made an eviction cost about a quarter of the table.
   */
  #oldest: MapIterator<[string, Entry]> | undefined;
  #bytes = 0;
  #generation: number;

  constructor(limits: TokenCacheLimits, keys?: KeyTrust, onLookup?: (result: TokenCacheLookup) => void) {
    this.#limits = limits;
    this.#keys = keys;
    this.#onLookup = onLookup;
    this.#generation = keys?.generation ?? 0;
  }

  /** Tokens held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held, as {@link cachedTokenBytes} counts them. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The remembered outcome of `token`, when it is still valid at `nowMs` and its key still trusted.
   * Every lookup is counted as a hit or a miss, unless `countMiss` is false: then only a hit is
   * (a caller that will verify the token on a miss, and look it up again there, counts it once).
   */
  lookup(token: string, nowMs: number, countMiss = true): VerifyResult | undefined {
    const keys = this.#keys;
    if (keys) {
      keys.keepFresh();
      if (keys.generation !== this.#generation) this.#dropUntrusted(keys);
    }
    const entry = this.#entries.get(token);
    let result: VerifyResult | undefined;
    if (entry !== undefined) {
      if (
        nowMs < entry.validUntil &&
        (entry.keyFingerprint === undefined || keys?.holdsKey(entry.keyFingerprint))
      ) {
        // Most recently used last: eviction takes the first.
        this.#entries.delete(token);
        this.#entries.set(token, entry);
        result = entry.result;
      } else {
        this.#delete(token, entry);
      }
    }
    if (result) this.#report("hit");
    else if (countMiss) this.#report("miss");
    return result;
  }

  /**
   * Remembers a verified `token` until `validUntil` (ms since the epoch). A token over
   * {@link MAX_CACHED_TOKEN_LENGTH}, or verified by a key its set no longer holds, is not kept.
   */
  remember(token: string, result: VerifyResult, validUntil: number, keyFingerprint?: string): void {
    if (token.length > MAX_CACHED_TOKEN_LENGTH || !result.ok) return;
    if (keyFingerprint !== undefined && !this.#keys?.holdsKey(keyFingerprint)) return;
    const bytes = cachedTokenBytes(token);
    if (bytes > this.#limits.maxBytes) return;
    const previous = this.#entries.get(token);
    if (previous) this.#delete(token, previous);
    while (this.#entries.size >= this.#limits.maxEntries || this.#bytes + bytes > this.#limits.maxBytes) {
      const [oldestToken, oldest] = this.#leastRecentlyUsed();
      this.#delete(oldestToken, oldest);
    }
    this.#entries.set(token, { result, validUntil, keyFingerprint, bytes });
    this.#bytes += bytes;
  }

  /** The least recently used entry; the map is not empty. */
  #leastRecentlyUsed(): [string, Entry] {
    // Map iterators are live: they see entries added after them, and skip the deleted ones.
    let step = this.#oldest?.next();
    if (step === undefined || step.done === true) {
      this.#oldest = this.#entries.entries();
      step = this.#oldest.next();
    }
    return step.value!;
  }

  #delete(token: string, entry: Entry): void {
    this.#entries.delete(token);
    this.#bytes -= entry.bytes;
  }

  /** After a download of the key set: the tokens a key it no longer lists verified go. */
  #dropUntrusted(keys: KeyTrust): void {
    this.#generation = keys.generation;
    for (const [token, entry] of this.#entries) {
      if (entry.keyFingerprint !== undefined && !keys.holdsKey(entry.keyFingerprint))
        this.#delete(token, entry);
    }
  }

  #report(result: TokenCacheLookup): void {
    try {
      this.#onLookup?.(result);
    } catch {
      // Counting a lookup must never change what it found.
    }
  }
}

/**
 * Every issuer's token cache for one guard, kept across reloads. A compile asks
 * {@link forIssuer} with the issuer's fingerprint (everything that decides whether a token
 * verifies): the same fingerprint gets the same cache, another gets a new, empty one.
 *
 * @example
 * const caches = new TokenCaches(tokenCacheLimits(options.tokenCache), (r) => observer.tokenCache(r));
 * const context = createCompileContext({}, onDownload, caches);
 */
export class TokenCaches {
  readonly #limits: TokenCacheLimits | false;
  readonly #onLookup: ((result: TokenCacheLookup) => void) | undefined;
  readonly #byIssuer = new Map<
    string,
    { readonly fingerprint: string; readonly cache: VerifiedTokenCache }
  >();

  constructor(limits: TokenCacheLimits | false, onLookup?: (result: TokenCacheLookup) => void) {
    this.#limits = limits;
    this.#onLookup = onLookup;
  }

  /** The cache for issuer `name` as `fingerprint` describes it; `undefined` when caching is off. */
  forIssuer(name: string, fingerprint: string, keys?: KeyTrust): VerifiedTokenCache | undefined {
    if (this.#limits === false) return undefined;
    const held = this.#byIssuer.get(name);
    if (held?.fingerprint === fingerprint) return held.cache;
    const cache = new VerifiedTokenCache(this.#limits, keys, this.#onLookup);
    this.#byIssuer.set(name, { fingerprint, cache });
    return cache;
  }

  /** Forgets the caches of issuers a compiled policy no longer names. */
  retain(names: Iterable<string>): void {
    const kept = new Set(names);
    for (const name of this.#byIssuer.keys()) if (!kept.has(name)) this.#byIssuer.delete(name);
  }
}
