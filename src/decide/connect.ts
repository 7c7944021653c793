/**
 * The verdict on a namespace connect (DESIGN §1 "Auth modes", "Issuers"): the namespace is listed;
 * its `auth` mode; the token is present where required and readable; its issuer is one the
 * namespace trusts; it verified; it has not expired by `now`; its claims hold the namespace's
 * `require`. Verifying a signature is asynchronous work (jose, keys) that the caller does with the
 * compiled issuer and hands over as a fact ({@link presentedTokenFacts} does it the one way).
 */
import { isTokenExpired } from "./token-expiry.js";
import { unmetClaim, type Captures } from "../compile/claims.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledNamespace, CompiledPolicy, Identity } from "../compile/types.js";
import type { DenialCode } from "../decisions.js";
import { originAllowed, type HandshakeFacts } from "./handshake.js";
import { checkValue } from "./arguments.js";
import { ALLOWED, denial, failed, type TraceSink, type Verdict } from "./verdict.js";

/** The token of a connect, as far as the caller got with it. */
export type TokenFact =
  /** No token source held one. */
  | { readonly kind: "absent" }
  /** A source held something that is not a token (a cookie sent twice, not a JWT, no string `iss`). */
  | { readonly kind: "unreadable" }
  /** A token claiming `iss`, not verified (its issuer was refused before any key was fetched). */
  | { readonly kind: "unverified"; readonly iss: string }
  /** A token claiming `iss` that its issuer refused, with the issuer's code. */
  | { readonly kind: "failed"; readonly iss: string; readonly code: DenialCode }
  /** A verified token. */
  | { readonly kind: "verified"; readonly identity: Identity };

/** What the caller knows of a connect. */
export interface ConnectFacts {
  /**
   * The namespace's name as the client asked for it (`socket.nsp.name`): an exact key, or a name a
   * pattern matches, whose captured segments are the facts its `{name}` requirements compare.
   */
  readonly namespace: string;
  readonly token: TokenFact;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** The client's address; for budgets. */
  readonly address?: string;
  /**
   * The handshake request of the connection the connect came over (`socket.handshake`): its origin
   * is judged again under the namespace's own missing-Origin rule. Omitted: no origin check.
   */
  readonly handshake?: HandshakeFacts;
  /** True when the revocation list refuses the verified token (a stateful check beside decide/). */
  readonly revoked?: boolean;
  /**
   * What the client sent in its CONNECT, for the namespace's `handshake` schemas: the auth object
   * and the query (without Engine.IO's own parameters). Omitted: the schemas are not judged here.
   */
  readonly fields?: HandshakeFields;
}

/** The CONNECT's fields the `handshake` schemas judge. */
export interface HandshakeFields {
  readonly auth: unknown;
  readonly query: unknown;
}

export const ABSENT_TOKEN: TokenFact = Object.freeze({ kind: "absent" });
export const UNREADABLE_TOKEN: TokenFact = Object.freeze({ kind: "unreadable" });

/**
 * Decides a namespace connect. For an `allowed` verdict on a verified token, the socket's identity
 * is `facts.token.identity`; otherwise it is anonymous.
 *
 * @example
 * decideConnect(policy, { namespace: "/chat", token: ABSENT_TOKEN, now: Date.now() }).code; // "token_missing"
 */
