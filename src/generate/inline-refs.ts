/**
 * A policy's schemas made self-contained for generators: every `$ref` (to a schema file the loader
 * read, or `#/...` inside the schema or file it is written in) is replaced by what it points at, so
 * a generator never reads the disk again and resolves references exactly as the loader did.
 * A reference that loops back into itself becomes `{}` (any value) at the point it loops.
 */
import type { PolicyResources } from "../policy/loaded.js";
import { parsePointer } from "../policy/positions.js";
import type { JsonObject, JsonValue } from "../policy/types.js";

/** Keywords a generator needs no more once references are inlined (names and ids of files). */
const DROPPED = new Set(["$id", "$schema", "$defs", "definitions", "$anchor", "$comment", "title"]);

/**
 * Returns `schema` with every `$ref` inlined. `schema` is one written in the policy (its `#/...`
 * references point into itself) or in a schema file the loader rewrote (its references are
 * absolute `file://` URLs, each file in `resources.schemas`).
 *
 * @example
 * inlineRefs({ $ref: "file:///srv/schemas/message.json" }, resources); // the file's schema, without $id
 */
export function inlineRefs(schema: JsonValue, resources: Pick<PolicyResources, "schemas">): JsonValue {
  const active = new Set<JsonValue>();
  const visit = (node: JsonValue, root: JsonValue): JsonValue => {
    if (Array.isArray(node)) return node.map((item) => visit(item, root));
    if (node === null || typeof node !== "object") return node;
    const ref = node.$ref;
    let target: { value: JsonValue; root: JsonValue } | undefined;
    if (typeof ref === "string") target = resolveRef(ref, root, resources);
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" || DROPPED.has(key)) continue;
      out[key] =
        key === "properties" || key === "patternProperties" ? visitMap(value, root) : visit(value, root);
    }
    if (!target) return out;
    if (active.has(target.value)) return out;
    active.add(target.value);
    const inlined = visit(target.value, target.root);
    active.delete(target.value);
    const siblings = Object.keys(out).filter((key) => key !== "description");
    if (siblings.length === 0) {
      return typeof inlined === "object" && inlined !== null && !Array.isArray(inlined)
        ? { ...inlined, ...out }
        : inlined;
    }
    return { ...out, allOf: [inlined] };
  };
  // Property names are the author's, not keywords: none of them is dropped.
  const visitMap = (value: JsonValue, root: JsonValue): JsonValue => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return visit(value, root);
    const out: JsonObject = {};
    for (const [name, child] of Object.entries(value)) out[name] = visit(child, root);
    return out;
  };
  return visit(schema, schema);
}

function resolveRef(
  ref: string,
  root: JsonValue,
  resources: Pick<PolicyResources, "schemas">,
): { value: JsonValue; root: JsonValue } | undefined {
  const hash = ref.indexOf("#");
  const url = hash === -1 ? ref : ref.slice(0, hash);
  const fragment = hash === -1 ? "" : ref.slice(hash + 1);
  const document: JsonValue | undefined = url === "" ? root : resources.schemas.get(url);
  if (document === undefined) return undefined;
  let value: JsonValue | undefined = document;
  for (const segment of parsePointer(decodeURIComponent(fragment)) ?? []) {
    if (value === null || typeof value !== "object") return undefined;
    value = Array.isArray(value) ? value[Number(segment)] : value[segment];
    if (value === undefined) return undefined;
  }
  return { value, root: document };
}
