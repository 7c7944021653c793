/**
 * Namespace connect budgets on a real server (DESIGN §1.1): a namespace's `rateLimit` (connects per
 * key) refuses `rate_limited` with `retryAfterMs` in `connect_error`, and is spent only once the
 * token and claims pass; `maxConnections` (live sockets per subject, anonymous per address) refuses
 * `too_many_connections`, counts each namespace apart, and frees a place the moment a socket ends,
 * whichever way it ends.
 */
import assert from "node:assert/strict";
import type { Server, Socket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Policy } from "../../../src/index.js";
import type { NamespacePolicy } from "../../../src/policy/types.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, refused } from "../../helpers/clients.js";
import { startGuardedServer, type GuardedServer } from "../../helpers/guarded-server.js";
import { nextEvent, waitUntil } from "../../helpers/wait.js";
import {
  assertRateLimited,
  clientAs,
  ISSUER,
  tokenFor,
  TRANSPORTS,
  type Transport,
} from "./budget-harness.js";

const WINDOW_MS = 10_000;

function policy(namespaces: Record<string, NamespacePolicy>, maxDenials = "100/1m"): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, maxDenials },
    auth: { issuers: { idp: ISSUER } },
    namespaces,
  };
}

const PING = { ping: { args: [] } };

describe("budgets: namespace connects (rateLimit, maxConnections)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let server: GuardedServer;
  let decisions: Decision[];

  async function start(namespaces: Record<string, NamespacePolicy>, maxDenials?: string): Promise<void> {
    server = await startGuardedServer(cleanup, { policy: policy(namespaces, maxDenials) });
    decisions = server.decisions;
    for (const name of Object.keys(namespaces)) server.io.of(name);
  }

  /** Connects `sub` (anonymous when undefined) to `namespace`; resolves with the connected client. */
  async function connectAs(
    namespace: string,
    sub: string | undefined,
    transport: Transport = "websocket",
  ): Promise<ClientSocket> {
    const client = await clientAs(cleanup, server.url, namespace, sub, transport);
    await connected(client);
    return client;
  }

  /** The code of a refused connect of `sub` to `namespace` (and the whole refusal). */
  async function refusalOf(
    namespace: string,
    sub: string | undefined,
    transport: Transport = "websocket",
  ): Promise<Awaited<ReturnType<typeof refused>>> {
    return refused(await clientAs(cleanup, server.url, namespace, sub, transport));
  }

  describe("rateLimit", () => {
    for (const transport of TRANSPORTS) {
      it(`refuses the connect past the limit rate_limited with retryAfterMs in connect_error (${transport})`, async () => {
        await start({ "/chat": { auth: "optional", rateLimit: "2/10s", events: PING } });
        (await connectAs("/chat", "u1", transport)).disconnect();
        (await connectAs("/chat", "u1", transport)).disconnect();
        const refusal = await refusalOf("/chat", "u1", transport);
        assertRateLimited(refusal.data, WINDOW_MS);
        const decision = decisions.find((d) => d.code === "rate_limited");
        assert.equal(decision?.stage, "connect");
        assert.equal(decision.namespace, "/chat");
        assert.equal(decision.rule?.path, "/namespaces/~1chat/rateLimit");
        assert.equal(decision.retryAfterMs, refusal.data?.retryAfterMs);
        assert.equal(decision.subject, "u1", "the refused connect's verified subject is named");
      });
    }

    it("counts per subject: two connections of one subject share, another subject is unaffected", async () => {
      await start({ "/chat": { auth: "optional", rateLimit: "2/10s", events: PING } });
      await connectAs("/chat", "u1", "polling");
      await connectAs("/chat", "u1", "websocket");
      assert.equal((await refusalOf("/chat", "u1")).data?.code, "rate_limited");
      await connectAs("/chat", "u2");
      await connectAs("/chat", "u2");
      assert.equal((await refusalOf("/chat", "u2")).data?.code, "rate_limited");
    });

    it("counts an anonymous socket by its address, apart from every subject", async () => {
      await start({ "/chat": { auth: "optional", rateLimit: "2/10s", events: PING } });
      await connectAs("/chat", undefined);
      await connectAs("/chat", undefined);
      const refusal = await refusalOf("/chat", undefined);
      assert.equal(refusal.data?.code, "rate_limited");
      assert.equal(decisions[0]?.address, "127.0.0.1");
      assert.equal(decisions[0].subject, undefined);
      await connectAs("/chat", "u1");
    });

    it("with by: address, every subject of one address shares the budget", async () => {
      await start({
        "/chat": { auth: "optional", rateLimit: { rate: "2/10s", by: "address" }, events: PING },
      });
      await connectAs("/chat", "u1");
      await connectAs("/chat", "u2");
      assert.equal((await refusalOf("/chat", "u3")).data?.code, "rate_limited");
      assert.equal((await refusalOf("/chat", undefined)).data?.code, "rate_limited");
    });

    it("spends nothing for a connect refused for its token or claims", async () => {
      await start({
        "/chat": { auth: "required", require: { scope: "chat" }, rateLimit: "2/10s", events: PING },
      });
      const bad = createClient(cleanup, server.url, "/chat", { auth: { token: "not-a-jwt" } });
      assert.equal((await refused(bad)).data?.code, "token_invalid");
      for (let i = 0; i < 3; i++) {
        assert.equal((await refusalOf("/chat", "u1")).data?.code, "claims_not_satisfied");
      }
      const withScope = async (): Promise<ClientSocket> =>
        createClient(cleanup, server.url, "/chat", {
          transports: ["websocket"],
          auth: { token: await tokenFor("u1", { scope: "chat" }) },
        });
      await connected(await withScope());
      await connected(await withScope());
      assert.equal((await refused(await withScope())).data?.code, "rate_limited");
    });

    it("counts connects refused rate_limited on one connection toward maxDenials, then closes it", async () => {
      await start(
        {
          "/": { auth: "none", events: PING },
          "/chat": { auth: "optional", rateLimit: "1/10s", events: PING },
        },
        "2/1m",
      );
      const root = createClient(cleanup, server.url, "/", { transports: ["websocket"] });
      await connected(root);
      const chat = root.io.socket("/chat");
      cleanup.add(() => chat.disconnect());
      const [serverSide] = await Promise.all([nextServerSocket(server.io, "/chat"), connected(chat)]);
      // Socket.IO closes a connection that sends CONNECT for a namespace it still has a socket of.
      const left = nextEvent(serverSide, "disconnect");
      chat.disconnect();
      await left;
      for (const attempt of [1, 2]) {
        const refusal = refused(chat);
        chat.connect();
        assertRateLimited((await refusal).data, WINDOW_MS);
        assert.equal(root.connected, true, `attempt ${attempt} is within 2/1m`);
      }
      const closed = nextEvent<[string]>(root, "disconnect");
      const refusal = refused(chat);
      chat.connect();
      assert.equal((await refusal).data?.code, "rate_limited");
      assert.equal((await closed)[0], "io server disconnect");
      assert.deepEqual(
        decisions.map((d) => d.code),
        ["rate_limited", "rate_limited", "rate_limited", "too_many_denials"],
      );
    });

    it("refuses a client that connects again and again once it is at the limit, and its places all come back", async () => {
      await start({ "/chat": { auth: "optional", rateLimit: "12/10s", maxConnections: 3, events: PING } });
      const serverSockets = collectSockets(server.io, "/chat");
      const closers: Array<(client: ClientSocket) => unknown> = [
        (client) => client.disconnect(),
        () => serverSockets.at(-1)?.disconnect(true),
        (client) => client.io.engine.close(),
      ];
      let ended = 0;
      server.io.of("/chat").on("connection", (socket) => socket.on("disconnect", () => (ended += 1)));
      for (let round = 0; round < 9; round++) {
        const client = await connectAs("/chat", "u1", round % 2 === 0 ? "websocket" : "polling");
        closers[round % closers.length]!(client);
        await waitUntil(() => ended === round + 1, 3000, "the socket ended");
      }
      assert.deepEqual(decisions, [], "no connect of the loop was refused");
      // Every place of the loop was given back: the quota admits its three at once.
      await Promise.all([0, 1, 2].map(() => connectAs("/chat", "u1")));
      assertRateLimited((await refusalOf("/chat", "u1")).data, WINDOW_MS);
    });
  });

  describe("maxConnections", () => {
    const twoNamespaces = (): Promise<void> =>
      start({
        "/a": { auth: "optional", maxConnections: 2, events: PING },
        "/b": { auth: "optional", maxConnections: 2, events: PING },
      });

    it("counts the sockets of one subject per namespace: each namespace's quota apart", async () => {
      await twoNamespaces();
      await connectAs("/a", "u1", "polling");
      await connectAs("/a", "u1", "websocket");
      await connectAs("/b", "u1");
      await connectAs("/b", "u1");
      const overA = await refusalOf("/a", "u1");
      assert.deepEqual(overA.data, {
        code: "too_many_connections",
        message: overA.data?.message,
      });
      assert.equal((await refusalOf("/b", "u1", "polling")).data?.code, "too_many_connections");
      await connectAs("/a", "u2");
      await connectAs("/a", "u2");
      assert.deepEqual(
        decisions.map((d) => [d.code, d.namespace, d.rule?.path]),
        [
          ["too_many_connections", "/a", "/namespaces/~1a/maxConnections"],
          ["too_many_connections", "/b", "/namespaces/~1b/maxConnections"],
        ],
      );
    });

    it("counts many sockets of one subject multiplexed on one connection across two namespaces", async () => {
      await twoNamespaces();
      const first = await connectAs("/a", "u1");
      const token = (first.auth as { token: string }).token;
      const onFirst = first.io.socket("/b", { auth: { token } });
      cleanup.add(() => onFirst.disconnect());
      await connected(onFirst);
      const second = await connectAs("/a", "u1");
      const onSecond = second.io.socket("/b", { auth: { token } });
      cleanup.add(() => onSecond.disconnect());
      await connected(onSecond);
      assert.equal((await refusalOf("/a", "u1")).data?.code, "too_many_connections");
      assert.equal((await refusalOf("/b", "u1")).data?.code, "too_many_connections");
    });

    it("counts anonymous sockets by their address, apart from every subject", async () => {
      await twoNamespaces();
      await connectAs("/a", undefined);
      await connectAs("/a", undefined, "polling");
      assert.equal((await refusalOf("/a", undefined)).data?.code, "too_many_connections");
      await connectAs("/a", "u1");
      assert.equal(decisions[0]?.address, "127.0.0.1");
    });

    for (const [way, end] of [
      ["the client disconnects", (client: ClientSocket) => client.disconnect()],
      ["the server disconnects it", (_client: ClientSocket, socket: Socket) => socket.disconnect(true)],
      ["its transport is dropped", (client: ClientSocket) => client.io.engine.close()],
    ] as const) {
      it(`frees a place the moment a socket ends: ${way}`, async () => {
        await twoNamespaces();
        const sockets = collectSockets(server.io, "/a");
        const victim = await connectAs("/a", "u1");
        await connectAs("/a", "u1");
        assert.equal((await refusalOf("/a", "u1")).data?.code, "too_many_connections");
        const ended = new Promise((resolve) => sockets[0]!.once("disconnect", resolve));
        end(victim, sockets[0]!);
        await ended;
        await connectAs("/a", "u1");
        assert.equal((await refusalOf("/a", "u1")).data?.code, "too_many_connections");
      });
    }

    it("frees the place of a connect the app's own later middleware refuses", async () => {
      await start({ "/closed": { auth: "optional", maxConnections: 1, events: PING } });
      let refusedByApp = 0;
      server.io.of("/closed").use((_socket, next) => {
        refusedByApp += 1;
        next(new Error("no"));
      });
      for (let i = 0; i < 3; i++) {
        const refusal = await refusalOf("/closed", "u1", i % 2 === 0 ? "websocket" : "polling");
        assert.deepEqual(refusal, { message: "no" });
      }
      assert.equal(refusedByApp, 3, "every connect passed the guard's quota");
    });
  });
});

/** The next socket that connects to `namespace`, server side. */
function nextServerSocket(io: Server, namespace: string): Promise<Socket> {
  return new Promise((resolve) => io.of(namespace).once("connection", resolve));
}

/** The server sockets of `namespace`, in the order they connected. */
function collectSockets(io: Server, namespace: string): Socket[] {
  const sockets: Socket[] = [];
  io.of(namespace).on("connection", (socket) => sockets.push(socket));
  return sockets;
}
