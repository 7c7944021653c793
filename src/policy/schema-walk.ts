/**
 * Visits every subschema of a JSON Schema (2020-12) with its JSON Pointer, following only the
 * keywords whose values are schemas. Values under `const`, `enum`, `default` or `examples` are data,
 * and a `$ref` key inside them is not a reference.
 */
import type { JsonObject, JsonValue } from "./types.js";
import { childPointer } from "./positions.js";

const SCHEMA_KEYWORDS = [
  "additionalProperties",
  "propertyNames",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "items",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
];
const SCHEMA_LIST_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SCHEMA_MAP_KEYWORDS = [
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
  "dependentSchemas",
  "dependencies",
];

/** A JSON object, as opposed to a list, a scalar or null. */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Calls `visit` for the schema object at `pointer` and for every schema object below it, parents
 * first. Iterative: nesting is bounded by the loader, but a walk should not depend on it.
 *
 * @example
 * forEachSubschema(schema, "/namespaces/~1chat/events/join/schema", (subschema, pointer) => {
 *   if (typeof subschema.$ref === "string") refs.push(pointer);
 * });
 */
export function forEachSubschema(
  schema: JsonValue,
  pointer: string,
  visit: (subschema: JsonObject, pointer: string) => void,
): void {
  const stack: { schema: JsonValue; pointer: string }[] = [{ schema, pointer }];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (!isJsonObject(current.schema)) continue;
    const object = current.schema;
    visit(object, current.pointer);
    const children: { schema: JsonValue; pointer: string }[] = [];
    for (const keyword of SCHEMA_KEYWORDS) {
      const child = object[keyword];
      if (child !== undefined)
        children.push({ schema: child, pointer: childPointer(current.pointer, keyword) });
    }
    for (const keyword of SCHEMA_LIST_KEYWORDS) {
      const list = object[keyword];
      if (Array.isArray(list)) {
        list.forEach((child, index) =>
          children.push({ schema: child, pointer: childPointer(current.pointer, keyword, index) }),
        );
      }
    }
    for (const keyword of SCHEMA_MAP_KEYWORDS) {
      const map = object[keyword];
      if (isJsonObject(map)) {
        for (const [name, child] of Object.entries(map)) {
          children.push({ schema: child, pointer: childPointer(current.pointer, keyword, name) });
        }
      }
    }
    // Reversed onto the stack, so subschemas are visited in document order.
    for (let index = children.length - 1; index >= 0; index -= 1) stack.push(children[index]!);
  }
}
