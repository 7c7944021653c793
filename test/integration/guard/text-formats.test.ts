/**
 * The text formats on a real guarded server: what a client sends over the wire is refused by format,
 * or reaches the handler exactly as sent. JSON carries a lone surrogate or a NUL as a `\u` escape,
 * so both arrive intact at the guard whatever the transport.
 */
import assert from "node:assert/strict";
import type { Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  namespaces: {
    "/chat": {
      auth: "none",
      events: {
        rename: {
          schema: {
            type: "object",
            properties: { name: { type: "string", minLength: 1, maxLength: 64, format: "plain-text" } },
            required: ["name"],
            additionalProperties: false,
          },
        },
        say: { args: [{ type: "string", maxLength: 500, format: "safe-text" }] },
      },
    },
  },
};

const refusedBy = (instancePath: string) => ({
  error: {
    code: "payload_invalid",
    message: "The event's arguments do not match its schema",
    details: [{ instancePath, keyword: "format" }],
  },
});

describe("guard: text formats", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  for (const transport of ["websocket", "polling"] as const) {
    it(`refuses <script> in a plain-text field, admits normal text unchanged (${transport})`, async () => {
      const { io, url, decisions } = await startGuardedServer(cleanup, { policy: POLICY });
      const received: unknown[][] = [];
      io.of("/chat").on("connection", (socket) => {
        for (const event of ["rename", "say"]) {
          socket.on(event, (value: unknown, ack: (reply: string) => void) => {
            received.push([event, value]);
            ack("ok");
          });
        }
      });
      const client = createClient(cleanup, url, "/chat", { transports: [transport] });
      await connected(client);

      const script = await emitWithReply(client, "rename", { name: "<script>alert(1)</script>" });
      assert.deepEqual(script, refusedBy("/0/name"));
      assert.equal(JSON.stringify(script).includes("script"), false, "the refusal never echoes the value");

      // Accented letters, an emoji (a surrogate pair), CR LF and tab, and the marks LRM/RLM pass.
      const name = "Zoë \u{1F44B} \u200Fעברית\u200E";
      const text = "line one\r\n\tline two & 'quotes' a < b";
      assert.equal(await emitWithReply(client, "rename", { name }), "ok");
      assert.equal(await emitWithReply(client, "say", text), "ok");

      for (const hostile of [
        "nul\u0000byte",
        "invoice\u202Etxt.exe",
        "lone \uD83D surrogate",
        "esc\u001B[2J",
      ]) {
        assert.deepEqual(await emitWithReply(client, "say", hostile), refusedBy("/0"));
      }

      assert.deepEqual(received, [
        ["rename", { name }],
        ["say", text],
      ]);
      assert.deepEqual(
        decisions.map((d) => d.code),
        Array(5).fill("payload_invalid"),
      );
    });
  }
});
