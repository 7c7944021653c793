/**
 * A compiled policy: everything the enforcement path needs, prepared once. It is immutable; a
 * reload builds a new one and swaps the holder's reference, so a decision always sees one whole
 * policy.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import type { AuthMode, TlsVersion, TokenSource, TransportName } from "../policy/types.js";
import type { DenialCode, Rule } from "../decisions.js";
import type { QuotaRule, RateRule } from "../budget/types.js";
import type { CompiledNamespacePattern } from "./namespace-lookup.js";
import type { CompiledModes } from "./modes.js";

/** Verified claims of a token (a JWT payload). */
export type Claims = Readonly<Record<string, unknown>>;

/** A verified identity: who the guard believes a socket belongs to. */
export interface Identity {
  /** The issuer's name inside the policy (the key under `auth.issuers`). */
  readonly issuer: string;
  /** The token's `iss`. */
  readonly iss: string;
  /** The token's `sub`, when present. */
  readonly subject?: string;
  readonly claims: Claims;
  /** When the token expires, in milliseconds since the epoch (its `exp`, without tolerance). */
  readonly expiresAt: number;
  /** When the token was issued, in milliseconds since the epoch (its `iat`), when it says. */
  readonly issuedAt?: number;
  /** The token's `jti`, when present. */
  readonly jti?: string;
}

/** The outcome of verifying a token: an identity, or a denial code. */
export type VerifyResult =
  { readonly ok: true; readonly identity: Identity } | { readonly ok: false; readonly code: DenialCode };

/** A compiled `require`: true when the claims satisfy it. Anonymous (no claims) never does. */
export type ClaimsPredicate = (claims: Claims | undefined) => boolean;

/** One key of a `require` block, with the rule that names it. */
export interface CompiledClaimCheck {
  /** The key as written (`scope`, `realm_access.roles`, `/https:~1~1example.com~1roles`). */
  readonly key: string;
  readonly rule: Rule;
  /**
   * True when the claims hold this key's requirement; `captures` are the segments a namespace
   * pattern captured, for a requirement that names them (`tenant_id: "{tenant}"`).
   */
  holds(claims: Claims, captures?: Readonly<Record<string, string>>): boolean;
}

/** A whole `require` block: its checks (AND), and the block's own rule. */
export interface CompiledRequirement {
  /** The `require` key. */
  readonly rule: Rule;
  readonly checks: readonly CompiledClaimCheck[];
}

/** Options of {@link CompiledIssuer.verify}. */
export interface VerifyOptions {
  /** The clock to judge `exp` and `nbf` by (a test suite's fixed `now`); the system clock by default. */
  readonly currentDate?: Date;
}

/** One trusted issuer, with its keys ready (or a shared remote key set). */
export interface CompiledIssuer {
  /** The key under `auth.issuers`. */
  readonly name: string;
  /** The expected `iss`. */
  readonly iss: string;
  /**
   * Verifies a compact JWS already known to claim this issuer's `iss`. Never throws: every
   * failure is a code (`token_invalid`, `token_expired`, `keys_unavailable`, ...).
   */
  verify(token: string, options?: VerifyOptions): Promise<VerifyResult>;
  /**
   * Present when the issuer has a verified-token cache: the identity of `token` when this issuer
   * verified it and it is still valid now, without parsing it; undefined otherwise. Counts a hit,
   * never a miss (the `verify` that follows a miss counts it).
   */
  cached?(token: string): Identity | undefined;
  /**
   * Present for a remote key set (`jwksUri`): starts downloading the keys if none were fetched yet,
   * without waiting. The guard may call it after a compile so the first connect does not wait.
   */
  warm?(): void;
  /** For a remote key set: the `jwksUri` its keys come from (what the JWKS metrics are labelled by). */
  readonly jwksUri?: string;
}

export interface CompiledAuth {
  readonly tokenFrom: readonly TokenSource[];
  /** Seconds of clock tolerance for `exp`/`nbf`. */
  readonly clockToleranceSec: number;
  /** By policy name. */
  readonly issuers: ReadonlyMap<string, CompiledIssuer>;
  /** By the `iss` value tokens carry. */
  readonly issuersByIss: ReadonlyMap<string, CompiledIssuer>;
  /** How long `guard.revoke` keeps refusing the tokens it revoked, in milliseconds (`auth.revocationTtl`). */
  readonly revocationTtlMs: number;
}

