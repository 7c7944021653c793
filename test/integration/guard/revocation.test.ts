import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Guard, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, refused } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import {
  claimsFor,
  createSecret,
  createSigningKey,
  epoch,
  hs256Issuer,
  signWith,
  signWithSecret,
  type SigningKey,
} from "../../helpers/tokens.js";
import { delay, nextEvent, waitUntil } from "../../helpers/wait.js";

const ISS = "urn:test:services";
const SECRET = createSecret();
const IDP = "https://idp.example.test/";

const policy = (revocationTtl?: string): Policy => ({
  version: 1,
  connection: { allowMissingOrigin: true },
  auth: {
    // No tolerance: a token whose iat is the second after the revocation is newer than it.
    clockTolerance: "0s",
    ...(revocationTtl === undefined ? {} : { revocationTtl }),
    issuers: { services: hs256Issuer(ISS, SECRET, "chat") },
  },
  namespaces: { "/chat": { events: { ping: { args: [] } } } },
});

const token = (claims: Record<string, unknown> = {}): Promise<string> =>
  signWithSecret(SECRET, claimsFor(ISS, "chat", { sub: "u1", ...claims }));

/** Waits for the next whole second, so a token signed then has an `iat` after a revocation made now. */
const nextSecond = (): Promise<void> => delay(1000 - (Date.now() % 1000) + 20);

describe("guard: revocation (guard.revoke)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let guard: Guard;
  let decisions: Decision[];

  async function start(revocationTtl?: string): Promise<void> {
    const server = await startGuardedServer(cleanup, { policy: policy(revocationTtl) });
    ({ url, guard, decisions } = server);
    server.io
      .of("/chat")
      .on("connection", (socket) => socket.on("ping", (ack: (r: string) => void) => ack("pong")));
  }

  const client = (tokenValue: string): ClientSocket =>
    createClient(cleanup, url, "/chat", { transports: ["websocket"], auth: { token: tokenValue } });
  async function connect(tokenValue: string): Promise<ClientSocket> {
    const socket = client(tokenValue);
    await connected(socket);
    return socket;
  }
  const refusalOf = async (tokenValue: string): Promise<string | undefined> =>
    (await refused(client(tokenValue))).data?.code;

  describe("with the default revocationTtl", () => {
    beforeEach(() => start());

    it("disconnects the subject's live sockets, then refuses the same token at connect with revoked", async () => {
      const old = await token();
      const live = await connect(old);
      const other = await connect(await token({ sub: "u2" }));
      const told = nextEvent<[{ code: string }]>(live, "sockguard:denied");
      assert.deepEqual(await guard.revoke({ sub: "u1" }), { disconnected: 1, nodes: 1 });
      assert.equal((await told)[0].code, "revoked");
      assert.equal(await refusalOf(old), "revoked");
      assert.equal(other.connected, true);
      assert.deepEqual(
        decisions.map((d) => [d.code, d.stage]),
        [
          ["revoked", "revoke"],
          ["revoked", "connect"],
        ],
      );
    });

    it("refuses a token of the subject without iat, and admits one issued after the revocation", async () => {
      await guard.revoke({ sub: "u1" });
      assert.equal(await refusalOf(await token({ iat: undefined })), "revoked");
      assert.equal(await refusalOf(await token({ iat: epoch(-60) })), "revoked");
      await nextSecond();
      const fresh = await connect(await token({ iat: epoch() }));
      assert.equal(await emitWithReply(fresh, "ping"), "pong");
    });

    it("narrows a revocation to one issuer: another issuer's name matches nothing", async () => {
      await guard.revoke({ sub: "u1", issuer: "partners" });
      assert.ok((await connect(await token())).connected);
      await guard.revoke({ sub: "u1", issuer: ISS });
      assert.equal(await refusalOf(await token()), "revoked");
    });

    it("revoke({ jti }) disconnects and refuses that token only", async () => {
      const revokedToken = await token({ jti: "token-a" });
      const first = await connect(revokedToken);
      const second = await connect(await token({ jti: "token-b" }));
      const gone = nextEvent(first, "disconnect");
      assert.deepEqual(await guard.revoke({ jti: "token-a" }), { disconnected: 1, nodes: 1 });
      await gone;
      assert.equal(await refusalOf(revokedToken), "revoked");
      assert.equal(second.connected, true);
      assert.ok((await connect(await token({ jti: "token-b" }))).connected);
    });

    it("refuses a renewal with a revoked token with revoked, and keeps the socket", async () => {
      const socket = await connect(await token({ jti: "current" }));
      await guard.revoke({ jti: "stolen" });
      const reply = await emitWithReply(socket, "sockguard:reauth", {
        token: await token({ jti: "stolen" }),
      });
      assert.deepEqual(reply, {
        error: { code: "revoked", message: "This connection's access was revoked" },
      });
      assert.equal(socket.connected, true);
      assert.equal(await emitWithReply(socket, "ping"), "pong");
    });

    it("throws a TypeError at once for a target without a usable sub or jti", () => {
      assert.throws(() => void guard.revoke({} as never), TypeError);
      assert.throws(() => void guard.revoke({ sub: "" }), TypeError);
      assert.throws(() => void guard.revoke({ sub: "u1", jti: "x" } as never), TypeError);
    });
  });

  it("admits the old token again once revocationTtl has passed", async () => {
    await start("1s");
    const old = await token();
    await guard.revoke({ sub: "u1" });
    assert.equal(await refusalOf(old), "revoked");
    await delay(1100);
    assert.ok((await connect(old)).connected);
  });
});

