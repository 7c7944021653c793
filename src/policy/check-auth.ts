/**
 * Semantic checks of `auth`: token sources, the clock tolerance, and each issuer's keys (exactly
 * one source, public keys only, each algorithm with a key that can verify it, secrets long enough).
 * Key files were read by the loader; their contents are checked here like inline keys.
 */
import { resolve } from "node:path";
import type { IssuerPolicy, Policy } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import { isHmacAlgorithm, minimumSecretBytes, strictestHmacAlgorithm } from "./algorithms.js";
import { checkJwks, checkPublicKeyPem, type KeyFindings } from "./issuer-keys.js";
import { childPointer } from "./positions.js";
import { parseDuration } from "./units.js";

/** The properties of an issuer that give its keys; exactly one must be present. */
export const KEY_SOURCES = ["jwksUri", "jwksFile", "jwks", "publicKey", "publicKeyFile", "secret"] as const;

/**
 * @example
 * checkAuth(policy, keyFiles, "/srv/policies", report);
 */
export function checkAuth(
  policy: Policy,
  keyFiles: ReadonlyMap<string, string>,
  baseDir: string,
  report: Report,
): void {
  const auth = policy.auth;
  if (!auth) return;

  auth.tokenFrom?.forEach((source, index) => {
    if (source.startsWith("query.")) {
      report(
        childPointer("/auth/tokenFrom", index),
        `${source}: a token in the query string ends up in access logs and browser history; prefer auth.token`,
        { severity: "warning" },
      );
    }
  });

  if (auth.clockTolerance !== undefined && parseDuration(auth.clockTolerance) === undefined) {
    report("/auth/clockTolerance", "clockTolerance is a duration such as 5s, 30s or 1m");
  }
  if (auth.revocationTtl !== undefined && !((parseDuration(auth.revocationTtl) ?? 0) > 0)) {
    report("/auth/revocationTtl", "revocationTtl is a positive duration such as 1h or 24h");
  }

  const claimedBy = new Map<string, string>();
  for (const [name, issuer] of Object.entries(auth.issuers ?? {})) {
    const at = (...segments: (string | number)[]): string => childPointer("/auth/issuers", name, ...segments);
    const other = claimedBy.get(issuer.issuer);
    if (other !== undefined) {
      report(
        at("issuer"),
        `issuers "${other}" and "${name}" have the same issuer value: a token could not tell them apart`,
      );
    } else {
      claimedBy.set(issuer.issuer, name);
    }
    if (Array.isArray(issuer.audience) && issuer.audience.includes("any")) {
      report(
        at("audience"),
        'audience "any" accepts every audience: write audience: any on its own, not in a list',
      );
    }
    checkIssuerKeys(name, issuer, keyFiles, baseDir, at, report);
  }
}

function checkIssuerKeys(
  name: string,
  issuer: IssuerPolicy,
  keyFiles: ReadonlyMap<string, string>,
  baseDir: string,
  at: (...segments: (string | number)[]) => string,
  report: Report,
): void {
  const sources = KEY_SOURCES.filter((source) => issuer[source] !== undefined);
  if (sources.length === 0) {
    report(at(), `issuer "${name}" needs a key source: one of ${KEY_SOURCES.join(", ")}`);
    return;
  }
  if (sources.length > 1) {
    report(
      at(sources[1]!),
      `issuer "${name}" has ${sources.length} key sources (${sources.join(", ")}): keep exactly one`,
      {
        target: "key",
      },
    );
    return;
  }
  const source = sources[0]!;

  const misfits = issuer.algorithms
    .map((algorithm, index) => ({ algorithm, index }))
    .filter(({ algorithm }) => isHmacAlgorithm(algorithm) !== (source === "secret"));
  for (const { algorithm, index } of misfits) {
    report(
      at("algorithms", index),
      source === "secret"
        ? `${algorithm} verifies with a public key, not a secret: use HS256, HS384 or HS512 with secret`
        : `${algorithm} verifies with a shared secret: it needs secret, not ${source}`,
    );
  }
  if (misfits.length > 0) return;

  const asymmetric = issuer.algorithms;
  const reportFindings = (pointer: string, findings: KeyFindings, prefix: string): void => {
    for (const message of findings.errors) report(pointer, prefix + message);
    for (const message of findings.warnings) report(pointer, prefix + message, { severity: "warning" });
  };

  switch (source) {
    case "secret": {
      const bytes = Buffer.byteLength(issuer.secret!, "utf8");
      const strictest = strictestHmacAlgorithm(issuer.algorithms);
      if (strictest !== undefined && bytes < minimumSecretBytes(strictest)) {
        report(
          at("secret"),
          `secret is ${bytes} bytes; ${strictest} needs at least ${minimumSecretBytes(strictest)}`,
        );
      }
      break;
    }
    case "jwksUri":
      checkJwksUri(issuer.jwksUri!, at("jwksUri"), report);
      break;
    case "jwks":
      reportFindings(at("jwks"), checkJwks(issuer.jwks, asymmetric), "jwks: ");
      break;
    case "publicKey":
      reportFindings(at("publicKey"), checkPublicKeyPem(issuer.publicKey!, asymmetric), "publicKey: ");
      break;
    case "jwksFile": {
      const text = keyFiles.get(resolve(baseDir, issuer.jwksFile!));
      if (text === undefined) break; // not readable: already reported
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        report(
          at("jwksFile"),
          `${issuer.jwksFile!} is not JSON: a JSON Web Key Set is a JSON object with keys`,
        );
        break;
      }
      reportFindings(at("jwksFile"), checkJwks(document, asymmetric), `${issuer.jwksFile!}: `);
      break;
    }
    case "publicKeyFile": {
      const text = keyFiles.get(resolve(baseDir, issuer.publicKeyFile!));
      if (text === undefined) break;
      reportFindings(at("publicKeyFile"), checkPublicKeyPem(text, asymmetric), `${issuer.publicKeyFile!}: `);
      break;
    }
  }
}

function checkJwksUri(uri: string, pointer: string, report: Report): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    report(pointer, "jwksUri is not a URL");
    return;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    report(pointer, "jwksUri is an https: URL (a key file beside the policy is jwksFile)");
    return;
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    report(pointer, "jwksUri is plain http: keys fetched without TLS can be replaced in transit; use https", {
      severity: "warning",
    });
  }
}

function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname.endsWith(".localhost") ||
    hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}
