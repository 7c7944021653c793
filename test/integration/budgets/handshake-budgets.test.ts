/**
 * Handshake budgets on a real server (DESIGN §1.1): `connection.rateLimit` (handshakes per client
 * address) answers 429 with `Retry-After` and `retryAfterMs`, on polling and on a direct WebSocket;
 * `connection.maxConnections` refuses `too_many_connections` and frees a place the moment its
 * connection closes, whichever way it closes; behind a trusted proxy both count per forwarded
 * client, and a forged `X-Forwarded-For` from anyone else changes nothing.
 */
import assert from "node:assert/strict";
import { request as httpRequest, type ClientRequest } from "node:http";
import { connect } from "node:net";
import type { Server, Socket } from "socket.io";
import type { Decision, Policy } from "../../../src/index.js";
import type { ConnectionPolicy } from "../../../src/policy/types.js";
import { Cleanup } from "../../helpers/cleanup.js";
import {
  connected,
  createClient,
  rawRequest,
  rawUpgrade,
  sessionIdOf,
  toWebSocketUrl,
  type RawResponse,
} from "../../helpers/clients.js";
import { startGuardedServer, type GuardedServer } from "../../helpers/guarded-server.js";
import { delay, waitUntil } from "../../helpers/wait.js";
import { assertRateLimited, countClosedConnections, TRANSPORTS } from "./budget-harness.js";

function policy(connection: ConnectionPolicy): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, ...connection },
    namespaces: { "/": { auth: "none", events: { ping: { args: [] } } } },
  };
}

const WINDOW_MS = 10_000;

