import assert from "node:assert/strict";
import type { Server } from "socket.io";
import type { Decision, Guard, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, refused } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSecret, epoch, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { delay, nextEvent } from "../../helpers/wait.js";

const ISS = "urn:test:services";
const SECRET = createSecret();

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  auth: {
    clockTolerance: "0s",
    issuers: { services: hs256Issuer(ISS, SECRET, "chat") },
  },
  namespaces: {
    "/chat": {
      auth: "required",
      require: { scope: "chat:read" },
      events: {
        read: { args: [] },
        write: { args: [{ type: "string" }], require: { scope: "chat:write" } },
      },
    },
  },
};

const token = (sub: string, claims: Record<string, unknown> = {}): Promise<string> =>
  signWithSecret(SECRET, claimsFor(ISS, "chat", { sub, scope: "chat:read", ...claims }));

describe("guard: identities (tokens through the guard)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let io: Server;
  let url: string;
  let guard: Guard;
  let decisions: Decision[];
  let views: unknown[];

  beforeEach(async () => {
    views = [];
    ({ io, url, guard, decisions } = await startGuardedServer(cleanup, { policy: POLICY }));
    io.of("/chat").on("connection", (socket) => {
      views.push(socket.data.sockguard);
      socket.on("read", (ack: (r: unknown) => void) =>
        ack({ read: true, who: socket.data.sockguard?.subject }),
      );
      socket.on("write", (_text: string, ack: (r: unknown) => void) => ack({ wrote: true }));
    });
  });

  async function connect(
    sub: string,
    claims: Record<string, unknown> = {},
  ): Promise<ReturnType<typeof createClient>> {
    const client = createClient(cleanup, url, "/chat", {
      transports: ["websocket"],
      auth: { token: await token(sub, claims) },
    });
    await connected(client);
    return client;
  }

  it("gives the app a frozen view of the verified identity in socket.data.sockguard", async () => {
    const client = await connect("u1");
    assert.deepEqual(await emitWithReply(client, "read"), { read: true, who: "u1" });
    const view = views[0] as {
      issuer: string;
      subject: string;
      claims: { scope: string };
      expiresAt: number;
    };
    assert.equal(view.issuer, "services");
    assert.equal(view.subject, "u1");
    assert.equal(view.claims.scope, "chat:read");
    assert.ok(Object.isFrozen(view));
  });

  it("checks an event's own claims after the namespace's (claims_not_satisfied, naming the event)", async () => {
    const reader = await connect("u1");
    assert.deepEqual(await emitWithReply(reader, "write", "x"), {
      error: { code: "claims_not_satisfied", message: "The token's claims do not satisfy the policy" },
    });
    const writer = await connect("u2", { scope: "chat:read chat:write" });
    assert.deepEqual(await emitWithReply(writer, "write", "x"), { wrote: true });
    assert.deepEqual(
      decisions.map((d) => [d.code, d.event, d.subject]),
      [["claims_not_satisfied", "write", "u1"]],
    );
  });

  it("checks an event's claims before its size, binary and schema: a sender without them learns nothing of the schema", async () => {
    const reader = await connect("u1");
    const claimsRefusal = {
      error: { code: "claims_not_satisfied", message: "The token's claims do not satisfy the policy" },
    };
    assert.deepEqual(await emitWithReply(reader, "write", 42), claimsRefusal);
    assert.deepEqual(await emitWithReply(reader, "write", Buffer.alloc(16)), claimsRefusal);
    assert.deepEqual(await emitWithReply(reader, "write", "x".repeat(1_100_000)), claimsRefusal);
  });

  it("refuses a connect without the namespace's claims, and its decision names the verified subject", async () => {
    const client = createClient(cleanup, url, "/chat", {
      transports: ["websocket"],
      auth: { token: await signWithSecret(SECRET, claimsFor(ISS, "chat", { sub: "u9", scope: "other" })) },
    });
    assert.equal((await refused(client)).data?.code, "claims_not_satisfied");
    assert.deepEqual(
      decisions.map((d) => [d.code, d.stage, d.subject]),
      [["claims_not_satisfied", "connect", "u9"]],
    );
  });

  it("revoke() disconnects the subject's sockets with revoked, and only theirs", async () => {
    const first = await connect("u1");
    const second = await connect("u1");
    const other = await connect("u2");
    const told = nextEvent<[{ code: string }]>(first, "sockguard:denied");
    const gone = nextEvent(second, "disconnect");
    assert.deepEqual(await guard.revoke({ sub: "u1" }), { disconnected: 2, nodes: 1 });
    assert.equal((await told)[0].code, "revoked");
    await gone;
    assert.equal(other.connected, true);
    assert.throws(() => void guard.revoke({} as never), TypeError);
  });

  it("disconnects a socket when its token expires, telling it token_expired", async () => {
    const client = await connect("u1", { exp: epoch(1) });
    const [body] = await nextEvent<[{ code: string }]>(client, "sockguard:denied", 3000);
    assert.equal(body.code, "token_expired");
    assert.ok(decisions.some((d) => d.code === "token_expired" && d.stage === "expiry"));
  });

  it("renews the identity with sockguard:reauth, and refuses a token for another subject", async () => {
    // One renewal per socket: a socket may have one judged every 3 s (see reauth.test.ts).
    const [renewing, switching, malformed] = await Promise.all([
      connect("u1", { exp: epoch(60) }),
      connect("u1"),
      connect("u1"),
    ]);
    const renewed = await emitWithReply(renewing, "sockguard:reauth", {
      token: await token("u1", { exp: epoch(7200) }),
    });
    assert.deepEqual(renewed, { ok: true, expiresAt: epoch(7200) * 1000 });
    const foreign = await emitWithReply(switching, "sockguard:reauth", { token: await token("u2") });
    assert.deepEqual(foreign, { error: { code: "token_invalid", message: "The token is not valid" } });
    assert.deepEqual(await emitWithReply(malformed, "sockguard:reauth", "not an object"), {
      error: { code: "token_invalid", message: "The token is not valid" },
    });
    for (const client of [renewing, switching, malformed]) {
      assert.deepEqual(await emitWithReply(client, "read"), { read: true, who: "u1" });
    }
  });

  it("keeps a renewed socket past its first token's expiry", async () => {
    const client = await connect("u1", { exp: epoch(1) });
    const renewed = (await emitWithReply(client, "sockguard:reauth", { token: await token("u1") })) as {
      ok?: boolean;
    };
    assert.equal(renewed.ok, true);
    await delay(1200);
    assert.equal(client.connected, true);
    assert.deepEqual(await emitWithReply(client, "read"), { read: true, who: "u1" });
  });
});
