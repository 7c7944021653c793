/**
 * Event declarations → validators: one ajv validator per positional argument, compiled once. Names
 * no policy may declare are refused by the rule of `policy/reserved-events.ts`.
 */
import type { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { ArgSpec, BinaryArg, EventPolicy, HandshakePolicy, MessagePolicy } from "../policy/types.js";
import { isReservedEventName } from "../policy/reserved-events.js";
import { parseSize } from "../policy/units.js";
import type { RateRule } from "../budget/types.js";
import { compileRateRule } from "./budgets.js";
import { compileRequirementAt, predicateOf } from "./claims.js";
import { PolicyCompileError } from "./compile-error.js";
import { schemaErrorRule, unlocatedRules, type RuleLocator } from "./rules.js";
import type {
  CompiledArg,
  CompiledEmit,
  CompiledEmits,
  CompiledEvent,
  CompiledHandshake,
  CompiledMessage,
} from "./types.js";

// Re-exported for bench/workloads/decision.ts, which imports the rule from here.
export { isReservedEventName, REAUTH_EVENT } from "../policy/reserved-events.js";

/**
 * Compiles a namespace's `events` with `ajv` (a fresh instance holding the policy's schema files).
 * `schema: S` is `args: [S]`; a `{ binary: { maxBytes } }` position gets a size limit instead of a
 * validator. Throws {@link PolicyCompileError} for an event that cannot be compiled. `rules` locates
 * the keys behind each check (positions in the policy and its schema files).
 *
 * @example
 * const events = compileEventValidators("/chat", { typing: { args: [{ type: "string" }] } }, ajv);
 * events.get("typing")?.args[0]?.validate?.("hi"); // true
 */
export function compileEventValidators(
  namespace: string,
  events: Readonly<Record<string, EventPolicy>>,
  ajv: Ajv2020,
  rules: RuleLocator = unlocatedRules(),
  templated = false,
  namespaceBudgets: readonly RateRule[] = [],
): ReadonlyMap<string, CompiledEvent> {
  const compiled = new Map<string, CompiledEvent>();
  for (const [name, event] of Object.entries(events)) {
    const path = ["namespaces", namespace, "events", name];
    if (isReservedEventName(name)) {
      throw new PolicyCompileError(path, "this event name is reserved and cannot be declared");
    }
    const message = compileMessage(event, path, ajv, rules);
    const requirement = event.require
      ? compileRequirementAt(event.require, rules, path, templated)
      : undefined;
    const rateLimit =
      event.rateLimit === undefined
        ? undefined
        : compileRateRule(
            event.rateLimit,
            { kind: "event", namespace, event: name },
            [...path, "rateLimit"],
            undefined,
            rules.policyKey(...path, "rateLimit"),
          );
    compiled.set(
      name,
      Object.freeze({
        name,
        ...(requirement ? { require: predicateOf(requirement), requirement } : {}),
        ...(event.ack === undefined || event.ack === "optional"
          ? {}
          : { ack: Object.freeze({ mode: event.ack, rule: rules.policyKey(...path, "ack") }) }),
        ...(event.reply ? { reply: compileMessage(event.reply, [...path, "reply"], ajv, rules) } : {}),
        args: message.args,
        ...(rateLimit ? { rateLimit } : {}),
        // The namespace's budget for all its events first, then the event's own.
        budgets: rateLimit ? Object.freeze([...namespaceBudgets, rateLimit]) : namespaceBudgets,
        rules: Object.freeze({ event: rules.policyKey(...path), args: message.rules.args }),
      }),
    );
  }
  return compiled;
}

/**
 * Compiles a namespace's `emits` (what the server may send), each emit like an event's arguments.
 *
 * @example
 * compileEmits("/chat", { presence: { args: [{ type: "string" }] } }, ajv)?.declared.get("presence");
 */
export function compileEmits(
  namespace: string,
  emits: Readonly<Record<string, MessagePolicy>> | undefined,
  ajv: Ajv2020,
  rules: RuleLocator = unlocatedRules(),
): CompiledEmits | undefined {
  if (emits === undefined) return undefined;
  const declared = new Map<string, CompiledEmit>();
  for (const [name, emit] of Object.entries(emits)) {
    const path = ["namespaces", namespace, "emits", name];
    if (isReservedEventName(name)) {
      throw new PolicyCompileError(path, "this event name is reserved and cannot be declared");
    }
    const message = compileMessage(emit, path, ajv, rules);
    declared.set(
      name,
      Object.freeze({
        name,
        args: message.args,
        rules: Object.freeze({ event: rules.policyKey(...path), args: message.rules.args }),
      }),
    );
  }
  return Object.freeze({ declared, rule: rules.policyKey("namespaces", namespace, "emits") });
}

/**
 * Compiles a namespace's `handshake` schemas (the CONNECT's auth object and query).
 *
 * @example
 * compileHandshake("/chat", { auth: { type: "object" } }, ajv)?.auth?.validate?.({}); // true
 */
export function compileHandshake(
  namespace: string,
  handshake: HandshakePolicy | undefined,
  ajv: Ajv2020,
  rules: RuleLocator = unlocatedRules(),
): CompiledHandshake | undefined {
  if (handshake === undefined) return undefined;
  const at = ["namespaces", namespace, "handshake"];
  return Object.freeze({
    ...(handshake.auth === undefined
      ? {}
      : { auth: compileArg(handshake.auth, ajv, [...at, "auth"], rules) }),
    ...(handshake.query === undefined
      ? {}
      : { query: compileArg(handshake.query, ajv, [...at, "query"], rules) }),
  });
}

/** `schema: S` is `args: [S]`; each position gets its validator (or its binary limit). */
function compileMessage(
  message: MessagePolicy,
  path: readonly string[],
  ajv: Ajv2020,
  rules: RuleLocator,
): CompiledMessage {
  const specs = message.args ?? (message.schema === undefined ? undefined : [message.schema]);
  if (specs === undefined) throw new PolicyCompileError(path, "a message needs `schema` or `args`");
  const argsKey = message.args ? "args" : "schema";
  const args = specs.map((spec, index) =>
    compileArg(spec, ajv, message.args ? [...path, argsKey, String(index)] : [...path, argsKey], rules),
  );
  return Object.freeze({
    args: Object.freeze(args),
    rules: Object.freeze({ args: rules.policyKey(...path, argsKey) }),
  });
}

function compileArg(spec: ArgSpec, ajv: Ajv2020, path: readonly string[], rules: RuleLocator): CompiledArg {
  const rule = rules.policyKey(...path);
  if (isBinaryArg(spec)) {
    const maxBytes = parseSize(spec.binary.maxBytes);
    if (maxBytes === undefined)
      throw new PolicyCompileError([...path, "binary", "maxBytes"], "expected a size");
    const maxBytesRule = rules.policyKey(...path, "binary", "maxBytes");
    return Object.freeze({ binaryMaxBytes: maxBytes, rule, errorRule: () => maxBytesRule });
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
  return Object.freeze({
    validate,
    namedProperties: namedProperties(spec, ajv),
    rule,
    errorRule: (error: ErrorObject | undefined) => schemaErrorRule(rules, error, rule),
  });
}

/** Keywords whose object keys are property names. */
const NAMING_KEYWORDS = new Set(["properties", "dependentRequired", "dependentSchemas"]);

/**
 * Every property name the policy author wrote into `spec` or into a schema file the policy loads
 * (what `$ref` can reach): keys of `properties`, `dependentRequired` and `dependentSchemas`, and
 * entries of `required` and `dependentRequired`. A failure's `instancePath` may echo these; any
 * other object key in it was chosen by the client and is replaced by a placeholder.
 */
function namedProperties(spec: unknown, ajv: Ajv2020): ReadonlySet<string> {
  const names = new Set<string>();
  const seen = new Set<object>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) return node.forEach(walk);
    for (const [key, value] of Object.entries(node)) {
      if (NAMING_KEYWORDS.has(key) && value !== null && typeof value === "object" && !Array.isArray(value)) {
        for (const [name, inner] of Object.entries(value)) {
          names.add(name);
          if (Array.isArray(inner))
            for (const entry of inner) if (typeof entry === "string") names.add(entry);
        }
      }
      if (key === "required" && Array.isArray(value))
        for (const entry of value) if (typeof entry === "string") names.add(entry);
      walk(value);
    }
  };
  walk(spec);
  // The policy's schema files (not ajv's meta-schemas): whatever a `$ref` points into.
  for (const env of Object.values(ajv.schemas)) if (env && !env.meta) walk(env.schema);
  return names;
}

function isBinaryArg(spec: ArgSpec): spec is BinaryArg {
  return typeof spec === "object" && spec !== null && !Array.isArray(spec) && "binary" in spec;
}