/** The checks run at the HTTP handshake and on upgrade requests. */
export interface CompiledConnection {
  /** True when the (present) Origin header value is allowed. */
  matchOrigin(origin: string): boolean;
  /** True when a Host header names an allowed origin for the given scheme (same-origin polling without Origin). */
  matchHost(host: string, scheme: "http" | "https"): boolean;
  /** `connection.allowMissingOrigin`: requests without Origin may connect to every namespace. */
  readonly allowMissingOrigin: boolean;
  /**
   * True when the handshake lets a request without Origin through: `allowMissingOrigin` here or
   * under some namespace (whose connect then decides, see {@link CompiledNamespace.allowMissingOrigin}).
   */
  readonly handshakeAllowsMissingOrigin: boolean;
  readonly transports: ReadonlySet<TransportName>;
  /** The same transports, in the order the engine's `transports` option expects. */
  readonly transportList: readonly TransportName[];
  readonly requireTls: boolean;
  /** True when the (normalised) remote address is a trusted proxy. */
  isTrustedProxy(address: string): boolean;
  /** Bytes per event, JSON and binary attachments together. */
  readonly maxPayload: number;
  readonly maxDenials: { readonly count: number; readonly windowMs: number };
  /** Handshakes per client address (`connection.rateLimit`). */
  readonly rateLimit?: RateRule;
  /** Concurrent Engine.IO connections per client address (`connection.maxConnections`). */
  readonly maxConnections?: QuotaRule;
  /** `connection.tls`: TLS served by Node itself (and so required). */
  readonly tls?: CompiledTls;
}

/** `connection.tls`, compiled. */
export interface CompiledTls {
  /** The certificate to serve (the policy names one): the guard then owns the server's secure context. */
  readonly credentials?: ServedCredentials;
  /** The oldest protocol a connection may have negotiated. */
  readonly minVersion?: TlsVersion;
  /** `connection.tls`, its `minVersion` and its `certFile` (each the nearest present key). */
  readonly rules: { readonly tls: Rule; readonly minVersion: Rule; readonly certFile: Rule };
}

/** A certificate chain and its key as Node's `setSecureContext()` takes them, read from the policy's files. */
export interface ServedCredentials {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  /** The absolute path of `certFile`, for log lines (environment values scrubbed). */
  readonly certFile: string;
  /** The leaf certificate's SHA-256 fingerprint, as `getPeerCertificate().fingerprint256` writes it. */
  readonly fingerprint256: string;
  /** When the leaf certificate expires, in milliseconds since the epoch. */
  readonly notAfter: number;
}

/** One positional argument. */
export interface CompiledArg {
  /** Present for a binary argument: its size limit. Binary elsewhere is refused. */
  readonly binaryMaxBytes?: number;
  /** The argument's validator (absent for a binary argument). */
  readonly validate?: ValidateFunction;
  /** Property names the policy's schemas name (`properties`, `required`, ...): only these are echoed in `details`. */
  readonly namedProperties?: ReadonlySet<string>;
  /** The argument's declaration (`args[i]`, or `schema`). */
  readonly rule: Rule;
  /** The schema keyword behind a validation error of this argument (the argument's rule when unknown). */
  errorRule(error: ErrorObject | undefined): Rule;
}

/** A message's arguments, checked position by position: an event's, an ack reply's, an emit's. */
export interface CompiledMessage {
  readonly args: readonly CompiledArg[];
  /** The `args` (or `schema`) key: what an arity mismatch is measured against. */
  readonly rules: { readonly args: Rule };
}

/** One declared emit of a namespace (`emits.NAME`). */
export interface CompiledEmit extends CompiledMessage {
  readonly name: string;
  readonly rules: { readonly event: Rule; readonly args: Rule };
}

/** A namespace's `emits`: the declared emits, and the `emits` key an undeclared one is judged by. */
export interface CompiledEmits {
  readonly declared: ReadonlyMap<string, CompiledEmit>;
  readonly rule: Rule;
}

/** A namespace's `handshake` schemas, each checked like one argument. */
export interface CompiledHandshake {
  readonly auth?: CompiledArg;
  readonly query?: CompiledArg;
}

/** An event's `ack` when it is not `optional`, with its key. */
export interface CompiledAck {
  readonly mode: "required" | "forbidden";
  readonly rule: Rule;
}

