/**
 * Remote JWK sets (`jwksUri`), kept by sockguard itself rather than by jose's `createRemoteJWKSet`.
 *
 * jose's remote set throws once its cache ages out and the endpoint is down, and its errors do not
 * say whether the network or the token failed. Here the download is ours, so every failure of the
 * endpoint surfaces as one error class, {@link KeysUnavailableError}, thrown from one place; and the
 * last good set keeps serving while the endpoint is down.
 *
 * One {@link RemoteKeySet} exists per URI in a {@link RemoteKeySets} registry that the guard creates
 * once and hands to every compile, so a policy reload keeps the keys already fetched instead of
 * sending every identity provider a burst of requests on each edit.
 */
import { createHash, createPublicKey, KeyObject, type JsonWebKey, type webcrypto } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createLocalJWKSet, errors, type JWK, type JWTVerifyGetKey } from "jose";
import type { KeyTrust } from "./token-cache.js";

/** How remote key sets are fetched and cached. Every field has a default. */
export interface RemoteKeySetOptions {
  /** Give up on a download after this long. Default 5 s. */
  readonly timeoutMs?: number;
  /** Refetch a set older than this, in the background, while the old one keeps serving. Default 10 min. */
  readonly cacheMaxAgeMs?: number;
  /** A token naming a key the set does not hold triggers a refetch at most this often. Default 30 s. */
  readonly unknownKeyCooldownMs?: number;
  /**
   * Once a set was fetched: after a failed refresh, wait this long before trying again (the old set
   * keeps serving meanwhile, so a dead endpoint is not hammered). Default 5 s.
   */
  readonly retryAfterFailureMs?: number;
  /**
   * While no set was ever fetched: the pause after the first failed download, doubled after each
   * further failure up to {@link maxFirstFetchRetryMs}. Default 100 ms.
   */
  readonly firstFetchRetryMs?: number;
  /** While no set was ever fetched: the longest pause between two downloads. Default 1 s. */
  readonly maxFirstFetchRetryMs?: number;
  /** Refuse a response body larger than this. Default 512 KiB. */
  readonly maxBytes?: number;
}

const DEFAULT_OPTIONS: Required<RemoteKeySetOptions> = {
  timeoutMs: 5_000,
  cacheMaxAgeMs: 10 * 60_000,
  unknownKeyCooldownMs: 30_000,
  retryAfterFailureMs: 5_000,
  firstFetchRetryMs: 100,
  maxFirstFetchRetryMs: 1_000,
  maxBytes: 512 * 1024,
};

/**
 * Told about every download of a key set, when it ends: `ok` (a JWK set is in place) or `error`
 * (any failure of the endpoint). Downloads cut short by the guard closing are not reported. The
 * guard counts these in `sockguard_jwks_requests_total`.
 */
export type KeySetDownloadListener = (uri: string, result: "ok" | "error") => void;

/**
 * The issuer's keys cannot be had: no set was ever fetched and the endpoint is down, slow or
 * answering garbage. Verification maps it to `keys_unavailable`, never to `token_invalid`.
 */
export class KeysUnavailableError extends Error {
  constructor() {
    super("the issuer's JWK set could not be fetched");
    this.name = "KeysUnavailableError";
  }
}

/**
 * Every remote key set of a guard, one per URI, shared across policy reloads.
 *
 * @example
 * const keySets = new RemoteKeySets({ timeoutMs: 3000 });
 * const idpKeys = keySets.get("https://idp.example.com/.well-known/jwks.json");
 * await jwtVerify(token, idpKeys.getKey, { algorithms: ["RS256"], issuer, audience });
 * keySets.close(); // aborts downloads under way
 */
export class RemoteKeySets {
  readonly #options: Required<RemoteKeySetOptions>;
  readonly #sets = new Map<string, RemoteKeySet>();
  readonly #closing = new AbortController();
  readonly #onDownload: KeySetDownloadListener | undefined;

  constructor(options: RemoteKeySetOptions = {}, onDownload?: KeySetDownloadListener) {
    this.#options = { ...DEFAULT_OPTIONS, ...stripUndefined(options) };
    this.#onDownload = onDownload;
  }

