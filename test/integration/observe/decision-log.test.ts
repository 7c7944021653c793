import assert from "node:assert/strict";
import type { Policy } from "../../../src/index.js";
import type { LogFields, Logger } from "../../../src/enforce/context.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, refused } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { delay } from "../../helpers/wait.js";

const ISS = "urn:test:idp";
const SECRET = createSecret();

/** A pino-shaped logger that keeps every call's arguments as they were passed. */
function recordingLogger(): Logger & { calls: { level: string; args: unknown[] }[] } {
  const calls: { level: string; args: unknown[] }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]): void =>
      void calls.push({ level, args });
  return { calls, info: at("info"), warn: at("warn"), error: at("error") };
}

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true, maxDenials: "1000/1m" },
  auth: {
    tokenFrom: ["auth.token", "header.authorization", "query.access_token", "cookie.session"],
    issuers: { idp: hs256Issuer(ISS, SECRET) },
  },
  namespaces: {
    "/chat": {
      events: {
        message: { args: [{ type: "object", properties: { text: { type: "string", maxLength: 5 } } }] },
      },
    },
  },
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe("observe: the decision log", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("never writes a token, a payload value or client-chosen text, however hostile the input", async () => {
    const logger = recordingLogger();
    const { io, url } = await startGuardedServer(cleanup, { policy: POLICY, logger, logDecisions: "all" });
    io.of("/chat").on("connection", (socket) =>
      socket.on("message", (_m: unknown, ack: () => void) => ack()),
    );
    io.of(/^\/room-[^]+$/);

    const hostileSubject = `mallory\n\u001b[2J\u2028${"s".repeat(1000)}`;
    const token = await signWithSecret(SECRET, claimsFor(ISS, undefined, { sub: hostileSubject }));
    const forged = `${token.slice(0, -4)}AAAA`;
    const everywhere = (sent: string) => ({
      transports: ["websocket"],
      auth: { token: sent },
      query: { access_token: sent },
      extraHeaders: { authorization: `Bearer ${sent}`, cookie: `session=${sent}`, "x-token": sent },
    });
    const payloadSecret = "PAYLOAD-SECRET-VALUE-123";

    const client = createClient(cleanup, url, "/chat", everywhere(token) as never);
    await connected(client);
    await emitWithReply(client, "message", { text: payloadSecret });
    await emitWithReply(client, "message", { text: "ok" });
    await emitWithReply(client, `evil\u0000\n\u001b[31m${"e".repeat(10_000)}`, payloadSecret);
    await emitWithReply(client, "__proto__", { text: payloadSecret });
    await refused(createClient(cleanup, url, "/chat", everywhere(forged) as never));
    await refused(
      createClient(cleanup, url, `/room-\u001b[31m\n${"r".repeat(3000)}`, everywhere(token) as never),
    );

    const lines = logger.calls.map(({ args }) => args);
    const codes = lines.map(([fields]) => (fields as LogFields).code);
    assert.deepEqual(codes, [
      "allowed", // the handshake
      "allowed", // the connect
      "payload_invalid",
      "allowed",
      "event_not_allowed",
      "event_not_allowed",
      "allowed", // the forged token's handshake
      "token_invalid",
      "allowed",
      "namespace_not_allowed",
    ]);
    for (const [fields, message, ...rest] of lines) {
      assert.equal(typeof fields, "object", "the fields come first");
      assert.equal(typeof message, "string", "the message comes second");
      assert.deepEqual(rest, []);
      const text = JSON.stringify([fields, message]);
      for (const secret of [
        token,
        forged,
        token.split(".")[2]!,
        forged.split(".")[2]!,
        payloadSecret,
        SECRET,
      ]) {
        assert.ok(!text.includes(secret), `a line carries a secret: ${text}`);
      }
      for (const value of [message, ...Object.values(fields as LogFields)]) {
        if (typeof value !== "string") continue;
        assert.ok(!CONTROL.test(value), `a control character in ${JSON.stringify(value)}`);
        assert.ok(value.length <= 128, `a field of ${value.length} characters`);
        assert.ok(
          !value.includes("eeeeeeee") && !value.includes("rrrrrrrr") && !value.includes("room-"),
          value,
        );
      }
    }
    const refusedRoom = lines.at(-1)![0] as LogFields;
    assert.equal(refusedRoom.namespace, "other");
    const connect = lines[1]![0] as LogFields;
    assert.equal(connect.namespace, "/chat");
    assert.ok(String(connect.subject).startsWith("mallory\\u000a\\u001b[2J\\u2028sss"));
    assert.equal(typeof connect.socketId, "string");
    const invalid = lines[2]![0] as LogFields;
    assert.equal(invalid.event, "message");
    assert.equal(invalid.socketId, connect.socketId, "lines of one socket share its socketId");
    assert.equal(invalid.address, "127.0.0.1");
    assert.match(String(invalid.rule), /^<policy object> at \/namespaces\/~1chat\/events\/message/);
    assert.equal(invalid.shadow, false);
    assert.equal((lines[4]![0] as LogFields).event, undefined, "an undeclared event's name is never written");
  });

  it("logs only denials with logDecisions: denials, and bounds a flood to 50 lines per code", async () => {
    const logger = recordingLogger();
    const policy: Policy = {
      ...POLICY,
      namespaces: { "/chat": { auth: "none", events: { message: { args: [] } } } },
    };
    const { io, url } = await startGuardedServer(cleanup, { policy, logger, logDecisions: "denials" });
    io.of("/chat").on("connection", (socket) => socket.on("message", (ack: () => void) => ack()));
    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    await emitWithReply(client, "message");
    for (let i = 0; i < 200; i += 1) client.emit("flood");
    await emitWithReply(client, "message");
    await delay(50);
    const codes = logger.calls.map(({ args }) => (args[0] as LogFields).code);
    assert.deepEqual(codes, Array<string>(50).fill("event_not_allowed"));
  });
});
