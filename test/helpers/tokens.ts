/**
 * Keys and tokens for token tests, made with jose in the test itself: signing key pairs (RS256,
 * ES256, EdDSA), their public JWKs and PEMs, HS256 secrets, and signed, unsigned or forged JWTs.
 */
import { createHmac, randomBytes } from "node:crypto";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";
import type { IssuerPolicy } from "../../src/policy/types.js";

export type AsymmetricAlg = "RS256" | "ES256" | "EdDSA";

/** An asymmetric signing key: the private half signs, the public half goes into JWK sets and PEMs. */
export interface SigningKey {
  readonly alg: AsymmetricAlg;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The public JWK, with `kid`, `alg` and `use: sig`. */
  readonly jwk: JWK;
  /** The public key as PEM SPKI (`BEGIN PUBLIC KEY`). */
  readonly spki: string;
}

export async function createSigningKey(alg: AsymmetricAlg, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, jwk, spki: await exportSPKI(publicKey) };
}

/** A fresh random HS256 secret of 48 characters (base64url of 36 bytes). */
export function createSecret(): string {
  return randomBytes(36).toString("base64url");
}

/** Seconds since the epoch, now (plus `offsetSec`). */
export function epoch(offsetSec = 0): number {
  return Math.floor(Date.now() / 1000) + offsetSec;
}

/** Standard claims for an issuer and audience, valid for an hour; `claims` overrides or adds. */
export function claimsFor(iss: string, aud: string | undefined, claims: JWTPayload = {}): JWTPayload {
  return {
    iss,
    ...(aud === undefined ? {} : { aud }),
    sub: "user-1",
    iat: epoch(),
    exp: epoch(3600),
    ...claims,
  };
}

/** Signs `payload` with an asymmetric key; `header` adds to (or overrides) `{ alg, kid }`. */
export async function signWith(
  key: SigningKey,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** Signs `payload` with HS256 under `secret` (its UTF-8 bytes, as a policy's `secret` is read). */
export async function signWithSecret(secret: string, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
}

/**
 * A policy's HS256 issuer entry; tokens signed with {@link signWithSecret} under `secret` verify
 * against it. A fresh secret by default, for policies that need an issuer but sign nothing.
 *
 * @example
 * const policy: Policy = { ...rest, auth: { issuers: { services: hs256Issuer(ISS, SECRET, "chat") } } };
 */
export function hs256Issuer(
  issuer: string,
  secret: string = createSecret(),
  audience: IssuerPolicy["audience"] = "any",
): IssuerPolicy {
  return { issuer, secret, audience, algorithms: ["HS256"] };
}

/** A compact JWT with the given header and payload and an arbitrary signature part. */
export function craftToken(header: Record<string, unknown>, payload: JWTPayload, signature = ""): string {
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.${signature}`;
}

/** The classic key-confusion forgery: an HS256 token whose HMAC key is the issuer's public key PEM. */
export function forgeHs256WithPublicKey(spki: string, payload: JWTPayload, kid?: string): string {
  const signingInput = `${base64url(JSON.stringify({ alg: "HS256", ...(kid ? { kid } : {}) }))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac("sha256", spki).update(signingInput).digest("base64url");
  return `${signingInput}.${signature}`;
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
