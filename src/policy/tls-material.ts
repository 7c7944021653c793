/**
 * The certificate and key `connection.tls` names, read out of the key files the loader read: the
 * PEM certificates of `certFile` (leaf first), the one private key of `keyFile`, the CA
 * certificates of `caFile`. The loader checks them with it and compile builds the served
 * credentials with it, so what was checked is what is served. Messages describe the material,
 * never its bytes.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { resolve } from "node:path";
import type { TlsPolicy } from "./types.js";

/** A certificate chain and its key, as PEM text Node's TLS takes, with the parsed certificates. */
export interface TlsMaterial {
  /** The PEM certificates of `certFile`, leaf first, and nothing else of that file. */
  readonly cert: string;
  /** The PEM private key of `keyFile`. */
  readonly key: string;
  /** The PEM certificates of `caFile`, when the policy names one. */
  readonly ca?: string;
  /** The certificates of `cert`, parsed, leaf first. */
  readonly chain: readonly X509Certificate[];
  readonly privateKey: KeyObject;
}

/** What is wrong with the material, at the `connection.tls` property that names the file. */
export interface TlsMaterialProblem {
  readonly property: "certFile" | "keyFile" | "caFile";
  readonly message: string;
}

export type TlsMaterialRead =
  | { readonly ok: true; readonly material: TlsMaterial }
  | { readonly ok: false; readonly problems: readonly TlsMaterialProblem[] };

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PRIVATE_KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/g;

/**
 * The material of `tls` (which names `certFile` and `keyFile`), from the files read by the loader.
 * A file that was not read (it was reported already) gives no problem here, only no material.
 *
 * @example
 * const read = readTlsMaterial(policy.connection.tls, resources.keyFiles, resources.baseDir);
 * if (read.ok) read.material.chain[0]?.fingerprint256;
 */
export function readTlsMaterial(
  tls: TlsPolicy & { readonly certFile: string; readonly keyFile: string },
  keyFiles: ReadonlyMap<string, string>,
  baseDir: string,
): TlsMaterialRead {
  const problems: TlsMaterialProblem[] = [];
  const text = (file: string): string | undefined => keyFiles.get(resolve(baseDir, file));
  const certText = text(tls.certFile);
  const keyText = text(tls.keyFile);
  const caText = tls.caFile === undefined ? undefined : text(tls.caFile);
  if (certText === undefined || keyText === undefined || (tls.caFile !== undefined && caText === undefined)) {
    return { ok: false, problems };
  }

  const chain = parseCertificates(certText, "certFile", problems);
  const privateKey = parsePrivateKey(keyText, problems);
  const ca = caText === undefined ? undefined : parseCertificates(caText, "caFile", problems);
  if (problems.length > 0 || !privateKey || !chain || (caText !== undefined && !ca)) {
    return { ok: false, problems };
  }
  if (!chain[0]!.checkPrivateKey(privateKey.key)) {
    problems.push({
      property: "keyFile",
      message:
        "the key in keyFile does not belong to the certificate in certFile (a key and certificate of different pairs)",
    });
    return { ok: false, problems };
  }
  return {
    ok: true,
    material: {
      cert: chain.map((certificate) => certificate.toString()).join(""),
      key: privateKey.pem,
      ...(ca === undefined ? {} : { ca: ca.map((certificate) => certificate.toString()).join("") }),
      chain,
      privateKey: privateKey.key,
    },
  };
}

function parseCertificates(
  text: string,
  property: "certFile" | "caFile",
  problems: TlsMaterialProblem[],
): X509Certificate[] | undefined {
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    problems.push({
      property,
      message: `${property} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    });
    return undefined;
  }
  const parsed: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      parsed.push(new X509Certificate(block));
    } catch {
      problems.push({ property, message: `certificate ${index + 1} in ${property} does not parse` });
    }
  }
  return parsed.length === blocks.length ? parsed : undefined;
}

function parsePrivateKey(
  text: string,
  problems: TlsMaterialProblem[],
): { readonly pem: string; readonly key: KeyObject } | undefined {
  const blocks = [...text.matchAll(PRIVATE_KEY_BLOCK)];
  const problem = (message: string): undefined => {
    problems.push({ property: "keyFile", message });
    return undefined;
  };
  if (blocks.length === 0) return problem("keyFile holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
  if (blocks.length > 1)
    return problem(`keyFile holds ${blocks.length} private keys; give the one of the certificate`);
  const [pem, label] = blocks[0]! as unknown as [string, string];
  if (label === "ENCRYPTED PRIVATE KEY" || /Proc-Type:\s*4,ENCRYPTED/.test(pem)) {
    return problem(
      "keyFile is encrypted; sockguard takes no passphrase, so give the key unencrypted (mode 0600)",
    );
  }
  try {
    return { pem: `${pem}\n`, key: createPrivateKey(pem) };
  } catch {
    return problem("the private key in keyFile does not parse");
  }
}
