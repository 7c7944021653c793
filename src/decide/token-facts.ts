/**
 * From a presented token to the {@link TokenFact} {@link decideConnect} decides on. This is the one
 * asynchronous step beside the pure decisions: it asks {@link decideTokenIssuer} first (so a foreign
 * issuer never makes anyone fetch keys), then the compiled issuer's `verify` (jose, in compile/).
 */
import { unverifiedIssuer } from "../compile/token-issuer.js";
import type { CompiledPolicy, VerifyOptions } from "../compile/types.js";
import { decideTokenIssuer, UNREADABLE_TOKEN, type TokenFact } from "./connect.js";
import { ALLOWED } from "./verdict.js";

/**
 * @example
 * const token = await presentedTokenFacts(policy, "/chat", rawToken);
 * const verdict = decideConnect(policy, { namespace: "/chat", token, now: Date.now() });
 */
export function presentedTokenFacts(
  policy: CompiledPolicy,
  namespaceName: string,
  token: string,
  options?: VerifyOptions,
): Promise<TokenFact> {
  const iss = unverifiedIssuer(token);
  if (iss === undefined) return Promise.resolve(UNREADABLE_TOKEN);
  if (decideTokenIssuer(policy, namespaceName, iss) !== ALLOWED)
    return Promise.resolve({ kind: "unverified", iss });
  return policy.auth.issuersByIss
    .get(iss)!
    .verify(token, options)
    .then((result): TokenFact =>
      result.ok
        ? { kind: "verified", identity: result.identity }
        : { kind: "failed", iss, code: result.code },
    );
}

/**
 * The facts of `token` when an issuer's verified-token cache holds it, without parsing it (an
 * issuer caches only tokens carrying its own `iss`); undefined when none does, and the caller goes
 * on to {@link presentedTokenFacts}. The issuer is judged as there: a token of an issuer the
 * namespace does not trust is `unverified`, never handed over as verified.
 *
 * @example
 * const token = cachedTokenFacts(policy, "/chat", rawToken) ?? (await presentedTokenFacts(policy, "/chat", rawToken));
 */
export function cachedTokenFacts(
  policy: CompiledPolicy,
  namespaceName: string,
  token: string,
): TokenFact | undefined {
  for (const issuer of policy.auth.issuers.values()) {
    const identity = issuer.cached?.(token);
    if (identity === undefined) continue;
    if (decideTokenIssuer(policy, namespaceName, identity.iss) !== ALLOWED)
      return { kind: "unverified", iss: identity.iss };
    return { kind: "verified", identity };
  }
  return undefined;
}
