/**
 * `connection.tls` on a real https server: the guard serves the policy's certificate, swaps it for
 * new connections when the files change (written in place, or by a Kubernetes-style symlink swap
 * of the secret's directory) while established connections keep theirs, keeps a bad pair out, and
 * refuses connections older than `minVersion`. Certificates are made by openssl in the test; the
 * clients are Node's own TLS and https clients, and socket.io-client.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { Agent, request, type RequestOptions } from "node:https";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { PolicyLoadError, sockguard, type ReloadFailedEvent } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { makeCertificate, type TestCertificate } from "../../helpers/certificates.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startGuardedServer, type GuardedServer } from "../../helpers/guarded-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { startTestServer, TEST_TLS } from "../../helpers/socket-server.js";
import { nextEvent } from "../../helpers/wait.js";
import { ConfigMapVolume } from "../reload/file-edits.js";

const POLLING = "/socket.io/?EIO=4&transport=polling";

function policyYaml(tls: string): string {
  return `version: 1
connection:
  allowMissingOrigin: true
  tls: ${tls}
namespaces:
  /:
    auth: none
    events:
      ping: { args: [] }
`;
}

interface TlsGet {
  readonly status: number;
  readonly body: string;
  readonly fingerprint256: string;
  readonly socket: TLSSocket;
}

describe("guard: connection.tls with live certificates", function () {
  this.timeout(20_000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let first: TestCertificate;
  let second: TestCertificate;
  let third: TestCertificate;
  before(async function () {
    this.timeout(30_000);
    [first, second, third] = await Promise.all([makeCertificate(), makeCertificate(), makeCertificate()]);
  });
  const trusted = (): string[] => [first.cert, second.cert, third.cert, TEST_TLS.cert];

  /** A polling handshake over https; the response says which certificate the connection was shown. */
  function get(port: number, options: RequestOptions = {}): Promise<TlsGet> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: POLLING, agent: false, ca: trusted(), ...options },
        (res) => {
          const socket = res.socket as TLSSocket;
          const fingerprint256 = socket.getPeerCertificate().fingerprint256;
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              fingerprint256,
              socket,
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  /** A new TLS connection, to see the certificate served; closed by cleanup. */
  async function servedFingerprint(port: number): Promise<string> {
    const socket = await tlsConnect(port);
    return socket.getPeerCertificate().fingerprint256;
  }

  function tlsConnect(port: number, maxVersion?: "TLSv1.2"): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: "127.0.0.1",
        port,
        ca: trusted(),
        ...(maxVersion ? { maxVersion } : {}),
      });
      cleanup.addFirst(() => socket.destroy());
      socket.once("secureConnect", () => resolve(socket));
      socket.once("error", reject);
    });
  }

  async function start(
    files: Record<string, string>,
    tls = "{ certFile: certs/tls.crt, keyFile: certs/tls.key }",
  ): Promise<GuardedServer & { dir: string }> {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": policyYaml(tls), ...files });
    const server = await startGuardedServer(
      cleanup,
      { policy: join(dir, "policy.yaml"), logger: quiet },
      { tls: true },
    );
    server.io.on("connection", (socket) => socket.on("ping", (ack: (reply: string) => void) => ack("pong")));
    return { ...server, dir };
  }

  it("serves the policy's certificate instead of the server's own", async () => {
    const { port } = await start({ "certs/tls.crt": first.cert, "certs/tls.key": first.key });
    assert.equal(await servedFingerprint(port), first.fingerprint256);
    const response = await get(port);
    assert.equal(response.status, 200);
    assert.equal(response.fingerprint256, first.fingerprint256);
  });

  it("rotates under open connections: new connections get the new certificate, established ones keep theirs", async () => {
    const { port, url, guard, dir } = await start({
      "certs/tls.crt": first.cert,
      "certs/tls.key": first.key,
    });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: trusted() });
    cleanup.add(() => keepAlive.destroy());
    const before = await get(port, { agent: keepAlive });
    assert.equal(before.fingerprint256, first.fingerprint256);
    const client = createClient(cleanup, url, "/", { transports: ["websocket"], ca: trusted() });
    await connected(client);

    const reloaded = nextEvent(guard, "reload", 5000);
    await writeFile(join(dir, "certs/tls.key"), second.key);
    await writeFile(join(dir, "certs/tls.crt"), second.cert);
    await reloaded;

    assert.equal(await servedFingerprint(port), second.fingerprint256);
    assert.equal((await get(port)).fingerprint256, second.fingerprint256);
    // The established connection: the same socket, still shown the first certificate, still served.
    const after = await get(port, { agent: keepAlive });
    assert.equal(after.socket, before.socket);
    assert.equal(after.status, 200);
    assert.equal(after.fingerprint256, first.fingerprint256);
    assert.equal(client.connected, true);
    assert.equal(await emitWithReply(client, "ping"), "pong");
  });

  it("follows a Kubernetes secret volume: the ..data symlink swapped to a new timestamped directory", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": policyYaml("{ certFile: secret/tls.crt, keyFile: secret/tls.key }"),
    });
    await mkdir(join(dir, "secret"));
    const secret = await ConfigMapVolume.create(join(dir, "secret"), {
      "tls.crt": first.cert,
      "tls.key": first.key,
    });
    const { port, guard } = await startGuardedServer(
      cleanup,
      { policy: join(dir, "policy.yaml"), logger: quiet },
      { tls: true },
    );
    assert.equal(await servedFingerprint(port), first.fingerprint256);

    const reloaded = nextEvent(guard, "reload", 5000);
    await secret.update({ "tls.crt": second.cert, "tls.key": second.key });
    await reloaded;
    assert.equal(await servedFingerprint(port), second.fingerprint256);
  });

  it("keeps a mismatched pair out: reloadFailed at keyFile, and the certificate in force stays", async () => {
    const { port, guard, dir } = await start({ "certs/tls.crt": first.cert, "certs/tls.key": first.key });
    const failed = nextEvent<[ReloadFailedEvent]>(guard, "reloadFailed", 5000);
    await writeFile(join(dir, "certs/tls.key"), third.key);
    const [{ diagnostics }] = await failed;
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === "error");
    assert.deepEqual(
      errors.map(({ path, line, message }) => ({ path, line, message })),
      [
        {
          path: "/connection/tls/keyFile",
          line: 4,
          message:
            "the key in keyFile does not belong to the certificate in certFile (a key and certificate of different pairs)",
        },
      ],
    );
    assert.equal(await servedFingerprint(port), first.fingerprint256);
    assert.equal((await get(port)).status, 200);
  });

  it("serves the server's own certificate again when the policy stops naming one", async () => {
    const { port, dir, guard } = await start({ "certs/tls.crt": first.cert, "certs/tls.key": first.key });
    const reloaded = nextEvent(guard, "reload", 5000);
    await writeFile(join(dir, "policy.yaml"), policyYaml("{ minVersion: TLSv1.2 }"));
    await reloaded;
    assert.notEqual(await servedFingerprint(port), first.fingerprint256);
    assert.equal(
      (await get(port)).fingerprint256,
      (await tlsConnect(port)).getPeerCertificate().fingerprint256,
    );
  });

  describe("minVersion: TLSv1.3", () => {
    it("refuses a TLS 1.2 handshake request with tls_required where the app owns the certificate", async () => {
      const { port, decisions } = await start({}, "{ minVersion: TLSv1.3 }");
      const old = await get(port, { maxVersion: "TLSv1.2" });
      assert.equal(old.socket.getProtocol(), "TLSv1.2");
      assert.equal(old.status, 403);
      assert.deepEqual(JSON.parse(old.body), {
        code: "tls_required",
        message: "The policy requires a TLS connection",
      });
      assert.deepEqual(
        decisions.map((decision) => [decision.code, decision.rule?.path]),
        [["tls_required", "/connection/tls/minVersion"]],
      );
      const current = await get(port);
      assert.equal(current.socket.getProtocol(), "TLSv1.3");
      assert.equal(current.status, 200);
    });

    it("sets Node's minVersion where the guard owns the certificate: TLS 1.2 fails the TLS handshake itself", async () => {
      const { port } = await start(
        { "certs/tls.crt": first.cert, "certs/tls.key": first.key },
        "{ certFile: certs/tls.crt, keyFile: certs/tls.key, minVersion: TLSv1.3 }",
      );
      await assert.rejects(tlsConnect(port, "TLSv1.2"), /protocol version|alert/i);
      assert.equal((await tlsConnect(port)).getProtocol(), "TLSv1.3");
    });
  });

  describe("on a plain HTTP server", () => {
    async function startPlain(tls: string): Promise<unknown> {
      const dir = await writePolicyFiles(cleanup, {
        "policy.yaml": policyYaml(tls),
        "certs/tls.crt": first.cert,
        "certs/tls.key": first.key,
      });
      try {
        await startTestServer(cleanup, {
          beforeListen: (io) =>
            sockguard(io, { policy: join(dir, "policy.yaml"), watch: false, logger: quiet }),
        });
      } catch (error) {
        return error;
      }
      return undefined;
    }

    it("refuses to start with certificates, saying where TLS belongs instead", async () => {
      const error = await startPlain("{ certFile: certs/tls.crt, keyFile: certs/tls.key }");
      assert.ok(error instanceof PolicyLoadError);
      assert.deepEqual(
        error.diagnostics.map(({ path, line, message }) => ({ path, line, message })),
        [
          {
            path: "/connection/tls",
            line: 4,
            message:
              "the policy names certificates but the server is plain HTTP; put TLS at a proxy and use trustedProxies, or create an https server",
          },
        ],
      );
    });

    it("refuses to start with minVersion alone, which it could not check", async () => {
      const error = await startPlain("{ minVersion: TLSv1.3 }");
      assert.ok(error instanceof PolicyLoadError);
      assert.match(
        error.message,
        /connection\.tls\.minVersion needs a TLS server, but the server is plain HTTP/,
      );
    });
  });
});

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
