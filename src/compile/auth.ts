/**
 * Compiles the policy's `auth` block: where tokens are looked for, the clock tolerance, and one
 * verifier per issuer, indexed both by its name in the policy and by the `iss` its tokens carry.
 */
import type { AuthPolicy, TokenSource } from "../policy/types.js";
import type { PolicyResources } from "../policy/loaded.js";
import { parseDuration } from "../policy/units.js";
import { PolicyCompileError } from "./compile-error.js";
import { compileIssuer } from "./issuers.js";
import { RemoteKeySets, type KeySetDownloadListener, type RemoteKeySetOptions } from "./remote-jwks.js";
import type { TokenCaches } from "./token-cache.js";
import { SchemaValidatorCache } from "./schema-validators.js";
import type { CompiledAuth, CompiledIssuer } from "./types.js";

/** Token sources when the policy names none (DESIGN §1). */
export const DEFAULT_TOKEN_SOURCES: readonly TokenSource[] = Object.freeze([
  "auth.token",
  "header.authorization",
]);

/** Clock tolerance when the policy names none (DESIGN §1). */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5;

/** How long a revocation lasts when the policy names no `revocationTtl` (DESIGN §1.1): 24 h. */
export const DEFAULT_REVOCATION_TTL_MS = 24 * 3_600_000;

/**
 * What compiling needs beyond the policy: state that outlives a single compile. The guard creates
 * one with {@link createCompileContext} and passes it to every compile, so remote key sets fetched
 * under one policy keep serving under the next.
 */
export interface CompileContext {
  /**
   * Remote JWK sets by URI, shared across reloads. Without it, each compile gets its own registry
   * (keys are then fetched again after every reload).
   */
  readonly remoteKeySets?: RemoteKeySets;
  /**
   * The verified-token caches, shared across reloads (each issuer keeps its cache while its keys,
   * audience, algorithms and `iss` stay the same). Without it, every token is verified every time.
   */
  readonly tokenCaches?: TokenCaches;
  /**
   * Event validators by schema, shared across reloads: a reload compiles only the schemas that
   * changed (or whose schema files did). Without it, each compile compiles each distinct schema once.
   */
  readonly schemaValidators?: SchemaValidatorCache;
}

/**
 * A context for a guard's lifetime. Call `context.remoteKeySets.close()` when the guard closes.
 * `tokenCaches` turns on the verified-token cache (off by default: `sockguard()` passes one).
 *
 * @example
 * const context = createCompileContext({}, undefined, new TokenCaches(DEFAULT_TOKEN_CACHE_LIMITS));
 * const auth = compileAuth(policy.auth, resources, context); // on start and on every reload
 * warmIssuerKeys(auth);
 */
export function createCompileContext(
  options: RemoteKeySetOptions = {},
  onKeySetDownload?: KeySetDownloadListener,
  tokenCaches?: TokenCaches,
): CompileContext & {
  readonly remoteKeySets: RemoteKeySets;
} {
  return {
    remoteKeySets: new RemoteKeySets(options, onKeySetDownload),
    schemaValidators: new SchemaValidatorCache(),
    ...(tokenCaches ? { tokenCaches } : {}),
  };
}

/**
 * Compiles `auth`: token sources, clock tolerance and one verifier per issuer. Throws
 * {@link PolicyCompileError} when an issuer's keys cannot be prepared; nothing is fetched here.
 *
 * @example
 * const auth = compileAuth(
 *   { issuers: { services: { issuer: "urn:example:services", secret, audience: "any", algorithms: ["HS256"] } } },
 *   resources,
 *   context,
 * );
 * auth.issuersByIss.get("urn:example:services")?.name; // "services"
 */
export function compileAuth(
  auth: AuthPolicy | undefined,
  resources: PolicyResources,
  context: CompileContext,
): CompiledAuth {
  const clockToleranceSec = compileClockTolerance(auth?.clockTolerance);
  const remoteKeySets = context.remoteKeySets ?? new RemoteKeySets();
  const issuers = new Map<string, CompiledIssuer>();
  const issuersByIss = new Map<string, CompiledIssuer>();

  for (const [name, entry] of Object.entries(auth?.issuers ?? {})) {
    const issuer = compileIssuer(name, entry, {
      clockToleranceSec,
      resources,
      remoteKeySets,
      ...(context.tokenCaches ? { tokenCaches: context.tokenCaches } : {}),
    });
    const other = issuersByIss.get(issuer.iss);
    if (other) {
      throw new PolicyCompileError(
        ["auth", "issuers", name, "issuer"],
        `issuers "${other.name}" and "${name}" claim the same iss: a token could not tell them apart`,
      );
    }
    issuers.set(name, issuer);
    issuersByIss.set(issuer.iss, issuer);
  }
  context.tokenCaches?.retain(issuers.keys());

  return Object.freeze({
    tokenFrom: compileTokenSources(auth?.tokenFrom),
    clockToleranceSec,
    issuers,
    issuersByIss,
    revocationTtlMs: compileRevocationTtl(auth?.revocationTtl),
  });
}

/**
 * Starts downloading every remote key set the compiled `auth` uses that has no keys yet, without
 * waiting: call it after a compile so the first connect need not wait for the identity provider.
 */
export function warmIssuerKeys(auth: CompiledAuth): void {
  for (const issuer of auth.issuers.values()) issuer.warm?.();
}

/** A cookie name (RFC 6265 token) or a query parameter name: printable, no separators. */
const SOURCE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function compileTokenSources(sources: readonly TokenSource[] | undefined): readonly TokenSource[] {
  if (sources === undefined) return DEFAULT_TOKEN_SOURCES;
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new PolicyCompileError(["auth", "tokenFrom"], "list at least one token source");
  }
  sources.forEach((source, index) => {
    const name = /^(?:cookie|query)\.(.*)$/.exec(source)?.[1];
    const known =
      source === "auth.token" ||
      source === "header.authorization" ||
      (name !== undefined && SOURCE_NAME.test(name));
    if (!known) {
      throw new PolicyCompileError(
        ["auth", "tokenFrom", String(index)],
        "a token source is auth.token, header.authorization, cookie.NAME or query.NAME",
      );
    }
  });
  return Object.freeze([...sources]);
}

function compileClockTolerance(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_CLOCK_TOLERANCE_SEC;
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new PolicyCompileError(["auth", "clockTolerance"], "expected a duration such as 30s");
  return ms / 1000;
}

function compileRevocationTtl(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_REVOCATION_TTL_MS;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new PolicyCompileError(["auth", "revocationTtl"], "expected a positive duration such as 24h");
  return ms;
}
