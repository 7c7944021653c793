import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Server, Socket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, JsonObject, Policy } from "../../../src/index.js";
import type { LogFields, Logger } from "../../../src/enforce/context.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, refused } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { RawPollingClient } from "../../helpers/raw-polling.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { delay, waitUntil } from "../../helpers/wait.js";

const ISS = "urn:test:idp";
const SECRET = createSecret();
const ORIGIN = "https://chat.example";

const MESSAGE: JsonObject = {
  type: "object",
  properties: { text: { type: "string", maxLength: 5 } },
  required: ["text"],
  additionalProperties: false,
};

/** Echoes every event it is handed (with an ack when one was asked for), and records what arrived. */
function echoEvents(io: Server, namespace: string, seen: string[]): void {
  io.of(namespace).on("connection", (socket: Socket) => {
    socket.onAny((event: string, ...args: unknown[]) => {
      seen.push(`${namespace} ${event}`);
      const ack = args.at(-1);
      if (typeof ack === "function") (ack as (reply: unknown) => void)({ ok: true });
    });
  });
}

const shadowDecisions = (decisions: readonly Decision[]): Decision[] =>
  decisions.filter((decision) => decision.shadow === true);

describe("guard: mode: shadow in the policy in force", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("at the top level lets a foreign origin, an unlisted namespace and an undeclared event through, reporting each", async () => {
    const policy: Policy = {
      version: 1,
      mode: "shadow",
      connection: { origins: [ORIGIN] },
      namespaces: { "/chat": { auth: "none", events: { message: { schema: MESSAGE } } } },
    };
    const { io, url, decisions, guard } = await startGuardedServer(cleanup, { policy });
    const seen: string[] = [];
    echoEvents(io, "/secret", seen);
    echoEvents(io, "/chat", seen);

    const foreign = { transports: ["websocket"], extraHeaders: { origin: "https://evil.example" } };
    const secret = createClient(cleanup, url, "/secret", foreign);
    await connected(secret);
    assert.deepEqual(await emitWithReply(secret, "whatever", 1), { ok: true });
    const chat = createClient(cleanup, url, "/chat", foreign);
    await connected(chat);
    assert.deepEqual(await emitWithReply(chat, "message", { text: "far too long" }), { ok: true });
    assert.deepEqual(seen, ["/secret whatever", "/chat message"]);

    const reported = shadowDecisions(decisions).map((d) => `${d.stage} ${d.code} ${d.namespace ?? "-"}`);
    assert.ok(reported.includes("handshake origin_not_allowed -"), reported.join("; "));
    assert.ok(reported.includes("connect namespace_not_allowed -"), reported.join("; "));
    assert.ok(reported.includes("connect origin_not_allowed /chat"), reported.join("; "));
    assert.ok(reported.includes("event event_not_allowed -"), reported.join("; "));
    assert.ok(reported.includes("event payload_invalid /chat"), reported.join("; "));
    for (const decision of shadowDecisions(decisions)) {
      assert.equal(decision.allowed, false);
      assert.equal(decision.policyVersion, guard.version);
    }
    assert.equal(
      decisions.some((decision) => !decision.allowed && decision.shadow !== true),
      false,
      "nothing was enforced",
    );
  });

  it("on a namespace admits a connect without a token and delivers its events, but an event with mode: enforce is refused", async () => {
    const policy: Policy = {
      version: 1,
      connection: { allowMissingOrigin: true },
      auth: { issuers: { idp: hs256Issuer(ISS, SECRET) } },
      namespaces: {
        "/chat": {
          mode: "shadow",
          require: { scope: "chat" },
          events: {
            message: { schema: MESSAGE },
            admin: { mode: "enforce", args: [], require: { role: "admin" } },
          },
        },
        "/strict": { require: { scope: "chat" }, events: {} },
      },
    };
    const { io, url, decisions } = await startGuardedServer(cleanup, { policy });
    const seen: string[] = [];
    echoEvents(io, "/chat", seen);

    const anonymous = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(anonymous);
    assert.deepEqual(await emitWithReply(anonymous, "message", { text: "too long" }), { ok: true });
    const refusedReply = (await emitWithReply(anonymous, "admin")) as { error?: { code: string } };
    assert.equal(refusedReply.error?.code, "claims_not_satisfied");
    assert.deepEqual(seen, ["/chat message"]);

    // A verified token whose claims fail: admitted with its identity, so its events name the subject.
    const token = await signWithSecret(SECRET, claimsFor(ISS, undefined, { sub: "bob", scope: "other" }));
    const bob = createClient(cleanup, url, "/chat", { transports: ["websocket"], auth: { token } });
    await connected(bob);
    assert.deepEqual(await emitWithReply(bob, "message", { text: "too long" }), { ok: true });

    io.of("/strict");
    const strict = createClient(cleanup, url, "/strict", { transports: ["websocket"] });
    assert.equal((await refused(strict)).data?.code, "token_missing");

    const summary = decisions.map((d) => `${d.stage} ${d.code} ${d.shadow === true ? "shadow" : "enforced"}`);
    assert.deepEqual(summary, [
      "connect token_missing shadow",
      "event payload_invalid shadow",
      "event claims_not_satisfied enforced",
      "connect claims_not_satisfied shadow",
      "event payload_invalid shadow",
      "connect token_missing enforced",
    ]);
    assert.equal(decisions[3]!.subject, "bob");
    assert.equal(decisions[4]!.subject, "bob");
  });

  it("on an event delivers it despite a bad payload while its neighbours are enforced", async () => {
    const policy: Policy = {
      version: 1,
      connection: { allowMissingOrigin: true },
      namespaces: {
        "/chat": {
          auth: "none",
          events: { draft: { mode: "shadow", schema: MESSAGE }, message: { schema: MESSAGE } },
        },
      },
    };
    const { io, url, decisions } = await startGuardedServer(cleanup, { policy });
    const seen: string[] = [];
    echoEvents(io, "/chat", seen);
    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    assert.deepEqual(await emitWithReply(client, "draft", { text: "too long", extra: 1 }), { ok: true });
    const reply = (await emitWithReply(client, "message", { text: "too long" })) as {
      error?: { code: string };
    };
    assert.equal(reply.error?.code, "payload_invalid");
    assert.deepEqual(seen, ["/chat draft"]);
    assert.deepEqual(
      decisions.map((d) => [d.event, d.code, d.shadow === true]),
      [
        ["draft", "payload_invalid", true],
        ["message", "payload_invalid", false],
      ],
    );
    assert.ok(decisions[0]!.rule, "a shadow decision names the rule that would have refused");
  });

  it("delivers a shadowed refusal that waited behind a budgeted event, in the order sent", async () => {
    const policy: Policy = {
      version: 1,
      connection: { allowMissingOrigin: true },
      namespaces: {
        "/chat": {
          auth: "none",
          mode: "shadow",
          eventRateLimit: "1000/10s",
          events: { message: { schema: MESSAGE } },
        },
      },
    };
    const { io, url, decisions } = await startGuardedServer(cleanup, { policy });
    const seen: string[] = [];
    echoEvents(io, "/chat", seen);
    // One POST: engine.io hands the three packets over in one turn, so the second and third arrive
    // while the first waits for its budget, and are decided in their turn.
    const raw = await RawPollingClient.open(cleanup, url);
    await raw.post("40/chat,");
    await raw.nextPacket((p) => p.startsWith("0/chat,"));
    await raw.post(
      '42/chat,1["message",{"text":"ok"}]',
      '42/chat,2["undeclared",1]',
      '42/chat,3["message",{"text":"far too long"}]',
    );
    await waitUntil(() => seen.length === 3, 3000, "the three events handled");
    assert.deepEqual(seen, ["/chat message", "/chat undeclared", "/chat message"]);
    assert.deepEqual(
      shadowDecisions(decisions).map((d) => d.code),
      ["event_not_allowed", "payload_invalid"],
    );
  });

  it("does not count shadow denials toward maxDenials", async () => {
    const policy: Policy = {
      version: 1,
      connection: { allowMissingOrigin: true, maxDenials: "2/1m" },
      namespaces: { "/chat": { auth: "none", mode: "shadow", events: { message: { schema: MESSAGE } } } },
    };
    const { io, url, decisions } = await startGuardedServer(cleanup, { policy });
    const seen: string[] = [];
    echoEvents(io, "/chat", seen);
    const client: ClientSocket = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    for (let i = 0; i < 6; i++)
      assert.deepEqual(await emitWithReply(client, "message", { text: 1 }), { ok: true });
    await delay(50);
    assert.equal(client.connected, true);
    assert.equal(seen.length, 6);
    assert.equal(decisions.filter((d) => d.code === "too_many_denials").length, 0);
    assert.equal(shadowDecisions(decisions).length, 6);
  });

  it("labels shadow denials in the metrics and in the decision log", async () => {
    const lines: { fields: LogFields; message: string }[] = [];
    const logger: Logger = {
      info: (fields, message) => {
        if (typeof fields === "object") lines.push({ fields, message: message ?? "" });
      },
      warn: () => undefined,
      error: () => undefined,
    };
    const register = new Registry();
    const policy: Policy = {
      version: 1,
      connection: { allowMissingOrigin: true },
      namespaces: { "/chat": { auth: "none", mode: "shadow", events: { message: { schema: MESSAGE } } } },
    };
    const { io, url } = await startGuardedServer(cleanup, {
      policy,
      logger,
      logDecisions: "denials",
      metrics: register,
    });
    echoEvents(io, "/chat", []);
    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    await emitWithReply(client, "message", { text: "too long" });
    await waitUntil(() => lines.length > 0);
    assert.equal(lines[0]!.fields.shadow, true);
    assert.equal(lines[0]!.message, "sockguard: shadow would refuse payload_invalid (event)");
    const metrics = await register.metrics();
    assert.match(
      metrics,
      /sockguard_decisions_total\{code="payload_invalid",stage="event",namespace="\/chat",event="message",shadow="true"\} 1/,
    );
  });
});
