/**
 * A problem found in a policy, pointing at the exact place in the file that causes it.
 *
 * `line` and `col` are 1-based. For a policy given as an object (not a file), `file` is
 * `"<policy object>"` and `line`/`col` are 0: `path` then locates the value.
 */
export interface Diagnostic {
  /** Absolute path of the file (the policy file or a referenced schema file). */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** JSON Pointer of the offending value inside `file`'s document ("" for the root). */
  readonly path: string;
  readonly message: string;
  readonly severity: "error" | "warning";
}

/** The `file` of diagnostics about a policy that was given as an object rather than a file. */
export const POLICY_OBJECT_FILE = "<policy object>";

/** True when any diagnostic is an error (warnings alone never block a policy). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}
