/**
 * `connection.tls` in the loader: the certificate and key files are read, watched (they are among
 * the policy's files and in its version) and checked, with real certificates made by openssl.
 * Every problem is a diagnostic at the key that names the file.
 */
import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";
import { checkTls } from "../../../src/policy/check-tls.js";
import type { Diagnostic } from "../../../src/policy/diagnostic.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { makeCertificate, type TestCertificate } from "../../helpers/certificates.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const POLICY = `version: 1
connection:
  tls:
    certFile: certs/tls.crt
    keyFile: certs/tls.key
namespaces:
  /:
    auth: none
    events: {}
`;

describe("policy: connection.tls", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let current: TestCertificate;
  let other: TestCertificate;
  let expired: TestCertificate;
  let future: TestCertificate;
  let soon: TestCertificate;
  before(async function () {
    this.timeout(30_000);
    [current, other, expired, future, soon] = await Promise.all([
      makeCertificate(),
      makeCertificate(),
      makeCertificate({ period: { from: "20200101000000Z", to: "20200201000000Z" } }),
      makeCertificate({ period: { from: "20990101000000Z", to: "21000101000000Z" } }),
      makeCertificate({ days: 3 }),
    ]);
  });

  async function load(files: Record<string, string>, policy = POLICY) {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": policy, ...files });
    return { dir, result: await loadPolicy(join(dir, "policy.yaml")) };
  }

  const at = (diagnostics: readonly Diagnostic[]) =>
    diagnostics.map(({ line, col, path, severity, message }) => ({ line, col, path, severity, message }));
  /** An error at `keyFile` (line 5, column 14 of {@link POLICY}). */
  const atKeyFile = (message: string) => ({
    line: 5,
    col: 14,
    path: "/connection/tls/keyFile",
    severity: "error",
    message,
  });

  it("reads a matching pair: both files are among the policy's files and count in its version", async () => {
    const { dir, result } = await load({ "certs/tls.crt": current.cert, "certs/tls.key": current.key });
    expect(at(result.diagnostics)).to.deep.equal([]);
    expect(result.policy?.connection?.tls).to.deep.equal({
      certFile: "certs/tls.crt",
      keyFile: "certs/tls.key",
    });
    expect(result.files).to.include.members([join(dir, "certs/tls.crt"), join(dir, "certs/tls.key")]);
    await writeFile(join(dir, "certs/tls.crt"), other.cert);
    await writeFile(join(dir, "certs/tls.key"), other.key);
    const renewed = await loadPolicy(join(dir, "policy.yaml"));
    expect(renewed.policy).to.not.equal(undefined);
    expect(renewed.version).to.not.equal(result.version);
  });

  it("refuses a key that belongs to another certificate, at keyFile", async () => {
    const { result } = await load({ "certs/tls.crt": current.cert, "certs/tls.key": other.key });
    expect(result.policy).to.equal(undefined);
    expect(at(result.diagnostics)).to.deep.equal([
      atKeyFile(
        "the key in keyFile does not belong to the certificate in certFile (a key and certificate of different pairs)",
      ),
    ]);
  });

  it("refuses an expired certificate and one not valid yet, at certFile", async () => {
    for (const [certificate, message] of [
      [expired, "the certificate expired on 2020-02-01T00:00:00Z (certFile)"],
      [future, "the certificate is not valid before 2099-01-01T00:00:00Z (certFile)"],
    ] as const) {
      const { result } = await load({ "certs/tls.crt": certificate.cert, "certs/tls.key": certificate.key });
      expect(result.policy).to.equal(undefined);
      expect(at(result.diagnostics)).to.deep.equal([
        { line: 4, col: 15, path: "/connection/tls/certFile", severity: "error", message },
      ]);
    }
  });

  it("warns about a certificate that expires within 14 days, and still loads", async () => {
    const { result } = await load({ "certs/tls.crt": soon.cert, "certs/tls.key": soon.key });
    expect(result.policy).to.not.equal(undefined);
    const [warning, ...rest] = result.diagnostics;
    expect(rest).to.deep.equal([]);
    expect(warning).to.include({ severity: "warning", path: "/connection/tls/certFile", line: 4 });
    expect(warning?.message).to.match(
      /^the certificate expires on \d{4}-\d\d-\d\dT[\d:]+Z, in 2 days: renew it \(certFile\)$/,
    );
  });

  it("judges validity as of the time it is given", async () => {
    const { result } = await load({ "certs/tls.crt": current.cert, "certs/tls.key": current.key });
    const found: string[] = [];
    const report = (pointer: string, message: string) => void found.push(`${pointer}: ${message}`);
    const inAYear = Date.now() + 365 * 24 * 60 * 60 * 1000;
    checkTls(result.policy!, result.resources!.keyFiles, result.resources!.baseDir, report, inAYear);
    expect(found).to.have.length(1);
    expect(found[0]).to.match(/^\/connection\/tls\/certFile: the certificate expired on /);
  });

  it("reports a missing file at the key that names it, and waits for it among the policy's files", async () => {
    const { dir, result } = await load({ "certs/tls.crt": current.cert });
    expect(result.policy).to.equal(undefined);
    expect(at(result.diagnostics)).to.deep.equal([
      atKeyFile("cannot read keyFile certs/tls.key: no such file"),
    ]);
    expect(result.files).to.include(join(dir, "certs/tls.key"));
  });

  it("refuses files that hold no certificate or no key, an encrypted key, and two keys, never showing their bytes", async () => {
    const cases: [Record<string, string>, string, string][] = [
      [
        { "certs/tls.crt": current.key, "certs/tls.key": current.key },
        "/connection/tls/certFile",
        "certFile holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
      ],
      [
        { "certs/tls.crt": current.cert, "certs/tls.key": current.cert },
        "/connection/tls/keyFile",
        "keyFile holds no PEM private key (-----BEGIN PRIVATE KEY-----)",
      ],
      [
        {
          "certs/tls.crt": current.cert,
          "certs/tls.key":
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
        },
        "/connection/tls/keyFile",
        "keyFile is encrypted; sockguard takes no passphrase, so give the key unencrypted (mode 0600)",
      ],
      [
        { "certs/tls.crt": current.cert, "certs/tls.key": current.key + other.key },
        "/connection/tls/keyFile",
        "keyFile holds 2 private keys; give the one of the certificate",
      ],
    ];
    for (const [files, path, message] of cases) {
      const { result } = await load(files);
      expect(at(result.diagnostics).map((d) => ({ path: d.path, message: d.message }))).to.deep.equal([
        { path, message },
      ]);
      for (const secret of [current.key, other.key]) {
        expect(JSON.stringify(result.diagnostics)).to.not.include(secret.split("\n")[1]);
      }
    }
  });

  it("takes one file holding the certificate and its key, and a CA file", async () => {
    const policy = POLICY.replace("certs/tls.key", "certs/tls.crt").replace(
      "    keyFile",
      "    caFile: certs/ca.crt\n    keyFile",
    );
    const { result } = await load(
      { "certs/tls.crt": current.key + current.cert, "certs/ca.crt": other.cert },
      policy,
    );
    expect(at(result.diagnostics)).to.deep.equal([]);
  });

  it("needs certFile and keyFile together, caFile only with them, and a known minVersion", async () => {
    const policy = `version: 1
connection:
  tls: { certFile: a.crt, minVersion: TLSv1.1 }
namespaces: { /: { auth: none, events: {} } }
`;
    const { result } = await load({ "a.crt": current.cert }, policy);
    expect(result.diagnostics.map((d) => `${d.path}: ${d.message}`)).to.deep.equal([
      "/connection/tls: connection.tls must have property keyFile when property certFile is present",
      "/connection/tls/minVersion: connection.tls.minVersion must be one of: TLSv1.2, TLSv1.3",
    ]);
    const empty = await load({}, policy.replace("{ certFile: a.crt, minVersion: TLSv1.1 }", "{}"));
    expect(empty.result.diagnostics.map((d) => d.path)).to.deep.equal(["/connection/tls"]);
    const minOnly = await load(
      {},
      policy.replace("{ certFile: a.crt, minVersion: TLSv1.1 }", "{ minVersion: TLSv1.3 }"),
    );
    expect(minOnly.result.diagnostics).to.deep.equal([]);
  });
});
