/**
 * Authenticates a namespace connect, and a live socket's in-band renewal (`sockguard:reauth`):
 * gathers the facts decide/'s {@link decideConnect} judges and asks it. The facts are the token the
 * handshake carries (per `auth.tokenFrom`), what its issuer made of it ({@link presentedTokenFacts}:
 * the issuer is picked by the token's unverified `iss` and refused before any key is fetched when
 * the namespace does not trust it), and whether `guard.revoke` revoked it — asked once the
 * verification is done, so a revocation made while the keys were being fetched is seen.
 */
import type { Socket } from "socket.io";
import { RevocationsUnavailableError } from "../cluster/redis-revocation-store.js";
import type { RevocationStore } from "../cluster/revocation-store.js";
import type { CompiledPolicy, Identity } from "../compile/types.js";
import {
  ABSENT_TOKEN,
  ALLOWED,
  cachedTokenFacts,
  decideConnect,
  decideHandshakeFields,
  presentedTokenFacts,
  UNREADABLE_TOKEN,
  type HandshakeFacts,
  type HandshakeFields,
  type TokenFact,
  type Verdict,
} from "../decide/index.js";
import type { DenialCode } from "../decisions.js";
import { findToken, tokenFromClientValue } from "./token-source.js";
import { findNamespace } from "../compile/namespace-lookup.js";

type Handshake = Socket["handshake"];

/** A connect's verdict, and the identity of the token when it verified (admitted or not). */
export interface ConnectOutcome {
  readonly verdict: Verdict;
  readonly identity?: Identity;
}

/** An outcome that, when ok, always carries an identity (a verified token). */
export type VerifiedOutcome =
  { readonly ok: true; readonly identity: Identity } | { readonly ok: false; readonly code: DenialCode };

/**
 * Judges a connect to `namespaceName` under `policy`. `handshake` is the connection's first request
 * as decide/ reads it, for the namespace's origin rule; omitted, the origin is not judged here.
 * Never throws.
 *
 * @example
 * const { verdict, identity } = await authenticate(socket.handshake, policy, socket.nsp.name, revocations);
 * if (verdict !== ALLOWED) next(new SockguardDenial(verdict.code));
 */
export async function authenticate(
  handshake: Handshake,
  policy: CompiledPolicy,
  namespaceName: string,
  revocations: RevocationStore,
  handshakeFacts?: HandshakeFacts,
): Promise<ConnectOutcome> {
  return authenticateNow(handshake, policy, namespaceName, revocations, handshakeFacts);
}

/**
 * {@link authenticate}, answering at once when nothing has to wait: no token, or one the
 * verified-token cache holds, with a revocation store that answers synchronously (the in-process
 * one). A token to verify, or a shared store, gives a promise. The checks and their order are the
 * same either way. May throw only where `authenticate` would reject (never, by design).
 *
 * @example
 * const outcome = authenticateNow(socket.handshake, policy, socket.nsp.name, revocations);
 * if (outcome instanceof Promise) outcome.then(settle); else settle(outcome);
 */
export function authenticateNow(
  handshake: Handshake,
  policy: CompiledPolicy,
  namespaceName: string,
  revocations: RevocationStore,
  handshakeFacts?: HandshakeFacts,
): ConnectOutcome | Promise<ConnectOutcome> {
  const namespace = findNamespace(policy, namespaceName)?.namespace;
  const fields = namespace?.handshake ? handshakeFields(handshake) : undefined;
  const judged: JudgedConnect = { policy, namespaceName, handshakeFacts, fields };
  // A CONNECT its handshake schemas refuse is refused before any token is verified.
  const fieldsHold = !namespace || !fields || decideHandshakeFields(namespace, fields) === ALLOWED;
  if (!namespace || namespace.auth === "none" || !fieldsHold) return decide(judged, ABSENT_TOKEN, false);
  const lookup = findToken(handshake, policy.auth.tokenFrom);
  if (lookup.kind === "invalid") return decide(judged, UNREADABLE_TOKEN, false);
  if (lookup.kind === "absent") return decide(judged, ABSENT_TOKEN, false);
  const cached = cachedTokenFacts(policy, namespaceName, lookup.token);
  if (cached === undefined) return verifyThenDecide(judged, lookup.token, revocations);
  return checkRevocation(judged, cached, revocations);
}

/** What a connect is judged on besides its token. */
interface JudgedConnect {
  readonly policy: CompiledPolicy;
  readonly namespaceName: string;
  readonly handshakeFacts: HandshakeFacts | undefined;
  readonly fields: HandshakeFields | undefined;
}

function verifyThenDecide(
  judged: JudgedConnect,
  rawToken: string,
  revocations: RevocationStore,
): Promise<ConnectOutcome> {
  let verified: Promise<TokenFact>;
  try {
    verified = presentedTokenFacts(judged.policy, judged.namespaceName, rawToken);
  } catch {
    return Promise.resolve(decide(judged, UNREADABLE_TOKEN, false));
  }
  return verified.then(
    (token) => checkRevocation(judged, token, revocations),
    () => decide(judged, UNREADABLE_TOKEN, false),
  );
}

