/**
 * Authenticates a namespace connect, and a live socket's in-band renewal (`sockguard:reauth`), by
 * the rules of DESIGN §1:
 *
 * 1. the namespace's `auth` mode: `none` ignores tokens; `optional` without a token is anonymous;
 *    `required` without one is `token_missing`; a token that is present but bad is refused in every
 *    mode, never downgraded to anonymous;
 * 2. the token's unverified `iss` picks the issuer: an unknown `iss`, or an issuer the namespace does
 *    not list, is `issuer_not_allowed` (decided before any key is fetched);
 * 3. the issuer verifies the token (`token_invalid`, `token_expired`, `keys_unavailable`);
 * 4. `guard.revoke` has not revoked it (`revoked`), asked once the verification is done, so a
 *    revocation made while the keys were being fetched is seen;
 * 5. the namespace's `require` holds, or `claims_not_satisfied`. Anonymous fails any `require`.
 */
import type { Socket } from "socket.io";
import { decodeJwt } from "jose";
import type { RevocationStore } from "../cluster/revocation-store.js";
import type { DenialCode } from "../decisions.js";
import type { CompiledAuth, CompiledNamespace, Identity } from "../compile/types.js";
import { findToken, tokenFromClientValue } from "./token-source.js";

type Handshake = Socket["handshake"];

/** The outcome of authenticating a namespace connect: an identity, anonymous (no identity), or a denial. */
export type AuthOutcome =
  { readonly ok: true; readonly identity?: Identity } | { readonly ok: false; readonly code: DenialCode };

/** An outcome that, when ok, always carries an identity (a verified token). */
export type VerifiedOutcome =
  { readonly ok: true; readonly identity: Identity } | { readonly ok: false; readonly code: DenialCode };

const ANONYMOUS: AuthOutcome = Object.freeze({ ok: true });

/**
 * Finds the token in the handshake (per `auth.tokenFrom`), verifies it with the issuer its `iss`
 * names, asks `revocations`, checks the namespace's `issuers` and `require`. Never throws.
 *
 * @example
 * io.of("/chat").use((socket, next) => {
 *   authenticate(socket.handshake, namespace, auth, revocations).then((outcome) =>
 *     outcome.ok ? next() : next(new SockguardDenial(outcome.code)),
 *   );
 * });
 */
export async function authenticate(
  handshake: Handshake,
  namespace: CompiledNamespace,
  auth: CompiledAuth,
  revocations: RevocationStore,
): Promise<AuthOutcome> {
  try {
    if (namespace.auth === "none") return ANONYMOUS;
    const lookup = findToken(handshake, auth.tokenFrom);
    if (lookup.kind === "invalid") return denied("token_invalid");
    if (lookup.kind === "absent") {
      if (namespace.auth === "required") return denied("token_missing");
      return namespace.require && !namespace.require(undefined) ? denied("claims_not_satisfied") : ANONYMOUS;
    }
    return await verifyForNamespace(lookup.token, namespace, auth, revocations);
  } catch {
    return denied("token_invalid");
  }
}

/**
 * Verifies the token a live socket sent with `sockguard:reauth` (`{ token }`; a raw token or
 * `Bearer <token>`): the connect rules, including the namespace's `issuers` and `require`, and it
 * must come from the same issuer (`issuer_not_allowed` otherwise) and name the same, present
 * subject (`token_invalid` otherwise, also when either side has no `sub`); a revoked token is
 * `revoked`. Never throws.
 *
 * @example
 * socket.on("sockguard:reauth", async ({ token }, ack) => {
 *   const outcome = await verifyReauthToken(token, namespace, auth, revocations, current);
 *   ack(outcome.ok ? { ok: true, expiresAt: outcome.identity.expiresAt } : { error: denialBody(outcome.code) });
 * });
 */
export async function verifyReauthToken(
  token: unknown,
  namespace: CompiledNamespace,
  auth: CompiledAuth,
  revocations: RevocationStore,
  current: Identity,
): Promise<VerifiedOutcome> {
  try {
    const candidate = tokenFromClientValue(token);
    if (candidate === undefined) return denied("token_invalid");
    const outcome = await verifyForNamespace(candidate, namespace, auth, revocations);
    if (!outcome.ok) return outcome;
    const identity = outcome.identity;
    if (identity.issuer !== current.issuer) return denied("issuer_not_allowed");
    if (identity.subject === undefined || identity.subject !== current.subject)
      return denied("token_invalid");
    return { ok: true, identity };
  } catch {
    return denied("token_invalid");
  }
}

async function verifyForNamespace(
  token: string,
  namespace: CompiledNamespace,
  auth: CompiledAuth,
  revocations: RevocationStore,
): Promise<VerifiedOutcome> {
  const iss = unverifiedIssuer(token);
  if (iss === undefined) return denied("token_invalid");
  const issuer = auth.issuersByIss.get(iss);
  if (!issuer || !namespace.issuers.has(issuer.name)) return denied("issuer_not_allowed");
  const result = await issuer.verify(token);
  if (!result.ok) return result;
  if (await revocations.isRevoked(result.identity, Date.now())) return denied("revoked");
  if (namespace.require && !namespace.require(result.identity.claims)) return denied("claims_not_satisfied");
  return result;
}

/**
 * The `iss` a token claims, read before verifying it so the right keys can be picked: jose's
 * `decodeJwt` throws on anything that is not a well-formed JWT, which is `token_invalid`. A token
 * without a string `iss` cannot name an issuer and is invalid too.
 */
function unverifiedIssuer(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

type Denied = { readonly ok: false; readonly code: DenialCode };
const DENIALS = new Map<DenialCode, Denied>();

/** One frozen outcome per code, so a refused connect allocates nothing for its answer. */
function denied(code: DenialCode): Denied {
  let outcome = DENIALS.get(code);
  if (!outcome) {
    outcome = Object.freeze({ ok: false, code });
    DENIALS.set(code, outcome);
  }
  return outcome;
}
