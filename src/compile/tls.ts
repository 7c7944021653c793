/**
 * `connection.tls` → what the guard serves and demands: the certificate, key and CA text for the
 * server's secure context (when the policy names a certificate), and the oldest protocol a
 * connection may have negotiated. The loader checked the material; this reads it the same way.
 */
import { resolve } from "node:path";
import type { PolicyResources } from "../policy/loaded.js";
import { readTlsMaterial } from "../policy/tls-material.js";
import type { TlsPolicy } from "../policy/types.js";
import { PolicyCompileError } from "./compile-error.js";
import type { RuleLocator } from "./rules.js";
import type { CompiledTls } from "./types.js";

/**
 * @example
 * const tls = compileTls({ certFile: "certs/tls.crt", keyFile: "certs/tls.key" }, resources, rules);
 * tls?.credentials?.fingerprint256; // "AB:CD:..."
 */
export function compileTls(
  tls: TlsPolicy | undefined,
  resources: PolicyResources,
  rules: RuleLocator,
): CompiledTls | undefined {
  if (tls === undefined) return undefined;
  const located = Object.freeze({
    tls: rules.policyKey("connection", "tls"),
    minVersion: rules.policyKey("connection", "tls", "minVersion"),
    certFile: rules.policyKey("connection", "tls", "certFile"),
  });
  const minVersion = tls.minVersion === undefined ? {} : { minVersion: tls.minVersion };
  if (tls.certFile === undefined || tls.keyFile === undefined) {
    return Object.freeze({ ...minVersion, rules: located });
  }
  const read = readTlsMaterial(
    { ...tls, certFile: tls.certFile, keyFile: tls.keyFile },
    resources.keyFiles,
    resources.baseDir,
  );
  if (!read.ok) {
    const problem = read.problems[0];
    throw new PolicyCompileError(
      ["connection", "tls", problem?.property ?? "certFile"],
      problem?.message ?? "the certificate or key file was not read",
    );
  }
  const { material } = read;
  const leaf = material.chain[0]!;
  return Object.freeze({
    ...minVersion,
    credentials: Object.freeze({
      cert: material.cert,
      key: material.key,
      ...(material.ca === undefined ? {} : { ca: material.ca }),
      certFile: rules.shown(resolve(resources.baseDir, tls.certFile)),
      fingerprint256: leaf.fingerprint256,
      notAfter: Date.parse(leaf.validTo),
    }),
    rules: located,
  });
}
