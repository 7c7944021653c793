/**
 * Compiles one `auth.issuers` entry into a {@link CompiledIssuer}: its keys prepared once, and a
 * `verify` that runs jose's `jwtVerify` with every check the policy language promises (DESIGN §1,
 * §6): `algorithms` always passed, `iss` matched exactly, `aud` checked unless written `any`, `exp`
 * required, the clock tolerance applied.
 *
 * Key sources: `secret` (HS*, at least as long as the hash: 32, 48 or 64 bytes), `publicKey`/`publicKeyFile` (a PEM public key or
 * X.509 certificate), `jwks`/`jwksFile` (a JWK set in the policy or beside it) and `jwksUri` (a
 * remote set shared across reloads, see `remote-jwks.ts`). A key that cannot serve one of the
 * issuer's algorithms is a compile error, not a token that fails later for an obscure reason.
 * Keys are imported once: an HMAC secret becomes one `CryptoKey` per listed algorithm here, since
 * jose imports raw secret bytes (and a secret `KeyObject`, which it exports back to bytes) again
 * on every verification.
 *
 * With a {@link TokenCaches} registry, a token the issuer verified is remembered (`token-cache.ts`)
 * and skips jose the next time it is presented; revocation and claims are judged by the caller
 * either way.
 */
import { createHash, createPublicKey, webcrypto, type KeyObject } from "node:crypto";
import { resolve } from "node:path";
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import type { DenialCode } from "../decisions.js";
import type { IssuerPolicy, JsonObject } from "../policy/types.js";
import type { PolicyResources } from "../policy/loaded.js";
import {
  ALGORITHM_KEY_KINDS,
  JWS_ALGORITHMS,
  MIN_RSA_BITS,
  minimumSecretBytes,
  strictestHmacAlgorithm,
} from "../policy/algorithms.js";
import { KEY_SOURCES } from "../policy/check-auth.js";
import { keyObjectKind } from "../policy/issuer-keys.js";
import { PolicyCompileError } from "./compile-error.js";
import { KeysUnavailableError, publicKeyFingerprint, type RemoteKeySets } from "./remote-jwks.js";
import type { KeyTrust, TokenCaches, VerifiedTokenCache } from "./token-cache.js";
import type { Claims, CompiledIssuer, Identity, VerifyOptions, VerifyResult } from "./types.js";

/** A token that verified but whose registered claims have the wrong types. */
const TOKEN_INVALID: VerifyResult = Object.freeze({ ok: false, code: "token_invalid" });

/** The key jose resolved a token's verification to. */
type ResolvedKey = webcrypto.CryptoKey | KeyObject | Uint8Array;

/** What compiling an issuer needs besides its entry. */
export interface IssuerCompileSettings {
  readonly clockToleranceSec: number;
  readonly resources: PolicyResources;
  readonly remoteKeySets: RemoteKeySets;
  /** The guard's verified-token caches; without it, every token is verified every time. */
  readonly tokenCaches?: TokenCaches;
}

/**
 * Compiles one issuer entry. Throws {@link PolicyCompileError} when its keys cannot be prepared.
 *
 * @example
 * const services = compileIssuer("services", {
 *   issuer: "urn:example:services", secret: process.env.SERVICE_JWT_SECRET!, audience: "any", algorithms: ["HS256"],
 * }, { clockToleranceSec: 5, resources, remoteKeySets });
 * const result = await services.verify(token); // { ok: true, identity } or { ok: false, code }
 * await services.verify(token, { currentDate: new Date("2026-01-01T00:00:00Z") }); // judged at that instant
 */
