/**
 * Where each check of a compiled policy is written: the {@link Rule} (file, line, column, JSON
 * Pointer) of the policy key behind it, located the first time it is read (a decision that is
 * reported, a diagnostic), not for every key of every event at compile. A key
 * the policy leaves out (a default) resolves to the nearest key that is present, the file's top at
 * worst, so a reader lands where the key would go.
 *
 * Schema keywords are located through the schema object ajv reports as an error's `parentSchema`
 * (the compiling Ajv runs `verbose`): every object of every event schema, inline or in a schema
 * file, is indexed by identity with its file and pointer the first time a compiled policy looks
 * one up; the position of a keyword inside it is looked up the first time an error names it and kept.
 */
import type { Rule } from "../decisions.js";
import type { PolicyResources } from "../policy/loaded.js";
import { childPointer, objectLocator, type SourceLocator } from "../policy/positions.js";
import { POLICY_OBJECT_FILE } from "../policy/diagnostic.js";
import type { JsonValue, Policy } from "../policy/types.js";
import { policySchemaSites } from "../policy/schema-sites.js";
import type { NamespaceRules } from "./types.js";

/** Finds the rules of one policy while it compiles. */
export interface RuleLocator {
  /** The rule of the policy key at `segments` (or of its nearest present ancestor). */
  policyKey(...segments: string[]): Rule;
  /** The rule of a key inside a schema object (`parentSchema` of an ajv error), or undefined when the object is not indexed. */
  schemaKeyword(schema: unknown, keyword: string): Rule | undefined;
  /** `text` (a path the policy names) as log lines may show it: every environment value scrubbed. */
  shown(text: string): string;
}

/**
 * Builds the locator of `policy`, whose files `resources` (from the loader) can locate. Rules name
 * their file through `redact` (the load result's): a schema file's name can come from the
 * environment, and rules end up in decisions and log lines.
 *
 * @example
 * const rules = createRuleLocator(policy, resources, loaded.redact);
 * rules.policyKey("connection", "origins"); // { file: "/srv/chat.yaml", line: 8, col: 3, path: "/connection/origins" }
 */
export function createRuleLocator(
  policy: Policy,
  resources: PolicyResources,
  redact: (text: string) => string = String,
): RuleLocator {
  const policyLocator = resources.locators?.policy ?? objectLocator(POLICY_OBJECT_FILE);
  const shownFiles = new Map<SourceLocator, string>();
  const shownFile = (locator: SourceLocator): string => {
    let file = shownFiles.get(locator);
    if (file === undefined) shownFiles.set(locator, (file = redact(locator.file)));
    return file;
  };
  let schemaIndex: Map<object, { locator: SourceLocator; pointer: string }> | undefined;
  const indexedSchemas = (): Map<object, { locator: SourceLocator; pointer: string }> => {
    if (schemaIndex) return schemaIndex;
    schemaIndex = new Map();
    for (const [url, schema] of resources.schemas) {
      const locator = resources.locators?.schemaFiles.get(url) ?? objectLocator(url);
      indexSchemaObjects(schema, "", locator, schemaIndex);
    }
    for (const site of policySchemaSites(policy)) {
      indexSchemaObjects(site.schema, site.pointer, policyLocator, schemaIndex);
    }
    return schemaIndex;
  };
  const keywordRules = new WeakMap<object, Map<string, Rule>>();

  return {
    policyKey: (...segments) =>
      lazyRule(shownFile(policyLocator), policyLocator, () => existingPointer(policy, segments)),
    shown: redact,
    schemaKeyword(schema, keyword) {
      if (typeof schema !== "object" || schema === null) return undefined;
      const site = indexedSchemas().get(schema);
      if (!site) return undefined;
      let rules = keywordRules.get(schema);
      if (!rules) {
        rules = new Map();
        keywordRules.set(schema, rules);
      }
      let rule = rules.get(keyword);
      if (!rule) {
        const pointer = Object.hasOwn(schema, keyword) ? childPointer(site.pointer, keyword) : site.pointer;
        rule = lazyRule(shownFile(site.locator), site.locator, () => pointer);
        rules.set(keyword, rule);
      }
      return rule;
    },
  };
}

/**
 * A rule whose pointer and position are worked out the first time any of them is read: a big
 * policy has several rules per event, and most are never shown (only a decision that is reported,
 * or a diagnostic, reads one). Reads give the same values every time.
 */
function lazyRule(file: string, locator: SourceLocator, pointerOf: () => string): Rule {
  let located: { readonly path: string; readonly line: number; readonly col: number } | undefined;
  const where = (): { readonly path: string; readonly line: number; readonly col: number } => {
    if (located === undefined) {
      const path = pointerOf();
      const { line, col } = locator.locate(path, "key");
      located = { path, line, col };
    }
    return located;
  };
  const rule = {
    file,
    get line() {
      return where().line;
    },
    get col() {
      return where().col;
    },
    get path() {
      return where().path;
    },
  };
  // `console.log` and `util.inspect` show the values, not `[Getter]` (not enumerable: the rule
  // still equals, and serialises as, a plain { file, line, col, path }).
  Object.defineProperty(rule, INSPECT, {
    value: () => {
      const { line, col, path } = where();
      return { file, line, col, path };
    },
  });
  return Object.freeze(rule);
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** The pointer of the deepest prefix of `segments` that exists in `document`. */
function existingPointer(document: unknown, segments: readonly string[]): string {
  let current: unknown = document;
  let pointer = "";
  for (const segment of segments) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, segment)) break;
    current = (current as Record<string, unknown>)[segment];
    pointer = childPointer(pointer, segment);
  }
  return pointer;
}

// Schemas were built by the loader's bounded conversion: their nesting is bounded, recursion is safe.
function indexSchemaObjects(
  value: JsonValue | object,
  pointer: string,
  locator: SourceLocator,
  index: Map<object, { locator: SourceLocator; pointer: string }>,
): void {
  if (typeof value !== "object" || value === null || index.has(value)) return;
  index.set(value, { locator, pointer });
  if (Array.isArray(value)) {
    value.forEach((item: JsonValue, i) => indexSchemaObjects(item, childPointer(pointer, i), locator, index));
    return;
  }
  for (const [key, item] of Object.entries(value as Record<string, JsonValue>)) {
    indexSchemaObjects(item, childPointer(pointer, key), locator, index);
  }
}

/**
 * A locator for parts compiled without a loaded policy around them (a single namespace's events,
 * say): every rule names its pointer, at no position.
 */
export function unlocatedRules(): RuleLocator {
  return {
    policyKey: (...segments) =>
      Object.freeze({ file: POLICY_OBJECT_FILE, line: 0, col: 0, path: childPointer("", ...segments) }),
    schemaKeyword: () => undefined,
    shown: String,
  };
}

/**
 * The rules of a namespace built by hand rather than compiled from a policy (tests of one stage).
 *
 * @example
 * const namespace: CompiledNamespace = { name: "/", auth: "none", ..., rules: unlocatedNamespaceRules("/") };
 */
export function unlocatedNamespaceRules(name: string): NamespaceRules {
  const rules = unlocatedRules();
  return Object.freeze({
    namespace: rules.policyKey("namespaces", name),
    auth: rules.policyKey("namespaces", name, "auth"),
    issuers: rules.policyKey("namespaces", name, "issuers"),
    events: rules.policyKey("namespaces", name, "events"),
  });
}
