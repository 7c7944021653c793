/**
 * The JWS algorithms a policy may name (those jose verifies), and the key each one needs. The
 * schema's `algorithms` enum lists the same names; a test keeps the two equal.
 */

/** A kind of verification key: an HMAC secret, or a public key of one type (and curve). */
export type KeyKind = "secret" | "rsa" | "rsa-pss" | "ec-P-256" | "ec-P-384" | "ec-P-521" | "ed25519";

/** Every accepted algorithm and the key kinds that can verify it. `none` is never one of them. */
export const ALGORITHM_KEY_KINDS: ReadonlyMap<string, readonly KeyKind[]> = new Map<
  string,
  readonly KeyKind[]
>([
  ["HS256", ["secret"]],
  ["HS384", ["secret"]],
  ["HS512", ["secret"]],
  ["RS256", ["rsa"]],
  ["RS384", ["rsa"]],
  ["RS512", ["rsa"]],
  ["PS256", ["rsa", "rsa-pss"]],
  ["PS384", ["rsa", "rsa-pss"]],
  ["PS512", ["rsa", "rsa-pss"]],
  ["ES256", ["ec-P-256"]],
  ["ES384", ["ec-P-384"]],
  ["ES512", ["ec-P-521"]],
  ["EdDSA", ["ed25519"]],
  ["Ed25519", ["ed25519"]],
]);

/** The algorithm names, in the schema's order. */
export const JWS_ALGORITHMS: readonly string[] = [...ALGORITHM_KEY_KINDS.keys()];

/** True for HS256, HS384 and HS512, which verify with a shared secret. */
export function isHmacAlgorithm(algorithm: string): boolean {
  return ALGORITHM_KEY_KINDS.get(algorithm)?.includes("secret") ?? false;
}

/**
 * The shortest secret an HMAC algorithm accepts, in bytes: the size of its hash (RFC 7518 §3.2),
 * so 32 for HS256, 48 for HS384 and 64 for HS512.
 *
 * @example
 * minimumSecretBytes("HS256"); // 32
 */
export function minimumSecretBytes(algorithm: string): number {
  const bits = Number(/^HS(\d+)$/.exec(algorithm)?.[1] ?? "256");
  return bits / 8;
}

/**
 * The HMAC algorithm of `algorithms` that needs the longest secret, so that one secret serves them
 * all; `undefined` when none of them is an HMAC algorithm.
 *
 * @example
 * strictestHmacAlgorithm(["HS256", "HS512"]); // "HS512"
 * minimumSecretBytes(strictestHmacAlgorithm(["HS256", "HS384"])!); // 48
 */
export function strictestHmacAlgorithm(algorithms: readonly string[]): string | undefined {
  let strictest: string | undefined;
  for (const algorithm of algorithms) {
    if (!isHmacAlgorithm(algorithm)) continue;
    if (strictest === undefined || minimumSecretBytes(algorithm) > minimumSecretBytes(strictest)) {
      strictest = algorithm;
    }
  }
  return strictest;
}

/** The smallest RSA modulus jose accepts, in bits. */
export const MIN_RSA_BITS = 2048;