export function compileIssuer(
  name: string,
  entry: IssuerPolicy,
  settings: IssuerCompileSettings,
): CompiledIssuer {
  const at = (...keys: string[]): string[] => ["auth", "issuers", name, ...keys];
  // jose skips the `iss` and `aud` checks when their options are undefined: refuse rather than open.
  if (typeof entry.issuer !== "string" || entry.issuer === "") {
    throw new PolicyCompileError(at("issuer"), "an issuer needs the exact `iss` its tokens carry");
  }
  checkAudience(entry.audience, at("audience"));
  const algorithms = checkAlgorithms(entry.algorithms, at("algorithms"));
  const key = prepareKey(entry, algorithms, settings, at);

  const options: JWTVerifyOptions = {
    algorithms,
    issuer: entry.issuer,
    requiredClaims: ["exp"],
    clockTolerance: settings.clockToleranceSec,
    ...(entry.audience === "any" ? {} : { audience: entry.audience }),
  };
  const toleranceMs = settings.clockToleranceSec * 1000;
  const cache = settings.tokenCaches?.forIssuer(
    name,
    issuerFingerprint(entry, algorithms, settings.clockToleranceSec, key.material),
    key.keySet,
  );

  // Promise callbacks rather than async functions: a verification is jose's own promise and one
  // step after it, with no further turns of the microtask queue.
  const verifyWithJose = (token: string, currentDate?: Date): Promise<VerifyResult> =>
    verifySignedToken(token, key.verifyWith, currentDate ? { ...options, currentDate } : options).then(
      (verified): VerifyResult => {
        try {
          const identity = identityFrom(name, entry.issuer, verified.payload);
          if (!identity) return TOKEN_INVALID;
          const result: VerifyResult = Object.freeze({ ok: true, identity });
          if (cache && !currentDate) remember(cache, token, result, toleranceMs, key.keySet, verified.key);
          return result;
        } catch (error) {
          return { ok: false, code: denialFor(error) };
        }
      },
      (error: unknown): VerifyResult => ({ ok: false, code: denialFor(error) }),
    );

  const issuer: CompiledIssuer = {
    name,
    iss: entry.issuer,
    verify(token: string, verifyOptions?: VerifyOptions): Promise<VerifyResult> {
      const currentDate = verifyOptions?.currentDate;
      // A fixed clock (a policy test's `now`) is judged afresh: the cache knows only the real one.
      if (cache && !currentDate) {
        const cached = cache.lookup(token, Date.now());
        if (cached) return Promise.resolve(cached);
      }
      return verifyWithJose(token, currentDate);
    },
    ...(cache ? { cached: (token: string) => cachedIdentity(cache, token) } : {}),
    ...(key.warm ? { warm: key.warm } : {}),
    ...(entry.jwksUri === undefined ? {} : { jwksUri: entry.jwksUri }),
  };
  return Object.freeze(issuer);
}

interface PreparedKey {
  readonly verifyWith: KeyObject | JWTVerifyGetKey;
  /** Starts fetching a remote set ahead of the first token. */
  readonly warm?: () => void;
  /** What the keys are made of, for the issuer's fingerprint (a secret only as its hash). */
  readonly material: string;
  /** A remote set, whose keys can change without a reload. */
  readonly keySet?: KeyTrust;
}

/**
 * Everything that decides whether a token verifies, hashed: a cache filled under one fingerprint
 * is never consulted under another.
 */
function issuerFingerprint(
  entry: IssuerPolicy,
  algorithms: readonly string[],
  clockToleranceSec: number,
  material: string,
): string {
  const described = JSON.stringify([entry.issuer, entry.audience, algorithms, clockToleranceSec, material]);
  return createHash("sha256").update(described).digest("base64url");
}

/** The identity the cache remembers for `token`, valid now; counts a hit only. */
function cachedIdentity(cache: VerifiedTokenCache, token: string): Identity | undefined {
  const result = cache.lookup(token, Date.now(), false);
  return result?.ok ? result.identity : undefined;
}

/** Remembers a verified token until jose would call it expired, with the key that verified it. */
function remember(
  cache: VerifiedTokenCache,
  token: string,
  result: VerifyResult & { ok: true },
  toleranceMs: number,
  keySet: KeyTrust | undefined,
  key: ResolvedKey | undefined,
): void {
  const validUntil = result.identity.expiresAt + toleranceMs;
  if (!keySet) return cache.remember(token, result, validUntil);
  if (key === undefined || key instanceof Uint8Array) return;
  cache.remember(token, result, validUntil, publicKeyFingerprint(key));
}

/** An HMAC `CryptoKey` per algorithm, imported once; jose's resolver is asked only for a listed `alg`. */
function hmacKeyResolver(secret: Uint8Array, algorithms: readonly string[]): JWTVerifyGetKey {
  const keys = new Map<string, Promise<webcrypto.CryptoKey>>();
  for (const algorithm of algorithms) {
    const imported = webcrypto.subtle.importKey(
      "raw",
      secret,
      { name: "HMAC", hash: `SHA-${algorithm.slice(2)}` },
      false,
      ["verify"],
    );
    imported.catch(() => undefined); // a failure surfaces, as token_invalid, when a token needs the key
    keys.set(algorithm, imported);
  }
  return (header) => keys.get(header.alg ?? "") ?? Promise.reject(new TypeError("no key for this algorithm"));
}

