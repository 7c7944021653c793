/**
 * A policy that passed the loader's checks but cannot be compiled (a key file that does not parse,
 * a key that fits none of its issuer's algorithms, ...). Compiling fails whole, so a policy is never
 * half applied; `path` points at the offending key so the caller can report a position.
 *
 * The message names the problem, never a secret or key material.
 *
 * @example
 * throw new PolicyCompileError(["auth", "issuers", "idp", "publicKeyFile"], "the file holds no PEM public key or certificate");
 */
export class PolicyCompileError extends Error {
  /** Where in the policy document the problem is, as keys from its root. */
  readonly path: readonly string[];

  constructor(path: readonly string[], problem: string) {
    super(`${path.join(".")}: ${problem}`);
    this.name = "PolicyCompileError";
    this.path = path;
  }
}
