/**
 * The parts of a policy that are structurally sound, so the checks after the structural one still
 * run on them: a mistake in one key never hides the problems of the others (DESIGN §4).
 *
 * A fault removes the smallest part the later checks can do without: an unknown key only itself;
 * a wrong value the unit that holds it (one `connection` or `auth` setting, one key of a namespace,
 * one event, one whole issuer). An object that lost a key is marked incomplete, so checks that read
 * an absent key as its default (`auth: required`, no `issuers`, no `schema`) skip it instead of
 * reporting what only the removed key would have said.
 */
import type { JsonObject, JsonValue, Policy } from "./types.js";
import { childPointer, parsePointer } from "./positions.js";
import { isJsonObject } from "./schema-walk.js";
import { setOwnProperty } from "./json-value.js";

/** Where the structural check (or an environment value) found a problem. */
export interface StructuralFault {
  /**
   * `key`: the key at `pointer` has no place there (unknown, or a bad name); `missing`: the object
   * at `pointer` lacks a key it needs; `invalid`: the value at `pointer` is wrong.
   */
  readonly kind: "key" | "missing" | "invalid";
  readonly pointer: string;
}

/** A policy reduced to its sound parts, and what was taken out of it. */
export interface PolicyParts {
  /** The sound parts, shaped as the schema says (`namespaces` always present). */
  readonly policy: Policy;
  /** True when the value at `pointer`, or a part holding it, was taken out. */
  removed(pointer: string): boolean;
  /** True when the object at `pointer` lost a key, or lacks one it needs. */
  incomplete(pointer: string): boolean;
  /** The names under `auth.issuers` as written (broken issuers included); undefined when `auth.issuers` itself is broken. */
  readonly issuerNames: readonly string[] | undefined;
}

const ANY = Symbol("any segment");

/** The parts a wrong value takes with it, deepest first: the first that holds the value is removed. */
const UNITS: readonly (readonly (string | typeof ANY)[])[] = [
  ["auth", "issuers", ANY],
  ["namespaces", ANY, "events", ANY],
  ["namespaces", ANY, ANY],
  ["namespaces", ANY],
  ["connection", ANY],
  ["auth", ANY],
  [ANY],
];

/**
 * The sound parts of `document` (the loader's own copy: objects in it may be replaced).
 * Undefined when nothing is left to check (the document is not a map).
 *
 * @example
 * const parts = soundParts(expanded, [{ kind: "key", pointer: "/connection/orgins" }]);
 * checkConnection(parts.policy, report); // origins, transports, ... are still checked
 */
export function soundParts(document: JsonValue, faults: readonly StructuralFault[]): PolicyParts | undefined {
  if (!isJsonObject(document)) return undefined;
  const issuerNames = issuerNamesOf(document);
  const removed = new Set<string>();
  const incomplete = new Set<string>();
  /** The keys to take out of each object, by the object's pointer. */
  const removals = new Map<string, { segments: readonly string[]; keys: Set<string> }>();
  const remove = (segments: readonly string[]): void => {
    const parent = segments.slice(0, -1);
    const parentPointer = childPointer("", ...parent);
    removed.add(childPointer(parentPointer, segments.at(-1)!));
    incomplete.add(parentPointer);
    if (!removals.has(parentPointer)) removals.set(parentPointer, { segments: parent, keys: new Set() });
    removals.get(parentPointer)!.keys.add(segments.at(-1)!);
  };

  for (const fault of faults) {
    const segments = parsePointer(fault.pointer);
    if (!segments) continue;
    if (segments.length === 0) {
      if (fault.kind !== "missing") return undefined;
      incomplete.add("");
      continue;
    }
    // A key out of place takes only itself, except in an issuer: a misspelt key source leaves an
    // issuer that says nothing true about its keys.
    if (
      fault.kind === "key" &&
      !(segments[0] === "auth" && segments[1] === "issuers" && segments.length > 3)
    ) {
      remove(segments);
      continue;
    }
    remove(unitHolding(segments));
  }
  // Each object that loses keys is rebuilt once (deleting keys one by one from a map of 100,000
  // unknown keys costs far more).
  let root: JsonObject = document;
  for (const { segments, keys } of removals.values()) {
    const target = valueAt(root, segments);
    if (!isJsonObject(target)) continue;
    const kept: JsonObject = {};
    for (const [key, value] of Object.entries(target)) if (!keys.has(key)) setOwnProperty(kept, key, value);
    const parent = valueAt(root, segments.slice(0, -1));
    if (segments.length === 0) root = kept;
    else if (isJsonObject(parent)) setOwnProperty(parent, segments.at(-1)!, kept);
  }
  if (!isJsonObject(root.namespaces)) {
    removed.add("/namespaces");
    root.namespaces = {};
  }

  const isRemoved = (pointer: string): boolean => {
    // A sound policy (the usual case) has nothing removed: the checks ask once per event.
    if (removed.size === 0) return false;
    const segments = parsePointer(pointer) ?? [];
    return segments.some((_, index) => removed.has(childPointer("", ...segments.slice(0, index + 1))));
  };
  return {
    policy: root as unknown as Policy,
    removed: isRemoved,
    incomplete: (pointer) => incomplete.has(pointer) || isRemoved(pointer),
    issuerNames: isRemoved("/auth/issuers") ? undefined : issuerNames,
  };
}

/** The issuer names as written, before any issuer is removed. */
function issuerNamesOf(document: JsonObject): string[] | undefined {
  const auth = document.auth;
  if (auth === undefined) return [];
  if (!isJsonObject(auth)) return undefined;
  if (auth.issuers === undefined) return [];
  return isJsonObject(auth.issuers) ? Object.keys(auth.issuers) : undefined;
}

function unitHolding(segments: readonly string[]): readonly string[] {
  for (const unit of UNITS) {
    if (
      unit.length <= segments.length &&
      unit.every((part, index) => part === ANY || part === segments[index])
    )
      return segments.slice(0, unit.length);
  }
  return segments.slice(0, 1);
}

function valueAt(root: JsonValue, segments: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = root;
  for (const segment of segments) {
    if (!isJsonObject(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}