describe("guard: revokes and reloads reach connects still verifying their token", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let key: SigningKey;
  let jwks: JwksServer;
  before(async () => {
    key = await createSigningKey("RS256", "key-1");
  });
  beforeEach(async () => {
    jwks = await JwksServer.start([key.jwk]);
    cleanup.add(() => jwks.close());
    // The key set download hangs until the test answers it: every connect waits for it.
    jwks.mode = "slow";
  });

  const policyText = (scope: string): string =>
    [
      "version: 1",
      "connection: { allowMissingOrigin: true }",
      "auth:",
      "  issuers:",
      `    idp: { issuer: "${IDP}", jwksUri: "${jwks.url}", audience: chat-api, algorithms: [RS256] }`,
      "namespaces:",
      `  /chat: { require: { scope: ${scope} }, events: { ping: { args: [] } } }`,
    ].join("\n") + "\n";

  async function connectWhileKeysHang(url: string): Promise<ReturnType<typeof refused>> {
    const tokenValue = await signWith(key, claimsFor(IDP, "chat-api", { sub: "u1", scope: "chat:read" }));
    const socket = createClient(cleanup, url, "/chat", {
      transports: ["websocket"],
      auth: { token: tokenValue },
    });
    const outcome = refused(socket, 5000);
    // The connect is in the guard, waiting for the key set.
    await waitUntil(
      () => jwks.requests > 0 && socket.io.engine?.readyState === "open",
      3000,
      "the connect started",
    );
    await delay(100);
    return outcome;
  }

  it("a revoke while the subject's connect waits for a slow JWKS download refuses that connect with revoked", async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": policyText("chat:read") });
    const { io, url, guard } = await startGuardedServer(cleanup, {
      policy: join(dir, "policy.yaml"),
      watch: false,
    });
    io.of("/chat");
    const outcome = connectWhileKeysHang(url);
    await delay(150);
    assert.deepEqual(await guard.revoke({ sub: "u1" }), { disconnected: 0, nodes: 1 });
    jwks.mode = "ok";
    jwks.answerHeld();
    assert.equal((await outcome).data?.code, "revoked");
  });

  it("a reload while a connect waits for the keys judges that connect under the new policy", async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": policyText("chat:read") });
    const file = join(dir, "policy.yaml");
    const { io, url, guard } = await startGuardedServer(cleanup, { policy: file, watch: false });
    io.of("/chat");
    const outcome = connectWhileKeysHang(url);
    await delay(150);
    await writeFile(file, policyText("chat:admin"));
    const reloaded = await guard.reload();
    assert.equal(reloaded.ok && reloaded.changed, true);
    jwks.mode = "ok";
    jwks.answerHeld();
    assert.equal((await outcome).data?.code, "claims_not_satisfied");
  });
});
