/** A load result → a compiled policy, or the diagnostics saying why there is none. */
import type { CompileContext } from "./auth.js";
import { compilePolicy } from "./compile.js";
import { PolicyCompileError } from "./compile-error.js";
import type { CompiledPolicy } from "./types.js";
import { POLICY_OBJECT_FILE, hasErrors, type Diagnostic } from "../policy/diagnostic.js";
import { describeError, errorDiagnostic } from "../policy/error-diagnostic.js";
import type { PolicyLoadResult } from "../policy/loaded.js";

/** A compiled policy, or the diagnostics saying why there is none. */
export type CompileOutcome =
  | { readonly ok: true; readonly compiled: CompiledPolicy }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Compiles a load result, turning a load with errors or a compile failure into diagnostics.
 *
 * @example
 * const outcome = compileLoaded(await loadPolicy(path), context);
 * if (!outcome.ok) throw new PolicyLoadError(outcome.diagnostics);
 */
export function compileLoaded(result: PolicyLoadResult, context: CompileContext): CompileOutcome {
  if (hasErrors(result.diagnostics) || !result.policy) return { ok: false, diagnostics: result.diagnostics };
  try {
    return { ok: true, compiled: compilePolicy(result, context) };
  } catch (error) {
    const file = result.files[0] ?? POLICY_OBJECT_FILE;
    const path = error instanceof PolicyCompileError ? error.path : [];
    // The loader's diagnostics are scrubbed of environment values already; a compile failure (or an
    // error thrown from a library while compiling) is scrubbed the same way before anyone sees it.
    const scrub = result.redact ?? String;
    const failure = errorDiagnostic(scrub(file), path, scrub(describeError(error)));
    return { ok: false, diagnostics: [...result.diagnostics, failure] };
  }
}
