/**
 * Compiles a `require` block (DESIGN §1) into a predicate over verified claims.
 *
 * The rules, exactly:
 * - AND across keys; a list is any-of; `{ all: [...] }` needs every value.
 * - A value holds when the claim strictly equals it (YAML `true` is not `"true"`, `1` is not `"1"`)
 *   or the claim is an array holding it. Only the top-level `scope` and `scp` claims, when they are
 *   strings, are split on spaces (the OAuth form `"chat:read chat:write"`).
 * - A dotted key (`realm_access.roles`) walks own properties of objects, never into arrays and never
 *   up a prototype; a key starting with `/` is a JSON Pointer (`~1` is `/`, `~0` is `~`), for claim
 *   names that hold dots (`/https:~1~1example.com~1roles`).
 * - A missing or null claim fails; anonymous (no claims) fails every requirement.
 * - An empty list, any-of or `all`, never holds: a requirement that names nothing is a mistake, and
 *   a mistake fails closed.
 *
 * Everything that can be prepared is prepared here: the path segments and a `Set` per list, so a
 * check walks a few properties and does a few `Set` lookups.
 */
import type { ClaimRequirement, ClaimsRequirement, ClaimValue } from "../policy/types.js";
import type { Claims, ClaimsPredicate } from "./types.js";

/** The claims whose string form is a space-separated list (OAuth 2.0 `scope`, Microsoft's `scp`). */
const SPACE_SEPARATED_CLAIMS: ReadonlySet<string> = new Set(["scope", "scp"]);

/** One compiled key of a `require` block. */
interface CompiledClaimCheck {
  readonly path: readonly string[];
  /** True when the claim found at `path` (neither missing nor null) satisfies the requirement. */
  readonly holds: (claim: NonNullable<unknown>) => boolean;
}

/**
 * Compiles a `require` block into a predicate over verified claims. Throws a `TypeError` on a
 * requirement the policy language does not allow (the loader refuses those first).
 *
 * @example
 * const canWrite = compileClaimsRequirement({ scope: "chat:write", role: ["admin", "owner"] });
 * canWrite({ scope: "chat:read chat:write", role: "owner" }); // true
 * canWrite({ scope: "chat:read", role: "owner" });            // false
 * canWrite(undefined);                                        // false: anonymous
 */
export function compileClaimsRequirement(requirement: ClaimsRequirement): ClaimsPredicate {
  if (!isPlainObject(requirement))
    throw new TypeError("a claims requirement must be a mapping of claim names");
  const checks: CompiledClaimCheck[] = Object.keys(requirement).map((key) => {
    const path = claimPath(key);
    const splitsOnSpaces = path.length === 1 && SPACE_SEPARATED_CLAIMS.has(path[0]!);
    return { path, holds: compileValueCheck(key, requirement[key]!, splitsOnSpaces) };
  });

  return (claims: Claims | undefined): boolean => {
    if (!isPlainObject(claims)) return false;
    for (const check of checks) {
      const claim = readClaim(claims, check.path);
      if (claim === undefined || claim === null) return false;
      if (!check.holds(claim)) return false;
    }
    return true;
  };
}

/**
 * The property names a requirement key walks: a JSON Pointer's reference tokens when it starts with
 * `/`, else the key split on dots.
 */
export function claimPath(key: string): readonly string[] {
  if (key.startsWith("/")) {
    return key
      .slice(1)
      .split("/")
      .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
  }
  return key.split(".");
}

/** Walks own properties of plain objects; anything else on the way (an array, a string, null) ends the walk. */
function readClaim(claims: Claims, path: readonly string[]): unknown {
  let current: unknown = claims;
  for (const segment of path) {
    if (!isPlainObject(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

function compileValueCheck(
  key: string,
  requirement: ClaimRequirement,
  splitsOnSpaces: boolean,
): (claim: NonNullable<unknown>) => boolean {
  if (Array.isArray(requirement)) {
    const anyOf = new Set(requirement.map((value) => claimValue(key, value)));
    return (claim) => {
      const held = heldValues(claim, splitsOnSpaces);
      if (held === undefined) return anyOf.has(claim as ClaimValue);
      for (const value of held) if (anyOf.has(value as ClaimValue)) return true;
      return false;
    };
  }
  if (isPlainObject(requirement)) {
    const keys = Object.keys(requirement);
    if (keys.length !== 1 || keys[0] !== "all" || !Array.isArray(requirement.all)) {
      throw new TypeError(`require.${key}: a mapping requirement must be { all: [values] }`);
    }
    const allOf = [...new Set(requirement.all.map((value) => claimValue(key, value)))];
    if (allOf.length === 0) return () => false;
    return (claim) => {
      const held = heldValues(claim, splitsOnSpaces);
      if (held === undefined) return allOf.every((value) => value === claim);
      const heldSet = isArray(held) ? new Set(held) : held;
      return allOf.every((value) => heldSet.has(value));
    };
  }
  const expected = claimValue(key, requirement);
  return (claim) => {
    const held = heldValues(claim, splitsOnSpaces);
    if (held === undefined) return claim === expected;
    return isArray(held) ? held.includes(expected) : held.has(expected);
  };
}

/**
 * The values a claim holds when it holds several: an array's elements, or a `scope`/`scp` string's
 * space-separated words. `undefined` for a single value.
 */
function heldValues(
  claim: unknown,
  splitsOnSpaces: boolean,
): readonly unknown[] | ReadonlySet<unknown> | undefined {
  if (Array.isArray(claim)) return claim;
  if (splitsOnSpaces && typeof claim === "string")
    return new Set(claim.split(" ").filter((word) => word !== ""));
  return undefined;
}

function claimValue(key: string, value: unknown): ClaimValue {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  throw new TypeError(`require.${key}: a claim value must be a string, a number or a boolean`);
}

function isArray(value: readonly unknown[] | ReadonlySet<unknown>): value is readonly unknown[] {
  return Array.isArray(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
