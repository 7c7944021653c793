/**
 * Finds a connection's token in its handshake, per the policy's `auth.tokenFrom` (DESIGN §1).
 *
 * Sources are tried in order and the first one that is PRESENT decides: a present but unusable
 * token is `invalid`, and the search stops there, so an attacker's bad `auth.token` can never make
 * the guard fall back to a cookie the browser attached on its own. Absent means the source carries
 * nothing at all: no key, or `undefined`, `null` or an empty string (what a logged-out client
 * typically sends).
 *
 * - `auth.token`: the Socket.IO `auth` payload's `token`, a raw token or `Bearer <token>`.
 * - `header.authorization`: an `Authorization: Bearer <token>` header; another scheme is invalid.
 * - `cookie.NAME`: the cookie NAME in the `Cookie` header(s); a name sent twice is invalid (which
 *   one would be believed is exactly what a cookie-tossing attacker wants to choose).
 * - `query.NAME`: the query parameter NAME of the handshake URL; sent twice is invalid.
 *
 * A token longer than {@link MAX_TOKEN_LENGTH} is invalid without being parsed.
 */
import type { Socket } from "socket.io";
import type { TokenSource } from "../policy/types.js";

/** The longest token accepted, in characters (8 KiB): anything longer is refused before parsing. */
export const MAX_TOKEN_LENGTH = 8 * 1024;

/** The parts of a Socket.IO handshake a token can come from. */
export type TokenCarrier = Pick<Socket["handshake"], "auth" | "headers" | "query" | "url">;

/** What a search for the token found. */
export type TokenLookup =
  | { readonly kind: "absent" }
  | { readonly kind: "invalid" }
  | { readonly kind: "found"; readonly token: string; readonly source: TokenSource };

const ABSENT_LOOKUP: TokenLookup = Object.freeze({ kind: "absent" });
const INVALID_LOOKUP: TokenLookup = Object.freeze({ kind: "invalid" });

/** What one source holds: a candidate token, nothing, or something present but unusable. */
const ABSENT = Symbol("absent");
const INVALID = Symbol("invalid");
type SourceValue = string | typeof ABSENT | typeof INVALID;

const BEARER = /^Bearer +(\S+)$/i;
/** Longer than any acceptable `Bearer <token>`: refused before any pattern runs over it. */
const MAX_SOURCE_LENGTH = MAX_TOKEN_LENGTH + 64;

/**
 * Looks for the token in `sources`, in order. Never throws.
 *
 * @example
 * findToken(socket.handshake, ["auth.token", "cookie.access_token"]);
 * // { kind: "found", token: "eyJ...", source: "auth.token" } | { kind: "absent" } | { kind: "invalid" }
 */
export function findToken(handshake: TokenCarrier, sources: readonly TokenSource[]): TokenLookup {
  for (const source of sources) {
    const value = readSource(handshake, source);
    if (value === ABSENT) continue;
    if (value === INVALID || value.length > MAX_TOKEN_LENGTH) return INVALID_LOOKUP;
    return { kind: "found", token: value, source };
  }
  return ABSENT_LOOKUP;
}

/**
 * The token a client sent in-band (the `token` of `sockguard:reauth`), by the rules of `auth.token`:
 * a raw token or `Bearer <token>`. `undefined` when it is missing or unusable.
 */
export function tokenFromClientValue(value: unknown): string | undefined {
  const token = bearerOrRaw(value);
  return typeof token === "string" && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}

function readSource(handshake: TokenCarrier, source: TokenSource): SourceValue {
  if (source === "auth.token") {
    const auth: unknown = handshake.auth;
    if (typeof auth !== "object" || auth === null || !Object.hasOwn(auth, "token")) return ABSENT;
    return bearerOrRaw((auth as { token: unknown }).token);
  }
  if (source === "header.authorization") {
    const header = handshake.headers.authorization;
    if (header === undefined || header === "") return ABSENT;
    if (header.length > MAX_SOURCE_LENGTH) return INVALID;
    return BEARER.exec(header)?.[1] ?? INVALID;
  }
  if (source.startsWith("cookie."))
    return readCookie(handshake.headers.cookie, source.slice("cookie.".length));
  if (source.startsWith("query.")) return readQuery(handshake, source.slice("query.".length));
  return ABSENT;
}

/** `undefined`, `null` and `""` are absent; a string is a raw token or `Bearer <token>`; anything else is invalid. */
function bearerOrRaw(value: unknown): SourceValue {
  if (value === undefined || value === null || value === "") return ABSENT;
  if (typeof value !== "string" || value.length > MAX_SOURCE_LENGTH) return INVALID;
  if (/^Bearer\b/i.test(value)) return BEARER.exec(value)?.[1] ?? INVALID;
  return value;
}

function readCookie(header: string | undefined, name: string): SourceValue {
  if (header === undefined || header === "") return ABSENT;
  let found: string | undefined;
  let count = 0;
  // Node joins several Cookie headers with "; ", so one pass sees every cookie the client sent.
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals === -1 || pair.slice(0, equals).trim() !== name) continue;
    count += 1;
    found = unquote(pair.slice(equals + 1).trim());
  }
  if (count > 1) return INVALID;
  return found === undefined || found === "" ? ABSENT : found;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * engine.io parses the query with `Object.fromEntries`, so a parameter sent twice silently keeps its
 * last value; the handshake URL still has both, and is read first.
 */
function readQuery(handshake: TokenCarrier, name: string): SourceValue {
  let values: readonly string[];
  if (typeof handshake.url === "string") {
    try {
      values = new URL(handshake.url, "http://handshake.invalid").searchParams.getAll(name);
    } catch {
      return INVALID;
    }
  } else {
    const value: unknown = Object.hasOwn(handshake.query, name) ? handshake.query[name] : undefined;
    values = value === undefined ? [] : Array.isArray(value) ? value : [value as string];
  }
  if (values.length > 1) return INVALID;
  const value = values[0];
  if (value === undefined || value === "") return ABSENT;
  return typeof value === "string" ? value : INVALID;
}
