/**
 * The contract enforced on a real server: `ack: required | forbidden`, `handshake` schemas judged
 * before the token, `reply` checked on the handler's ack callback, and `emits` checked once per
 * emit on every outgoing path of this node, under `emits: "warn"` (delivered, logged, reported)
 * and `"refuse"` (not delivered).
 */
import assert from "node:assert/strict";
import type { Server, Socket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Policy, SockguardOptions } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, refused } from "../../helpers/clients.js";
import { startGuardedServer, type GuardedServer } from "../../helpers/guarded-server.js";
import { hs256Issuer } from "../../helpers/tokens.js";
import { delay, waitUntil } from "../../helpers/wait.js";

const TEXT = { type: "object", properties: { text: { type: "string" } }, required: ["text"] };

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  auth: { issuers: { services: hs256Issuer("urn:test:services") } },
  namespaces: {
    "/": { auth: "none", events: {} },
    "/chat": {
      auth: "none",
      handshake: {
        auth: { type: "object", properties: { nick: { type: "string", maxLength: 8 } } },
        query: {
          type: "object",
          properties: { room: { type: "string", pattern: "^[a-z]{1,8}$", maxLength: 8 } },
          additionalProperties: false,
        },
      },
      events: {
        send: {
          schema: TEXT,
          ack: "required",
          reply: { schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] } },
        },
        typing: { args: [], ack: "forbidden" },
        echo: { args: [{ type: "string" }] },
      },
      emits: {
        message: { schema: TEXT },
        presence: { args: [{ type: "string" }, { type: "boolean" }] },
      },
    },
    "/locked": {
      auth: "required",
      handshake: {
        auth: { type: "object", additionalProperties: false, properties: { token: { type: "string" } } },
      },
    },
  },
};

function recordingLogger(): {
  messages: string[];
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
} {
  const messages: string[] = [];
  return {
    messages,
    info: () => undefined,
    warn: (m) => void messages.push(m),
    error: (m) => void messages.push(m),
  };
}

