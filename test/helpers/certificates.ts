/**
 * Real certificates for TLS tests, made by the `openssl` binary (Debian's; `.ci/run` installs it
 * where it is missing): self-signed EC P-256 certificates for `localhost` and `127.0.0.1`, valid
 * from now for some days, or for a period in the past or the future.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificate {
  /** PEM text of the certificate. */
  readonly cert: string;
  /** PEM text of its private key (unencrypted). */
  readonly key: string;
  /** As `tlsSocket.getPeerCertificate().fingerprint256` shows it. */
  readonly fingerprint256: string;
}

export interface CertificateOptions {
  /** Days of validity from now; default 90. */
  readonly days?: number;
  /** A fixed validity period instead, as openssl writes times: `20200101000000Z`. */
  readonly period?: { readonly from: string; readonly to: string };
  /** The certificate's common name; default `localhost`. */
  readonly commonName?: string;
}

const SUBJECT_ALT_NAME = "subjectAltName=DNS:localhost,IP:127.0.0.1";

/**
 * Makes a new key pair and a self-signed certificate for it.
 *
 * @example
 * const current = await makeCertificate();
 * const expired = await makeCertificate({ period: { from: "20200101000000Z", to: "20200201000000Z" } });
 */
export async function makeCertificate(options: CertificateOptions = {}): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "sockguard-cert-"));
  try {
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    const subject = `/CN=${options.commonName ?? "localhost"}`;
    const newKey = [
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
    ];
    if (options.period === undefined) {
      await openssl(
        ["req", "-x509", ...newKey, "-out", certPath, "-days", String(options.days ?? 90)].concat([
          "-subj",
          subject,
          "-addext",
          SUBJECT_ALT_NAME,
        ]),
      );
    } else {
      // `openssl req` only counts days from now; `openssl ca` signs for any period.
      const requestPath = join(dir, "request.csr");
      await openssl(["req", "-new", ...newKey, "-out", requestPath, "-subj", subject]);
      const configPath = join(dir, "ca.cnf");
      await writeFile(join(dir, "index.txt"), "");
      await writeFile(join(dir, "serial"), "01\n");
      await writeFile(configPath, caConfig(dir));
      await openssl(
        ["ca", "-batch", "-notext", "-selfsign", "-config", configPath, "-keyfile", keyPath]
          .concat(["-in", requestPath, "-out", certPath, "-startdate", options.period.from])
          .concat(["-enddate", options.period.to, "-extensions", "server"]),
      );
    }
    const [cert, key] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
    return { cert, key, fingerprint256: new X509Certificate(cert).fingerprint256 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function caConfig(dir: string): string {
  return [
    "[ca]",
    "default_ca = signing",
    "[signing]",
    `database = ${join(dir, "index.txt")}`,
    `new_certs_dir = ${dir}`,
    `serial = ${join(dir, "serial")}`,
    "default_md = sha256",
    "policy = any_name",
    "[any_name]",
    "commonName = supplied",
    "[server]",
    SUBJECT_ALT_NAME.replace("=", " = "),
    "",
  ].join("\n");
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args, { timeout: 20_000 });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`openssl ${args[0]} failed (is openssl installed? .ci/run installs it): ${detail}`, {
      cause: error,
    });
  }
}