export interface CompiledEvent {
  readonly name: string;
  /** `ack: required | forbidden`; absent for `optional` (the default). */
  readonly ack?: CompiledAck;
  /** What the handler passes to the ack callback (`reply`), when declared. */
  readonly reply?: CompiledMessage;
  /** The event's own `require` (the namespace's was checked at connect); undefined when none. */
  readonly require?: ClaimsPredicate;
  /** The same `require`, key by key, to say which one failed. */
  readonly requirement?: CompiledRequirement;
  readonly args: readonly CompiledArg[];
  /** The event's own rate limit. */
  readonly rateLimit?: RateRule;
  /**
   * Every rate limit an event of this name spends, in the order they are spent: the namespace's
   * `eventRateLimit`, then the event's `rateLimit`. Empty (and shared) when there is none.
   */
  readonly budgets: readonly RateRule[];
  /** The event's key, and its `args` (or `schema`) key: what an arity mismatch is measured against. */
  readonly rules: { readonly event: Rule; readonly args: Rule };
}

export interface CompiledNamespace {
  readonly name: string;
  readonly auth: AuthMode;
  /** Policy names of the issuers this namespace trusts (all of them when the policy has one). */
  readonly issuers: ReadonlySet<string>;
  readonly require?: ClaimsPredicate;
  /** The same `require`, key by key, to say which one failed. */
  readonly requirement?: CompiledRequirement;
  readonly unknownEvents: "reject" | "allow";
  /** A connection whose handshake had no Origin may connect here (DESIGN §1.1); absent means false. */
  readonly allowMissingOrigin?: boolean;
  readonly events: ReadonlyMap<string, CompiledEvent>;
  /** The CONNECT's `handshake` schemas, when declared. */
  readonly handshake?: CompiledHandshake;
  /** What the server may emit here, when the namespace declares `emits`. */
  readonly emits?: CompiledEmits;
  /** Connects to this namespace per key. */
  readonly rateLimit?: RateRule;
  /** Live sockets in this namespace per subject (anonymous: per address). */
  readonly maxConnections?: QuotaRule;
  /** All events of this namespace together, per key. */
  readonly eventRateLimit?: RateRule;
  /** What an undeclared event (under `unknownEvents: allow`) spends: the `eventRateLimit`, if any. */
  readonly eventBudgets: readonly RateRule[];
  /** True when some event here spends a budget: only then can an event wait for a store. */
  readonly spendsEventBudgets: boolean;
  readonly rules: NamespaceRules;
}

/** The keys of a namespace that decide its connects and events. */
export interface NamespaceRules {
  /** The namespace's key under `namespaces`. */
  readonly namespace: Rule;
  /** Its `auth` (the namespace key when defaulted). */
  readonly auth: Rule;
  /** Its `issuers` (`auth.issuers` when it lists none). */
  readonly issuers: Rule;
  /** Its `events` map: what an undeclared event is refused by. */
  readonly events: Rule;
}

/** The keys of a policy that decide handshakes, sizes and token lifetimes. */
export interface PolicyRules {
  readonly origins: Rule;
  readonly transports: Rule;
  readonly requireTls: Rule;
  readonly maxPayload: Rule;
  readonly maxDenials: Rule;
  /** The `namespaces` map: what an unlisted namespace is refused by. */
  readonly namespaces: Rule;
  /** `auth.clockTolerance`, with the issuers: what a token's lifetime is judged by. */
  readonly clockTolerance: Rule;
  /** Each issuer's entry under `auth.issuers`, by name. */
  readonly issuers: ReadonlyMap<string, Rule>;
}

export interface CompiledPolicy {
  /** The loader's version hash of the inputs this was compiled from. */
  readonly version: string;
  readonly files: readonly string[];
  readonly connection: CompiledConnection;
  readonly auth: CompiledAuth;
  /** The exact namespace keys. Look a name up with `findNamespace`, which also tries {@link patterns}. */
  readonly namespaces: ReadonlyMap<string, CompiledNamespace>;
  /** The pattern keys (`/tenant-{tenant}`), in policy order; absent or empty when there are none. */
  readonly patterns?: readonly CompiledNamespacePattern[];
  /** Where the policy's checks are written. */
  readonly rules: PolicyRules;
  /** The id of every rate limit in the policy (a reload keeps these counters and forgets the rest). */
  readonly rateLimitIds: ReadonlySet<string>;
  /** Where `mode: shadow` applies; absent when no key says `shadow` (every denial is enforced). */
  readonly modes?: CompiledModes;
}
