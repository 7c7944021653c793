/**
 * Event budgets on a real server (DESIGN §1.1, §3): a namespace's `eventRateLimit` and an event's
 * `rateLimit` refuse `rate_limited` with `retryAfterMs` in the ack error and in `sockguard:denied`,
 * on both transports; each key kind (subject, address, socket) counts whom it says; budgets are
 * spent only once the checks before them pass, refusals count toward `maxDenials`; and a socket's
 * events reach the app in the order they were sent, with a bounded backlog.
 */
import assert from "node:assert/strict";
import type { Server, Socket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Policy } from "../../../src/index.js";
import type { NamespacePolicy } from "../../../src/policy/types.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startGuardedServer, type GuardedServer } from "../../helpers/guarded-server.js";
import { RawPollingClient } from "../../helpers/raw-polling.js";
import { nextEvent, waitUntil } from "../../helpers/wait.js";
import {
  ackError,
  assertRateLimited,
  clientAs,
  ISSUER,
  tokenFor,
  TRANSPORTS,
  type Transport,
} from "./budget-harness.js";

const WINDOW_MS = 10_000;
const OK = { ok: true };

function policy(namespaces: Record<string, NamespacePolicy>, maxDenials = "100/1m"): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, trustedProxies: ["127.0.0.1"], maxDenials },
    auth: { issuers: { idp: ISSUER } },
    namespaces,
  };
}

/** Acks `{ ok: true }` to every event of every socket of `namespace` (the last argument is the ack). */
function ackEverything(io: Server, namespace: string | RegExp): void {
  io.of(namespace).on("connection", (socket: Socket) =>
    socket.onAny((...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack === "function") (ack as (reply: unknown) => void)(OK);
    }),
  );
}

