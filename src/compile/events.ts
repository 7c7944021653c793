/**
 * Event declarations → validators: one ajv validator per distinct schema of a positional argument
 * (see `schema-validators.ts`), compiled once. Names no policy may declare are refused by the rule
 * of `policy/reserved-events.ts`.
 */
import type { ErrorObject } from "ajv";
import { schemaCounterpart, type CompileValidators, type SchemaValidator } from "./schema-validators.js";
import type { ArgSpec, BinaryArg, EventPolicy, HandshakePolicy, MessagePolicy } from "../policy/types.js";
import { isReservedEventName } from "../policy/reserved-events.js";
import { parseSize } from "../policy/units.js";
import type { RateRule } from "../budget/types.js";
import { compileRateRule } from "./budgets.js";
import { compileRequirementAt, predicateOf } from "./claims.js";
import { PolicyCompileError } from "./compile-error.js";
import { unlocatedRules, type RuleLocator } from "./rules.js";
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
 * Compiles a namespace's `events` with `validators` (over a fresh Ajv holding the policy's schema
 * files, and the validators earlier compiles made).
 * `schema: S` is `args: [S]`; a `{ binary: { maxBytes } }` position gets a size limit instead of a
 * validator. Throws {@link PolicyCompileError} for an event that cannot be compiled. `rules` locates
 * the keys behind each check (positions in the policy and its schema files).
 *
 * @example
 * const events = compileEventValidators("/chat", { typing: { args: [{ type: "string" }] } }, validators);
 * events.get("typing")?.args[0]?.validate?.("hi"); // true
 */
export function compileEventValidators(
  namespace: string,
  events: Readonly<Record<string, EventPolicy>>,
  validators: CompileValidators,
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
    const message = compileMessage(event, path, validators, rules);
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
    // Every event has every field (undefined when not declared), in one order: the per-event
    // path reads them from events of one shape, however differently the policy declares them.
    const compiledEvent: CompiledEvent = {
      name,
      require: requirement ? predicateOf(requirement) : undefined,
      requirement,
      ack:
        event.ack === undefined || event.ack === "optional"
          ? undefined
          : Object.freeze({ mode: event.ack, rule: rules.policyKey(...path, "ack") }),
      reply: event.reply ? compileMessage(event.reply, [...path, "reply"], validators, rules) : undefined,
      args: message.args,
      rateLimit,
      // The namespace's budget for all its events first, then the event's own.
      budgets: rateLimit ? Object.freeze([...namespaceBudgets, rateLimit]) : namespaceBudgets,
      rules: Object.freeze({ event: rules.policyKey(...path), args: message.rules.args }),
    };
    compiled.set(name, Object.freeze(compiledEvent));
  }
  return compiled;
}

/**
 * Compiles a namespace's `emits` (what the server may send), each emit like an event's arguments.
 *
 * @example
 * compileEmits("/chat", { presence: { args: [{ type: "string" }] } }, validators)?.declared.get("presence");
 */
export function compileEmits(
  namespace: string,
  emits: Readonly<Record<string, MessagePolicy>> | undefined,
  validators: CompileValidators,
  rules: RuleLocator = unlocatedRules(),
): CompiledEmits | undefined {
  if (emits === undefined) return undefined;
  const declared = new Map<string, CompiledEmit>();
  for (const [name, emit] of Object.entries(emits)) {
    const path = ["namespaces", namespace, "emits", name];
    if (isReservedEventName(name)) {
      throw new PolicyCompileError(path, "this event name is reserved and cannot be declared");
    }
    const message = compileMessage(emit, path, validators, rules);
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
 * compileHandshake("/chat", { auth: { type: "object" } }, validators)?.auth?.validate?.({}); // true
 */
export function compileHandshake(
  namespace: string,
  handshake: HandshakePolicy | undefined,
  validators: CompileValidators,
  rules: RuleLocator = unlocatedRules(),
): CompiledHandshake | undefined {
  if (handshake === undefined) return undefined;
  const at = ["namespaces", namespace, "handshake"];
  return Object.freeze({
    ...(handshake.auth === undefined
      ? {}
      : { auth: compileArg(handshake.auth, validators, [...at, "auth"], rules) }),
    ...(handshake.query === undefined
      ? {}
      : { query: compileArg(handshake.query, validators, [...at, "query"], rules) }),
  });
}

/** `schema: S` is `args: [S]`; each position gets its validator (or its binary limit). */
function compileMessage(
  message: MessagePolicy,
  path: readonly string[],
  validators: CompileValidators,
  rules: RuleLocator,
): CompiledMessage {
  const specs = message.args ?? (message.schema === undefined ? undefined : [message.schema]);
  if (specs === undefined) throw new PolicyCompileError(path, "a message needs `schema` or `args`");
  const argsKey = message.args ? "args" : "schema";
  const args = specs.map((spec, index) =>
    compileArg(
      spec,
      validators,
      message.args ? [...path, argsKey, String(index)] : [...path, argsKey],
      rules,
    ),
  );
  return Object.freeze({
    args: Object.freeze(args),
    rules: Object.freeze({ args: rules.policyKey(...path, argsKey) }),
  });
}

function compileArg(
  spec: ArgSpec,
  validators: CompileValidators,
  path: readonly string[],
  rules: RuleLocator,
): CompiledArg {
  const rule = rules.policyKey(...path);
  if (isBinaryArg(spec)) {
    const maxBytes = parseSize(spec.binary.maxBytes);
    if (maxBytes === undefined)
      throw new PolicyCompileError([...path, "binary", "maxBytes"], "expected a size");
    const maxBytesRule = rules.policyKey(...path, "binary", "maxBytes");
    // Both kinds of position have every field, in one order (see the event's shape above).
    return Object.freeze({
      binaryMaxBytes: maxBytes,
      validate: undefined,
      namedProperties: undefined,
      rule,
      errorRule: () => maxBytesRule,
    });
  }
  let validator: SchemaValidator;
  try {
    validator = validators.compile(spec);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PolicyCompileError(path, `the schema does not compile: ${reason}`);
  }
  if ((validator.validate as { $async?: unknown }).$async) {
    throw new PolicyCompileError(path, "asynchronous schemas ($async) cannot check events");
  }
  return Object.freeze({
    binaryMaxBytes: undefined,
    validate: validator.validate,
    namedProperties: validator.namedProperties,
    rule,
    // The failing keyword's place in this argument's schema (the validator may have been compiled
    // from an equal schema elsewhere, or by an earlier load).
    errorRule: (error: ErrorObject | undefined) =>
      (error &&
        rules.schemaKeyword(
          schemaCounterpart(validator, error.parentSchema, spec, validators.files),
          error.keyword,
        )) ??
      rule,
  });
}

function isBinaryArg(spec: ArgSpec): spec is BinaryArg {
  return typeof spec === "object" && spec !== null && !Array.isArray(spec) && "binary" in spec;
}