describe("guard: the contract (acks, handshakes, replies, emits)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function start(
    emits?: SockguardOptions["emits"],
  ): Promise<GuardedServer & { logger: ReturnType<typeof recordingLogger>; sockets: Socket[] }> {
    const logger = recordingLogger();
    const server = await startGuardedServer(cleanup, { policy: POLICY, logger, ...(emits ? { emits } : {}) });
    const sockets: Socket[] = [];
    server.io.of("/locked");
    server.io.of("/chat").on("connection", (socket) => {
      sockets.push(socket);
      void socket.join("room");
      socket.on("send", (_message: unknown, ack: (reply: unknown) => void) =>
        ack(socket.data.reply ?? { id: 1 }),
      );
      socket.on("typing", () => undefined);
      socket.on("echo", (text: string) => socket.emit("message", { text }));
    });
    return { ...server, logger, sockets };
  }

  /** Connects `count` clients to /chat and records every `message` and `presence` each receives. */
  async function chatClients(
    server: GuardedServer,
    count: number,
  ): Promise<{ clients: ClientSocket[]; got: string[][] }> {
    const got: string[][] = [];
    const clients: ClientSocket[] = [];
    for (let i = 0; i < count; i++) {
      const received: string[] = [];
      got.push(received);
      const client = createClient(cleanup, server.url, "/chat", { transports: ["websocket"] });
      client.on("message", (message: { text?: unknown }) => received.push(`message:${String(message.text)}`));
      client.on("presence", (who: unknown) => received.push(`presence:${String(who)}`));
      client.on("undeclared", () => received.push("undeclared"));
      clients.push(client);
    }
    await Promise.all(clients.map((client) => connected(client)));
    return { clients, got };
  }

  it("refuses an event without the ack it requires, or with the ack it forbids, as payload_invalid keyword ack", async () => {
    const server = await start();
    const { clients } = await chatClients(server, 1);
    const client = clients[0]!;
    assert.deepEqual(await emitWithReply(client, "send", { text: "hi" }), { id: 1 });
    client.emit("send", { text: "hi" });
    const refusal = (await emitWithReply(client, "typing")) as { error: { code: string; details: unknown } };
    assert.equal(refusal.error.code, "payload_invalid");
    assert.deepEqual(refusal.error.details, [{ instancePath: "", keyword: "ack" }]);
    await waitUntil(() => server.decisions.length === 2);
    assert.deepEqual(
      server.decisions.map((d) => [d.code, d.event, d.details?.[0]?.keyword, d.rule?.path]),
      [
        ["payload_invalid", "send", "ack", "/namespaces/~1chat/events/send/ack"],
        ["payload_invalid", "typing", "ack", "/namespaces/~1chat/events/typing/ack"],
      ],
    );
  });

  it("refuses a CONNECT whose auth or query breaks the handshake schemas, with where and never the value; Engine.IO's own query parameters are not judged", async () => {
    const server = await start();
    const client = (options: object): ClientSocket =>
      createClient(cleanup, server.url, "/chat", { transports: ["polling"], ...options });
    await connected(client({ auth: { nick: "ann" }, query: { room: "lobby" } }));
    const badAuth = await refused(client({ auth: { nick: "a-very-long-nickname" } }));
    assert.equal(badAuth.data?.code, "payload_invalid");
    const badQuery = await refused(client({ query: { room: "<script>" } }));
    assert.equal(badQuery.data?.code, "payload_invalid");
    const connects = server.decisions.filter((d) => d.stage === "connect");
    assert.deepEqual(
      connects.map((d) => [d.code, d.details]),
      [
        ["payload_invalid", [{ instancePath: "/auth/nick", keyword: "maxLength" }]],
        ["payload_invalid", [{ instancePath: "/query/room", keyword: "pattern" }]],
      ],
    );
    assert.equal(JSON.stringify(connects).includes("script"), false);
  });

  it("judges the handshake before the token: a garbage token in a malformed auth object is payload_invalid, not token_invalid", async () => {
    const server = await start();
    const refusal = await refused(
      createClient(cleanup, server.url, "/locked", { auth: { token: "not-a-jwt", extra: 1 } }),
    );
    assert.equal(refusal.data?.code, "payload_invalid");
    const wellFormed = await refused(
      createClient(cleanup, server.url, "/locked", { auth: { token: "not-a-jwt" } }),
    );
    assert.equal(wellFormed.data?.code, "token_invalid");
  });

  it("warns on a reply that breaks its declaration: delivered, one log line, an emit_invalid decision with the rule", async () => {
    const server = await start();
    const { clients } = await chatClients(server, 1);
    server.sockets[0]!.data.reply = { wrong: true };
    assert.deepEqual(await emitWithReply(clients[0]!, "send", { text: "hi" }), { wrong: true });
    const decision = server.decisions.find((d) => d.code === "emit_invalid");
    assert.equal(decision?.stage, "reply");
    assert.equal(decision?.event, "send");
    assert.deepEqual(decision?.details, [{ instancePath: "/0", keyword: "required" }]);
    assert.equal(decision?.rule?.path, "/namespaces/~1chat/events/send/reply/schema/required");
    assert.equal(server.logger.messages.length, 1);
    assert.match(
      server.logger.messages[0]!,
      /^sockguard: emit_invalid in \/chat: the ack reply of send breaks its declaration .*; delivered$/,
    );
  });

  it("under emits: refuse, a reply that breaks its declaration never reaches the client", async () => {
    const server = await start("refuse");
    const { clients } = await chatClients(server, 1);
    server.sockets[0]!.data.reply = { wrong: true };
    await assert.rejects(clients[0]!.timeout(300).emitWithAck("send", { text: "hi" }));
    server.sockets[0]!.data.reply = { id: 2 };
    assert.deepEqual(await emitWithReply(clients[0]!, "send", { text: "hi" }), { id: 2 });
  });

  it("under emits: warn, every emit that breaks its declaration is delivered and reported, once per emit however many recipients", async () => {
    const server = await start();
    const { got } = await chatClients(server, 3);
    const chat = server.io.of("/chat");
    chat.emit("message", { text: 42 });
    chat.emit("undeclared");
    await waitUntil(() => got.every((received) => received.length === 2));
    const invalid = server.decisions.filter((d) => d.code === "emit_invalid");
    assert.deepEqual(
      invalid.map((d) => [d.stage, d.event, d.details, d.rule?.path, d.socketId]),
      [
        [
          "emit",
          "message",
          [{ instancePath: "/0/text", keyword: "type" }],
          "/namespaces/~1chat/emits/message/schema/properties/text/type",
          undefined,
        ],
        ["emit", undefined, undefined, "/namespaces/~1chat/emits", undefined],
      ],
    );
    assert.equal(server.logger.messages.length, 2);
    assert.match(server.logger.messages[1]!, /an undeclared emit breaks its declaration/);
  });

  it("under emits: refuse, drops every invalid emit on every path (socket, room, broadcast, namespace, io.to, io.of, volatile, timeout, with ack) and delivers valid ones", async () => {
    const server = await start("refuse");
    const { clients, got } = await chatClients(server, 3);
    await waitUntil(() => server.sockets.length === 3);
    const io: Server = server.io;
    const [first] = server.sockets;
    const bad = { text: 1 };
    first!.emit("message", bad);
    first!.to("room").emit("message", bad);
    first!.broadcast.emit("message", bad);
    io.of("/chat").emit("message", bad);
    io.of("/chat").to("room").emit("presence", "ann");
    io.of("/chat").volatile.emit("message", bad);
    first!.volatile.emit("presence", 1, true);
    first!.emit("undeclared");
    const broadcastAck = await io.of("/chat").timeout(200).emitWithAck("message", bad);
    assert.deepEqual(broadcastAck, []);
    await assert.rejects(first!.timeout(200).emitWithAck("message", bad));
    clients[1]!.emit("echo", "valid");
    io.of("/chat").emit("presence", "bob", true);
    await waitUntil(() => got[1]!.length === 2 && got.every((received) => received.includes("presence:bob")));
    await delay(50);
    assert.deepEqual(
      got.map((received) => [...received].sort()),
      [["presence:bob"], ["message:valid", "presence:bob"], ["presence:bob"]],
    );
    assert.equal(server.decisions.filter((d) => d.code === "emit_invalid").length, 10);
    assert.ok(server.logger.messages.every((line) => line.endsWith("; not delivered")));
  });

  it("never checks reserved events: the guard's own sockguard:denied reaches the client where emits are declared", async () => {
    const server = await start("refuse");
    const { clients } = await chatClients(server, 1);
    const denied = new Promise((resolve) => clients[0]!.on("sockguard:denied", resolve));
    clients[0]!.emit("not-declared");
    assert.deepEqual(await denied, {
      code: "event_not_allowed",
      message: "This event is not allowed by the policy",
    });
    assert.equal(server.decisions.filter((d) => d.code === "emit_invalid").length, 0);
  });

  it("under emits: off, checks nothing", async () => {
    const server = await start("off");
    const { got } = await chatClients(server, 1);
    server.io.of("/chat").emit("message", { text: 1 });
    server.io.of("/chat").emit("undeclared");
    await waitUntil(() => got[0]!.length === 2);
    assert.equal(server.decisions.length, 0);
    assert.deepEqual(server.logger.messages, []);
  });

  it("refuses an unknown emits option at start", async () => {
    await assert.rejects(
      startGuardedServer(cleanup, { policy: POLICY, emits: "loud" as never }),
      /options.emits must be one of warn, refuse, off/,
    );
  });
});

