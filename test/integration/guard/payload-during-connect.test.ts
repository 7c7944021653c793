/**
 * maxPayload counts every message of the connection, also those that arrive while the namespace
 * connect is still verifying the token: a binary event's JSON part sent during a slow JWKS
 * download, with its attachment after the connect, is one packet of the sum of both.
 */
import assert from "node:assert/strict";
import type { Server } from "socket.io";
import type { Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { toWebSocketUrl } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import { RawPollingClient } from "../../helpers/raw-polling.js";
import { claimsFor, createSigningKey, signWith, type SigningKey } from "../../helpers/tokens.js";
import { nextEvent, waitUntil } from "../../helpers/wait.js";
import { WebSocket, type RawData } from "ws";

const ISS = "https://idp.test";
const ATTACHMENT = Buffer.alloc(100, 1);

function policyFor(jwksUri: string): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, maxPayload: "4KiB" },
    auth: { issuers: { idp: { issuer: ISS, jwksUri, audience: "any", algorithms: ["RS256"] } } },
    namespaces: {
      "/": {
        auth: "required",
        events: { upload: { args: [{ type: "string" }, { binary: { maxBytes: "1MB" } }] } },
      },
    },
  };
}

/** The JSON part of a binary `upload` event with ack id 1: its text, then one attachment. */
function uploadHeader(text: string): string {
  return `51-1${JSON.stringify(["upload", text, { _placeholder: true, num: 0 }])}`;
}

describe("guard: maxPayload for packets that arrive during an async connect", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let key: SigningKey;
  before(async () => {
    key = await createSigningKey("RS256", "k1");
  });

  /** A guarded server whose first token check waits `delayMs` for the JWKS; handlers ack the text length. */
  async function startSlowServer(delayMs = 600): Promise<{ io: Server; url: string; jwks: JwksServer }> {
    const jwks = await JwksServer.start([key.jwk]);
    cleanup.add(() => jwks.close());
    jwks.mode = "delayed";
    jwks.delayMs = delayMs;
    const { io, url } = await startGuardedServer(cleanup, { policy: policyFor(jwks.url) });
    io.on("connection", (socket) =>
      socket.on("upload", (text: string, data: Buffer, ack: (r: unknown) => void) =>
        ack({ text: text.length, bytes: data.length }),
      ),
    );
    return { io, url, jwks };
  }

  const token = (): Promise<string> => signWith(key, claimsFor(ISS, undefined));

  for (const [name, text, expected] of [
    ["refuses an oversized event", "x".repeat(5800), { error: { code: "payload_too_large" } }],
    ["admits an event within the limit", "x".repeat(100), { text: 100, bytes: ATTACHMENT.length }],
  ] as const) {
    it(`${name} whose JSON part came in the connect's POST and its attachment after it (polling)`, async () => {
      const { url, jwks } = await startSlowServer();
      const client = await RawPollingClient.open(cleanup, url);
      // The CONNECT and the event's JSON part in one POST, while the token check waits for the JWKS.
      await client.post(`40${JSON.stringify({ token: await token() })}`, `4${uploadHeader(text)}`);
      assert.ok(jwks.requests >= 1);
      const connectReply = await client.nextPacket((p) => p.startsWith("0") || p.startsWith("4"));
      assert.ok(connectReply.startsWith("0"), connectReply);
      await client.post(`b${ATTACHMENT.toString("base64")}`);
      const ack = await client.nextPacket((p) => p.startsWith("31["));
      assert.deepEqual(withoutMessages(JSON.parse(ack.slice(2))), [expected]);
    });

    it(`${name} whose JSON part was sent during the connect and its attachment after it (websocket)`, async () => {
      const { url } = await startSlowServer();
      const socket = new WebSocket(`${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`);
      cleanup.add(() => socket.terminate());
      await nextEvent<[RawData]>(socket, "message");
      const received: string[] = [];
      socket.on("message", (data: RawData) => received.push(data.toString()));
      socket.send(`40${JSON.stringify({ token: await token() })}`);
      socket.send(`4${uploadHeader(text)}`);
      await waitUntil(() => received.some((m) => m.startsWith("40") || m.startsWith("44")));
      assert.ok(
        received.some((m) => m.startsWith("40{")),
        received.join(" | "),
      );
      socket.send(ATTACHMENT, { binary: true });
      await waitUntil(() => received.some((m) => m.startsWith("431[")));
      const ack = received.find((m) => m.startsWith("431["))!;
      assert.deepEqual(withoutMessages(JSON.parse(ack.slice(3))), [expected]);
    });
  }
});

/** An ack's arguments with each error's human message left out (the code is what is pinned). */
function withoutMessages(args: unknown): unknown {
  return (args as Array<Record<string, unknown>>).map((arg) => {
    const error = arg.error as { code: string; message?: string } | undefined;
    return error ? { error: { code: error.code } } : arg;
  });
}