  /** The key set for `uri`, created on first use. Nothing is fetched until it is used or warmed. */
  get(uri: string): RemoteKeySet {
    let set = this.#sets.get(uri);
    if (!set) {
      set = new RemoteKeySet(uri, this.#options, this.#closing.signal, this.#onDownload);
      this.#sets.set(uri, set);
    }
    return set;
  }

  /** Aborts downloads under way. No timer is kept, so nothing else needs releasing. */
  close(): void {
    this.#closing.abort();
  }
}

/**
 * One remote JWK set. Its {@link getKey} is a jose key resolver:
 * - first use downloads the set (concurrent callers share one download);
 * - while no set was ever fetched, failed downloads are retried on a backoff (100 ms, doubling, at
 *   most 1 s apart), driven by the connects that need keys: a connect that arrives during a pause
 *   waits for the next download (all waiting connects share it) instead of being refused at once,
 *   so the first connect after the endpoint recovers gets in, and the endpoint sees at most one
 *   request per pause however many clients connect. A connect whose download fails throws
 *   {@link KeysUnavailableError};
 * - a set older than `cacheMaxAgeMs` is refetched in the background; if that fails, the old set
 *   keeps serving, and the next refresh waits `retryAfterFailureMs`;
 * - a token naming a key the set does not hold triggers a refetch at most once per
 *   `unknownKeyCooldownMs` (or joins a download under way), then the lookup is retried once.
 */
export class RemoteKeySet implements KeyTrust {
  readonly uri: string;
  readonly #options: Required<RemoteKeySetOptions>;
  readonly #closing: AbortSignal;
  readonly #onDownload: KeySetDownloadListener | undefined;
  #keys: ReturnType<typeof createLocalJWKSet> | undefined;
  /** The {@link publicKeyFingerprint}s of the keys the set in hand lists. */
  #fingerprints: ReadonlySet<string> = new Set();
  #generation = 0;
  #fetchedAt = 0;
  /** No download starts before this time (ms since the epoch): the pause after a failure. */
  #retryAt = Number.NEGATIVE_INFINITY;
  /** Downloads failed in a row. */
  #failures = 0;
  #unknownKeyRefetchAt = Number.NEGATIVE_INFINITY;
  #download: Promise<boolean> | undefined;
  /** The download that starts when the current pause ends, which connects without keys wait for. */
  #afterPause: Promise<boolean> | undefined;

  constructor(
    uri: string,
    options: Required<RemoteKeySetOptions>,
    closing: AbortSignal,
    onDownload?: KeySetDownloadListener,
  ) {
    this.uri = uri;
    this.#options = options;
    this.#closing = closing;
    this.#onDownload = onDownload;
  }

  /** True once a set was fetched (it may be stale). */
  get hasKeys(): boolean {
    return this.#keys !== undefined;
  }

  /** Counts the sets downloaded: it changes whenever the keys in hand may have. */
  get generation(): number {
    return this.#generation;
  }

  /** True when the set in hand lists the public key with this {@link publicKeyFingerprint}. */
  holdsKey(fingerprint: string): boolean {
    return this.#fingerprints.has(fingerprint);
  }

