import assert from "node:assert/strict";
import type { Server } from "socket.io";
import { sockguard, type Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startTestServer } from "../../helpers/socket-server.js";

const MAX_PAYLOAD = 300;
const TOO_LARGE = {
  error: { code: "payload_too_large", message: "The event is larger than the policy allows" },
};

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true, maxPayload: MAX_PAYLOAD },
  namespaces: {
    "/": {
      auth: "none",
      events: {
        note: { args: [{ type: "string" }] },
        blob: { args: [{ binary: { maxBytes: "2MB" } }] },
      },
    },
  },
};

/** Bytes of the Socket.IO packet socket.io-client sends for `note` with ack id 0 in namespace "/". */
function notePacketBytes(text: string): number {
  return Buffer.byteLength(`20${JSON.stringify(["note", text])}`);
}

/** Bytes of the packet for `blob` with one attachment of `size` bytes and ack id 0. */
function blobPacketBytes(size: number): number {
  return Buffer.byteLength(`51-0${JSON.stringify(["blob", { _placeholder: true, num: 0 }])}`) + size;
}

/** A `note` text whose packet is exactly `bytes` long (ending in a two-byte character when asked). */
function noteOfSize(bytes: number, multibyte = false): string {
  const tail = multibyte ? "é" : "";
  const text = "x".repeat(bytes - notePacketBytes(tail)) + tail;
  assert.equal(notePacketBytes(text), bytes);
  return text;
}

describe("guard: maxPayload, the per-event total", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let io: Server;
  let url: string;

  beforeEach(async () => {
    ({ io, url } = await startTestServer(cleanup, {
      beforeListen: (server) => sockguard(server, { policy: POLICY }),
    }));
    io.on("connection", (socket) => {
      socket.on("note", (text: string, ack: (r: unknown) => void) => ack({ length: text.length }));
      socket.on("blob", (data: Buffer, ack: (r: unknown) => void) => ack({ bytes: data.length }));
    });
  });

  async function firstEmit(
    transport: "polling" | "websocket",
    event: string,
    arg: unknown,
  ): Promise<unknown> {
    const client = createClient(cleanup, url, "/", { transports: [transport] });
    await connected(client);
    return emitWithReply(client, event, arg);
  }

  for (const transport of ["websocket", "polling"] as const) {
    describe(transport, () => {
      it("admits an event one byte under maxPayload", async () => {
        const text = noteOfSize(MAX_PAYLOAD - 1);
        assert.deepEqual(await firstEmit(transport, "note", text), { length: text.length });
      });

      it("admits an event of exactly maxPayload bytes", async () => {
        const text = noteOfSize(MAX_PAYLOAD);
        assert.deepEqual(await firstEmit(transport, "note", text), { length: text.length });
      });

      it("refuses an event one byte over maxPayload", async () => {
        assert.deepEqual(await firstEmit(transport, "note", noteOfSize(MAX_PAYLOAD + 1)), TOO_LARGE);
      });

      it("counts bytes, not characters", async () => {
        const text = noteOfSize(MAX_PAYLOAD + 1, true);
        // Within the limit in characters, one byte over it in UTF-8.
        assert.equal(`20${JSON.stringify(["note", text])}`.length, MAX_PAYLOAD);
        assert.deepEqual(await firstEmit(transport, "note", text), TOO_LARGE);
      });

      it("counts binary attachments into the total", async () => {
        const fits = MAX_PAYLOAD - blobPacketBytes(0);
        assert.deepEqual(await firstEmit(transport, "blob", Buffer.alloc(fits)), { bytes: fits });
        assert.deepEqual(await firstEmit(transport, "blob", Buffer.alloc(fits + 1)), TOO_LARGE);
      });
    });
  }
});

describe("guard: maxPayload above the engine's default buffer", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("raises the engine's maxHttpBufferSize so an event of maxPayload bytes, mostly binary, passes over polling", async () => {
    const maxPayload = 1_500_000;
    const { io, url } = await startTestServer(cleanup, {
      beforeListen: (server) =>
        sockguard(server, {
          policy: { ...POLICY, connection: { allowMissingOrigin: true, maxPayload } },
        }),
    });
    // Binary goes base64 over polling: the engine must accept a third more than maxPayload.
    assert.ok(io.engine.opts.maxHttpBufferSize! >= (maxPayload * 4) / 3);
    io.on("connection", (socket) =>
      socket.on("blob", (data: Buffer, ack: (r: unknown) => void) => ack(data.length)),
    );
    const size = maxPayload - blobPacketBytes(0);
    for (const transport of ["polling", "websocket"] as const) {
      const client = createClient(cleanup, url, "/", { transports: [transport] });
      await connected(client);
      assert.equal(await emitWithReply(client, "blob", Buffer.alloc(size, 7)), size);
    }
  });
});
