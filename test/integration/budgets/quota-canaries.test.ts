/**
 * Canaries for the Socket.IO internal a namespace quota relies on (DESIGN §7): Socket.IO calls a
 * socket's private `_cleanup` on every end of a socket whose middleware chain finished, and the
 * guard frees the socket's `maxConnections` place there. Each case leaves the Engine.IO
 * connection's own `close` out of it (the connection stays open, or had closed before the place was
 * taken), so only `_cleanup` can free the place; each asserts that it was freed.
 */
import assert from "node:assert/strict";
import type { Socket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, refused } from "../../helpers/clients.js";
import { startGuardedServer, type GuardedServer } from "../../helpers/guarded-server.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import { claimsFor, createSigningKey, signWith, type SigningKey } from "../../helpers/tokens.js";
import { delay, nextEvent, waitUntil } from "../../helpers/wait.js";
import { ISSUER, tokenFor } from "./budget-harness.js";

const IDP = "https://idp.budgets.test";
const PING = { ping: { args: [] } };

describe("Socket.IO canaries for connection quotas: _cleanup ends every socket", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const localPolicy: Policy = {
    version: 1,
    connection: { allowMissingOrigin: true },
    auth: { issuers: { idp: ISSUER } },
    namespaces: {
      "/": { auth: "none", events: PING },
      "/one": { auth: "optional", maxConnections: 1, events: PING },
    },
  };

  async function startLocal(): Promise<GuardedServer> {
    const server = await startGuardedServer(cleanup, { policy: localPolicy });
    server.io.of("/one");
    return server;
  }

  it("is called for a connect the app's later middleware refuses, on a connection that stays open", async () => {
    const server = await startLocal();
    let refusals = 0;
    server.io.of("/one").use((_socket, next) => {
      refusals += 1;
      next(new Error("no"));
    });
    // The root socket keeps the connection open: socket.io-client closes a connection whose last
    // socket was refused.
    const root = createClient(cleanup, server.url, "/", { transports: ["websocket"] });
    await connected(root);
    const one = root.io.socket("/one", { auth: { token: await tokenFor("u1") } });
    cleanup.add(() => one.disconnect());
    for (let attempt = 1; attempt <= 3; attempt++) {
      const refusal = refused(one);
      // The socket connects on creation; then it sends CONNECT again on the same connection.
      if (attempt > 1) one.connect();
      assert.deepEqual(await refusal, { message: "no" }, `attempt ${attempt}`);
    }
    assert.equal(refusals, 3, "each CONNECT passed the quota, so the place before it was freed");
    assert.equal(server.io.engine.clientsCount, 1, "all three came over one Engine.IO connection");
  });

  it("is called when a socket leaves its namespace while its connection stays open", async () => {
    const server = await startLocal();
    const sockets: Socket[] = [];
    server.io.of("/one").on("connection", (socket) => sockets.push(socket));
    const root = createClient(cleanup, server.url, "/", { transports: ["websocket"] });
    await connected(root);
    const token = await tokenFor("u1");
    const one = root.io.socket("/one", { auth: { token } });
    cleanup.add(() => one.disconnect());
    await connected(one);

    // The client leaves /one: its DISCONNECT packet, the root socket keeps the connection.
    const leftByClient = nextEvent(sockets[0]!, "disconnect");
    one.disconnect();
    await leftByClient;
    one.connect();
    await connected(one);

    // The server makes it leave /one alone (disconnect(), not disconnect(true)).
    const leftByServer = nextEvent(one, "disconnect");
    sockets[1]!.disconnect();
    await leftByServer;
    one.connect();
    await connected(one);
    assert.equal(server.io.engine.clientsCount, 1);
    assert.equal(sockets.length, 3);
  });

  describe("a connect abandoned while the guard waits for a slow JWKS", () => {
    let key: SigningKey;
    before(async () => {
      key = await createSigningKey("RS256", "k1");
    });

    it("is called when the guard admits it after its connection closed", async () => {
      const jwks = await JwksServer.start([key.jwk]);
      cleanup.add(() => jwks.close());
      jwks.mode = "slow";
      const server = await startGuardedServer(cleanup, {
        policy: {
          version: 1,
          connection: { allowMissingOrigin: true },
          auth: {
            issuers: { idp: { issuer: IDP, jwksUri: jwks.url, audience: "any", algorithms: ["RS256"] } },
          },
          namespaces: { "/slow": { auth: "required", maxConnections: 1, events: PING } },
        },
        decisions: "all",
      });
      server.io.of("/slow");
      const decisions: Decision[] = server.decisions;
      const token = await signWith(key, claimsFor(IDP, undefined, { sub: "u1" }));
      const connectAs = (): ClientSocket =>
        createClient(cleanup, server.url, "/slow", { transports: ["websocket"], auth: { token } });

      const abandoned = connectAs();
      await waitUntil(() => jwks.requests > 0, 3000, "the guard asked for the keys");
      // The client is gone while the guard still waits for the keys.
      abandoned.io.engine.close();
      await waitUntil(() => server.io.engine.clientsCount === 0, 3000, "the server saw it close");
      jwks.mode = "ok";
      jwks.answerHeld();
      await waitUntil(
        () => decisions.some((d) => d.stage === "connect" && d.code === "allowed"),
        10_000,
        "the guard admitted the abandoned connect",
      );
      // Socket.IO's middleware callback runs on the next tick, and finds the connection closed.
      await delay(20);

      const later = connectAs();
      await connected(later);
      assert.equal((await refused(connectAs())).data?.code, "too_many_connections", "the quota holds");
    });
  });
});