describe("budgets: events (eventRateLimit, rateLimit)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let server: GuardedServer;
  let decisions: Decision[];

  async function start(namespaces: Record<string, NamespacePolicy>, maxDenials?: string): Promise<void> {
    server = await startGuardedServer(cleanup, { policy: policy(namespaces, maxDenials) });
    decisions = server.decisions;
    for (const name of Object.keys(namespaces)) if (!name.includes("{")) ackEverything(server.io, name);
  }

  async function connectAs(
    namespace: string,
    sub: string | undefined,
    transport: Transport = "websocket",
    forwardedFor?: string,
  ): Promise<ClientSocket> {
    const client = await clientAs(cleanup, server.url, namespace, sub, transport, {
      ...(forwardedFor === undefined ? {} : { extraHeaders: { "x-forwarded-for": forwardedFor } }),
    });
    await connected(client);
    return client;
  }

  /** The ack of one event: `ok`, or the refusal's code. */
  async function outcome(client: ClientSocket, event: string, ...args: unknown[]): Promise<string> {
    const reply = await emitWithReply(client, event, ...args);
    if (reply && typeof reply === "object" && "ok" in reply) return "ok";
    return String((ackError(reply) as { code?: unknown } | undefined)?.code);
  }

  async function outcomes(client: ClientSocket, event: string, count: number, ...args: unknown[]) {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) seen.push(await outcome(client, event, ...args));
    return seen;
  }

  const CHAT: Record<string, NamespacePolicy> = {
    "/chat": {
      auth: "optional",
      eventRateLimit: "5/10s",
      events: {
        message: { schema: { type: "string" }, rateLimit: "2/10s" },
        typing: { args: [] },
      },
    },
  };

  describe("both levels, both transports", () => {
    for (const transport of TRANSPORTS) {
      it(`refuses the event past its rateLimit: ack error and sockguard:denied carry retryAfterMs (${transport})`, async () => {
        await start(CHAT);
        const client = await connectAs("/chat", "u1", transport);
        assert.deepEqual(await outcomes(client, "message", 2, "hi"), ["ok", "ok"]);
        const denied = nextEvent<[Record<string, unknown>]>(client, "sockguard:denied");
        const reply = await emitWithReply(client, "message", "hi");
        const error = ackError(reply) as { retryAfterMs: number };
        assertRateLimited(error, WINDOW_MS);
        const [notice] = await denied;
        assertRateLimited(notice, WINDOW_MS);
        assert.equal(notice.event, "message");
        assert.equal(notice.retryAfterMs, error.retryAfterMs);
        const decision = decisions.find((d) => d.code === "rate_limited");
        assert.equal(decision?.stage, "event");
        assert.equal(decision.event, "message");
        assert.equal(decision.rule?.path, "/namespaces/~1chat/events/message/rateLimit");
        assert.equal(decision.retryAfterMs, error.retryAfterMs);
      });

      it(`counts every event of the namespace against eventRateLimit (${transport})`, async () => {
        await start(CHAT);
        const client = await connectAs("/chat", "u1", transport);
        assert.deepEqual(await outcomes(client, "typing", 3), ["ok", "ok", "ok"]);
        assert.deepEqual(await outcomes(client, "message", 2, "hi"), ["ok", "ok"]);
        const denied = nextEvent<[Record<string, unknown>]>(client, "sockguard:denied");
        assertRateLimited(ackError(await emitWithReply(client, "typing")), WINDOW_MS);
        assert.equal((await denied)[0].event, "typing");
        assert.deepEqual(
          decisions.map((d) => [d.code, d.event, d.rule?.path]),
          [["rate_limited", "typing", "/namespaces/~1chat/eventRateLimit"]],
        );
      });
    }

    it("gives back the namespace's point when the event's own limit refuses", async () => {
      await start(CHAT);
      const client = await connectAs("/chat", "u1");
      assert.deepEqual(await outcomes(client, "message", 4, "hi"), [
        "ok",
        "ok",
        "rate_limited",
        "rate_limited",
      ]);
      // Two points of the namespace's five were spent, not four.
      assert.deepEqual(await outcomes(client, "typing", 4), ["ok", "ok", "ok", "rate_limited"]);
    });
  });

  describe("keys", () => {
    const KEYS: Record<string, NamespacePolicy> = {
      "/k": {
        auth: "optional",
        events: {
          bySubject: { args: [], rateLimit: "2/10s" },
          byAddress: { args: [], rateLimit: { rate: "2/10s", by: "address" } },
        },
      },
      "/room-{room}": {
        auth: "none",
        events: { say: { args: [], rateLimit: { rate: "3/10s", by: "socket" } } },
      },
    };

    it("by subject: two sockets of one subject share the budget; another subject is unaffected", async () => {
      await start(KEYS);
      const first = await connectAs("/k", "u1", "polling");
      const second = await connectAs("/k", "u1", "websocket");
      assert.equal(await outcome(first, "bySubject"), "ok");
      assert.equal(await outcome(second, "bySubject"), "ok");
      assert.equal(await outcome(first, "bySubject"), "rate_limited");
      assert.equal(await outcome(second, "bySubject"), "rate_limited");
      const other = await connectAs("/k", "u2");
      assert.deepEqual(await outcomes(other, "bySubject", 3), ["ok", "ok", "rate_limited"]);
    });

    it("by subject: anonymous sockets fall back to their address, apart from every subject", async () => {
      await start(KEYS);
      const first = await connectAs("/k", undefined);
      const second = await connectAs("/k", undefined, "polling");
      const elsewhere = await connectAs("/k", undefined, "websocket", "203.0.113.7");
      assert.equal(await outcome(first, "bySubject"), "ok");
      assert.equal(await outcome(second, "bySubject"), "ok");
      assert.equal(await outcome(first, "bySubject"), "rate_limited");
      assert.deepEqual(await outcomes(elsewhere, "bySubject", 3), ["ok", "ok", "rate_limited"]);
      const subject = await connectAs("/k", "u1");
      assert.deepEqual(await outcomes(subject, "bySubject", 2), ["ok", "ok"]);
    });

    it("by address: every subject of one client address shares the budget, behind a trusted proxy too", async () => {
      await start(KEYS);
      const u1 = await connectAs("/k", "u1");
      const u2 = await connectAs("/k", "u2", "polling");
      assert.equal(await outcome(u1, "byAddress"), "ok");
      assert.equal(await outcome(u2, "byAddress"), "ok");
      assert.equal(await outcome(u1, "byAddress"), "rate_limited");
      assert.equal(await outcome(u2, "byAddress"), "rate_limited");
      // The same subject from another client address (forwarded by the trusted proxy) has its own.
      const forwarded = await connectAs("/k", "u1", "websocket", "203.0.113.7");
      assert.deepEqual(await outcomes(forwarded, "byAddress", 3), ["ok", "ok", "rate_limited"]);
      // A client-written left-most entry does not make another key.
      const forged = await connectAs("/k", "u3", "websocket", "198.51.100.1, 203.0.113.7");
      assert.equal(await outcome(forged, "byAddress"), "rate_limited");
    });

    it("by socket: two namespace sockets on one Engine.IO connection share; a new connection has its own", async () => {
      await start(KEYS);
      ackEverything(server.io, /^\/room-[a-z]+$/u);
      const roomA = createClient(cleanup, server.url, "/room-a", { transports: ["websocket"] });
      await connected(roomA);
      const roomB = roomA.io.socket("/room-b");
      cleanup.add(() => roomB.disconnect());
      await connected(roomB);
      assert.deepEqual(await outcomes(roomA, "say", 2), ["ok", "ok"]);
      assert.equal(await outcome(roomB, "say"), "ok");
      assert.equal(await outcome(roomB, "say"), "rate_limited");
      assert.equal(await outcome(roomA, "say"), "rate_limited");
      assert.equal(server.io.engine.clientsCount, 1);
      const fresh = createClient(cleanup, server.url, "/room-a", { transports: ["polling"] });
      await connected(fresh);
      assert.deepEqual(await outcomes(fresh, "say", 4), ["ok", "ok", "ok", "rate_limited"]);
    });
  });

  describe("spent only after the checks before them pass", () => {
    const GUARDED: Record<string, NamespacePolicy> = {
      "/s": {
        auth: "optional",
        events: {
          post: { schema: { type: "string", maxLength: 8 }, rateLimit: "2/10s" },
          shout: { args: [], require: { scope: "shout" }, rateLimit: { rate: "2/10s", by: "address" } },
        },
      },
    };

    for (const transport of TRANSPORTS) {
      it(`does not spend the budget on events refused for their schema (${transport})`, async () => {
        await start(GUARDED);
        const client = await connectAs("/s", "u1", transport);
        assert.deepEqual(await outcomes(client, "post", 6, 42), Array(6).fill("payload_invalid"));
        assert.deepEqual(await outcomes(client, "post", 1, "x".repeat(9)), ["payload_invalid"]);
        assert.deepEqual(await outcomes(client, "post", 3, "valid"), ["ok", "ok", "rate_limited"]);
      });
    }

    it("does not spend the budget on events refused for their claims", async () => {
      await start(GUARDED);
      const reader = await connectAs("/s", "reader");
      assert.deepEqual(await outcomes(reader, "shout", 4), Array(4).fill("claims_not_satisfied"));
      const shouter = createClient(cleanup, server.url, "/s", {
        transports: ["websocket"],
        auth: { token: await tokenFor("shouter", { scope: "shout" }) },
      });
      await connected(shouter);
      assert.deepEqual(await outcomes(shouter, "shout", 3), ["ok", "ok", "rate_limited"]);
    });

    it("counts every refusal toward maxDenials, rate_limited ones too, and closes the connection past it", async () => {
      await start(GUARDED, "3/1m");
      const client = await connectAs("/s", "u1");
      assert.deepEqual(await outcomes(client, "post", 2, 42), ["payload_invalid", "payload_invalid"]);
      assert.deepEqual(await outcomes(client, "post", 3, "valid"), ["ok", "ok", "rate_limited"]);
      assert.equal(client.connected, true, "three refusals are within 3/1m");
      const told = nextEvent<[{ code: string }]>(client, "sockguard:denied");
      const gone = nextEvent<[string]>(client, "disconnect");
      assert.equal(await outcome(client, "post", "valid"), "rate_limited");
      // The fourth refusal's own notice, then the one that closes the connection.
      assert.equal((await told)[0].code, "rate_limited");
      assert.equal((await gone)[0], "io server disconnect");
      assert.deepEqual(
        decisions.map((d) => d.code),
        ["payload_invalid", "payload_invalid", "rate_limited", "rate_limited", "too_many_denials"],
      );
    });
  });

  describe("arrival order", () => {
    const ORDERED: Record<string, NamespacePolicy> = {
      "/o": {
        auth: "none",
        events: {
          limited: { args: [{ type: "integer" }], rateLimit: "1000/10s" },
          free: { args: [{ type: "integer" }] },
        },
      },
    };

    /** Records `name:index` of every event the app's handlers receive on `/o`. */
    function recordArrivals(io: Server): string[] {
      const arrived: string[] = [];
      io.of("/o").on("connection", (socket) => {
        socket.on("limited", (i: number) => arrived.push(`limited:${i}`));
        socket.on("free", (i: number) => arrived.push(`free:${i}`));
      });
      return arrived;
    }

    for (const transport of TRANSPORTS) {
      it(`delivers a burst of budgeted events in the order sent (${transport})`, async () => {
        await start(ORDERED);
        const arrived = recordArrivals(server.io);
        const client = await connectAs("/o", undefined, transport);
        const sent: string[] = [];
        for (let i = 0; i < 40; i++) {
          client.emit("limited", i);
          sent.push(`limited:${i}`);
        }
        await waitUntil(() => arrived.length === sent.length, 3000, "every event arrived");
        assert.deepEqual(arrived, sent);
      });

      it(`keeps the order of budgeted and unbudgeted events of one namespace mixed (${transport})`, async () => {
        await start(ORDERED);
        const arrived = recordArrivals(server.io);
        const client = await connectAs("/o", undefined, transport);
        const sent: string[] = [];
        for (let i = 0; i < 40; i++) {
          const name = i % 3 === 0 ? "free" : "limited";
          client.emit(name, i);
          sent.push(`${name}:${i}`);
        }
        await waitUntil(() => arrived.length === sent.length, 3000, "every event arrived");
        assert.deepEqual(arrived, sent);
      });
    }

    it("refuses rate_limited with retryAfterMs 1000 an event past 64 undecided ones of a socket", async () => {
      await start(ORDERED, "1000/1m");
      const arrived = recordArrivals(server.io);
      const raw = await RawPollingClient.open(cleanup, server.url);
      await raw.post("40/o,");
      await raw.nextPacket((p) => p.startsWith("0/o,"));
      // One POST: engine.io hands its 100 packets over in one turn, before any budget is answered.
      await raw.post(...Array.from({ length: 100 }, (_, i) => `42/o,${i + 1}["limited",${i}]`));
      const refusals = (): string[] =>
        raw.packets.filter((p) => p.startsWith("3/o,") && p.includes('"error"'));
      await waitUntil(() => refusals().length === 36, 3000, "the refusals' acks");
      const refusedIds = refusals().map((p) => {
        const id = Number(/^3\/o,(\d+)\[/u.exec(p)?.[1]);
        const [reply] = JSON.parse(p.slice(p.indexOf("["))) as [{ error: unknown }];
        assert.deepEqual(reply.error, {
          code: "rate_limited",
          message: (reply.error as { message: string }).message,
          retryAfterMs: 1000,
        });
        return id;
      });
      assert.deepEqual(
        refusedIds,
        Array.from({ length: 36 }, (_, i) => 65 + i),
      );
      await waitUntil(() => arrived.length === 64, 3000, "the first 64 arrived");
      assert.deepEqual(
        arrived,
        Array.from({ length: 64 }, (_, i) => `limited:${i}`),
      );
    });
  });
});