  /**
   * Starts a download if no set was fetched yet, without waiting for it. Never throws. The guard
   * warms right after compiling, often before the process serving the keys (sometimes this very
   * server) listens: a failure starts only the shortest pause, which the first connect waits out.
   */
  warm(): void {
    if (!this.#keys) void this.#refresh();
  }

  /** Starts a background refresh of a set in hand that is older than `cacheMaxAgeMs`. */
  keepFresh(): void {
    if (this.#keys && Date.now() - this.#fetchedAt >= this.#options.cacheMaxAgeMs) void this.#refresh();
  }

  /** A jose key resolver (`jwtVerify(token, set.getKey, options)`). */
  readonly getKey: JWTVerifyGetKey = async (protectedHeader, token) => {
    let keys = this.#keys;
    if (!keys) {
      await this.#refresh();
      keys = this.#keys;
      if (!keys) throw new KeysUnavailableError();
    } else {
      this.keepFresh();
    }
    try {
      return await keys(protectedHeader, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // Perhaps a key rotated in since the last download. Joining a download under way costs the
      // endpoint nothing; starting one is allowed once per cooldown, so random `kid`s cannot make
      // sockguard hammer the identity provider.
      if (!this.#download) {
        if (Date.now() - this.#unknownKeyRefetchAt < this.#options.unknownKeyCooldownMs) throw error;
        this.#unknownKeyRefetchAt = Date.now();
      }
      if (!(await this.#refresh())) throw new KeysUnavailableError();
      return await this.#keys!(protectedHeader, token);
    }
  };

  /**
   * Downloads the set unless a download is under way (then joins it). Within the pause after a
   * failure: with a set in hand, nothing is downloaded; without one, the caller waits for the
   * download that starts when the pause ends. True when a new set is in place.
   */
  #refresh(): Promise<boolean> {
    if (this.#download) return this.#download;
    const pause = this.#retryAt - Date.now();
    if (pause > 0) {
      if (this.#keys) return Promise.resolve(false);
      return (this.#afterPause ??= this.#downloadAfter(pause));
    }
    this.#download = this.#downloadOnce().finally(() => {
      this.#download = undefined;
    });
    return this.#download;
  }

  async #downloadAfter(pause: number): Promise<boolean> {
    try {
      await sleep(pause, undefined, { signal: this.#closing, ref: false });
    } catch {
      return false; // the guard closed
    } finally {
      this.#afterPause = undefined;
    }
    return this.#refresh();
  }

  async #downloadOnce(): Promise<boolean> {
    try {
      const { keys, fingerprints } = await downloadKeySet(this.uri, this.#options, this.#closing);
      this.#keys = keys;
      this.#fingerprints = fingerprints;
      this.#generation += 1;
      this.#fetchedAt = Date.now();
      this.#failures = 0;
      this.#retryAt = Number.NEGATIVE_INFINITY;
      this.#report("ok");
      return true;
    } catch {
      // Every way the endpoint can fail lands here: refused, reset, timed out, redirected, a status
      // other than 200, too large, not JSON, not a JWK set. The cause is not kept: the decision is
      // the same (`keys_unavailable` until a download succeeds) and a body could be anything.
      this.#failures += 1;
      this.#retryAt = Date.now() + this.#pauseAfterFailure();
      if (!this.#closing.aborted) this.#report("error");
      return false;
    }
  }

  #report(result: "ok" | "error"): void {
    try {
      this.#onDownload?.(this.uri, result);
    } catch {
      // Counting a download must never change what the download did.
    }
  }

  #pauseAfterFailure(): number {
    const { retryAfterFailureMs, firstFetchRetryMs, maxFirstFetchRetryMs } = this.#options;
    if (this.#keys) return retryAfterFailureMs;
    return Math.min(maxFirstFetchRetryMs, firstFetchRetryMs * 2 ** Math.min(this.#failures - 1, 30));
  }
}

interface DownloadedKeySet {
  readonly keys: ReturnType<typeof createLocalJWKSet>;
  readonly fingerprints: ReadonlySet<string>;
}

/** Fetches `uri` and builds a local JWK set from it. Throws on any failure of the endpoint. */
async function downloadKeySet(
  uri: string,
  options: Required<RemoteKeySetOptions>,
  closing: AbortSignal,
): Promise<DownloadedKeySet> {
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), closing]);
  const response = await fetch(uri, {
    signal,
    redirect: "error",
    headers: { accept: "application/jwk-set+json, application/json" },
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`the JWK set endpoint answered ${response.status}`);
  }
  const body = await readCapped(response, options.maxBytes);
  const document: unknown = JSON.parse(body);
  if (
    typeof document !== "object" ||
    document === null ||
    !Array.isArray((document as { keys?: unknown }).keys)
  ) {
    throw new Error("the JWK set endpoint did not answer a JWK set");
  }
  const set = document as Parameters<typeof createLocalJWKSet>[0];
  return { keys: createLocalJWKSet(set), fingerprints: jwkFingerprints(set.keys) };
}

/** The fingerprints of the public keys a set lists; a key Node.js cannot import serves no token, so none. */
function jwkFingerprints(keys: readonly JWK[]): ReadonlySet<string> {
  const fingerprints = new Set<string>();
  for (const jwk of keys) {
    if (typeof jwk !== "object" || jwk === null || jwk.kty === "oct" || "d" in jwk) continue;
    try {
      fingerprints.add(spkiFingerprint(createPublicKey({ key: jwk as JsonWebKey, format: "jwk" })));
    } catch {
      // not an importable public key
    }
  }
  return fingerprints;
}

const fingerprintsByKey = new WeakMap<object, string>();

/**
 * A public key's fingerprint: the SHA-256 of its SPKI encoding, whatever form it came in (a JWK in
 * a set, the `CryptoKey` jose resolved it to, a `KeyObject`), so a token cache can tell whether the
 * key that verified a token is still in its set. Computed once per key object.
 *
 * @example
 * const { key } = await jwtVerify(token, keySet.getKey, options);
 * keySet.holdsKey(publicKeyFingerprint(key)); // true until a download drops that key
 */
export function publicKeyFingerprint(key: webcrypto.CryptoKey | KeyObject): string {
  let fingerprint = fingerprintsByKey.get(key);
  if (fingerprint === undefined) {
    fingerprint = spkiFingerprint(key instanceof KeyObject ? key : KeyObject.from(key));
    fingerprintsByKey.set(key, fingerprint);
  }
  return fingerprint;
}

function spkiFingerprint(key: KeyObject): string {
  return createHash("sha256")
    .update(key.export({ type: "spki", format: "der" }))
    .digest("base64url");
}

/** The body as text, refusing more than `maxBytes` (checked as it streams, whatever Content-Length says). */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error("the JWK set is too large");
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error("the JWK set is too large");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function stripUndefined(options: RemoteKeySetOptions): RemoteKeySetOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
