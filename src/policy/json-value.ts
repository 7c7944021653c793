/**
 * Turns an untrusted JavaScript value (a policy object from the caller, or what the YAML parser
 * built) into a fresh JSON value, or says where it is not one. Iterative, with limits on nesting and
 * size, so a cycle, a shared-reference bomb or a 20,000-deep object ends in a problem, not a crash.
 */
import type { JsonValue } from "./types.js";
import { childPointer } from "./positions.js";

/** The deepest nesting of maps and lists accepted in a policy or schema file. */
export const MAX_NESTING_DEPTH = 64;

/** The most values (scalars and collections, each visit of a shared one counted) accepted in one document. */
export const MAX_VALUES = 1_000_000;

export type JsonConversion =
  | { readonly ok: true; readonly value: JsonValue }
  | { readonly ok: false; readonly pointer: string; readonly problem: string };

interface Task {
  readonly source: unknown;
  readonly pointer: string;
  readonly depth: number;
  readonly store: (value: JsonValue) => void;
}

/**
 * Copies `input` as plain JSON. Objects must be plain (`{}` or null-prototype), numbers finite;
 * `undefined` properties are left out, as `JSON.stringify` would.
 *
 * @example
 * toJsonValue({ version: 1, namespaces: {} }); // { ok: true, value: { version: 1, namespaces: {} } }
 * toJsonValue({ when: new Date() });           // { ok: false, pointer: "/when", problem: "..." }
 */
export function toJsonValue(input: unknown): JsonConversion {
  let result: JsonValue = null;
  const stack: Task[] = [{ source: input, pointer: "", depth: 0, store: (value) => (result = value) }];
  let values = 0;
  while (stack.length > 0) {
    const { source, pointer, depth, store } = stack.pop()!;
    values += 1;
    if (values > MAX_VALUES) {
      return { ok: false, pointer: "", problem: `the document holds more than ${MAX_VALUES} values` };
    }
    if (source === null || typeof source === "string" || typeof source === "boolean") {
      store(source);
      continue;
    }
    if (typeof source === "number") {
      if (!Number.isFinite(source))
        return { ok: false, pointer, problem: `${source} is not a finite number` };
      store(source);
      continue;
    }
    if (typeof source !== "object") {
      return { ok: false, pointer, problem: `a ${typeof source} is not a JSON value` };
    }
    if (depth + 1 > MAX_NESTING_DEPTH) {
      return { ok: false, pointer, problem: `nesting is deeper than ${MAX_NESTING_DEPTH} levels` };
    }
    if (Array.isArray(source)) {
      const copy: JsonValue[] = new Array<JsonValue>(source.length).fill(null);
      store(copy);
      for (let index = source.length - 1; index >= 0; index -= 1) {
        const item: unknown = source[index];
        if (item === undefined)
          return {
            ok: false,
            pointer: childPointer(pointer, index),
            problem: "undefined is not a JSON value",
          };
        stack.push({
          source: item,
          pointer: childPointer(pointer, index),
          depth: depth + 1,
          store: (value) => (copy[index] = value),
        });
      }
      continue;
    }
    const prototype: unknown = Object.getPrototypeOf(source);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (source as { constructor?: { name?: unknown } }).constructor?.name;
      return {
        ok: false,
        pointer,
        problem: `${typeof kind === "string" ? `a ${kind}` : "this object"} is not a JSON value`,
      };
    }
    const copy: { [key: string]: JsonValue } = {};
    store(copy);
    const keys = Object.keys(source);
    for (let index = keys.length - 1; index >= 0; index -= 1) {
      const key = keys[index]!;
      const item: unknown = (source as Record<string, unknown>)[key];
      if (item === undefined) continue;
      stack.push({
        source: item,
        pointer: childPointer(pointer, key),
        depth: depth + 1,
        store: (value) => setOwnProperty(copy, key, value),
      });
    }
  }
  return { ok: true, value: result };
}

/** Sets a property, `__proto__` included, without ever touching the object's prototype. */
export function setOwnProperty(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