function prepareKey(
  entry: IssuerPolicy,
  algorithms: readonly string[],
  settings: IssuerCompileSettings,
  at: (...keys: string[]) => string[],
): PreparedKey {
  const present = KEY_SOURCES.filter((source) => entry[source] !== undefined);
  if (present.length !== 1) {
    throw new PolicyCompileError(at(), `an issuer needs exactly one of ${KEY_SOURCES.join(", ")}`);
  }
  const source = present[0]!;
  const kinds = new Set(algorithms.flatMap((algorithm) => ALGORITHM_KEY_KINDS.get(algorithm)!));

  if (source === "secret") {
    if (kinds.size !== 1 || !kinds.has("secret")) {
      throw new PolicyCompileError(at("algorithms"), "a secret serves only HS256, HS384 and HS512");
    }
    // The same rule as the loader's: one secret serves every listed algorithm, so the longest hash decides.
    const strictest = strictestHmacAlgorithm(algorithms)!;
    const secret = new TextEncoder().encode(entry.secret!);
    if (secret.byteLength < minimumSecretBytes(strictest)) {
      throw new PolicyCompileError(
        at("secret"),
        `an HMAC secret for ${strictest} needs at least ${minimumSecretBytes(strictest)} bytes`,
      );
    }
    return {
      verifyWith: hmacKeyResolver(secret, algorithms),
      material: createHash("sha256").update(secret).digest("base64url"),
    };
  }

  if (kinds.has("secret")) {
    throw new PolicyCompileError(
      at("algorithms"),
      "HS* algorithms need a `secret`, never a public key or JWK set",
    );
  }

  if (source === "publicKey" || source === "publicKeyFile") {
    const pem =
      source === "publicKey"
        ? entry.publicKey!
        : readKeyFile(entry.publicKeyFile!, settings.resources, at(source));
    const publicKey = importPublicKey(pem, at(source));
    const kind = keyObjectKind(publicKey);
    for (const algorithm of algorithms) {
      if (!kind || !ALGORITHM_KEY_KINDS.get(algorithm)!.includes(kind)) {
        throw new PolicyCompileError(at(source), `the key cannot verify ${algorithm} signatures`);
      }
    }
    const bits = publicKey.asymmetricKeyDetails?.modulusLength;
    if (bits !== undefined && bits < MIN_RSA_BITS) {
      throw new PolicyCompileError(at(source), `an RSA key needs at least ${MIN_RSA_BITS} bits`);
    }
    return { verifyWith: publicKey, material: pem };
  }

  if (source === "jwksUri") {
    const keySet = settings.remoteKeySets.get(entry.jwksUri!);
    return { verifyWith: keySet.getKey, warm: () => keySet.warm(), material: entry.jwksUri!, keySet };
  }

  const document =
    source === "jwks"
      ? entry.jwks!
      : parseJwksFile(readKeyFile(entry.jwksFile!, settings.resources, at(source)), at(source));
  return { verifyWith: localKeySet(document, at(source)), material: JSON.stringify(document) };
}

function checkAudience(audience: unknown, at: string[]): void {
  const audiences = Array.isArray(audience) ? audience : [audience];
  if (audiences.length === 0 || !audiences.every((value) => typeof value === "string" && value !== "")) {
    throw new PolicyCompileError(
      at,
      "an issuer needs an audience, a list of audiences, or `any` written out",
    );
  }
}

function checkAlgorithms(algorithms: readonly string[] | undefined, at: string[]): string[] {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new PolicyCompileError(at, "an issuer lists its algorithms; they are never inferred");
  }
  for (const algorithm of algorithms) {
    if (!ALGORITHM_KEY_KINDS.has(algorithm)) {
      throw new PolicyCompileError(
        at,
        `unsupported algorithm "${algorithm}" (use one of ${JWS_ALGORITHMS.join(", ")})`,
      );
    }
  }
  return [...new Set(algorithms)];
}

function readKeyFile(file: string, resources: PolicyResources, at: string[]): string {
  const content = resources.keyFiles.get(resolve(resources.baseDir, file));
  if (content === undefined) throw new PolicyCompileError(at, "the key file was not read by the loader");
  return content;
}

