/**
 * `{name}` references inside the `require` values of a pattern namespace (DESIGN §1.1): the text of
 * the captured segment replaces the reference before the claim is compared, exactly (no case
 * folding, no prefix match). Under an exact namespace, braces are ordinary characters.
 */
import type { ClaimRequirement, ClaimValue } from "./types.js";

/** `{identifier}`: the form a reference takes; any other brace is literal text. */
const REFERENCE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The segment names a requirement value refers to, in order.
 *
 * @example
 * captureReferences("org:{tenant}");          // ["tenant"]
 * captureReferences(["{tenant}", "admins"]);   // ["tenant"]
 */
export function captureReferences(requirement: ClaimRequirement): string[] {
  const values: ClaimValue[] = Array.isArray(requirement)
    ? requirement
    : typeof requirement === "object" && requirement !== null && Array.isArray(requirement.all)
      ? requirement.all
      : [requirement as ClaimValue];
  const names: string[] = [];
  for (const value of values) {
    if (typeof value !== "string") continue;
    for (const match of value.matchAll(REFERENCE)) names.push(match[1]!);
  }
  return names;
}

/** True when a requirement value holds a `{name}` reference. */
export function hasCaptureReference(value: ClaimValue): value is string {
  if (typeof value !== "string") return false;
  REFERENCE.lastIndex = 0;
  return REFERENCE.test(value);
}

/**
 * A reference-holding value with each `{name}` replaced by `captures[name]`; undefined when a
 * named capture is missing (the requirement then fails: a mistake fails closed).
 *
 * @example
 * substituteCaptures("org:{tenant}", { tenant: "acme" }); // "org:acme"
 */
export function substituteCaptures(
  value: string,
  captures: Readonly<Record<string, string>> | undefined,
): string | undefined {
  let missing = false;
  const text = value.replace(REFERENCE, (_whole, name: string) => {
    const captured = captures && Object.hasOwn(captures, name) ? captures[name] : undefined;
    if (captured === undefined) missing = true;
    return captured ?? "";
  });
  return missing ? undefined : text;
}
