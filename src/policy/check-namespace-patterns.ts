/**
 * Checks of namespace patterns (DESIGN §1.1): each pattern key is well formed, two patterns never
 * match one name (an exact key may: it wins), and a `{name}` in a `require` value names a segment
 * of its namespace's pattern.
 */
import type { ClaimsRequirement, Policy } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import { childPointer } from "./positions.js";
import {
  isPatternProblem,
  parseNamespacePattern,
  patternOverlap,
  type NamespacePattern,
} from "./namespace-pattern.js";
import { captureReferences } from "./capture-references.js";

/** At most this many segments in one pattern: bounds the overlap check on a hostile file. */
const MAX_SEGMENTS = 8;

/**
 * Reports malformed patterns, overlapping pairs (at both keys, each naming the other and where it
 * is) and `require` values naming a segment their pattern does not have.
 *
 * @example
 * checkNamespacePatterns(policy, report, (pointer) => `line ${locator.locate(pointer, "key").line}`);
 */
export function checkNamespacePatterns(
  policy: Policy,
  report: Report,
  whereIs: (pointer: string) => string,
): void {
  const patterns: NamespacePattern[] = [];
  for (const [key, namespace] of Object.entries(policy.namespaces)) {
    const at = childPointer("/namespaces", key);
    const parsed = parseNamespacePattern(key);
    if (isPatternProblem(parsed)) {
      report(at, `namespace pattern ${key}: ${parsed.problem}`, { target: "key" });
      continue;
    }
    if (parsed && parsed.names.length > MAX_SEGMENTS) {
      report(at, `namespace pattern ${key} has more than ${MAX_SEGMENTS} segments`, { target: "key" });
      continue;
    }
    const names = new Set(parsed?.names ?? []);
    if (parsed) patterns.push(parsed);
    const checkRequire = (requirement: ClaimsRequirement | undefined, pointer: string): void => {
      if (!requirement || !parsed) return;
      for (const [claim, value] of Object.entries(requirement)) {
        for (const name of captureReferences(value)) {
          if (names.has(name)) continue;
          report(
            childPointer(pointer, claim),
            `{${name}} names no segment of ${key} (it has ${parsed.names.map((n) => `{${n}}`).join(", ")})`,
          );
        }
      }
    };
    checkRequire(namespace.require, childPointer(at, "require"));
    for (const [event, spec] of Object.entries(namespace.events ?? {})) {
      checkRequire(spec.require, childPointer(at, "events", event, "require"));
    }
  }
  for (let i = 0; i < patterns.length; i++) {
    for (let j = i + 1; j < patterns.length; j++) {
      const first = patterns[i]!;
      const second = patterns[j]!;
      const shared = patternOverlap(first, second);
      if (shared === undefined) continue;
      const firstAt = childPointer("/namespaces", first.key);
      const secondAt = childPointer("/namespaces", second.key);
      const message = (other: string, otherAt: string): string =>
        `namespace patterns ${first.key} and ${second.key} can both match ${JSON.stringify(shared)}: ` +
        `make them exclusive, or list that name exactly (see ${other} at ${whereIs(otherAt)})`;
      report(firstAt, message(second.key, secondAt), { target: "key" });
      report(secondAt, message(first.key, firstAt), { target: "key" });
    }
  }
}