/**
 * Asks the revocation list about a verified token, once the verification is done (so a revocation
 * made while the keys were being fetched is seen), then decides; synchronously when the store answers so.
 */
function checkRevocation(
  judged: JudgedConnect,
  token: TokenFact,
  revocations: RevocationStore,
): ConnectOutcome | Promise<ConnectOutcome> {
  if (token.kind !== "verified") return decide(judged, token, false);
  let revoked: boolean | Promise<boolean>;
  try {
    revoked = revocations.isRevoked(token.identity, Date.now());
  } catch (error) {
    return decide(judged, revocationFailure(error, token), false);
  }
  if (typeof revoked === "boolean") return decide(judged, token, revoked);
  return revoked.then(
    (answer) => decide(judged, token, answer),
    (error: unknown) => decide(judged, revocationFailure(error, token), false),
  );
}

/** The fleet's revocations could not be loaded: refused as a passing outage, never admitted. */
function revocationFailure(error: unknown, token: TokenFact & { kind: "verified" }): TokenFact {
  return error instanceof RevocationsUnavailableError
    ? { kind: "failed", iss: token.identity.iss, code: "keys_unavailable" }
    : UNREADABLE_TOKEN;
}

function decide(judged: JudgedConnect, token: TokenFact, revoked: boolean): ConnectOutcome {
  const verdict = decideConnect(judged.policy, {
    namespace: judged.namespaceName,
    token,
    now: Date.now(),
    revoked,
    // Undefined when absent (decide/ reads them only when present): one shape, no spreads.
    handshake: judged.handshakeFacts,
    fields: judged.fields,
  });
  // A verified token's identity comes back refused or not: a refusal's decision names its subject.
  return token.kind === "verified" ? { verdict, identity: token.identity } : { verdict };
}

/** Engine.IO's and Socket.IO's own query parameters, which `handshake.query` schemas never see. */
const ENGINE_QUERY_PARAMETERS: ReadonlySet<string> = new Set(["EIO", "transport", "t", "sid", "j", "b64"]);

/**
 * The CONNECT's fields the namespace's `handshake` schemas judge: its auth object as it arrived,
 * and the query without Engine.IO's own parameters (a copy: the app's `handshake.query` is untouched).
 *
 * @example
 * handshakeFields(socket.handshake); // { auth: { token: "…" }, query: { room: "lobby" } }
 */
export function handshakeFields(handshake: Handshake): HandshakeFields {
  const query: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(handshake.query)) {
    if (!ENGINE_QUERY_PARAMETERS.has(key)) query[key] = value;
  }
  return { auth: handshake.auth, query };
}

/**
 * Verifies the token a live socket sent with `sockguard:reauth` (`{ token }`; a raw token or
 * `Bearer <token>`): the connect rules of its namespace, and it must come from the same issuer
 * (`issuer_not_allowed` otherwise) and name the same, present subject (`token_invalid` otherwise,
 * also when either side has no `sub`). Never throws.
 *
 * @example
 * const outcome = await verifyReauthToken(token, policy, socket.nsp.name, revocations, current);
 * ack(outcome.ok ? { ok: true, expiresAt: outcome.identity.expiresAt } : { error: denialBody(outcome.code) });
 */
export async function verifyReauthToken(
  token: unknown,
  policy: CompiledPolicy,
  namespaceName: string,
  revocations: RevocationStore,
  current: Identity,
): Promise<VerifiedOutcome> {
  const candidate = tokenFromClientValue(token);
  if (candidate === undefined) return denied("token_invalid");
  let fact: TokenFact;
  let revoked = false;
  try {
    fact = await presentedTokenFacts(policy, namespaceName, candidate);
    if (fact.kind === "verified") revoked = await revocations.isRevoked(fact.identity, Date.now());
  } catch {
    return denied("token_invalid");
  }
  const verdict = decideConnect(policy, { namespace: namespaceName, token: fact, now: Date.now(), revoked });
  if (verdict.code !== "allowed") return denied(verdict.code);
  if (fact.kind !== "verified") return denied("token_invalid");
  const identity = fact.identity;
  if (identity.issuer !== current.issuer) return denied("issuer_not_allowed");
  if (identity.subject === undefined || identity.subject !== current.subject) return denied("token_invalid");
  return { ok: true, identity };
}

type Denied = { readonly ok: false; readonly code: DenialCode };
const DENIALS = new Map<DenialCode, Denied>();

/** One frozen outcome per code, so a refused renewal allocates nothing for its answer. */
function denied(code: DenialCode): Denied {
  let outcome = DENIALS.get(code);
  if (!outcome) {
    outcome = Object.freeze({ ok: false, code });
    DENIALS.set(code, outcome);
  }
  return outcome;
}
