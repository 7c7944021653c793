import assert from "node:assert/strict";
import type { Server, Socket } from "socket.io";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, RawSocketIoClient } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true, maxPayload: "3MB", maxDenials: "1000/1m" },
  namespaces: {
    "/": {
      auth: "none",
      events: {
        join: {
          schema: {
            type: "object",
            properties: { room: { type: "string" } },
            required: ["room"],
            additionalProperties: false,
          },
        },
        note: { schema: { type: "object" } },
        list: { schema: { type: "array", maxItems: 100 } },
        tree: {
          schema: {
            $ref: "#/$defs/node",
            $defs: { node: { type: "array", items: { $ref: "#/$defs/node" } } },
          },
        },
      },
    },
  },
};

const refusal = (code: string, message: string, details?: unknown[]): unknown[] => [
  { error: details ? { code, message, details } : { code, message } },
];
const NOT_ALLOWED = refusal("event_not_allowed", "This event is not allowed by the policy");
const INVALID = "The event's arguments do not match its schema";

describe("guard: hostile packets", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let io: Server;
  let url: string;
  let raw: RawSocketIoClient;
  let reached: unknown[][];
  let decisions: Decision[];

  beforeEach(async () => {
    reached = [];
    ({ io, url, decisions } = await startGuardedServer(cleanup, { policy: POLICY }));
    io.on("connection", (socket: Socket) => {
      socket.onAny((...args: unknown[]) =>
        reached.push(["onAny", ...args.filter((a) => typeof a !== "function")]),
      );
      for (const event of ["join", "note", "list", "tree", "error", "__proto__", "constructor", "42"]) {
        socket.on(event, (...args: unknown[]) => {
          const ack = args.at(-1);
          if (typeof ack === "function") (ack as (reply: unknown) => void)("handled");
        });
      }
      socket.on(42 as unknown as string, () => reached.push(["numeric handler"]));
    });
    raw = await RawSocketIoClient.connect(cleanup, url);
  });

  async function send(json: string, ackId: number): Promise<unknown[]> {
    raw.sendEvent(json, ackId);
    return raw.ackFor(ackId);
  }

  async function stillServing(): Promise<void> {
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    assert.equal(await emitWithReply(client, "join", { room: "lobby" }), "handled");
    assert.equal(raw.closed, false);
  }

  it("refuses __proto__ and constructor keys where the schema forbids extra properties, and pollutes nothing", async () => {
    assert.deepEqual(
      await send('["join",{"room":"a","__proto__":{"polluted":true}}]', 1),
      refusal("payload_invalid", INVALID, [{ instancePath: "/0", keyword: "additionalProperties" }]),
    );
    assert.deepEqual(
      await send('["join",{"room":"a","constructor":{"prototype":{"polluted":true}}}]', 2),
      refusal("payload_invalid", INVALID, [{ instancePath: "/0", keyword: "additionalProperties" }]),
    );
    assert.deepEqual(await send('["note",{"__proto__":{"polluted":true}}]', 3), ["handled"]);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    await stillServing();
  });

  for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
    it(`refuses the event name ${name}`, async () => {
      assert.deepEqual(await send(`[${JSON.stringify(name)},{}]`, 1), NOT_ALLOWED);
      assert.deepEqual(reached, []);
    });
  }

  it("refuses numeric event names, which would reach handlers registered for the digits", async () => {
    assert.deepEqual(await send("[42,{}]", 1), NOT_ALLOWED);
    assert.deepEqual(await send('["42",{}]', 2), NOT_ALLOWED);
    assert.deepEqual(reached, []);
  });

  it("refuses a client-sent error event and reserved sockguard: names", async () => {
    let errorHandlerRan = false;
    for (const socket of io.sockets.sockets.values()) socket.on("error", () => (errorHandlerRan = true));
    assert.deepEqual(await send('["error","forged"]', 1), NOT_ALLOWED);
    assert.deepEqual(await send('["sockguard:denied",{}]', 2), NOT_ALLOWED);
    assert.equal(errorHandlerRan, false);
    assert.deepEqual(reached, []);
    await stillServing();
  });

  it("answers a 10,000-deep payload without crashing, even where the schema recurses (ajv's stack overflow)", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    assert.deepEqual(
      await send(`["note",${deep}]`, 1),
      refusal("payload_invalid", INVALID, [{ instancePath: "/0", keyword: "type" }]),
    );
    assert.deepEqual(await send(`["tree",${deep}]`, 2), refusal("payload_invalid", INVALID));
    await stillServing();
  });

  it("refuses a 100,000-element array quickly", async () => {
    const huge = JSON.stringify(new Array(100_000).fill(0));
    const started = Date.now();
    assert.deepEqual(
      await send(`["list",${huge}]`, 1),
      refusal("payload_invalid", INVALID, [{ instancePath: "/0", keyword: "maxItems" }]),
    );
    assert.deepEqual(
      await send(`["join",${huge}]`, 2),
      refusal("payload_invalid", INVALID, [{ instancePath: "/0", keyword: "type" }]),
    );
    assert.ok(Date.now() - started < 1000);
    await stillServing();
  });

  it("refuses a 1 MB Buffer against an object schema before the schema sees it", async () => {
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    const megabyte = Buffer.alloc(1024 * 1024, 1);
    const binaryRefused = {
      error: {
        code: "payload_invalid",
        message: INVALID,
        details: [{ instancePath: "/0", keyword: "binary" }],
      },
    };
    assert.deepEqual(await emitWithReply(client, "join", megabyte), binaryRefused);
    assert.deepEqual(await emitWithReply(client, "join", { room: "a", file: megabyte }), binaryRefused);
    assert.deepEqual(await emitWithReply(client, "note", { deep: [[{ file: megabyte }]] }), binaryRefused);
    assert.deepEqual(reached, []);
    await stillServing();
  });

  it("refuses a raw binary event whose attachment sits where a schema is declared", async () => {
    raw.sendPacket('51-1["join",{"_placeholder":true,"num":0}]');
    raw.sendBinary(Buffer.alloc(1024, 2));
    assert.deepEqual(
      await raw.ackFor(1),
      refusal("payload_invalid", INVALID, [{ instancePath: "/0", keyword: "binary" }]),
    );
    assert.deepEqual(
      decisions.map((d) => d.code),
      ["payload_invalid"],
    );
  });
});
