import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { sockguard, type Decision, type Policy, type TransportName } from "../../../src/index.js";
import { engineBufferFor } from "../../../src/enforce/engine-options.js";
import { Cleanup } from "../../helpers/cleanup.js";
import {
  connected,
  createClient,
  emitWithReply,
  rawRequest,
  rawUpgrade,
  refused,
  sessionIdOf,
  toWebSocketUrl,
} from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { closeSocketIo, listenOnLoopback, startTestServer } from "../../helpers/socket-server.js";
import { delay } from "../../helpers/wait.js";

const TRANSPORT_REFUSED = {
  code: "transport_not_allowed",
  message: "This transport is not allowed by the policy",
};

function policy(transports: TransportName[]): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, transports },
    namespaces: { "/": { auth: "none", events: { echo: { args: [{ type: "string" }] } } } },
  };
}

function collectingLogger(): {
  warnings: string[];
  info(): void;
  warn(m: string): void;
  error(m: string): void;
} {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
}

describe("guard: transports", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let decisions: Decision[];

  async function start(transports: TransportName[]): Promise<{ io: Server; url: string }> {
    const server = await startGuardedServer(cleanup, { policy: policy(transports) });
    decisions = server.decisions;
    server.io.on("connection", (socket) =>
      socket.on("echo", (text: string, ack: (r: string) => void) => ack(text)),
    );
    return server;
  }

  describe("websocket only", () => {
    let url: string;
    beforeEach(async () => ({ url } = await start(["websocket"])));

    it("refuses a polling handshake with transport_not_allowed", async () => {
      const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(response.status, 403);
      assert.deepEqual(JSON.parse(response.body), TRANSPORT_REFUSED);
    });

    it("admits socket.io-client over WebSocket and refuses it over polling", async () => {
      const ws = createClient(cleanup, url, "/", { transports: ["websocket"] });
      await connected(ws);
      assert.equal(await emitWithReply(ws, "echo", "hi"), "hi");
      const polling = createClient(cleanup, url, "/", { transports: ["polling"] });
      await refused(polling);
    });
  });

  describe("polling only", () => {
    let url: string;
    beforeEach(async () => ({ url } = await start(["polling"])));

    it("refuses a direct WebSocket handshake", async () => {
      const result = await rawUpgrade(cleanup, `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`);
      assert.deepEqual(result, { opened: false, status: 400, body: JSON.stringify(TRANSPORT_REFUSED) });
    });

    it("refuses the WebSocket upgrade of a polling session", async () => {
      const handshake = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(handshake.status, 200);
      const sid = sessionIdOf(handshake.body);
      const result = await rawUpgrade(
        cleanup,
        `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket&sid=${sid}`,
      );
      assert.deepEqual(result, { opened: false, status: 400, body: JSON.stringify(TRANSPORT_REFUSED) });
    });

    it("advertises no upgrade, so socket.io-client stays on polling and never tries one", async () => {
      const handshake = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
      assert.deepEqual((JSON.parse(handshake.body.slice(1)) as { upgrades: string[] }).upgrades, []);
      const client = createClient(cleanup, url, "/", { transports: ["polling", "websocket"] });
      await connected(client);
      await delay(100);
      assert.equal(client.io.engine.transport.name, "polling");
      assert.equal(await emitWithReply(client, "echo", "still polling"), "still polling");
      assert.deepEqual(decisions, []);
    });
  });

  it("lets socket.io-client upgrade from polling to WebSocket when both are allowed", async () => {
    const { url } = await start(["polling", "websocket"]);
    const client = createClient(cleanup, url, "/", { transports: ["polling", "websocket"] });
    await connected(client);
    const engine = client.io.engine;
    if (engine.transport.name !== "websocket")
      await new Promise((resolve) => engine.once("upgrade", resolve));
    assert.equal(await emitWithReply(client, "echo", "upgraded"), "upgraded");
  });

  it("never widens the server's own transports, and says so", async () => {
    const logger = collectingLogger();
    const { io, url } = await startTestServer(cleanup, {
      io: { transports: ["polling"] },
      beforeListen: (server) => sockguard(server, { policy: policy(["polling", "websocket"]), logger }),
    });
    assert.deepEqual(io.engine.opts.transports, ["polling"]);
    assert.deepEqual(logger.warnings, [
      "sockguard: the policy allows the websocket transport, but the Socket.IO server was created without it; it stays off",
    ]);
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await refused(client);
  });

  it("applies the policy to an engine created after sockguard() (attach later)", async () => {
    const io = new Server();
    await sockguard(io, { policy: policy(["websocket"]) });
    const httpServer = createServer();
    io.attach(httpServer);
    cleanup.addFirst(() => closeSocketIo(io));
    const port = await listenOnLoopback(httpServer);
    assert.deepEqual(io.engine.opts.transports, ["websocket"]);
    // The default maxPayload (1MB) plus room for base64, in the engine and in its WebSocket server's frame limit.
    assert.equal(io.engine.opts.maxHttpBufferSize, engineBufferFor(1_000_000));
    const ws = (io.engine as unknown as { ws?: { options?: { maxPayload?: number } } }).ws;
    assert.equal(ws?.options?.maxPayload, engineBufferFor(1_000_000));
    const response = await rawRequest(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    assert.deepEqual(JSON.parse(response.body), TRANSPORT_REFUSED);
    const client = createClient(cleanup, `http://127.0.0.1:${port}`, "/", { transports: ["websocket"] });
    await connected(client);
  });
});
