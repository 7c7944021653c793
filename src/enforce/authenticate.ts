// PLACEHOLDER: the token issue replaces this file whole. Until then it fails closed.
import type { Socket } from "socket.io";

type Handshake = Socket["handshake"];
import type { DenialCode } from "../decisions.js";
import type { CompiledAuth, CompiledNamespace, Identity } from "../compile/types.js";

/** The outcome of authenticating a namespace connect: an identity, anonymous (no identity), or a denial. */
export type AuthOutcome = { readonly ok: true; readonly identity?: Identity } | { readonly ok: false; readonly code: DenialCode };

/**
 * Finds the token in the handshake (per `auth.tokenFrom`), verifies it with the issuer its `iss`
 * names, checks the namespace's `issuers` and `require`. Never throws.
 */
export async function authenticate(
  _handshake: Handshake,
  namespace: CompiledNamespace,
  _auth: CompiledAuth,
): Promise<AuthOutcome> {
  if (namespace.auth === "required") return { ok: false, code: "token_missing" };
  return { ok: true };
}