describe("budgets: handshakes (connection.rateLimit, connection.maxConnections)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let server: GuardedServer;
  let decisions: Decision[];

  async function start(connection: ConnectionPolicy): Promise<void> {
    server = await startGuardedServer(cleanup, { policy: policy(connection) });
    decisions = server.decisions;
  }

  const pollingUrl = (): string => `${server.url}/socket.io/?EIO=4&transport=polling`;
  const webSocketUrl = (): string => `${toWebSocketUrl(server.url)}/socket.io/?EIO=4&transport=websocket`;
  const pollingHandshake = (headers: Record<string, string> = {}): Promise<RawResponse> =>
    rawRequest(pollingUrl(), headers);

  /** The code a refused request's JSON body names, or its status for an admitted one. */
  function outcomeOf(response: { status: number; body: string }): string | number {
    return response.status === 200 ? 200 : (JSON.parse(response.body) as { code: string }).code;
  }

  function assertRetryAfter(retryAfter: unknown, body: string): void {
    const parsed = JSON.parse(body) as { retryAfterMs: number };
    assertRateLimited(parsed, WINDOW_MS);
    assert.equal(retryAfter, String(Math.max(1, Math.ceil(parsed.retryAfterMs / 1000))));
  }

  describe("connection.rateLimit", () => {
    it("answers the polling handshake past the limit 429 with Retry-After and retryAfterMs", async () => {
      await start({ rateLimit: "2/10s" });
      assert.equal((await pollingHandshake()).status, 200);
      assert.equal((await pollingHandshake()).status, 200);
      const refused = await pollingHandshake();
      assert.equal(refused.status, 429);
      assert.equal(refused.headers["content-type"], "application/json");
      assertRetryAfter(refused.headers["retry-after"], refused.body);
      const [decision] = decisions;
      assert.equal(decisions.length, 1);
      assert.equal(decision?.code, "rate_limited");
      assert.equal(decision.stage, "handshake");
      assert.equal(decision.address, "127.0.0.1");
      assert.equal(decision.rule?.path, "/connection/rateLimit");
      assert.equal(
        decision.retryAfterMs,
        (JSON.parse(refused.body) as { retryAfterMs: number }).retryAfterMs,
      );
    });

    it("answers a direct WebSocket handshake past the limit 429 with Retry-After and retryAfterMs", async () => {
      await start({ rateLimit: "2/10s" });
      assert.equal((await rawUpgrade(cleanup, webSocketUrl())).opened, true);
      assert.equal((await rawUpgrade(cleanup, webSocketUrl())).opened, true);
      const refused = await rawUpgrade(cleanup, webSocketUrl());
      assert.equal(refused.opened, false);
      if (refused.opened) return;
      assert.equal(refused.status, 429);
      assertRetryAfter(refused.retryAfter, refused.body);
      assert.deepEqual(
        decisions.map((d) => [d.stage, d.code]),
        [["handshake", "rate_limited"]],
      );
    });

    it("counts polling and WebSocket handshakes of one address together; an upgrade spends nothing", async () => {
      await start({ rateLimit: "2/10s" });
      const handshake = await pollingHandshake();
      assert.equal(handshake.status, 200);
      const upgrade = await rawUpgrade(cleanup, `${webSocketUrl()}&sid=${sessionIdOf(handshake.body)}`);
      assert.equal(upgrade.opened, true, "the upgrade of an admitted session is the same connection");
      assert.equal((await rawUpgrade(cleanup, webSocketUrl())).opened, true);
      assert.equal((await pollingHandshake()).status, 429);
    });

    for (const transport of TRANSPORTS) {
      it(`refuses socket.io-client past the limit (${transport}) and admits it again after the window`, async () => {
        await start({ rateLimit: "1/1s" });
        await connected(createClient(cleanup, server.url, "/", { transports: [transport] }));
        const second = createClient(cleanup, server.url, "/", { transports: [transport] });
        await assert.rejects(connected(second));
        const refusal = decisions.find((d) => d.code === "rate_limited");
        assert.ok(refusal?.retryAfterMs !== undefined && refusal.retryAfterMs <= 1000);
        await delay(refusal.retryAfterMs + 50);
        await connected(createClient(cleanup, server.url, "/", { transports: [transport] }));
      });
    }

    it("refuses a client that reconnects in a loop at the limit, and it never holds more than one place", async () => {
      await start({ rateLimit: "4/10s", maxConnections: 1 });
      let connections = 0;
      // Every connection is dropped at once (`transport close`): socket.io-client reconnects by itself.
      server.io.on("connection", (socket: Socket) => {
        connections += 1;
        socket.conn.close();
      });
      const client = createClient(cleanup, server.url, "/", {
        transports: ["websocket"],
        reconnection: true,
        reconnectionDelay: 30,
        reconnectionDelayMax: 30,
        randomizationFactor: 0,
      });
      await waitUntil(
        () => decisions.filter((d) => d.code === "rate_limited").length >= 3,
        5000,
        "three refused reconnects",
      );
      client.disconnect();
      assert.equal(connections, 4);
      const codes = new Set(decisions.map((d) => `${d.stage}:${d.code}`));
      assert.deepEqual([...codes], ["handshake:rate_limited"], "never too_many_connections");
    });
  });

  describe("connection.maxConnections", () => {
    it("refuses a handshake over the quota too_many_connections, on polling (403) and WebSocket (400)", async () => {
      await start({ maxConnections: 2 });
      assert.equal((await pollingHandshake()).status, 200);
      assert.equal((await rawUpgrade(cleanup, webSocketUrl())).opened, true);
      const polling = await pollingHandshake();
      assert.equal(polling.status, 403);
      assert.equal(outcomeOf(polling), "too_many_connections");
      assert.equal(polling.headers["retry-after"], undefined);
      const webSocket = await rawUpgrade(cleanup, webSocketUrl());
      assert.equal(webSocket.opened, false);
      if (webSocket.opened) return;
      assert.equal(webSocket.status, 400);
      assert.equal(outcomeOf(webSocket), "too_many_connections");
      assert.deepEqual(
        decisions.map((d) => [d.stage, d.code, d.rule?.path]),
        [
          ["handshake", "too_many_connections", "/connection/maxConnections"],
          ["handshake", "too_many_connections", "/connection/maxConnections"],
        ],
      );
    });

    /** A connection that holds a place, and the way it is closed. */
    interface Victim {
      readonly name: string;
      open(): Promise<() => void>;
    }

    const victims: readonly Victim[] = [
      ...TRANSPORTS.map((transport): Victim => ({
        name: `the client disconnects (socket.io-client, ${transport})`,
        async open() {
          const client = createClient(cleanup, server.url, "/", { transports: [transport] });
          await connected(client);
          return () => client.disconnect();
        },
      })),
      {
        name: "the server disconnects it (socket.disconnect(true))",
        async open() {
          const arrived = nextServerSocket(server.io);
          await connected(createClient(cleanup, server.url, "/", { transports: ["websocket"] }));
          const socket = await arrived;
          return () => socket.disconnect(true);
        },
      },
      {
        name: "its WebSocket's TCP connection is cut",
        async open() {
          const upgrade = await rawUpgrade(cleanup, webSocketUrl());
          assert.ok(upgrade.opened);
          return () => upgrade.socket.terminate();
        },
      },
      {
        name: "the TCP connection of its pending poll is cut",
        open: () => pendingPoll(cleanup, server, pollingUrl()),
      },
    ];

    for (const victim of victims) {
      it(`frees a place the moment a connection closes: ${victim.name}`, async () => {
        await start({ maxConnections: 2 });
        const closes = countClosedConnections(server.io);
        const close = await victim.open();
        assert.equal((await pollingHandshake()).status, 200);
        assert.equal(outcomeOf(await pollingHandshake()), "too_many_connections");
        close();
        await waitUntil(() => closes.closed === 1, 3000, "the server saw the connection close");
        assert.equal((await pollingHandshake()).status, 200, "the freed place is taken");
        assert.equal(outcomeOf(await pollingHandshake()), "too_many_connections", "only one was freed");
      });
    }

    it("frees the place of a handshake engine.io refuses after the guard admitted it", async () => {
      server = await startGuardedServer(
        cleanup,
        { policy: policy({ maxConnections: 1 }) },
        { io: { allowRequest: (req, callback) => callback(null, req.headers["x-app-refuses"] !== "yes") } },
      );
      decisions = server.decisions;
      // Each is admitted by the guard (a place taken), then refused by engine.io: the app's own
      // allowRequest refuses it (polling, then a direct WebSocket)...
      assert.equal((await pollingHandshake({ "x-app-refuses": "yes" })).status, 403);
      const upgrade = await rawUpgrade(cleanup, webSocketUrl(), { "x-app-refuses": "yes" });
      // (engine.io answers a refused upgrade 400 with its own text, not the guard's JSON)
      assert.deepEqual(upgrade.opened ? "opened" : [upgrade.status, upgrade.body], [400, "Forbidden"]);
      // ...and engine.io itself, for a protocol it does not speak.
      const eio3 = await rawRequest(pollingUrl().replace("EIO=4", "EIO=3"));
      assert.deepEqual([eio3.status, (JSON.parse(eio3.body) as { code: unknown }).code], [400, 5]);
      assert.equal((await pollingHandshake()).status, 200, "no refused handshake kept a place");
      assert.equal(outcomeOf(await pollingHandshake()), "too_many_connections");
    });

    it("frees the place of a direct WebSocket handshake the WebSocket server refuses (a malformed key)", async () => {
      await start({ maxConnections: 1 });
      const answer = await malformedUpgrade(server.port);
      assert.match(answer, /^HTTP\/1\.1 400 /u);
      assert.equal((await pollingHandshake()).status, 200, "the refused upgrade kept no place");
      assert.equal(outcomeOf(await pollingHandshake()), "too_many_connections");
    });

    it("gives every address its places back: a later burst is admitted up to the quota", async () => {
      await start({ maxConnections: 3 });
      const closes = countClosedConnections(server.io);
      for (let round = 0; round < 4; round++) {
        const clients = [0, 1, 2].map(() =>
          createClient(cleanup, server.url, "/", { transports: ["websocket"] }),
        );
        await Promise.all(clients.map((client) => connected(client)));
        for (const client of clients) client.disconnect();
        await waitUntil(() => closes.closed === 3 * (round + 1), 3000, "all closed");
      }
      assert.deepEqual(decisions, []);
      const results = await Promise.all([0, 1, 2, 3].map(() => pollingHandshake()));
      assert.deepEqual(results.map(outcomeOf).sort(), [200, 200, 200, "too_many_connections"]);
    });
  });

  describe("behind a trusted proxy (trustedProxies: [127.0.0.1])", () => {
    const clients = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"];

    it("counts a burst of handshakes per forwarded client address; a client cannot pick a new key", async () => {
      await start({ trustedProxies: ["127.0.0.1"], rateLimit: "2/10s" });
      const burst = await Promise.all(
        [...clients, ...clients].map((address) => pollingHandshake({ "x-forwarded-for": address })),
      );
      assert.deepEqual(
        burst.map((r) => r.status),
        burst.map(() => 200),
      );
      // The left-most entries are the client's own writing: prepending one changes nothing.
      for (const address of clients) {
        const forged = await pollingHandshake({ "x-forwarded-for": `198.51.100.9, ${address}` });
        assert.equal(forged.status, 429, address);
      }
      assert.equal((await pollingHandshake({ "x-forwarded-for": "203.0.113.99" })).status, 200);
      assert.deepEqual(
        decisions.map((d) => d.address),
        clients,
        "each refusal names the forwarded client",
      );
    });

    it("holds connection places per forwarded client address", async () => {
      await start({ trustedProxies: ["127.0.0.1"], maxConnections: 1 });
      assert.equal((await pollingHandshake({ "x-forwarded-for": "203.0.113.1" })).status, 200);
      const full = await pollingHandshake({ "x-forwarded-for": "203.0.113.1" });
      assert.equal(outcomeOf(full), "too_many_connections");
      assert.equal((await pollingHandshake({ "x-forwarded-for": "203.0.113.2" })).status, 200);
      const upgrade = await rawUpgrade(cleanup, webSocketUrl(), { "x-forwarded-for": "203.0.113.3" });
      assert.equal(upgrade.opened, true);
    });
  });

  it("counts every handshake from a peer that is not a trusted proxy under that peer, whatever it forwards", async () => {
    await start({ trustedProxies: ["10.0.0.0/8"], rateLimit: "2/10s", maxConnections: 5 });
    const results = [];
    for (const forged of ["203.0.113.1", "203.0.113.2", "203.0.113.3", "10.0.0.1"]) {
      results.push((await pollingHandshake({ "x-forwarded-for": forged })).status);
    }
    assert.deepEqual(results, [200, 200, 429, 429]);
    assert.deepEqual(
      decisions.map((d) => [d.code, d.address]),
      [
        ["rate_limited", "127.0.0.1"],
        ["rate_limited", "127.0.0.1"],
      ],
    );
  });
});

