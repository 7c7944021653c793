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
import type { Rule } from "../decisions.js";
import type { RuleLocator } from "./rules.js";
import type { ClaimRequirement, ClaimsRequirement, ClaimValue } from "../policy/types.js";
import type { Claims, ClaimsPredicate, CompiledClaimCheck, CompiledRequirement } from "./types.js";
import { captureReferences, substituteCaptures } from "../policy/capture-references.js";

/** The segments a namespace pattern captured from the name a client asked for (DESIGN §1.1). */
export type Captures = Readonly<Record<string, string>>;

/** The claims whose string form is a space-separated list (OAuth 2.0 `scope`, Microsoft's `scp`). */
const SPACE_SEPARATED_CLAIMS: ReadonlySet<string> = new Set(["scope", "scp"]);

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
  return predicateOf(compileClaimChecks(requirement, () => NO_RULE, NO_RULE));
}

/** The predicate of a compiled requirement: {@link unmetClaim} finds nothing. */
export function predicateOf(requirement: CompiledRequirement): ClaimsPredicate {
  return (claims) => unmetClaim(requirement, claims) === undefined;
}

/**
 * Compiles a `require` block key by key, each check with the rule `ruleFor(key)` names, so a
 * refusal can say which key failed. Throws a `TypeError` like {@link compileClaimsRequirement}.
 *
 * @example
 * const requirement = compileClaimChecks({ scope: "chat:write" }, (key) => rules.policyKey("namespaces", "/chat", "require", key), blockRule);
 * unmetClaim(requirement, { scope: "chat:read" }); // the rule of `scope`
 */
export function compileClaimChecks(
  requirement: ClaimsRequirement,
  ruleFor: (key: string) => Rule,
  rule: Rule,
  templated = false,
): CompiledRequirement {
  if (!isPlainObject(requirement))
    throw new TypeError("a claims requirement must be a mapping of claim names");
  const checks: CompiledClaimCheck[] = Object.keys(requirement).map((key) => {
    const path = claimPath(key);
    const splitsOnSpaces = path.length === 1 && SPACE_SEPARATED_CLAIMS.has(path[0]!);
    const value = requirement[key]!;
    const holdsValue =
      templated && captureReferences(value).length > 0
        ? templatedValueCheck(key, value, splitsOnSpaces)
        : compileValueCheck(key, value, splitsOnSpaces);
    const first = path[0]!;
    // A key of one segment (`scope`, `role`) reads one own property: no walk.
    const holds =
      path.length === 1
        ? (claims: Claims, captures?: Captures): boolean => {
            const claim = Object.hasOwn(claims, first) ? claims[first] : undefined;
            return claim !== undefined && claim !== null && holdsValue(claim, captures);
          }
        : (claims: Claims, captures?: Captures): boolean => {
            const claim = readClaim(claims, path);
            return claim !== undefined && claim !== null && holdsValue(claim, captures);
          };
    return Object.freeze({ key, rule: ruleFor(key), holds });
  });
  return Object.freeze({ rule, checks: Object.freeze(checks) });
}

/**
 * Compiles the `require` block at `at` (path segments in the policy), each key with its rule.
 *
 * @example
 * compileRequirementAt(namespace.require, rules, ["namespaces", "/chat"]);
 */
export function compileRequirementAt(
  requirement: ClaimsRequirement,
  rules: RuleLocator,
  at: readonly string[],
  templated = false,
): CompiledRequirement {
  return compileClaimChecks(
    requirement,
    (key) => rules.policyKey(...at, "require", key),
    rules.policyKey(...at, "require"),
    templated,
  );
}

/**
 * The rule of the first key of `requirement` that `claims` do not hold, or undefined when all hold.
 * Anonymous (no claims) fails the first key, or the block itself when it names none. `captures` are
 * what the namespace's pattern captured; a `{name}` the requirement names and they lack never holds.
 *
 * @example
 * unmetClaim(requirement, undefined); // the first key's rule: anonymous holds nothing
 */
export function unmetClaim(
  requirement: CompiledRequirement,
  claims: Claims | undefined,
  captures?: Captures,
): Rule | undefined {
  const checks = requirement.checks;
  if (!isPlainObject(claims)) return checks.length > 0 ? checks[0]!.rule : requirement.rule;
  for (let i = 0; i < checks.length; i++) {
    if (!checks[i]!.holds(claims, captures)) return checks[i]!.rule;
  }
  return undefined;
}