export function decideConnect(policy: CompiledPolicy, facts: ConnectFacts, trace?: TraceSink): Verdict {
  const match = findNamespace(policy, facts.namespace);
  if (!match) return failed(trace, "namespace", denial("namespace_not_allowed", policy.rules.namespaces));
  const namespace = match.namespace;
  if (trace) trace({ check: "namespace", outcome: "passed", rule: namespace.rules.namespace });
  const rules = namespace.rules;
  if (facts.handshake && !originAllowed(policy, facts.handshake, namespace)) {
    return failed(trace, "origin", denial("origin_not_allowed", policy.rules.origins));
  }
  if (facts.fields && namespace.handshake) {
    const fields = decideHandshakeFields(namespace, facts.fields);
    if (fields !== ALLOWED) return failed(trace, "handshake", fields);
    if (trace) trace({ check: "handshake", outcome: "passed", rule: rules.namespace });
  }

  if (namespace.auth === "none") {
    if (trace)
      trace({ check: "token", outcome: "skipped", rule: rules.auth, note: "auth: none reads no token" });
    return ALLOWED;
  }
  const token = facts.token;
  if (token.kind === "absent") {
    if (namespace.auth === "required") return failed(trace, "token", denial("token_missing", rules.auth));
    if (trace)
      trace({
        check: "token",
        outcome: "passed",
        rule: rules.auth,
        note: "no token: anonymous (auth: optional)",
      });
    return decideClaims(namespace, undefined, match.captures, trace);
  }
  if (token.kind === "unreadable") return failed(trace, "token", denial("token_invalid", rules.auth));

  const iss = token.kind === "verified" ? token.identity.iss : token.iss;
  const issuerVerdict = decideTokenIssuer(policy, facts.namespace, iss, trace);
  if (issuerVerdict !== ALLOWED) return issuerVerdict;
  const issuerRule = policy.rules.issuers.get(policy.auth.issuersByIss.get(iss)!.name) ?? rules.issuers;

  if (token.kind === "failed") return failed(trace, "token", denial(token.code, issuerRule));
  // An issuer that passed must have been asked: a token still unverified here is not trusted.
  if (token.kind === "unverified") return failed(trace, "token", denial("token_invalid", issuerRule));
  const identity = token.identity;
  if (isTokenExpired(identity, policy.auth, facts.now)) {
    return failed(trace, "token", denial("token_expired", policy.rules.clockTolerance));
  }
  if (facts.revoked === true) return failed(trace, "token", denial("revoked", issuerRule));
  if (trace) trace({ check: "token", outcome: "passed", rule: issuerRule, note: "verified, not expired" });
  return decideClaims(namespace, identity, match.captures, trace);
}

/**
 * The CONNECT's auth object and query against the namespace's `handshake` schemas (DESIGN §1.1):
 * `payload_invalid` with where it failed (`/auth/...`, `/query/...`), never the values. The caller
 * asks this before verifying a token, so a malformed CONNECT never makes the guard fetch keys.
 *
 * @example
 * decideHandshakeFields(namespace, { auth: socket.handshake.auth, query }) === ALLOWED;
 */
export function decideHandshakeFields(namespace: CompiledNamespace, fields: HandshakeFields): Verdict {
  const handshake = namespace.handshake;
  if (!handshake) return ALLOWED;
  const auth = handshake.auth ? checkValue(handshake.auth, fields.auth, "/auth", "payload_invalid") : ALLOWED;
  if (auth !== ALLOWED || !handshake.query) return auth;
  return checkValue(handshake.query, fields.query, "/query", "payload_invalid");
}

/**
 * The part of a connect decided before a token is verified: the namespace is listed, it reads
 * tokens, and the issuer `iss` names is one it trusts. The caller verifies only after this is
 * `ALLOWED`, so a token from a foreign issuer never makes the guard fetch keys.
 *
 * @example
 * if (decideTokenIssuer(policy, "/chat", iss) === ALLOWED) result = await policy.auth.issuersByIss.get(iss)!.verify(token);
 */
export function decideTokenIssuer(
  policy: CompiledPolicy,
  namespaceName: string,
  iss: string,
  trace?: TraceSink,
): Verdict {
  const namespace = findNamespace(policy, namespaceName)?.namespace;
  if (!namespace) return denial("namespace_not_allowed", policy.rules.namespaces);
  const issuer = policy.auth.issuersByIss.get(iss);
  if (!issuer || !namespace.issuers.has(issuer.name)) {
    return failed(trace, "issuer", denial("issuer_not_allowed", namespace.rules.issuers));
  }
  if (trace) trace({ check: "issuer", outcome: "passed", rule: namespace.rules.issuers });
  return ALLOWED;
}

/**
 * The namespace's `require` against the claims of `identity` (undefined: anonymous, which holds no
 * claims). Shared by a connect and by the recheck of a live socket.
 */
export function decideClaims(
  namespace: CompiledNamespace,
  identity: Identity | undefined,
  captures: Captures,
  trace?: TraceSink,
): Verdict {
  const requirement = namespace.requirement;
  if (!requirement) {
    if (trace) trace({ check: "claims", outcome: "skipped", note: "the namespace requires no claims" });
    return ALLOWED;
  }
  const unmet = unmetClaim(requirement, identity?.claims, captures);
  if (unmet) return failed(trace, "claims", denial("claims_not_satisfied", unmet));
  if (trace) trace({ check: "claims", outcome: "passed", rule: requirement.rule });
  return ALLOWED;
}
