// PLACEHOLDER: the token issue replaces this file whole.
import type { ClaimsRequirement } from "../policy/types.js";
import type { ClaimsPredicate } from "./types.js";

/** Compiles a `require` block into a predicate over verified claims. */
export function compileClaimsRequirement(_requirement: ClaimsRequirement): ClaimsPredicate {
  return () => false;
}
