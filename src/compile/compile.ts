/**
 * A checked policy → an immutable {@link CompiledPolicy}. Everything expensive happens here, once:
 * origin parsing, proxy ranges, issuers' keys and one ajv validator per distinct event schema, in a
 * fresh ajv instance per compile (schema ids would clash across reloads otherwise); validators of
 * schemas an earlier compile made are reused (`context.schemaValidators`).
 */
import { createEventAjv } from "../policy/ajv.js";
import type { PolicyLoadResult } from "../policy/loaded.js";
import type { NamespacePolicy, RateLimitPolicy } from "../policy/types.js";
import { compileAuth, type CompileContext } from "./auth.js";
import { compileQuotaRule, compileRateRule } from "./budgets.js";
import { compileRequirementAt, predicateOf } from "./claims.js";
import { PolicyCompileError } from "./compile-error.js";
import { compileConnection } from "./connection.js";
import { compileEmits, compileEventValidators, compileHandshake } from "./events.js";
import { createRuleLocator, type RuleLocator } from "./rules.js";
import { compileTls } from "./tls.js";
import { compileModes } from "./modes.js";
import { CompileValidators } from "./schema-validators.js";
import type {
  CompiledAuth,
  CompiledConnection,
  CompiledNamespace,
  CompiledPolicy,
  PolicyRules,
} from "./types.js";
import { compilePatternMatcher, type CompiledNamespacePattern } from "./namespace-lookup.js";
import { isPatternProblem, parseNamespacePattern } from "../policy/namespace-pattern.js";

/**
 * Compiles a loaded policy. Throws {@link PolicyCompileError} when the load result holds no policy
 * (it had errors) or when a part of it cannot be compiled; nothing is half applied.
 *
 * @example
 * const loaded = await loadPolicy("policies/chat.yaml");
 * const compiled = compilePolicy(loaded, context);
 * compiled.namespaces.get("/chat")?.events.has("message"); // true
 */
export function compilePolicy(loaded: PolicyLoadResult, context: CompileContext): CompiledPolicy {
  const { policy, resources } = loaded;
  if (!policy || !resources) throw new PolicyCompileError([], "the policy has errors and cannot be compiled");
  const namespacePolicies = Object.values(policy.namespaces ?? {});
  const rules = createRuleLocator(policy, resources, loaded.redact);
  const connection = compileConnection(
    policy.connection,
    namespacePolicies.some((namespace) => namespace.allowMissingOrigin === true),
    compileTls(policy.connection?.tls, resources, rules),
    rules,
  );
  const auth = compileAuth(policy.auth, resources, context);
  // The loader checked every schema against the meta-schema; compiling need not again. `verbose`
  // puts the failing schema object on an error (only when one happens), which locates its keyword.
  const ajv = createEventAjv(resources.schemas, { validateSchema: false, verbose: true });
  const validators = new CompileValidators(ajv, resources.schemas, context.schemaValidators);
  const namespaces = new Map<string, CompiledNamespace>();
  const patterns: CompiledNamespacePattern[] = [];
  for (const [name, namespace] of Object.entries(policy.namespaces ?? {})) {
    const pattern = parseNamespacePattern(name);
    if (isPatternProblem(pattern)) throw new PolicyCompileError(["namespaces", name], pattern.problem);
    const compiled = compileNamespace(name, namespace, auth, validators, rules, pattern !== undefined);
    if (!pattern) namespaces.set(name, compiled);
    else
      patterns.push({ namespace: compiled, matcher: compilePatternMatcher(pattern), names: pattern.names });
  }
  validators.finish();
  return Object.freeze({
    version: loaded.version,
    files: Object.freeze([...loaded.files]),
    connection,
    auth,
    namespaces,
    patterns: Object.freeze(patterns),
    rules: policyRules(rules, auth),
    rateLimitIds: rateLimitIdsOf(connection, namespaces),
    ...optional("modes", compileModes(policy)),
  });
}

/**
 * The ids of every rate limit of a compiled policy: a reload keeps the counters of these and
 * forgets the others.
 */
export function rateLimitIdsOf(
  connection: CompiledConnection,
  namespaces: ReadonlyMap<string, CompiledNamespace>,
): ReadonlySet<string> {
  const ids = new Set<string>();
  if (connection.rateLimit) ids.add(connection.rateLimit.id);
  for (const namespace of namespaces.values()) {
    if (namespace.rateLimit) ids.add(namespace.rateLimit.id);
    if (namespace.eventRateLimit) ids.add(namespace.eventRateLimit.id);
    for (const event of namespace.events.values()) if (event.rateLimit) ids.add(event.rateLimit.id);
  }
  return ids;
}

