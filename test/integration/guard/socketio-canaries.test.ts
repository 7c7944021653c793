/**
 * Canaries: the Socket.IO 4.8 / engine.io 6.6 behaviours the guard depends on (DESIGN §7, and the
 * private members listed in src/enforce/socket-io-internals.ts), pinned on plain, unguarded
 * servers. If an upgrade of Socket.IO changes one of them, this file fails before a hole opens.
 */
import assert from "node:assert/strict";
import { createServer, ServerResponse } from "node:http";
import type { IncomingMessage } from "node:http";
import { Server, type Namespace, type Socket } from "socket.io";
import { WebSocket } from "ws";
import { Cleanup } from "../../helpers/cleanup.js";
import {
  connected,
  createClient,
  emitWithReply,
  rawRequest,
  rawUpgrade,
  sessionIdOf,
  toWebSocketUrl,
} from "../../helpers/clients.js";
import { closeSocketIo, listenOnLoopback, startTestServer } from "../../helpers/socket-server.js";
import { nextEvent, waitUntil } from "../../helpers/wait.js";

interface PacketLike {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown[];
}
type Internals = {
  onevent: (packet: PacketLike) => void;
  ack: (id: number) => (...args: unknown[]) => void;
};

describe("Socket.IO canaries (facts the guard relies on)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("allowRequest never sees the WebSocket upgrade of a polling session; engine middleware does", async () => {
    const allowRequestSaw: string[] = [];
    const middlewareSaw: Array<{ transport: string | undefined; httpResponse: boolean }> = [];
    const { io, url } = await startTestServer(cleanup, {
      io: {
        allowRequest: (req, callback) => {
          allowRequestSaw.push(String(req.url));
          callback(null, true);
        },
      },
    });
    io.engine.use(
      (req: IncomingMessage & { _query: Record<string, string> }, res: unknown, next: () => void) => {
        middlewareSaw.push({ transport: req._query.transport, httpResponse: res instanceof ServerResponse });
        next();
      },
    );
    const handshake = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
    const sid = sessionIdOf(handshake.body);
    const upgrade = await rawUpgrade(
      cleanup,
      `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket&sid=${sid}`,
    );
    assert.equal(upgrade.opened, true);
    assert.equal(allowRequestSaw.length, 1);
    assert.deepEqual(middlewareSaw, [
      { transport: "polling", httpResponse: true },
      { transport: "websocket", httpResponse: false },
    ]);
  });

  it("a failing engine middleware is answered 400 without its reason, so the guard writes its own answer", async () => {
    const { io, url } = await startTestServer(cleanup);
    io.engine.use((_req: unknown, _res: unknown, next: (err?: Error) => void) =>
      next(new Error("origin_not_allowed")),
    );
    const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(response.status, 400);
    assert.deepEqual(JSON.parse(response.body), { code: 3, message: "Bad request" });
  });

  it("engine.io reads the query engine middleware sees (`_query`): a missing or empty sid is a new handshake", async () => {
    const { io, url } = await startTestServer(cleanup);
    const seen: Array<Record<string, string>> = [];
    io.engine.use(
      (req: IncomingMessage & { _query: Record<string, string> }, _res: unknown, next: () => void) => {
        seen.push({ ...req._query });
        next();
      },
    );
    const known = sessionIdOf((await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`)).body);
    // Each of these opens a new session: engine.io's predicate is `!req._query.sid`, the last of a
    // repeated parameter wins, keys are percent-decoded, and `sid[]` is another key.
    for (const shape of ["sid=", "sid", "sid=&sid=", `sid=${known}&sid=`, "s%69d=", "sid[]=", "SID=x"]) {
      const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling&${shape}`);
      assert.equal(response.status, 200, shape);
      const sid = sessionIdOf(response.body);
      assert.notEqual(sid, known, shape);
    }
    assert.deepEqual(
      seen.slice(1, 5).map((query) => query.sid),
      ["", "", "", ""],
    );
    assert.equal(seen[6]?.sid, undefined);
    // The last `transport` wins too: this handshake is a polling one.
    const repeated = await rawRequest(`${url}/socket.io/?EIO=4&transport=websocket&transport=polling`);
    assert.equal(repeated.status, 200);
    assert.match(repeated.body, /^0\{"sid":/);
  });

  it("engine.io reads `transports` on every request", async () => {
    const { io, url } = await startTestServer(cleanup);
    io.engine.opts.transports = ["websocket"];
    const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(response.status, 400);
    assert.equal((JSON.parse(response.body) as { message: string }).message, "Transport unknown");
  });

  it("onAny listeners run before socket.use middleware, even for an event the middleware rejects", async () => {
    const { io, url } = await startTestServer(cleanup);
    const order: string[] = [];
    io.on("connection", (socket) => {
      socket.onAny((event: string) => order.push(`onAny:${event}`));
      socket.use(([event], next) => {
        order.push(`use:${String(event)}`);
        next(new Error("refused"));
      });
      socket.on("error", () => order.push("error"));
    });
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    client.emit("forbidden");
    await waitUntil(() => order.length === 3);
    assert.deepEqual(order, ["onAny:forbidden", "use:forbidden", "error"]);
  });

  it("an own `onevent` on a socket receives every event packet first; binary events arrive as type EVENT", async () => {
    const { io, url } = await startTestServer(cleanup);
    const packets: PacketLike[] = [];
    const reached: string[] = [];
    io.use((socket, next) => {
      const internals = socket as unknown as Internals;
      const original = internals.onevent;
      assert.equal(Object.prototype.hasOwnProperty.call(socket, "onevent"), false);
      internals.onevent = (packet) => {
        packets.push({ ...packet });
        if (packet.data?.[0] === "pass") original.call(socket, packet);
        else if (typeof packet.id === "number") internals.ack(packet.id)("stopped");
      };
      next();
    });
    io.on("connection", (socket) => {
      socket.onAny((event: string) => reached.push(`onAny:${event}`));
      socket.use(([event], next) => {
        reached.push(`use:${String(event)}`);
        next();
      });
      socket.on("stop", () => reached.push("handler:stop"));
      socket.on("pass", (_value: unknown, ack: (reply: string) => void) => ack("passed"));
    });
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    assert.equal(await emitWithReply(client, "stop", Buffer.from("bin")), "stopped");
    assert.equal(await emitWithReply(client, "pass", 1), "passed");
    assert.deepEqual(reached, ["onAny:pass", "use:pass"]);
    assert.deepEqual(
      packets.map((p) => [p.type, p.data?.[0], typeof p.id]),
      [
        [2, "stop", "number"],
        [2, "pass", "number"],
      ],
    );
    assert.ok(Buffer.isBuffer(packets[0]!.data?.[1]));
  });

  it("the engine socket emits `data` and the decoder `decoded` in one synchronous turn; onevent gets that packet later", async () => {
    const { io, url } = await startTestServer(cleanup);
    const trace: string[] = [];
    let decodedPacket: unknown;
    io.use((socket, next) => {
      let sameTurn = false;
      socket.client.conn.prependListener("data", (data: unknown) => {
        trace.push(typeof data === "string" ? "data:text" : "data:binary");
        sameTurn = true;
        process.nextTick(() => (sameTurn = false));
      });
      const decoder = (
        socket.client as unknown as { decoder: { on(e: string, l: (p: unknown) => void): void } }
      ).decoder;
      decoder.on("decoded", (packet) => {
        trace.push(sameTurn ? "decoded:same-turn" : "decoded:later");
        decodedPacket = packet;
      });
      const internals = socket as unknown as Internals;
      const original = internals.onevent;
      internals.onevent = (packet) => {
        trace.push(
          sameTurn ? "onevent:same-turn" : packet === decodedPacket ? "onevent:same-packet" : "onevent:other",
        );
        original.call(socket, packet);
      };
      next();
    });
    io.on("connection", (socket) =>
      socket.on("upload", (_a: unknown, _b: unknown, ack: () => void) => ack()),
    );
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    await emitWithReply(client, "upload", Buffer.from("one"), Buffer.from("two"));
    assert.deepEqual(trace, [
      "data:text",
      "data:binary",
      "data:binary",
      "decoded:same-turn",
      "onevent:same-packet",
    ]);
  });

  it("the client hands each message to its decoder's `add`, looked up on the decoder each time: an own `add` sees every message before the decoder emits `decoded`", async () => {
    const { io, url } = await startTestServer(cleanup);
    const trace: string[] = [];
    io.use((socket, next) => {
      const decoder = (
        socket.client as unknown as {
          decoder: { add(data: unknown): void; on(e: string, l: (p: unknown) => void): void };
        }
      ).decoder;
      const add = decoder.add;
      decoder.add = function (this: unknown, data: unknown) {
        trace.push(typeof data === "string" ? "add:text" : "add:binary");
        add.call(this, data);
      };
      decoder.on("decoded", () => trace.push("decoded"));
      next();
    });
    io.on("connection", (socket) => {
      socket.on("upload", (_a: unknown, _b: unknown, ack: () => void) => ack());
      socket.on("note", (_text: unknown, ack: () => void) => ack());
    });
    const client = createClient(cleanup, url, "/", { transports: ["polling"] });
    await connected(client);
    await emitWithReply(client, "upload", Buffer.from("one"), Buffer.from("two"));
    await emitWithReply(client, "note", "hello");
    assert.deepEqual(trace, ["add:text", "add:binary", "add:binary", "decoded", "add:text", "decoded"]);
  });

  it("packets during an async connect: a binary event's JSON part waits in the decoder and arrives whole after the connect; a complete event closes the connection", async () => {
    const { io, url } = await startTestServer(cleanup);
    io.use((_socket, next) => void setTimeout(next, 200));
    const delivered: unknown[] = [];
    io.on("connection", (socket) =>
      socket.on("upload", (text: string, data: Buffer) => delivered.push([text, data.length])),
    );
    const open = async (): Promise<{ socket: WebSocket; received: string[] }> => {
      const socket = new WebSocket(`${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`);
      cleanup.add(() => socket.terminate());
      await nextEvent(socket, "message");
      const received: string[] = [];
      socket.on("message", (data: Buffer) => received.push(data.toString()));
      socket.send("40");
      return { socket, received };
    };
    const split = await open();
    split.socket.send(`451-${JSON.stringify(["upload", "during", { _placeholder: true, num: 0 }])}`);
    await waitUntil(() => split.received.some((m) => m.startsWith("40{")));
    assert.deepEqual(delivered, []);
    split.socket.send(Buffer.alloc(3), { binary: true });
    await waitUntil(() => delivered.length === 1);
    assert.deepEqual(delivered, [["during", 3]]);

    const whole = await open();
    whole.socket.send(`42${JSON.stringify(["upload", "early"])}`);
    await nextEvent(whole.socket, "close");
    assert.equal(delivered.length, 1);
  });

  it("an engine `connection` listener added after Socket.IO's can still put a `data` listener before Socket.IO's", async () => {
    const { io, url } = await startTestServer(cleanup);
    const seen: string[] = [];
    io.engine.on("connection", (conn: { prependListener(e: "data", l: (d: unknown) => void): void }) =>
      conn.prependListener("data", (data) => seen.push(`guard:${String(data)}`)),
    );
    io.use((_socket, next) => {
      seen.push("middleware");
      next();
    });
    const client = createClient(cleanup, url, "/", { transports: ["polling"] });
    await connected(client);
    assert.deepEqual(seen, ["guard:0", "middleware"]);
  });

  it("a client keeps the namespace sockets of its connection in `sockets`, by socket id", async () => {
    const { io, url } = await startTestServer(cleanup);
    io.of("/chat");
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    const chat = client.io.socket("/chat");
    await connected(chat);
    const [root] = [...io.of("/").sockets.values()];
    const sockets = (root!.client as unknown as { sockets: Map<string, Socket> }).sockets;
    assert.deepEqual(
      [...sockets.entries()].map(([id, socket]) => [id, socket.nsp.name]),
      [
        [root!.id, "/"],
        [[...io.of("/chat").sockets.keys()][0], "/chat"],
      ],
    );
  });

  it("connection state recovery skips namespace middleware by default", async () => {
    const { io, url } = await startTestServer(cleanup, { io: { connectionStateRecovery: {} } });
    assert.equal(io._opts.connectionStateRecovery?.skipMiddlewares, true);
    let middlewareRuns = 0;
    io.use((_socket, next) => {
      middlewareRuns += 1;
      next();
    });
    const recovered: boolean[] = [];
    io.on("connection", (socket) => {
      recovered.push(socket.recovered);
      socket.emit("hello");
    });
    const client = createClient(cleanup, url, "/", {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 10,
      reconnectionDelayMax: 10,
    });
    await nextEvent(client, "hello");
    client.io.engine.close();
    await waitUntil(() => recovered.length === 2);
    assert.deepEqual(recovered, [false, true]);
    assert.equal(middlewareRuns, 1);
  });

  it("a dynamic child copies its parent's middleware and listeners before new_namespace, into _nsps and children", async () => {
    const { io, url } = await startTestServer(cleanup);
    const parentMiddleware = (_socket: Socket, next: () => void): void => next();
    const parent = io.of(/^\/room-\d+$/).use(parentMiddleware);
    parent.on("connection", () => undefined);
    let atNewNamespace: { fns: unknown[]; connectionListeners: number } | undefined;
    io.on("new_namespace", (namespace: Namespace) => {
      atNewNamespace = {
        fns: [...(namespace as unknown as { _fns: unknown[] })._fns],
        connectionListeners: namespace.listeners("connection").length,
      };
    });
    const client = createClient(cleanup, url, "/room-1", { transports: ["websocket"] });
    await connected(client);
    assert.deepEqual(atNewNamespace, { fns: [parentMiddleware], connectionListeners: 1 });
    const internals = io as unknown as {
      _nsps: Map<string, Namespace>;
      parentNsps: Map<unknown, Namespace & { children: Set<Namespace> }>;
    };
    const child = internals._nsps.get("/room-1");
    assert.ok(child);
    assert.equal([...internals.parentNsps.values()][0]!.children.has(child), true);
    assert.ok(
      (child as unknown as { _preConnectSockets: Map<string, Socket> })._preConnectSockets instanceof Map,
    );
  });

  it("attach() creates the engine through io.bind(), with the server's options merged in", async () => {
    const io = new Server({ transports: ["polling"], maxHttpBufferSize: 12345 });
    let boundEngine: unknown;
    const bind = io.bind;
    io.bind = (engine: unknown) => {
      boundEngine = engine;
      return bind.call(io, engine);
    };
    const httpServer = createServer();
    io.attach(httpServer);
    cleanup.addFirst(() => closeSocketIo(io));
    await listenOnLoopback(httpServer);
    assert.equal(boundEngine, io.engine);
    assert.deepEqual(io.engine.opts.transports, ["polling"]);
    assert.equal(io.engine.opts.maxHttpBufferSize, 12345);
  });

  it("the WebSocket server's frame limit is maxHttpBufferSize as it was when the server started listening", async () => {
    const { io } = await startTestServer(cleanup, { io: { maxHttpBufferSize: 5000 } });
    const ws = (io.engine as unknown as { ws?: { options?: { maxPayload?: number } } }).ws;
    assert.equal(ws?.options?.maxPayload, 5000);
  });

  it("with a dual-stack socket, IPv4 clients appear IPv4-mapped (::ffff:127.0.0.1)", async () => {
    const { io, url } = await startTestServer(cleanup, { host: "::ffff:127.0.0.1" });
    const addresses: string[] = [];
    io.on("connection", (socket) => addresses.push(socket.handshake.address));
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    assert.deepEqual(addresses, ["::ffff:127.0.0.1"]);
  });
});
