/**
 * Canaries of the outgoing paths the `emits` check hooks (src/enforce/socket-io-internals.ts),
 * pinned on plain, unguarded Socket.IO 4.8 servers: a socket's own `packet` writer sees each
 * `socket.emit`, a namespace adapter's `broadcast`/`broadcastWithAck` sees each broadcast once
 * whatever the number of recipients, `io.adapter()` rebuilds adapters through `_initAdapter`, and
 * `onevent` asks `ack(id)` for the handler's callback synchronously.
 */
import assert from "node:assert/strict";
import { Adapter } from "socket.io-adapter";
import type { Namespace, Socket } from "socket.io";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startTestServer } from "../../helpers/socket-server.js";
import { nextEvent, waitUntil } from "../../helpers/wait.js";

interface PacketLike {
  type: number;
  id?: number;
  data?: unknown[];
}
type SocketInternals = {
  packet: (packet: PacketLike, options?: object) => void;
  ack: (id: number) => (...args: unknown[]) => void;
};
type AdapterInternals = {
  broadcast: (packet: PacketLike, options: object) => void;
  broadcastWithAck: (
    packet: PacketLike,
    options: object,
    count: (n: number) => void,
    ack: () => void,
  ) => void;
};

/** Records every broadcast the namespace's adapter is asked for, as `[kind, event]`. */
function recordBroadcasts(namespace: Namespace, seen: [string, unknown][]): void {
  const adapter = namespace.adapter as unknown as AdapterInternals;
  const broadcast = adapter.broadcast;
  const broadcastWithAck = adapter.broadcastWithAck;
  adapter.broadcast = function (packet, options) {
    seen.push(["broadcast", packet.data?.[0]]);
    broadcast.call(this, packet, options);
  };
  adapter.broadcastWithAck = function (packet, options, count, ack) {
    seen.push(["broadcastWithAck", packet.data?.[0]]);
    broadcastWithAck.call(this, packet, options, count, ack);
  };
}

describe("Socket.IO canaries (the outgoing paths the emits check hooks)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("an own `packet` on a socket sees socket.emit, volatile and timeout() emits as type EVENT with [event, ...args], and acks as type ACK", async () => {
    const { io, url } = await startTestServer(cleanup);
    const written: [number, unknown, string][] = [];
    io.on("connection", (socket: Socket) => {
      const internals = socket as unknown as SocketInternals;
      assert.equal(Object.prototype.hasOwnProperty.call(socket, "packet"), false);
      const write = internals.packet;
      internals.packet = (packet, options) => {
        written.push([packet.type, packet.data?.[0] ?? packet.data, typeof packet.id]);
        write.call(socket, packet, options);
      };
      socket.on("ask", (ack: (reply: string) => void) => ack("yes"));
      socket.emit("plain", 1);
      socket.volatile.emit("volatile", 2);
      socket.timeout(1000).emit("timed", 3, () => undefined);
    });
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    client.on("timed", (_value: number, ack: () => void) => ack());
    const plain = nextEvent(client, "plain");
    await connected(client);
    await plain;
    assert.equal(await emitWithReply(client, "ask"), "yes");
    await waitUntil(() => written.length === 4);
    assert.deepEqual(written, [
      [2, "plain", "undefined"],
      [2, "volatile", "undefined"],
      [2, "timed", "number"],
      [3, "yes", "number"],
    ]);
  });

  it("every broadcast form reaches the namespace adapter's broadcast once, not once per recipient; under connection state recovery socket.emit does too", async () => {
    const { io, url } = await startTestServer(cleanup, {
      io: { connectionStateRecovery: { skipMiddlewares: false } },
    });
    const seen: [string, unknown][] = [];
    recordBroadcasts(io.of("/"), seen);
    const sockets: Socket[] = [];
    io.on("connection", (socket) => {
      socket.join("room");
      sockets.push(socket);
    });
    const clients = [0, 1, 2].map(() => createClient(cleanup, url, "/", { transports: ["websocket"] }));
    for (const client of clients) client.on("ack", (ack: (v: number) => void) => ack(1));
    await Promise.all(clients.map((client) => connected(client)));
    await waitUntil(() => sockets.length === 3);
    seen.length = 0;
    const socket = sockets[0]!;
    socket.to("room").emit("to-room");
    socket.broadcast.emit("broadcast");
    io.of("/").emit("namespace");
    io.to("room").emit("io-to");
    io.volatile.emit("volatile");
    io.emit("io");
    socket.emit("recovered");
    await io.timeout(1000).emitWithAck("ack");
    assert.deepEqual(seen, [
      ["broadcast", "to-room"],
      ["broadcast", "broadcast"],
      ["broadcast", "namespace"],
      ["broadcast", "io-to"],
      ["broadcast", "volatile"],
      ["broadcast", "io"],
      ["broadcast", "recovered"],
      ["broadcastWithAck", "ack"],
    ]);
  });

  it("io.adapter() after start builds each existing namespace's adapter again through its _initAdapter", async () => {
    const { io } = await startTestServer(cleanup);
    const chat = io.of("/chat");
    const before = chat.adapter;
    const internals = chat as unknown as { _initAdapter: () => void };
    let rebuilt = 0;
    const init = internals._initAdapter;
    internals._initAdapter = function () {
      init.call(this);
      rebuilt += 1;
    };
    io.adapter(class extends Adapter {});
    assert.equal(rebuilt, 1);
    assert.notEqual(chat.adapter, before);
  });

  it("onevent asks the socket's ack(id) for the handler's callback synchronously, before the handler runs", async () => {
    const { io, url } = await startTestServer(cleanup);
    const order: string[] = [];
    io.on("connection", (socket) => {
      const internals = socket as unknown as SocketInternals;
      const ack = internals.ack;
      internals.ack = (id) => {
        order.push("ack(id)");
        const callback = ack.call(socket, id);
        return (...args: unknown[]) => {
          order.push("callback");
          callback(...args);
        };
      };
      socket.on("ask", (reply: (value: string) => void) => {
        order.push("handler");
        reply("ok");
      });
    });
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    assert.equal(await emitWithReply(client, "ask"), "ok");
    assert.deepEqual(order, ["ack(id)", "handler", "callback"]);
  });
});
