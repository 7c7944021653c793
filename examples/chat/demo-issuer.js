/**
 * DEMO ONLY — a development token issuer, never for production.
 *
 * It generates an ES256 key pair when the demo starts, publishes the public half as a JWKS (the
 * guard fetches it through the policy's `jwksUri`, exactly as it would from a real identity
 * provider) and signs short-lived tokens for whatever user name and scopes it is asked for. There
 * is no login: anyone who can reach the demo on 127.0.0.1 can mint any token. A real deployment
 * gets its tokens from its identity provider and points `jwksUri` there.
 */
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";

/** The audience `policies/chat.yaml` expects. */
export const DEMO_AUDIENCE = "chat-demo";

const USER_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const SCOPE_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/;
const MAX_SCOPES = 10;
/** Lifetimes are bounded both ways; a negative one mints an already expired token, to see a refusal. */
const MIN_TTL_SECONDS = -3600;
const MAX_TTL_SECONDS = 3600;

/**
 * @typedef {object} DemoIssuer
 * @property {string} issuer The `iss` of every token, the URL the policy names.
 * @property {{ keys: object[] }} jwks The public key set to serve at the `jwksUri`.
 * @property {(request: TokenRequest) => Promise<{ token: string, expiresAt: number }>} issueToken
 */

/**
 * @typedef {object} TokenRequest
 * @property {string} user The token's `sub`.
 * @property {string[]} scopes Joined with spaces into the `scope` claim.
 * @property {number} ttlSeconds Seconds until `exp`; negative for a token that has already expired.
 */

/**
 * Creates the demo issuer with a fresh ES256 key pair.
 *
 * @example
 * const issuer = await createDemoIssuer("http://127.0.0.1:3000/demo-issuer");
 * const { token } = await issuer.issueToken({ user: "alice", scopes: ["chat:read"], ttlSeconds: 600 });
 *
 * @param {string} issuer
 * @returns {Promise<DemoIssuer>}
 */
export async function createDemoIssuer(issuer) {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks = { keys: [{ ...publicJwk, kid, alg: "ES256", use: "sig" }] };

  return {
    issuer,
    jwks,
    async issueToken({ user, scopes, ttlSeconds }) {
      const now = Math.floor(Date.now() / 1000);
      const expiresAt = now + ttlSeconds;
      const token = await new SignJWT({ scope: scopes.join(" ") })
        .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(DEMO_AUDIENCE)
        .setSubject(user)
        // An already expired token was, honestly, issued before it expired.
        .setIssuedAt(Math.min(now, expiresAt - 60))
        .setExpirationTime(expiresAt)
        .sign(privateKey);
      return { token, expiresAt };
    },
  };
}

/**
 * Reads and checks a token request from a query string (`user`, `scopes` separated by spaces,
 * optional `ttl` in seconds). Returns an error message for anything out of bounds.
 *
 * @example
 * parseTokenRequest(new URL("http://x/demo-token?user=alice&scopes=chat:read").searchParams);
 * // → { request: { user: "alice", scopes: ["chat:read"], ttlSeconds: 600 } }
 *
 * @param {URLSearchParams} params
 * @returns {{ request: TokenRequest } | { error: string }}
 */
export function parseTokenRequest(params) {
  const user = params.get("user") ?? "";
  if (!USER_PATTERN.test(user)) return { error: "user: 1 to 32 letters, digits, '_' or '-'" };

  const scopes = (params.get("scopes") ?? "").split(" ").filter((scope) => scope !== "");
  if (scopes.length > MAX_SCOPES || !scopes.every((scope) => SCOPE_PATTERN.test(scope))) {
    return { error: `scopes: at most ${MAX_SCOPES}, separated by spaces, each like chat:read` };
  }

  const ttlText = params.get("ttl") ?? "600";
  const ttlSeconds = Number(ttlText);
  if (!/^-?\d+$/.test(ttlText) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS) {
    return { error: `ttl: whole seconds from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}` };
  }
  return { request: { user, scopes, ttlSeconds } };
}
