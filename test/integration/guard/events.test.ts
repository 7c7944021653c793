import assert from "node:assert/strict";
import type { Server, Socket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Guard, Policy } from "../../../src/index.js";
import { hasErrors } from "../../../src/policy/diagnostic.js";
import { checkPolicyObject } from "../../../src/policy/load.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, refused } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { hs256Issuer } from "../../helpers/tokens.js";
import { delay, nextEvent, waitUntil } from "../../helpers/wait.js";

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true, maxDenials: "5/1m" },
  auth: { issuers: { services: hs256Issuer("urn:test:services") } },
  namespaces: {
    "/chat": {
      auth: "none",
      events: {
        message: {
          schema: {
            type: "object",
            properties: { text: { type: "string", maxLength: 20 } },
            required: ["text"],
            additionalProperties: false,
          },
        },
        typing: { args: [{ type: "string", maxLength: 8 }, { type: "boolean" }] },
        ping: { args: [] },
        upload: { args: [{ type: "string" }, { binary: { maxBytes: 16 } }] },
      },
    },
    "/open": { auth: "none", unknownEvents: "allow", events: {} },
    "/late": { auth: "none", events: { hello: { args: [] } } },
    "/locked": { auth: "required" },
  },
};

const DENIED = {
  event_not_allowed: { code: "event_not_allowed", message: "This event is not allowed by the policy" },
  payload_invalid: { code: "payload_invalid", message: "The event's arguments do not match its schema" },
};

