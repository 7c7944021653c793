/**
 * Every way sockguard refuses something, in one catalog: the stable code and the short message the
 * client and the logs see. Messages never include the token, the payload or any client-chosen
 * string, so a denial can be logged and echoed to the client as it is.
 */
export const DENIAL_MESSAGES = {
  origin_not_allowed: "The request's origin is not allowed by the policy",
  transport_not_allowed: "This transport is not allowed by the policy",
  tls_required: "The policy requires a TLS connection",
  namespace_not_allowed: "This namespace is not allowed by the policy",
  token_missing: "A token is required to connect to this namespace",
  token_invalid: "The token is not valid",
  token_expired: "The token has expired",
  issuer_not_allowed: "The token's issuer is not allowed here",
  keys_unavailable: "The issuer's signing keys are unavailable; try again later",
  claims_not_satisfied: "The token's claims do not satisfy the policy",
  event_not_allowed: "This event is not allowed by the policy",
  payload_invalid: "The event's arguments do not match its schema",
  payload_too_large: "The event is larger than the policy allows",
  too_many_denials: "Too many refused requests on this connection",
  policy_changed: "The policy in force no longer admits this connection",
  revoked: "This connection's access was revoked",
  rate_limited: "Too many requests; try again later",
  too_many_connections: "Too many connections from this client",
  emit_invalid: "The server's emit or ack reply does not match its declaration",
} as const;

/** A stable denial code (DESIGN §3). */
export type DenialCode = keyof typeof DENIAL_MESSAGES;

/** All codes, for iteration in documentation and tests. */
export const DENIAL_CODES = Object.keys(DENIAL_MESSAGES) as DenialCode[];

/** Where a payload failed, without the value: the JSON Pointer inside the argument list and the schema keyword. */
export interface PayloadErrorDetail {
  readonly instancePath: string;
  readonly keyword: string;
}

/** What the client is told: in `connect_error`'s `err.data`, in an ack's `error`, in `sockguard:denied`. */
export interface DenialBody {
  readonly code: DenialCode;
  readonly message: string;
  readonly details?: readonly PayloadErrorDetail[];
  /** For a refusal that a later attempt may pass (`rate_limited`): how long to wait, in milliseconds. */
  readonly retryAfterMs?: number;
}

/**
 * A denial as an `Error`, for places where Socket.IO expects one (namespace middleware's `next(err)`
 * puts `err.data` into the client's `connect_error`).
 */
export class SockguardDenial extends Error {
  readonly code: DenialCode;
  readonly data: DenialBody;

  constructor(code: DenialCode, details?: readonly PayloadErrorDetail[], retryAfterMs?: number) {
    super(DENIAL_MESSAGES[code]);
    this.name = "SockguardDenial";
    this.code = code;
    this.data = denialBody(code, details, retryAfterMs);
  }
}

/** The body for a code, shared (frozen) for the common case without details so the hot path allocates nothing. */
const SHARED_BODIES = Object.fromEntries(
  DENIAL_CODES.map((code) => [code, Object.freeze({ code, message: DENIAL_MESSAGES[code] })]),
) as Record<DenialCode, DenialBody>;

/**
 * The body the client is told for `code`, with the payload's failure points and, for a refusal a
 * later attempt may pass, how long to wait.
 *
 * @example
 * denialBody("rate_limited", undefined, 2500); // { code: "rate_limited", message: "...", retryAfterMs: 2500 }
 */
export function denialBody(
  code: DenialCode,
  details?: readonly PayloadErrorDetail[],
  retryAfterMs?: number,
): DenialBody {
  if (!details && retryAfterMs === undefined) return SHARED_BODIES[code];
  return {
    code,
    message: DENIAL_MESSAGES[code],
    ...(details ? { details } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/**
 * The `decision` event the guard emits for every denial (and for allows when asked). It never
 * carries a token or a payload; `event` is present only for a name the policy declares.
 */
export interface Decision {
  readonly allowed: boolean;
  /** The denial code; `"allowed"` for an allow. */
  readonly code: DenialCode | "allowed";
  /** Where the decision was made. */
  readonly stage:
    | "handshake"
    | "upgrade"
    | "connect"
    | "event"
    | "reauth"
    | "expiry"
    | "recheck"
    | "revoke"
    | "emit"
    | "reply";
  readonly namespace?: string;
  readonly event?: string;
  readonly socketId?: string;
  /** The client address: the peer, or behind a trusted proxy the forwarded client (normalised IPv4 when mapped). */
  readonly address?: string;
  /** The verified subject, when there is one. */
  readonly subject?: string;
  readonly details?: readonly PayloadErrorDetail[];
  /** For a refusal that a later attempt may pass (`rate_limited`): how long the client was told to wait. */
  readonly retryAfterMs?: number;
  /** The policy key that decided (DESIGN §3): where to read, or change, the rule. */
  readonly rule?: Rule;
  /** The version of the policy that decided. */
  readonly policyVersion?: string;
  /**
   * True for a denial that was reported and not enforced: under `mode: shadow`, or judged by the
   * candidate policy of the `shadow` option (whose version `policyVersion` then is).
   */
  readonly shadow?: boolean;
}

/**
 * The policy key that decided a verdict: its file (absolute), 1-based line and column, and its
 * JSON Pointer inside that file. For a default (the key is absent) it is the nearest key that is
 * there, so a reader still lands where the key would be written. Line and column are 0 for a policy
 * given as an object.
 */
export interface Rule {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: string;
}
