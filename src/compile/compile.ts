/**
 * A checked policy → an immutable {@link CompiledPolicy}. Everything expensive happens here, once:
 * origin parsing, proxy ranges, issuers' keys and one ajv validator per event argument, in a fresh
 * ajv instance per compile (schema ids would clash across reloads otherwise).
 */
import { createEventAjv } from "../policy/ajv.js";
import type { PolicyLoadResult } from "../policy/loaded.js";
import type { NamespacePolicy } from "../policy/types.js";
import type { Ajv2020 } from "ajv/dist/2020.js";
import { compileAuth, type CompileContext } from "./auth.js";
import { compileQuotaRule, compileRateRule } from "./budgets.js";
import { compileClaimsRequirement } from "./claims.js";
import { PolicyCompileError } from "./compile-error.js";
import { compileConnection } from "./connection.js";
import { compileEventValidators } from "./events.js";
import type { CompiledAuth, CompiledNamespace, CompiledPolicy } from "./types.js";

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
  const connection = compileConnection(
    policy.connection,
    namespacePolicies.some((namespace) => namespace.allowMissingOrigin === true),
  );
  const auth = compileAuth(policy.auth, resources, context);
  // The loader checked every schema against the meta-schema; compiling need not again.
  const ajv = createEventAjv(resources.schemas, { validateSchema: false });
  const namespaces = new Map<string, CompiledNamespace>();
  for (const [name, namespace] of Object.entries(policy.namespaces ?? {})) {
    namespaces.set(name, compileNamespace(name, namespace, auth, ajv));
  }
  return Object.freeze({
    version: loaded.version,
    files: Object.freeze([...loaded.files]),
    connection,
    auth,
    namespaces,
  });
}

function compileNamespace(
  name: string,
  namespace: NamespacePolicy,
  auth: CompiledAuth,
  ajv: Ajv2020,
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
  return Object.freeze({
    name,
    auth: mode,
    issuers,
    ...(namespace.require ? { require: compileClaimsRequirement(namespace.require) } : {}),
    unknownEvents: namespace.unknownEvents ?? "reject",
    allowMissingOrigin: namespace.allowMissingOrigin ?? false,
    events: compileEventValidators(name, namespace.events ?? {}, ajv),
    ...(namespace.rateLimit === undefined
      ? {}
      : {
          rateLimit: compileRateRule(namespace.rateLimit, { kind: "connect", namespace: name }, [
            "namespaces",
            name,
            "rateLimit",
          ]),
        }),
    ...(namespace.maxConnections === undefined
      ? {}
      : {
          maxConnections: compileQuotaRule(namespace.maxConnections, { kind: "namespace", namespace: name }),
        }),
    ...(namespace.eventRateLimit === undefined
      ? {}
      : {
          eventRateLimit: compileRateRule(namespace.eventRateLimit, { kind: "events", namespace: name }, [
            "namespaces",
            name,
            "eventRateLimit",
          ]),
        }),
  });
}
