/**
 * Checks of an issuer's key material, written inline or read from a key file: public keys only,
 * each algorithm with a key that can verify it. Messages describe the key, never its bytes.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { ALGORITHM_KEY_KINDS, MIN_RSA_BITS, type KeyKind } from "./algorithms.js";

export interface KeyFindings {
  readonly errors: string[];
  readonly warnings: string[];
}

const KIND_NAMES: Record<KeyKind, string> = {
  secret: "a secret",
  rsa: "an RSA key",
  "rsa-pss": "an RSA-PSS key",
  "ec-P-256": "an EC P-256 key",
  "ec-P-384": "an EC P-384 key",
  "ec-P-521": "an EC P-521 key",
  ed25519: "an Ed25519 key",
};

const CURVE_KINDS: Record<string, KeyKind> = {
  prime256v1: "ec-P-256",
  secp384r1: "ec-P-384",
  secp521r1: "ec-P-521",
  "P-256": "ec-P-256",
  "P-384": "ec-P-384",
  "P-521": "ec-P-521",
};

/** JWK members that hold private or secret material. */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/**
 * Checks a PEM public key or certificate against the algorithms it must verify.
 *
 * @example
 * checkPublicKeyPem(pem, ["ES256"]); // { errors: ["it is an RSA key; ES256 needs an EC P-256 key"], warnings: [] }
 */
export function checkPublicKeyPem(pem: string, algorithms: readonly string[]): KeyFindings {
  const findings: KeyFindings = { errors: [], warnings: [] };
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === undefined) {
    findings.errors.push("expected PEM text: -----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----");
    return findings;
  }
  if (label.includes("PRIVATE")) {
    findings.errors.push("this is a private key: give the public key (BEGIN PUBLIC KEY) or a certificate");
    return findings;
  }
  if (label !== "PUBLIC KEY" && label !== "CERTIFICATE") {
    findings.errors.push(`expected BEGIN PUBLIC KEY or BEGIN CERTIFICATE, not BEGIN ${label}`);
    return findings;
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    findings.errors.push(`the PEM ${label === "CERTIFICATE" ? "certificate" : "public key"} does not parse`);
    return findings;
  }
  const kind = keyObjectKind(key);
  for (const algorithm of algorithms) {
    const needed = ALGORITHM_KEY_KINDS.get(algorithm) ?? [];
    if (!kind || !needed.includes(kind)) {
      const has = kind ? KIND_NAMES[kind] : `a ${key.asymmetricKeyType ?? "unknown"} key`;
      findings.errors.push(`it is ${has}; ${algorithm} needs ${KIND_NAMES[needed[0] ?? "secret"]}`);
    }
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    findings.errors.push(`the RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are needed`);
  }
  return findings;
}

/**
 * Checks a JSON Web Key Set: an object with a non-empty `keys` list of public keys, and for each
 * algorithm at least one key that can verify it.
 *
 * @example
 * checkJwks({ keys: [{ kty: "EC", crv: "P-256", x: "...", y: "..." }] }, ["ES256"]); // no findings
 */
export function checkJwks(document: unknown, algorithms: readonly string[]): KeyFindings {
  const findings: KeyFindings = { errors: [], warnings: [] };
  const keys = isObject(document) ? document.keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) {
    findings.errors.push("a JSON Web Key Set is an object with a non-empty keys list");
    return findings;
  }
  const kinds: { kind?: KeyKind; alg?: unknown }[] = [];
  for (const [index, key] of keys.entries()) {
    if (!isObject(key) || typeof key.kty !== "string") {
      findings.errors.push(`keys[${index}] is not a JSON Web Key (an object with kty)`);
      continue;
    }
    const secretMembers = PRIVATE_JWK_MEMBERS.filter((member) => Object.hasOwn(key, member));
    if (secretMembers.length > 0) {
      findings.errors.push(
        `keys[${index}] holds private or secret key material (${secretMembers.join(", ")}); publish public keys only`,
      );
      continue;
    }
    kinds.push({ kind: jwkKind(key), alg: key.alg });
  }
  if (findings.errors.length > 0) return findings;
  for (const algorithm of algorithms) {
    const needed = ALGORITHM_KEY_KINDS.get(algorithm) ?? [];
    const usable = kinds.some(
      ({ kind, alg }) =>
        kind !== undefined && needed.includes(kind) && (alg === undefined || alg === algorithm),
    );
    if (!usable) findings.warnings.push(`no key in the set can verify ${algorithm}`);
  }
  return findings;
}

/**
 * The kind of a parsed public key, as {@link ALGORITHM_KEY_KINDS} names it; `undefined` for a key
 * type or curve no accepted algorithm verifies with.
 *
 * @example
 * keyObjectKind(createPublicKey(pem)); // "ec-P-256"
 */
export function keyObjectKind(key: KeyObject): KeyKind | undefined {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return "rsa";
    case "rsa-pss":
      return "rsa-pss";
    case "ed25519":
      return "ed25519";
    case "ec":
      return CURVE_KINDS[key.asymmetricKeyDetails?.namedCurve ?? ""];
    default:
      return undefined;
  }
}

function jwkKind(key: Record<string, unknown>): KeyKind | undefined {
  if (key.kty === "RSA") return "rsa";
  if (key.kty === "EC" && typeof key.crv === "string") return CURVE_KINDS[key.crv];
  if (key.kty === "OKP" && key.crv === "Ed25519") return "ed25519";
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