/** Only public material is accepted: a private key in a policy is a leak waiting to happen, so it is refused. */
function importPublicKey(pem: string, at: string[]): KeyObject {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label !== "PUBLIC KEY" && label !== "CERTIFICATE") {
    throw new PolicyCompileError(
      at,
      "expected a PEM public key (BEGIN PUBLIC KEY) or certificate (BEGIN CERTIFICATE)",
    );
  }
  try {
    return createPublicKey(pem);
  } catch {
    throw new PolicyCompileError(at, "the PEM public key or certificate does not parse");
  }
}

function parseJwksFile(content: string, at: string[]): JsonObject {
  try {
    const document: unknown = JSON.parse(content);
    if (typeof document === "object" && document !== null && !Array.isArray(document))
      return document as JsonObject;
  } catch {
    // reported below
  }
  throw new PolicyCompileError(at, "the file is not a JSON JWK set");
}

function localKeySet(document: JsonObject, at: string[]): JWTVerifyGetKey {
  const keys = document.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new PolicyCompileError(at, "a JWK set needs a non-empty `keys` array");
  for (const key of keys) {
    if (typeof key === "object" && key !== null && !Array.isArray(key) && ("d" in key || "k" in key)) {
      throw new PolicyCompileError(at, "a JWK set for verification holds public keys only");
    }
  }
  try {
    return createLocalJWKSet(document as unknown as Parameters<typeof createLocalJWKSet>[0]);
  } catch {
    throw new PolicyCompileError(at, "the JWK set is malformed");
  }
}

/**
 * Verifies a compact JWS. A key set that holds several keys fitting the token (no `kid`, say) makes
 * jose throw `ERR_JWKS_MULTIPLE_MATCHING_KEYS` with the candidates attached: each is tried in turn.
 */
function verifySignedToken(
  token: string,
  key: KeyObject | JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<{ readonly payload: JWTPayload; readonly key?: ResolvedKey }> {
  return jwtVerify(token, key as JWTVerifyGetKey, options).then(undefined, (error: unknown) =>
    verifyWithEachCandidate(token, options, error),
  );
}

/** After `ERR_JWKS_MULTIPLE_MATCHING_KEYS`: each candidate key in turn; any other error stands. */
async function verifyWithEachCandidate(
  token: string,
  options: JWTVerifyOptions,
  error: unknown,
): Promise<{ readonly payload: JWTPayload; readonly key?: ResolvedKey }> {
  if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
  for await (const candidate of error) {
    try {
      return { payload: (await jwtVerify(token, candidate, options)).payload, key: candidate };
    } catch (candidateError) {
      if (candidateError instanceof errors.JWSSignatureVerificationFailed) continue;
      throw candidateError;
    }
  }
  throw new errors.JWSSignatureVerificationFailed();
}

/**
 * The denial for a verification failure, by where it was thrown: the remote key set throws
 * {@link KeysUnavailableError} and nothing else does; jose marks an expired token with its code.
 * Everything else (a bad signature, an algorithm outside the list, a wrong `aud`, a future `nbf`,
 * a missing `exp`, a malformed token, a plain `TypeError` from a key of the wrong type) is a token
 * that must not be trusted.
 */
function denialFor(error: unknown): DenialCode {
  if (error instanceof KeysUnavailableError) return "keys_unavailable";
  if (error instanceof errors.JWTExpired) return "token_expired";
  return "token_invalid";
}

/** The identity of a verified payload; `undefined` when a registered claim has the wrong type (RFC 7519 §4.1). */
function identityFrom(name: string, iss: string, payload: JWTPayload): Identity | undefined {
  const { sub, exp, iat, jti } = payload;
  if (sub !== undefined && typeof sub !== "string") return undefined;
  if (jti !== undefined && typeof jti !== "string") return undefined;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return undefined;
  // `iat` decides which tokens a revocation reaches: one that is not a finite number cannot be trusted.
  if (iat !== undefined && (typeof iat !== "number" || !Number.isFinite(iat))) return undefined;
  const claims = deepFreeze(payload) as Claims;
  // Built key by key (no spreads of temporary objects): this runs for every token verified.
  const identity: {
    issuer: string;
    iss: string;
    subject?: string;
    claims: Claims;
    expiresAt: number;
    issuedAt?: number;
    jti?: string;
  } = { issuer: name, iss, claims, expiresAt: exp * 1000 };
  if (sub !== undefined) identity.subject = sub;
  if (iat !== undefined) identity.issuedAt = iat * 1000;
  if (jti !== undefined) identity.jti = jti;
  return Object.freeze(identity);
}

/** Claims are frozen once, so the guard and the app can share them and neither can change them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