describe("guard: the contract of a pattern namespace's children", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const PATTERN_POLICY: Policy = {
    version: 1,
    connection: { allowMissingOrigin: true },
    namespaces: {
      "/": { auth: "none", events: {} },
      "/room-{id}": {
        auth: "none",
        events: {
          send: {
            schema: TEXT,
            reply: { schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] } },
          },
        },
        emits: { message: { schema: TEXT } },
      },
    },
  };

  it("judges a child's replies and emits by the pattern's declarations, and reports them under the pattern's key", async () => {
    const logger = recordingLogger();
    const server = await startGuardedServer(cleanup, { policy: PATTERN_POLICY, logger, emits: "refuse" });
    const sockets: Socket[] = [];
    server.io.of(/^\/room-\d+$/u).on("connection", (socket) => {
      sockets.push(socket);
      socket.on("send", (_message: unknown, ack: (reply: unknown) => void) =>
        ack(socket.data.reply ?? { id: 1 }),
      );
    });
    const client = createClient(cleanup, server.url, "/room-42", { transports: ["websocket"] });
    const received: unknown[] = [];
    client.on("message", (message: unknown) => received.push(message));
    await connected(client);
    await waitUntil(() => sockets.length === 1);

    assert.deepEqual(await emitWithReply(client, "send", { text: "hi" }), { id: 1 });
    sockets[0]!.data.reply = { wrong: true };
    await assert.rejects(client.timeout(300).emitWithAck("send", { text: "hi" }));

    const child = server.io.of("/room-42");
    child.emit("message", { text: 1 });
    child.emit("undeclared");
    sockets[0]!.emit("message", { text: 2 });
    child.emit("message", { text: "valid" });
    await waitUntil(() => received.length === 1);
    await delay(50);
    assert.deepEqual(received, [{ text: "valid" }]);

    const invalid = server.decisions.filter((d) => d.code === "emit_invalid");
    assert.deepEqual(
      invalid.map((d) => [d.stage, d.namespace, d.event, d.rule?.path]),
      [
        ["reply", "/room-{id}", "send", "/namespaces/~1room-{id}/events/send/reply/schema/required"],
        [
          "emit",
          "/room-{id}",
          "message",
          "/namespaces/~1room-{id}/emits/message/schema/properties/text/type",
        ],
        ["emit", "/room-{id}", undefined, "/namespaces/~1room-{id}/emits"],
        [
          "emit",
          "/room-{id}",
          "message",
          "/namespaces/~1room-{id}/emits/message/schema/properties/text/type",
        ],
      ],
    );
    assert.equal(logger.messages.length, 4);
    assert.ok(logger.messages.every((line) => line.includes("in /room-{id}:") && !line.includes("42")));
  });
});
