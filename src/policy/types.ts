/**
 * The policy language, version 1, as TypeScript types.
 *
 * These types describe a policy document after it was parsed, its `${env:...}` values expanded and
 * checked against `schemas/policy.schema.json`: the shape of the file, with nothing defaulted. The
 * loader's test suite checks that every property here exists in the JSON Schema and the reverse, so
 * the two cannot drift.
 */

/** A JSON value as YAML and JSON files can express it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** The transports Socket.IO (engine.io) knows. */
export type TransportName = "polling" | "websocket" | "webtransport";

/** Where the guard looks for a token: `auth.token`, `header.authorization`, `cookie.NAME`, `query.NAME`. */
export type TokenSource = "auth.token" | "header.authorization" | `cookie.${string}` | `query.${string}`;

/** A JSON Schema (2020-12) object, or a boolean schema. `$ref`s to relative files are allowed. */
export type EventSchema = JsonObject | boolean;

/** A binary argument: a Buffer, ArrayBuffer or typed array of at most `maxBytes` bytes. */
export interface BinaryArg {
  binary: { maxBytes: number | string };
}

/** One positional argument of an event: a JSON Schema, or a binary declaration. */
export type ArgSpec = EventSchema | BinaryArg;

/** A claims requirement value: one value, any of a list, or all of a list. */
export type ClaimValue = string | number | boolean;
export type ClaimRequirement = ClaimValue | ClaimValue[] | { all: ClaimValue[] };
/** `require`: claim name (plain, dotted path, or JSON Pointer starting with `/`) to requirement. */
export type ClaimsRequirement = Record<string, ClaimRequirement>;

/** Whose budget a rate limit spends: the verified subject (default), the client address, or the socket. */
export type RateLimitKey = "subject" | "address" | "socket";

/** A TLS protocol version `connection.tls.minVersion` can demand. */
export type TlsVersion = "TLSv1.2" | "TLSv1.3";

/**
 * `connection.tls`: the certificate the guard serves on the app's https (or http2 secure) server,
 * read and watched with the policy, and the oldest TLS version a connection may have negotiated.
 */
export interface TlsPolicy {
  /** PEM certificate chain, leaf first; needs `keyFile`. */
  certFile?: string;
  /** PEM private key of the certificate (unencrypted); needs `certFile`. */
  keyFile?: string;
  /** PEM CA certificates: client certificates are verified against them, and the served chain is completed from them. */
  caFile?: string;
  minVersion?: TlsVersion;
}

/** A rate limit: `COUNT/DURATION` (counted per subject), or `{ rate, by }`. */
export type RateLimitPolicy = string | { rate: string; by?: RateLimitKey };

export interface ConnectionPolicy {
  origins?: string[];
  allowMissingOrigin?: boolean;
  transports?: TransportName[];
  requireTls?: boolean;
  trustedProxies?: string[];
  /** Bytes per event: a number, or a size string such as `64KiB` or `1MB`. */
  maxPayload?: number | string;
  /** A rate such as `20/1m`. */
  maxDenials?: string;
  /** Handshakes per client address, such as `30/1m`. */
  rateLimit?: string;
  /** Concurrent Engine.IO connections per client address. */
  maxConnections?: number;
  tls?: TlsPolicy;
}

export interface IssuerPolicy {
  issuer: string;
  jwksUri?: string;
  jwksFile?: string;
  jwks?: { keys: JsonObject[] };
  publicKey?: string;
  publicKeyFile?: string;
  secret?: string;
  /** An audience, a list of audiences, or the literal `any`. */
  audience: string | string[];
  algorithms: string[];
}

export interface AuthPolicy {
  tokenFrom?: TokenSource[];
  /** A duration such as `30s`. */
  clockTolerance?: string | number;
  issuers?: Record<string, IssuerPolicy>;
  /** How long `guard.revoke` keeps refusing a subject's older tokens: a duration such as `24h` (the default). */
  revocationTtl?: string | number;
}

/**
 * `enforce`: a denial is refused. `shadow`: every check runs and a denial is reported (with
 * `shadow: true`), but nothing is refused. The most specific `mode` wins: event, namespace, top.
 */
export type PolicyMode = "enforce" | "shadow";

/** Whether an event must, may or must not ask for an acknowledgement. */
export type AckMode = "required" | "forbidden" | "optional";

/**
 * The arguments of a message the server sends: an emit, or the reply a handler passes to an ack
 * callback. Exactly one of `schema` (the only argument) or `args` (one per position), as events.
 */
export interface MessagePolicy {
  schema?: ArgSpec;
  args?: ArgSpec[];
}

export interface EventPolicy {
  schema?: ArgSpec;
  args?: ArgSpec[];
  require?: ClaimsRequirement;
  /** This event's mode; default: its namespace's. */
  mode?: PolicyMode;
  /** How often one key may send this event. */
  rateLimit?: RateLimitPolicy;
  /** Whether the client must (`required`), may (`optional`, the default) or must not (`forbidden`) ask for an ack. */
  ack?: AckMode;
  /** What the app's handler passes to the ack callback. */
  reply?: MessagePolicy;
}

/** JSON Schemas for what a client sends in its CONNECT: the auth object and the query. */
export interface HandshakePolicy {
  auth?: EventSchema;
  query?: EventSchema;
}

export type AuthMode = "required" | "optional" | "none";

export interface NamespacePolicy {
  auth?: AuthMode;
  /** The mode of this namespace's connects and events; default: the top-level `mode`. */
  mode?: PolicyMode;
  issuers?: string[];
  require?: ClaimsRequirement;
  unknownEvents?: "reject" | "allow";
  /** Connects to this namespace per key. */
  rateLimit?: RateLimitPolicy;
  /** Live sockets in this namespace per subject (anonymous: per address). */
  maxConnections?: number;
  /** All events of this namespace together, per key. */
  eventRateLimit?: RateLimitPolicy;
  /** Admit clients without an `Origin` header (non-browser services) to this namespace only. */
  allowMissingOrigin?: boolean;
  events?: Record<string, EventPolicy>;
  /** Schemas for the CONNECT's auth object and the handshake query, checked before the token. */
  handshake?: HandshakePolicy;
  /** What the server may send to clients in this namespace, by event name. */
  emits?: Record<string, MessagePolicy>;
}

/** A whole policy document (version 1). */
export interface Policy {
  $schema?: string;
  version: 1;
  /** The mode of handshakes, and the default of every namespace and event (`enforce`). */
  mode?: PolicyMode;
  connection?: ConnectionPolicy;
  auth?: AuthPolicy;
  namespaces: Record<string, NamespacePolicy>;
}
