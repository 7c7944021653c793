/**
 * Which namespace of a compiled policy a connect or an event belongs to: the exact key of that
 * name, else the one pattern that matches it (the loader made sure no two can), with what the
 * pattern captured. Everything that asks "which namespace is this socket in" asks here, so the
 * guard, `sockguard test`, `explain` and a recheck after a reload agree.
 */
import type { NamespacePattern } from "../policy/namespace-pattern.js";
import { SEGMENT_MAX_LENGTH } from "../policy/namespace-pattern.js";
import type { Captures } from "./claims.js";
import type { CompiledNamespace, CompiledPolicy } from "./types.js";

/** A namespace of the policy, and the segments its pattern captured (none for an exact key). */
export interface NamespaceMatch {
  readonly namespace: CompiledNamespace;
  readonly captures: Captures;
}

/** One pattern key, compiled: its namespace (whose `name` is the pattern as written) and matcher. */
export interface CompiledNamespacePattern {
  readonly namespace: CompiledNamespace;
  /** Anchored, ASCII segments only: a unicode look-alike never matches. */
  readonly matcher: RegExp;
  readonly names: readonly string[];
}

const NO_CAPTURES: Captures = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * Compiles a parsed pattern's matcher.
 *
 * @example
 * compilePatternMatcher(parsed).exec("/tenant-acme")?.[1]; // "acme"
 */
export function compilePatternMatcher(pattern: NamespacePattern): RegExp {
  const source = pattern.tokens
    .map((token) =>
      token.kind === "literal"
        ? token.text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")
        : `([A-Za-z0-9_.-]{1,${SEGMENT_MAX_LENGTH}})`,
    )
    .join("");
  return new RegExp(`^${source}$`);
}

/** Matches of exact namespaces, made once per compiled namespace. */
const exactMatches = new WeakMap<CompiledNamespace, NamespaceMatch>();
/** Matches of pattern namespaces by name, per policy; bounded, since names are the client's. */
const patternMatches = new WeakMap<CompiledPolicy, Map<string, NamespaceMatch | null>>();
const PATTERN_CACHE_LIMIT = 4096;

/**
 * The namespace `name` belongs to under `policy`, or undefined when the policy lists none for it.
 * Allocation-free after a name's first lookup.
 *
 * @example
 * findNamespace(policy, "/tenant-acme"); // { namespace: <"/tenant-{tenant}">, captures: { tenant: "acme" } }
 * findNamespace(policy, "/tenant-acme/x"); // undefined
 */
export function findNamespace(policy: CompiledPolicy, name: string): NamespaceMatch | undefined {
  const exact = policy.namespaces.get(name);
  if (exact) {
    let match = exactMatches.get(exact);
    if (!match) {
      match = Object.freeze({ namespace: exact, captures: NO_CAPTURES });
      exactMatches.set(exact, match);
    }
    return match;
  }
  const patterns = policy.patterns;
  if (!patterns || patterns.length === 0) return undefined;
  let cache = patternMatches.get(policy);
  if (!cache) {
    cache = new Map();
    patternMatches.set(policy, cache);
  }
  const cached = cache.get(name);
  if (cached !== undefined) return cached ?? undefined;
  const match = matchPatterns(patterns, name);
  if (cache.size >= PATTERN_CACHE_LIMIT) cache.clear();
  cache.set(name, match ?? null);
  return match;
}

function matchPatterns(
  patterns: readonly CompiledNamespacePattern[],
  name: string,
): NamespaceMatch | undefined {
  for (const pattern of patterns) {
    const found = pattern.matcher.exec(name);
    if (!found) continue;
    const captures = Object.create(null) as Record<string, string>;
    pattern.names.forEach((capture, index) => (captures[capture] = found[index + 1]!));
    return Object.freeze({ namespace: pattern.namespace, captures: Object.freeze(captures) });
  }
  return undefined;
}