/** The next socket that connects to the main namespace of `io`, server side. */
function nextServerSocket(io: Server): Promise<Socket> {
  return new Promise((resolve) => io.once("connection", resolve));
}

/**
 * Opens a polling session and leaves a GET of it pending on its own TCP connection; resolves once
 * the server holds that GET, with the function that destroys its TCP connection.
 */
async function pendingPoll(cleanup: Cleanup, server: GuardedServer, pollingUrl: string): Promise<() => void> {
  const handshake = await rawRequest(pollingUrl);
  assert.equal(handshake.status, 200);
  const sid = sessionIdOf(handshake.body);
  let held = false;
  const onRequest = (req: { method?: string; url?: string }): void => {
    if (req.method === "GET" && req.url?.includes(`sid=${sid}`) === true) held = true;
  };
  server.httpServer.on("request", onRequest);
  const poll: ClientRequest = httpRequest(`${pollingUrl}&sid=${sid}`, { agent: false });
  poll.on("error", () => undefined);
  poll.end();
  cleanup.add(() => poll.destroy());
  await waitUntil(() => held, 3000, "the server holds the poll");
  server.httpServer.off("request", onRequest);
  // engine.io listens for the request's close once its middleware has passed it on.
  await delay(20);
  return () => poll.destroy();
}

/**
 * A direct WebSocket handshake with a `Sec-WebSocket-Key` the WebSocket server refuses (400) after
 * every engine middleware let it through; resolves with what the server answered.
 */
function malformedUpgrade(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
          "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Key: not-a-key\r\n\r\n",
      ),
    );
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}
