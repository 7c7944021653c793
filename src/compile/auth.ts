// PLACEHOLDER: the token issue replaces this file whole.
import type { AuthPolicy } from "../policy/types.js";
import type { PolicyResources } from "../policy/loaded.js";
import type { CompiledAuth } from "./types.js";

/** What compiling needs beyond the policy: state shared across reloads (remote key sets). */
export interface CompileContext {
  /** Reserved for the remote JWKS registry that outlives reloads. */
  readonly shared?: unknown;
}

/** Compiles `auth`: token sources, clock tolerance and one verifier per issuer. */
export function compileAuth(
  auth: AuthPolicy | undefined,
  _resources: PolicyResources,
  _context: CompileContext,
): CompiledAuth {
  return {
    tokenFrom: auth?.tokenFrom ?? ["auth.token", "header.authorization"],
    clockToleranceSec: 5,
    issuers: new Map(),
    issuersByIss: new Map(),
  };
}
