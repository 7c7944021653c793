/**
 * Compiled policies put together by hand, for tests of one stage (token verification, renewal)
 * that swap a namespace or the issuers between cases without writing a policy file.
 */
import { policyRules } from "../../src/compile/compile.js";
import { compileConnection } from "../../src/compile/connection.js";
import { compileClaimChecks, predicateOf } from "../../src/compile/claims.js";
import { unlocatedNamespaceRules, unlocatedRules } from "../../src/compile/rules.js";
import type { CompiledAuth, CompiledNamespace, CompiledPolicy } from "../../src/compile/types.js";
import type { ClaimsRequirement } from "../../src/policy/types.js";

/**
 * A namespace as the compiler would build it, with rules that name no file.
 *
 * @example
 * handBuiltNamespace("/jobs", "required", ["services"], { role: "writer" });
 */
export function handBuiltNamespace(
  name: string,
  auth: CompiledNamespace["auth"],
  issuers: readonly string[],
  require?: ClaimsRequirement,
): CompiledNamespace {
  const rules = unlocatedNamespaceRules(name);
  const requirement = require
    ? compileClaimChecks(
        require,
        (key) => unlocatedRules().policyKey("namespaces", name, "require", key),
        rules.namespace,
      )
    : undefined;
  return {
    name,
    auth,
    issuers: new Set(issuers),
    ...(requirement ? { require: predicateOf(requirement), requirement } : {}),
    unknownEvents: "reject",
    events: new Map(),
    eventBudgets: [],
    spendsEventBudgets: false,
    rules,
  };
}

/**
 * A policy holding `namespace` and `auth` and every default besides.
 *
 * @example
 * await authenticate(socket.handshake, policyWith(namespace, auth), namespace.name, revocations);
 */
export function policyWith(namespace: CompiledNamespace, auth: CompiledAuth): CompiledPolicy {
  return {
    version: "hand-built",
    files: [],
    connection: compileConnection(undefined),
    auth,
    namespaces: new Map([[namespace.name, namespace]]),
    rules: policyRules(unlocatedRules(), auth),
    rateLimitIds: new Set(),
  };
}
