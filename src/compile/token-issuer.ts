/**
 * The `iss` a token claims, read before verifying it so the right keys can be picked: jose's
 * `decodeJwt` throws on anything that is not a well-formed JWT. A token without a string `iss`
 * cannot name an issuer. Nothing read here is trusted until the issuer has verified the token.
 */
import { decodeJwt } from "jose";

/**
 * @example
 * unverifiedIssuer(token); // "https://idp.example.com/", or undefined for a malformed token
 */
export function unverifiedIssuer(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}