/**
 * The policy-wide rules (the keys that decide handshakes, sizes and token lifetimes), located once.
 *
 * @example
 * policyRules(unlocatedRules(), auth).origins.path; // "/connection/origins"
 */
export function policyRules(rules: RuleLocator, auth: CompiledAuth): PolicyRules {
  const issuers = new Map<string, PolicyRules["origins"]>();
  for (const name of auth.issuers.keys()) issuers.set(name, rules.policyKey("auth", "issuers", name));
  return Object.freeze({
    origins: rules.policyKey("connection", "origins"),
    transports: rules.policyKey("connection", "transports"),
    requireTls: rules.policyKey("connection", "requireTls"),
    maxPayload: rules.policyKey("connection", "maxPayload"),
    maxDenials: rules.policyKey("connection", "maxDenials"),
    namespaces: rules.policyKey("namespaces"),
    clockTolerance: rules.policyKey("auth", "clockTolerance"),
    issuers,
  });
}

function compileNamespace(
  name: string,
  namespace: NamespacePolicy,
  auth: CompiledAuth,
  validators: CompileValidators,
  rules: RuleLocator,
  isPattern: boolean,
): CompiledNamespace {
  if (!name.startsWith("/")) throw new PolicyCompileError(["namespaces", name], "a namespace starts with /");
  const mode = namespace.auth ?? "required";
  if (!namespace.issuers && mode !== "none" && auth.issuers.size > 1) {
    throw new PolicyCompileError(["namespaces", name, "issuers"], "list the issuers this namespace trusts");
  }
  // No token is read under `none`, so a require there would be skipped, not enforced: refuse it.
  if (mode === "none" && namespace.require) {
    throw new PolicyCompileError(["namespaces", name, "require"], "require under auth: none can never hold");
  }
  const issuers = new Set(namespace.issuers ?? auth.issuers.keys());
  for (const issuer of issuers) {
    if (!auth.issuers.has(issuer)) {
      throw new PolicyCompileError(
        ["namespaces", name, "issuers"],
        `no issuer named "${issuer}" in auth.issuers`,
      );
    }
  }
  const at = ["namespaces", name];
  const requirement = namespace.require
    ? compileRequirementAt(namespace.require, rules, at, isPattern)
    : undefined;
  const rateRule = (limit: RateLimitPolicy | undefined, kind: "connect" | "events", key: string) =>
    limit === undefined
      ? undefined
      : compileRateRule(
          limit,
          { kind, namespace: name },
          [...at, key],
          undefined,
          rules.policyKey(...at, key),
        );
  const rateLimit = rateRule(namespace.rateLimit, "connect", "rateLimit");
  const eventRateLimit = rateRule(namespace.eventRateLimit, "events", "eventRateLimit");
  const eventBudgets = Object.freeze(eventRateLimit ? [eventRateLimit] : []);
  const events = compileEventValidators(
    name,
    namespace.events ?? {},
    validators,
    rules,
    isPattern,
    eventBudgets,
  );
  return Object.freeze({
    name,
    auth: mode,
    issuers,
    ...(requirement ? { require: predicateOf(requirement), requirement } : {}),
    unknownEvents: namespace.unknownEvents ?? "reject",
    allowMissingOrigin: namespace.allowMissingOrigin ?? false,
    events,
    eventBudgets,
    spendsEventBudgets:
      eventBudgets.length > 0 || [...events.values()].some((event) => event.budgets.length > 0),
    ...optional("handshake", compileHandshake(name, namespace.handshake, validators, rules)),
    ...optional("emits", compileEmits(name, namespace.emits, validators, rules)),
    rules: Object.freeze({
      namespace: rules.policyKey(...at),
      auth: rules.policyKey(...at, "auth"),
      issuers: namespace.issuers ? rules.policyKey(...at, "issuers") : rules.policyKey("auth", "issuers"),
      events: rules.policyKey(...at, "events"),
    }),
    ...(rateLimit ? { rateLimit } : {}),
    ...(namespace.maxConnections === undefined
      ? {}
      : {
          maxConnections: compileQuotaRule(
            namespace.maxConnections,
            { kind: "namespace", namespace: name },
            rules.policyKey(...at, "maxConnections"),
          ),
        }),
    ...(eventRateLimit ? { eventRateLimit } : {}),
  });
}

/** `{ [key]: value }`, or nothing when the value is absent (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
