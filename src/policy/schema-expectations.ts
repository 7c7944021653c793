/**
 * What `schemas/policy.schema.json` takes at one place of a policy document: the JSON types, and
 * whether the value is a secret (`writeOnly`). Read from the schema itself, so a key added to the
 * schema is typed for environment values without a second list.
 */
import type { JsonObject, JsonValue } from "./types.js";
import type { ValueExpectation } from "./env.js";
import { policySchema } from "./policy-schema.js";
import { parsePointer } from "./positions.js";
import { isJsonObject } from "./schema-walk.js";

/**
 * @example
 * expectationAt("/connection/requireTls"); // { types: Set { "boolean" }, secret: false }
 * expectationAt("/auth/issuers/svc/secret"); // { types: Set { "string" }, secret: true }
 */
export function expectationAt(pointer: string): ValueExpectation {
  const schema = policySchema();
  let nodes = alternatives(schema, [schema]);
  for (const segment of parsePointer(pointer) ?? []) {
    const next: JsonObject[] = [];
    for (const node of nodes) {
      const properties = node.properties;
      if (isJsonObject(properties) && Object.hasOwn(properties, segment)) {
        if (isJsonObject(properties[segment])) next.push(properties[segment]);
      } else if (isJsonObject(node.additionalProperties)) {
        next.push(node.additionalProperties);
      }
      if (/^(0|[1-9]\d*)$/.test(segment) && isJsonObject(node.items)) next.push(node.items);
    }
    nodes = alternatives(schema, next);
  }
  const types = new Set<string>();
  for (const node of nodes) if (typeof node.type === "string") types.add(node.type);
  return { types, secret: nodes.some((node) => node.writeOnly === true) };
}

/** Each node with every subschema that applies to the same value: `$ref` targets, `anyOf` branches, `then`/`else`. */
function alternatives(root: JsonObject, nodes: readonly JsonObject[]): JsonObject[] {
  const found: JsonObject[] = [];
  const pending = [...nodes];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (found.includes(node)) continue;
    found.push(node);
    if (typeof node.$ref === "string") {
      const target = resolveLocal(root, node.$ref);
      if (target) pending.push(target);
    }
    const branches: JsonValue[] = [
      ...(Array.isArray(node.anyOf) ? node.anyOf : []),
      node.then ?? null,
      node.else ?? null,
    ];
    for (const branch of branches) if (isJsonObject(branch)) pending.push(branch);
  }
  return found;
}

function resolveLocal(root: JsonObject, ref: string): JsonObject | undefined {
  if (!ref.startsWith("#")) return undefined;
  let current: JsonValue | undefined = root;
  for (const segment of parsePointer(ref.slice(1)) ?? []) {
    current = isJsonObject(current) && Object.hasOwn(current, segment) ? current[segment] : undefined;
  }
  return isJsonObject(current) ? current : undefined;
}
