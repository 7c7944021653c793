/**
 * JSON text that two equal values always share, whatever order their keys were written in: the
 * key under which identical schemas are compiled once.
 */

/**
 * @example
 * canonicalJson({ type: "string", maxLength: 3 }) === canonicalJson({ maxLength: 3, type: "string" }); // true
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  const members = keys.map(
    (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
  );
  return `{${members.join(",")}}`;
}
