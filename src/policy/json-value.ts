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
  | { readonly ok: true; readonly value: JsonValue; /** How many values it holds. */ readonly values: number }
  | { readonly ok: false; readonly pointer: string; readonly problem: string };

/** The most values a conversion accepts, and what to say when there are more. */
export interface ValueLimit {
  readonly maxValues: number;
  readonly problem: string;
}

const DEFAULT_LIMIT: ValueLimit = {
  maxValues: MAX_VALUES,
  problem: `the document holds more than ${MAX_VALUES} values`,
};

interface Task {
  readonly source: unknown;
  readonly depth: number;
  /** Where the copy goes: the parent's copy and the key (or index) in it; none for the root. */
  readonly parent?: Task;
  readonly into?: JsonValue[] | { [key: string]: JsonValue };
  readonly key?: string | number;
}

/**
 * Copies `input` as plain JSON. Objects must be plain (`{}` or null-prototype), numbers finite;
 * `undefined` properties are left out, as `JSON.stringify` would.
 *
 * @example
 * toJsonValue({ version: 1, namespaces: {} }); // { ok: true, value: { version: 1, namespaces: {} } }
 * toJsonValue({ when: new Date() });           // { ok: false, pointer: "/when", problem: "..." }
 */
export function toJsonValue(input: unknown, limit: ValueLimit = DEFAULT_LIMIT): JsonConversion {
  const root: { value: JsonValue } = { value: null };
  const stack: Task[] = [{ source: input, depth: 0 }];
  let values = 0;
  while (stack.length > 0) {
    const task = stack.pop()!;
    const { source, depth } = task;
    values += 1;
    if (values > limit.maxValues) return failure(task, limit.problem);
    let copy: JsonValue;
    if (source === null || typeof source === "string" || typeof source === "boolean") {
      copy = source;
    } else if (typeof source === "number") {
      if (!Number.isFinite(source)) return failure(task, `${source} is not a finite number`);
      copy = source;
    } else if (typeof source !== "object") {
      return failure(task, `a ${typeof source} is not a JSON value`);
    } else if (depth + 1 > MAX_NESTING_DEPTH) {
      return failure(task, `nesting is deeper than ${MAX_NESTING_DEPTH} levels`);
    } else if (Array.isArray(source)) {
      const list = new Array<JsonValue>(source.length).fill(null);
      for (let index = source.length - 1; index >= 0; index -= 1) {
        const item: unknown = source[index];
        if (item === undefined)
          return failure({ source: item, depth, parent: task, key: index }, "undefined is not a JSON value");
        stack.push({ source: item, depth: depth + 1, parent: task, into: list, key: index });
      }
      copy = list;
    } else {
      const prototype: unknown = Object.getPrototypeOf(source);
      if (prototype !== Object.prototype && prototype !== null) {
        const kind = (source as { constructor?: { name?: unknown } }).constructor?.name;
        return failure(task, `${typeof kind === "string" ? `a ${kind}` : "this object"} is not a JSON value`);
      }
      const object: { [key: string]: JsonValue } = {};
      const keys = Object.keys(source);
      for (let index = keys.length - 1; index >= 0; index -= 1) {
        const key = keys[index]!;
        const item: unknown = (source as Record<string, unknown>)[key];
        if (item !== undefined)
          stack.push({ source: item, depth: depth + 1, parent: task, into: object, key });
      }
      copy = object;
    }
    if (task.into === undefined) root.value = copy;
    else if (Array.isArray(task.into)) task.into[task.key as number] = copy;
    else setOwnProperty(task.into, task.key as string, copy);
  }
  return { ok: true, value: root.value, values };
}

/** The problem at `task`, its pointer built only now (the common case never needs it). */
function failure(task: Task, problem: string): JsonConversion {
  const segments: (string | number)[] = [];
  for (let current: Task | undefined = task; current?.key !== undefined; current = current.parent) {
    segments.push(current.key);
  }
  return { ok: false, pointer: childPointer("", ...segments.reverse()), problem };
}

/** Sets a property, `__proto__` included, without ever touching the object's prototype. */
export function setOwnProperty(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
