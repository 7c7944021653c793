/**
 * Semantic checks of `connection.tls`: the certificate and key parse and belong together, every
 * certificate of the chain is valid now, and Node's TLS accepts them. A certificate that expires
 * soon is a warning, so `sockguard validate` and the guard's reload line say so while there is
 * time to renew it.
 */
import { createSecureContext } from "node:tls";
import type { X509Certificate } from "node:crypto";
import type { Policy } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import { childPointer } from "./positions.js";
import { readTlsMaterial } from "./tls-material.js";

/** A certificate that expires within this time is a warning: 14 days. */
export const CERTIFICATE_EXPIRY_WARNING_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * @example
 * checkTls(policy, keyFiles, "/srv/policies", report);
 * checkTls(policy, keyFiles, "/srv/policies", report, Date.parse("2030-01-01")); // as of a given time
 */
export function checkTls(
  policy: Policy,
  keyFiles: ReadonlyMap<string, string>,
  baseDir: string,
  report: Report,
  now: number = Date.now(),
): void {
  const tls = policy.connection?.tls;
  if (tls?.certFile === undefined || tls.keyFile === undefined) return;
  const at = (property: string): string => childPointer("/connection/tls", property);
  const read = readTlsMaterial({ ...tls, certFile: tls.certFile, keyFile: tls.keyFile }, keyFiles, baseDir);
  if (!read.ok) {
    for (const problem of read.problems) report(at(problem.property), problem.message);
    return;
  }
  const { material } = read;
  material.chain.forEach((certificate, index) => {
    const finding = validityFinding(
      certificate,
      index === 0 ? "the certificate" : `certificate ${index + 1}`,
      now,
    );
    if (finding) report(at("certFile"), `${finding.message} (certFile)`, { severity: finding.severity });
  });
  try {
    createSecureContext({
      cert: material.cert,
      key: material.key,
      ...(material.ca === undefined ? {} : { ca: material.ca }),
      ...(tls.minVersion === undefined ? {} : { minVersion: tls.minVersion }),
    });
  } catch (error) {
    report(at("certFile"), `Node's TLS refuses this certificate and key: ${openSslReason(error)}`);
  }
}

/** What is wrong with a certificate's validity period at `now`: expired or not yet valid (errors), expiring soon (a warning). */
function validityFinding(
  certificate: X509Certificate,
  name: string,
  now: number,
): { readonly message: string; readonly severity: "error" | "warning" } | undefined {
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  if (notAfter <= now) return { message: `${name} expired on ${day(notAfter)}`, severity: "error" };
  if (notBefore > now) return { message: `${name} is not valid before ${day(notBefore)}`, severity: "error" };
  if (notAfter - now < CERTIFICATE_EXPIRY_WARNING_MS) {
    const days = Math.floor((notAfter - now) / (24 * 60 * 60 * 1000));
    const left = days === 0 ? "in less than a day" : `in ${days} day${days === 1 ? "" : "s"}`;
    return { message: `${name} expires on ${day(notAfter)}, ${left}: renew it`, severity: "warning" };
  }
  return undefined;
}

function day(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** OpenSSL's reason, without its numeric error prefix. */
function openSslReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, "").slice(0, 160);
}
