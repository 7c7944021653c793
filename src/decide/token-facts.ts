/**
 * From a presented token to the {@link TokenFact} {@link decideConnect} decides on. This is the one
 * asynchronous step beside the pure decisions: it asks {@link decideTokenIssuer} first (so a foreign
 * issuer never makes anyone fetch keys), then the compiled issuer's `verify` (jose, in compile/).
 * A namespace that trusts one issuer with its keys in the policy verifies at once, and reads the
 * token's `iss` only to say why a refused token was refused: the facts are the same either way.
 */
import { unverifiedIssuer } from "../compile/token-issuer.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledIssuer, CompiledPolicy, VerifyOptions, VerifyResult } from "../compile/types.js";
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
  const sole = soleLocalIssuer(policy, namespaceName);
  // The namespace trusts one issuer whose keys are in hand: jose checks the token's `iss` against
  // it, so an accepted token is parsed once. Only a refused one is read again, to say why
  // (another issuer's token is `issuer_not_allowed`, not a bad signature).
  if (sole !== undefined) {
    return sole
      .verify(token, options)
      .then((result) => verifiedOr(result, () => claimedIssuer(policy, namespaceName, token)));
  }
  const claimed = claimedIssuer(policy, namespaceName, token);
  if (!("verify" in claimed)) return Promise.resolve(claimed);
  return claimed.verify(token, options).then((result) => verifiedOr(result, () => claimed));
}

/**
 * The one issuer `namespaceName` trusts, when it trusts exactly one and that issuer's keys are in
 * the policy (a key, a secret or a JWK set file). Never a remote key set: a token of another
 * issuer must not make anyone fetch keys.
 */
function soleLocalIssuer(policy: CompiledPolicy, namespaceName: string): CompiledIssuer | undefined {
  const trusted = findNamespace(policy, namespaceName)?.namespace.issuers;
  if (trusted === undefined || trusted.size !== 1) return undefined;
  for (const name of trusted) {
    const issuer = policy.auth.issuers.get(name);
    return issuer?.jwksUri === undefined ? issuer : undefined;
  }
  return undefined;
}

/**
 * The issuer `token` claims (its unverified `iss`) when the namespace trusts it; otherwise the
 * fact that refuses the token: not a token, or another issuer's.
 */
function claimedIssuer(
  policy: CompiledPolicy,
  namespaceName: string,
  token: string,
): CompiledIssuer | TokenFact {
  const iss = unverifiedIssuer(token);
  if (iss === undefined) return UNREADABLE_TOKEN;
  if (decideTokenIssuer(policy, namespaceName, iss) !== ALLOWED) return { kind: "unverified", iss };
  return policy.auth.issuersByIss.get(iss)!;
}

/** The facts of a verification: its identity, or its refusal, said for the issuer `claimed` names. */
function verifiedOr(result: VerifyResult, claimed: () => CompiledIssuer | TokenFact): TokenFact {
  if (result.ok) return { kind: "verified", identity: result.identity };
  const issuer = claimed();
  return "verify" in issuer ? { kind: "failed", iss: issuer.iss, code: result.code } : issuer;
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
