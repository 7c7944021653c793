/**
 * Event declarations → validators: one ajv validator per positional argument, compiled once, and
 * the rules for event names no policy may declare.
 */
import type { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import type { ArgSpec, BinaryArg, EventPolicy } from "../policy/types.js";
import { parseSize } from "../policy/units.js";
import { compileClaimsRequirement } from "./claims.js";
import { PolicyCompileError } from "./compile-error.js";
import type { CompiledArg, CompiledEvent } from "./types.js";

/** The event the guard itself consumes: a live socket presenting a fresh token. */
export const REAUTH_EVENT = "sockguard:reauth";

/** Names Socket.IO, Node's EventEmitter or sockguard give a meaning of their own. */
const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set([
  "error",
  "connect",
  "connect_error",
  "connection",
  "disconnect",
  "disconnecting",
  "new_namespace",
  "newListener",
  "removeListener",
]);

/**
 * True for event names that can never be declared and are always refused: Socket.IO's and Node's
 * reserved names, `error`, every `sockguard:*` name (including {@link REAUTH_EVENT}, which the
 * guard consumes before this check), and all-digit names (an emitter would confuse `"1"` with the
 * numeric event `1`).
 *
 * @example
 * isReservedEventName("sockguard:denied"); // true
 * isReservedEventName("message");          // false
 */
export function isReservedEventName(name: string): boolean {
  return RESERVED_EVENT_NAMES.has(name) || name.startsWith("sockguard:") || isAllDigits(name);
}

/**
 * Compiles a namespace's `events` with `ajv` (a fresh instance holding the policy's schema files).
 * `schema: S` is `args: [S]`; a `{ binary: { maxBytes } }` position gets a size limit instead of a
 * validator. Throws {@link PolicyCompileError} for an event that cannot be compiled.
 *
 * @example
 * const events = compileEventValidators("/chat", { typing: { args: [{ type: "string" }] } }, ajv);
 * events.get("typing")?.args[0]?.validate?.("hi"); // true
 */
export function compileEventValidators(
  namespace: string,
  events: Readonly<Record<string, EventPolicy>>,
  ajv: Ajv2020,
): ReadonlyMap<string, CompiledEvent> {
  const compiled = new Map<string, CompiledEvent>();
  for (const [name, event] of Object.entries(events)) {
    const path = ["namespaces", namespace, "events", name];
    if (isReservedEventName(name) || name === REAUTH_EVENT) {
      throw new PolicyCompileError(path, "this event name is reserved and cannot be declared");
    }
    const specs = event.args ?? (event.schema === undefined ? undefined : [event.schema]);
    if (specs === undefined) throw new PolicyCompileError(path, "an event needs `schema` or `args`");
    const argsKey = event.args ? "args" : "schema";
    const args = specs.map((spec, index) =>
      compileArg(spec, ajv, event.args ? [...path, argsKey, String(index)] : [...path, argsKey]),
    );
    compiled.set(
      name,
      Object.freeze({
        name,
        ...(event.require ? { require: compileClaimsRequirement(event.require) } : {}),
        args: Object.freeze(args),
      }),
    );
  }
  return compiled;
}

function compileArg(spec: ArgSpec, ajv: Ajv2020, path: readonly string[]): CompiledArg {
  if (isBinaryArg(spec)) {
    const maxBytes = parseSize(spec.binary.maxBytes);
    if (maxBytes === undefined)
      throw new PolicyCompileError([...path, "binary", "maxBytes"], "expected a size");
    return Object.freeze({ binaryMaxBytes: maxBytes });
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(spec);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PolicyCompileError(path, `the schema does not compile: ${reason}`);
  }
  if ((validate as { $async?: unknown }).$async) {
    throw new PolicyCompileError(path, "asynchronous schemas ($async) cannot check events");
  }
  return Object.freeze({ validate });
}

function isBinaryArg(spec: ArgSpec): spec is BinaryArg {
  return typeof spec === "object" && spec !== null && !Array.isArray(spec) && "binary" in spec;
}

function isAllDigits(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}