describe("guard: events", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let io: Server;
  let url: string;
  let decisions: Decision[];
  let guard: Guard;
  /** What reached the app, per kind of listener. */
  let seen: { handler: unknown[][]; any: unknown[][]; use: string[] };

  beforeEach(async () => {
    seen = { handler: [], any: [], use: [] };
    ({ io, url, decisions, guard } = await startGuardedServer(cleanup, { policy: POLICY }));
    const record = (socket: Socket): void => {
      socket.onAny((...args: unknown[]) => seen.any.push(args));
      socket.use(([event], next) => {
        seen.use.push(String(event));
        next();
      });
      for (const event of ["message", "typing", "ping", "upload", "anything", "error"]) {
        socket.on(event, (...args: unknown[]) => {
          const ack = args.at(-1);
          const values = typeof ack === "function" ? args.slice(0, -1) : args;
          seen.handler.push([event, ...values]);
          if (typeof ack === "function") (ack as (reply: unknown) => void)({ ok: true, echo: values });
        });
      }
    };
    io.of("/chat").on("connection", record);
    io.of("/open").on("connection", record);
  });

  async function chatClient(transport: "websocket" | "polling" = "websocket"): Promise<ClientSocket> {
    const client = createClient(cleanup, url, "/chat", { transports: [transport] });
    await connected(client);
    return client;
  }

  for (const transport of ["websocket", "polling"] as const) {
    it(`delivers a valid event to the handler unchanged, with its ack (${transport})`, async () => {
      const client = await chatClient(transport);
      const reply = await emitWithReply(client, "message", { text: "hello" });
      assert.deepEqual(reply, { ok: true, echo: [{ text: "hello" }] });
      assert.deepEqual(seen.handler, [["message", { text: "hello" }]]);
      assert.equal(seen.any.length, 1);
      assert.deepEqual(seen.use, ["message"]);
    });

    it(`refuses an undeclared event: the ack gets the error, no listener of the app runs (${transport})`, async () => {
      const client = await chatClient(transport);
      const reply = await emitWithReply(client, "anything", { text: "hello" });
      assert.deepEqual(reply, { error: DENIED.event_not_allowed });
      assert.deepEqual(seen, { handler: [], any: [], use: [] });
    });
  }

  it("refuses an invalid payload with where it failed, never the value", async () => {
    const client = await chatClient();
    const reply = await emitWithReply(client, "message", { text: "x".repeat(21) });
    assert.deepEqual(reply, {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "/0/text", keyword: "maxLength" }] },
    });
    assert.equal(JSON.stringify(reply).includes("xxx"), false);
    assert.deepEqual(seen.handler, []);
  });

  it("sends sockguard:denied, naming the event only when the policy declares it", async () => {
    const client = await chatClient();
    // Volatile: a denial sent while the previous one is still being written is dropped, so one at a time.
    const first = nextEvent<[unknown]>(client, "sockguard:denied");
    client.emit("message", { text: 42 });
    assert.deepEqual(await first, [{ event: "message", ...DENIED.payload_invalid }]);
    const second = nextEvent<[unknown]>(client, "sockguard:denied");
    client.emit("secret-admin-thing", "x");
    assert.deepEqual(await second, [DENIED.event_not_allowed]);
  });

  for (const transport of ["websocket", "polling"] as const) {
    it(`sends sockguard:denied also when the refused event asked for an ack (${transport})`, async () => {
      const client = await chatClient(transport);
      const notice = nextEvent<[unknown]>(client, "sockguard:denied");
      const reply = await emitWithReply(client, "message", { text: 42 });
      assert.deepEqual(reply, {
        error: { ...DENIED.payload_invalid, details: [{ instancePath: "/0/text", keyword: "type" }] },
      });
      assert.deepEqual(await notice, [{ event: "message", ...DENIED.payload_invalid }]);
    });
  }

  it("refuses an event without an ack the same way, and an onAny listener never sees it", async () => {
    const client = await chatClient();
    const first = nextEvent(client, "sockguard:denied");
    client.emit("message", { text: 1 });
    await first;
    const second = nextEvent(client, "sockguard:denied");
    client.emit("nope");
    await second;
    client.emit("message", { text: "fine" });
    await waitUntil(() => seen.handler.length === 1);
    assert.deepEqual(seen.any, [["message", { text: "fine" }]]);
    assert.deepEqual(seen.use, ["message"]);
  });

  it("checks every declared position: missing and extra arguments are refused", async () => {
    const client = await chatClient();
    assert.deepEqual(await emitWithReply(client, "typing", "abc"), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "", keyword: "minItems" }] },
    });
    assert.deepEqual(await emitWithReply(client, "typing", "abc", true, "extra"), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "", keyword: "maxItems" }] },
    });
    assert.deepEqual(await emitWithReply(client, "typing", "abc", "yes"), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "/1", keyword: "type" }] },
    });
    assert.deepEqual(await emitWithReply(client, "typing", "abc", true), { ok: true, echo: ["abc", true] });
    assert.deepEqual(await emitWithReply(client, "ping"), { ok: true, echo: [] });
    assert.deepEqual(await emitWithReply(client, "ping", 1), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "", keyword: "maxItems" }] },
    });
  });

  it("admits a binary argument where the policy declares one, within its maxBytes", async () => {
    const client = await chatClient();
    const reply = await emitWithReply(client, "upload", "name", Buffer.from("0123456789abcdef"));
    assert.equal((reply as { ok?: boolean }).ok, true);
    const [, , received] = seen.handler[0]!;
    assert.ok(Buffer.isBuffer(received));
    assert.equal((received as Buffer).toString(), "0123456789abcdef");
    assert.deepEqual(await emitWithReply(client, "upload", "name", Buffer.alloc(17)), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "/1", keyword: "maxBytes" }] },
    });
    assert.deepEqual(await emitWithReply(client, "upload", "name", "not binary"), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "/1", keyword: "binary" }] },
    });
  });

  it("refuses binary where the position declares a schema, before the schema is consulted", async () => {
    const client = await chatClient();
    assert.deepEqual(await emitWithReply(client, "message", { text: "hi", file: new Uint8Array([1, 2]) }), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "/0", keyword: "binary" }] },
    });
    assert.deepEqual(await emitWithReply(client, "upload", Buffer.from("x"), Buffer.from("y")), {
      error: { ...DENIED.payload_invalid, details: [{ instancePath: "/0", keyword: "binary" }] },
    });
    assert.deepEqual(seen.handler, []);
  });

  it("lets undeclared events through in a namespace with unknownEvents: allow", async () => {
    const client = createClient(cleanup, url, "/open", { transports: ["websocket"] });
    await connected(client);
    assert.deepEqual(await emitWithReply(client, "anything", 1, 2), { ok: true, echo: [1, 2] });
  });

  it("still refuses reserved names where unknown events are allowed", async () => {
    const client = createClient(cleanup, url, "/open", { transports: ["websocket"] });
    await connected(client);
    assert.deepEqual(await emitWithReply(client, "sockguard:denied", {}), {
      error: DENIED.event_not_allowed,
    });
    assert.deepEqual(await emitWithReply(client, "error", "forged"), { error: DENIED.event_not_allowed });
    assert.deepEqual(await emitWithReply(client, "42"), { error: DENIED.event_not_allowed });
    assert.deepEqual(seen.handler, []);
  });

  it("refuses at runtime every name the loader refuses to declare, even where unknown events are allowed", async () => {
    const undeclarable = ["1e3", "0x10", " 7 ", "-1", "1.5", "", "new_namespace", "sockguard:anything"];
    for (const name of undeclarable) {
      const declaring = await checkPolicyObject({
        version: 1,
        namespaces: { "/": { auth: "none", events: { [name]: { args: [] } } } },
      });
      assert.ok(hasErrors(declaring.diagnostics), `the loader accepts ${JSON.stringify(name)}`);
    }
    for (const name of undeclarable) {
      // A client each: more refusals than maxDenials (5/1m) would disconnect one client.
      const client = createClient(cleanup, url, "/open", { transports: ["websocket"] });
      await connected(client);
      assert.deepEqual(await emitWithReply(client, name), { error: DENIED.event_not_allowed }, name);
    }
    assert.deepEqual(seen, { handler: [], any: [], use: [] });
  });

  it("guards a namespace the app creates after sockguard()", async () => {
    const late: string[] = [];
    io.of("/late").on("connection", (socket) => {
      socket.onAny((event: string) => late.push(event));
      socket.on("hello", (ack: (reply: string) => void) => ack("hi"));
    });
    const client = createClient(cleanup, url, "/late", { transports: ["websocket"] });
    await connected(client);
    assert.equal(await emitWithReply(client, "hello"), "hi");
    assert.deepEqual(await emitWithReply(client, "sneaky"), { error: DENIED.event_not_allowed });
    assert.deepEqual(late, ["hello"]);
  });

  it("refuses a connect to a namespace the policy does not list, whatever the app registered", async () => {
    let appMiddlewareRan = false;
    io.of("/admin").use((_socket, next) => {
      appMiddlewareRan = true;
      next();
    });
    const client = createClient(cleanup, url, "/admin", { transports: ["websocket"] });
    const refusal = await refused(client);
    assert.deepEqual(refusal.data, {
      code: "namespace_not_allowed",
      message: "This namespace is not allowed by the policy",
    });
    assert.equal(appMiddlewareRan, false);
    assert.deepEqual(
      decisions.map((d) => [d.code, d.stage, d.namespace]),
      [["namespace_not_allowed", "connect", undefined]],
    );
  });

  it("refuses auth: required without a token (token_missing)", async () => {
    io.of("/locked");
    const client = createClient(cleanup, url, "/locked", { transports: ["websocket"] });
    const refusal = await refused(client);
    assert.equal(refusal.data?.code, "token_missing");
  });

  it("reports each refused event as a decision, with a declared name only, the deciding rule and the policy version", async () => {
    const client = await chatClient();
    await emitWithReply(client, "message", { text: 5 });
    await emitWithReply(client, "made-up-name");
    const [invalid, unknown] = decisions;
    assert.equal(decisions.length, 2);
    assert.deepEqual(
      { ...invalid, socketId: undefined, address: undefined, rule: undefined, policyVersion: undefined },
      {
        allowed: false,
        code: "payload_invalid",
        stage: "event",
        namespace: "/chat",
        event: "message",
        socketId: undefined,
        address: undefined,
        details: [{ instancePath: "/0/text", keyword: "type" }],
        rule: undefined,
        policyVersion: undefined,
      },
    );
    assert.equal(invalid!.rule?.path, "/namespaces/~1chat/events/message/schema/properties/text/type");
    assert.equal(invalid!.policyVersion, guard.version);
    assert.equal(unknown!.rule?.path, "/namespaces/~1chat/events");
    assert.equal(invalid!.socketId, client.id);
    assert.equal(invalid!.address, "127.0.0.1");
    assert.equal(unknown!.code, "event_not_allowed");
    assert.equal("event" in unknown!, false);
  });

  it("disconnects a socket refused more often than maxDenials (5/1m), telling it why first", async () => {
    const client = await chatClient();
    const denials: Array<{ code: string }> = [];
    client.on("sockguard:denied", (body: { code: string }) => denials.push(body));
    const disconnected = nextEvent<[string]>(client, "disconnect");
    for (let i = 0; i < 6; i++) client.emit("nope", i);
    const [reason] = await disconnected;
    assert.equal(reason, "io server disconnect");
    assert.deepEqual(denials.at(-1), {
      code: "too_many_denials",
      message: "Too many refused requests on this connection",
    });
    assert.deepEqual(
      decisions.map((d) => d.code),
      [...Array<string>(6).fill("event_not_allowed"), "too_many_denials"],
    );
  });

  it("keeps serving other clients while one is refused", async () => {
    const bad = await chatClient();
    const good = await chatClient("polling");
    for (let i = 0; i < 3; i++) bad.emit("nope");
    assert.deepEqual(await emitWithReply(good, "message", { text: "still here" }), {
      ok: true,
      echo: [{ text: "still here" }],
    });
    await delay(20);
    assert.equal(good.connected, true);
  });
});
