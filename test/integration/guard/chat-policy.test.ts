/**
 * The acceptance test of the guard: a server guarded by policies/chat.yaml (the demo's policy, with
 * its schema file and a real JWKS endpoint) refuses everything the policy does not allow, tells the
 * client why with a stable code, and keeps serving valid traffic.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { sockguard, type Decision } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import {
  connected,
  createClient,
  emitWithReply,
  rawUpgrade,
  refused,
  toWebSocketUrl,
  type ClientOptions,
} from "../../helpers/clients.js";
import { closeSocketIo, createBareHttpServer } from "../../helpers/socket-server.js";
import { claimsFor, createSigningKey, signWith, type SigningKey } from "../../helpers/tokens.js";

const CHAT_POLICY = fileURLToPath(new URL("../../../policies/chat.yaml", import.meta.url));

describe("guard: policies/chat.yaml end to end", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  let url: string;
  let key: SigningKey;
  let decisions: Decision[];
  const received: unknown[] = [];

  before(async () => {
    key = await createSigningKey("ES256", "chat-key");
    const httpServer = createBareHttpServer();
    httpServer.removeAllListeners("request");
    httpServer.on("request", (req, res) => {
      if (req.url === "/.well-known/jwks.json") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys: [key.jwk] }));
      } else if (!req.url?.startsWith("/socket.io/")) {
        res.writeHead(404);
        res.end();
      }
    });
    // The policy builds its origins and issuer URLs from CHAT_PORT: listen first, then load it.
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    const port = (httpServer.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
    const previousPort = process.env.CHAT_PORT;
    process.env.CHAT_PORT = String(port);
    const io = new Server(httpServer);
    cleanup.addFirst(() => closeSocketIo(io));
    try {
      const guard = await sockguard(io, { policy: CHAT_POLICY, watch: false });
      cleanup.add(() => guard.close());
      decisions = [];
      guard.on("decision", (d) => decisions.push(d));
    } finally {
      if (previousPort === undefined) delete process.env.CHAT_PORT;
      else process.env.CHAT_PORT = previousPort;
    }
    io.of("/chat").on("connection", (socket) => {
      for (const event of ["message", "typing", "join"]) {
        socket.on(event, (...args: unknown[]) => {
          const ack = args.pop();
          received.push([event, ...args]);
          // Each reply as the policy declares it (message and join have a `reply`; typing none).
          const reply =
            event === "typing" ? "ok" : event === "join" ? { ok: true, room: "general" } : { ok: true };
          if (typeof ack === "function") (ack as (r: unknown) => void)(reply);
        });
      }
    });
  });

  beforeEach(() => {
    decisions.length = 0;
    received.length = 0;
  });

  const tokenFor = (scope: string): Promise<string> =>
    signWith(key, claimsFor(`${url}/demo-issuer`, "chat-demo", { scope }));

  async function chatClient(
    scope: string,
    options: ClientOptions = {},
  ): Promise<ReturnType<typeof createClient>> {
    const client = createClient(cleanup, url, "/chat", {
      transports: ["websocket"],
      extraHeaders: { origin: url },
      auth: { token: await tokenFor(scope) },
      ...options,
    });
    await connected(client);
    return client;
  }

  it("serves a valid client over WebSocket and polling", async () => {
    for (const transport of ["websocket", "polling"] as const) {
      const client = await chatClient("chat:read chat:write", { transports: [transport] });
      assert.deepEqual(await emitWithReply(client, "message", { text: "hello", room: "lobby" }), {
        ok: true,
      });
      assert.equal(await emitWithReply(client, "typing", true), "ok");
      assert.deepEqual(await emitWithReply(client, "join", { room: "general" }), {
        ok: true,
        room: "general",
      });
    }
    assert.equal(received.length, 6);
    assert.deepEqual(decisions, []);
  });

  it("refuses a foreign origin at the handshake", async () => {
    const result = await rawUpgrade(cleanup, `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`, {
      origin: "http://evil.example",
    });
    assert.equal(result.opened, false);
    assert.deepEqual(
      decisions.map((d) => d.code),
      ["origin_not_allowed"],
    );
  });

  it("refuses connects without a token, without chat:read, and to unlisted namespaces", async () => {
    const noToken = createClient(cleanup, url, "/chat", {
      transports: ["websocket"],
      extraHeaders: { origin: url },
    });
    assert.equal((await refused(noToken)).data?.code, "token_missing");
    const noScope = createClient(cleanup, url, "/chat", {
      transports: ["websocket"],
      extraHeaders: { origin: url },
      auth: { token: await tokenFor("profile") },
    });
    assert.equal((await refused(noScope)).data?.code, "claims_not_satisfied");
    const root = createClient(cleanup, url, "/", {
      transports: ["websocket"],
      extraHeaders: { origin: url },
      auth: { token: await tokenFor("chat:read") },
    });
    assert.equal((await refused(root)).data?.code, "namespace_not_allowed");
  });

  it("refuses what the events section does not allow, with a stable code, and keeps serving", async () => {
    const reader = await chatClient("chat:read");
    const writer = await chatClient("chat:read chat:write");
    const codeOf = (reply: unknown): string | undefined =>
      (reply as { error?: { code: string } }).error?.code;
    assert.equal(codeOf(await emitWithReply(reader, "message", { text: "hi" })), "claims_not_satisfied");
    assert.equal(codeOf(await emitWithReply(writer, "message", { text: "" })), "payload_invalid");
    assert.equal(
      codeOf(await emitWithReply(writer, "message", { text: "hi", admin: true })),
      "payload_invalid",
    );
    assert.equal(
      codeOf(await emitWithReply(writer, "message", { text: "x".repeat(17 * 1024) })),
      "payload_too_large",
    );
    assert.equal(codeOf(await emitWithReply(writer, "typing", "yes")), "payload_invalid");
    assert.equal(codeOf(await emitWithReply(writer, "join", { room: "../etc" })), "payload_invalid");
    assert.equal(codeOf(await emitWithReply(writer, "delete-everything")), "event_not_allowed");
    assert.equal(
      codeOf(await emitWithReply(writer, "message", { text: "see invoice\u202Etxt.exe" })),
      "payload_invalid",
    );
    assert.equal(codeOf(await emitWithReply(writer, "message", { text: "still fine <3" })), undefined);
    assert.deepEqual(received, [["message", { text: "still fine <3" }]]);
  });
});