/** The rule of requirements compiled without positions. */
const NO_RULE: Rule = Object.freeze({ file: "", line: 0, col: 0, path: "" });

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

/**
 * A value check of a pattern namespace's requirement that names captured segments: the captured
 * text replaces each `{name}` and the result is compared as a written value would be, exactly. A
 * capture that is missing fails the check.
 */
function templatedValueCheck(
  key: string,
  requirement: ClaimRequirement,
  splitsOnSpaces: boolean,
): (claim: NonNullable<unknown>, captures: Captures | undefined) => boolean {
  const resolve = (value: ClaimValue, captures: Captures | undefined): ClaimValue | undefined =>
    typeof value === "string" ? substituteCaptures(value, captures) : value;
  return (claim, captures) => {
    let resolved: ClaimRequirement | undefined;
    if (Array.isArray(requirement)) {
      const values = requirement.map((value) => resolve(value, captures));
      if (values.includes(undefined)) return false;
      resolved = values as ClaimValue[];
    } else if (isPlainObject(requirement)) {
      const values = (Array.isArray(requirement.all) ? requirement.all : []).map((value) =>
        resolve(value, captures),
      );
      if (values.includes(undefined)) return false;
      resolved = { all: values as ClaimValue[] };
    } else {
      resolved = resolve(requirement, captures);
    }
    return resolved !== undefined && compileValueCheck(key, resolved, splitsOnSpaces)(claim);
  };
}

function compileValueCheck(
  key: string,
  requirement: ClaimRequirement,
  splitsOnSpaces: boolean,
): (claim: NonNullable<unknown>) => boolean {
  if (Array.isArray(requirement)) {
    const anyOf = new Set(requirement.map((value) => claimValue(key, value)));
    const anyOfWords = [...anyOf].filter(isWord);
    return (claim) => {
      if (splitsOnSpaces && typeof claim === "string")
        return anyOfWords.some((word) => holdsWord(claim, word));
      if (Array.isArray(claim)) {
        for (const value of claim) if (anyOf.has(value as ClaimValue)) return true;
        return false;
      }
      return anyOf.has(claim as ClaimValue);
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
      if (splitsOnSpaces && typeof claim === "string")
        return allOf.every((value) => isWord(value) && holdsWord(claim, value));
      if (Array.isArray(claim)) {
        const held = new Set<unknown>(claim);
        return allOf.every((value) => held.has(value));
      }
      return allOf.every((value) => value === claim);
    };
  }
  const expected = claimValue(key, requirement);
  const expectedWord = isWord(expected) ? expected : undefined;
  return (claim) => {
    if (splitsOnSpaces && typeof claim === "string")
      return expectedWord !== undefined && holdsWord(claim, expectedWord);
    if (Array.isArray(claim)) return claim.includes(expected);
    return claim === expected;
  };
}

/**
 * True when `word` is one of the space-separated words of `text` (what `text.split(" ")` would
 * yield), found without splitting: the claims predicate runs on every event, and a split allocates.
 * One pass over `text`, comparing characters at the start of each word (a substring search would
 * set up a table on each call). `word` must itself be a word (see {@link isWord}).
 */
function holdsWord(text: string, word: string): boolean {
  const length = text.length;
  const wordLength = word.length;
  let at = 0;
  while (at + wordLength <= length) {
    let matched = 0;
    while (matched < wordLength && text.charCodeAt(at + matched) === word.charCodeAt(matched)) matched++;
    let end = at + matched;
    if (matched === wordLength && (end === length || text.charCodeAt(end) === SPACE)) return true;
    // On to the start of the next word.
    while (end < length && text.charCodeAt(end) !== SPACE) end++;
    at = end + 1;
  }
  return false;
}

/** A value a space-separated claim can hold: a non-empty string without spaces. */
function isWord(value: ClaimValue): value is string {
  return typeof value === "string" && value !== "" && !value.includes(" ");
}

const SPACE = 0x20;

function claimValue(key: string, value: unknown): ClaimValue {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  throw new TypeError(`require.${key}: a claim value must be a string, a number or a boolean`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
