/**
 * Budgets across a reload (DESIGN §1.1; issue: editing an unrelated event must not reset
 * everybody's budget): a limit that did not change keeps its counters, a changed one starts afresh.
 * The policy is a real file, rewritten and reloaded.
 */
import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, rawRequest, refused } from "../../helpers/clients.js";
import { startReloadableServer, type ReloadableServer } from "../../helpers/guarded-server.js";
import { ackError } from "./budget-harness.js";

interface Limits {
  readonly handshakes: string;
  readonly message: string;
  readonly connects: string;
  /** The unrelated event's schema: editing it touches no budget. */
  readonly otherMaxLength: number;
}

const FIRST: Limits = { handshakes: "4/10s", message: "2/10s", connects: "2/10s", otherMaxLength: 8 };

function policy(limits: Limits): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, rateLimit: limits.handshakes },
    namespaces: {
      "/r": {
        auth: "none",
        rateLimit: limits.connects,
        events: {
          message: { args: [], rateLimit: limits.message },
          other: { args: [{ type: "string", maxLength: limits.otherMaxLength }] },
        },
      },
    },
  };
}

describe("budgets: reload", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let server: ReloadableServer;

  beforeEach(async () => {
    server = await startReloadableServer(cleanup, policy(FIRST));
    server.io.of("/r").on("connection", (socket) => {
      socket.on("message", (ack: (reply: unknown) => void) => ack("ok"));
      socket.on("other", (_text: string, ack: (reply: unknown) => void) => ack("ok"));
    });
  });

  /** `ok`, or the code the event was refused with. */
  async function send(client: ClientSocket, event: string, ...args: unknown[]): Promise<string> {
    const reply = await emitWithReply(client, event, ...args);
    return reply === "ok" ? reply : String((ackError(reply) as { code?: unknown } | undefined)?.code);
  }

  async function connect(): Promise<ClientSocket> {
    const client = createClient(cleanup, server.url, "/r", { transports: ["websocket"] });
    await connected(client);
    return client;
  }

  const handshake = async (): Promise<number> =>
    (await rawRequest(`${server.url}/socket.io/?EIO=4&transport=polling`)).status;

  it("keeps every counter when an unrelated event is edited", async () => {
    const client = await connect();
    const second = await connect();
    assert.deepEqual([await send(client, "message"), await send(client, "message")], ["ok", "ok"]);
    assert.equal(await send(client, "message"), "rate_limited");

    await server.reloadWith(policy({ ...FIRST, otherMaxLength: 4 }));
    assert.equal(await send(client, "other", "abcde"), "payload_invalid", "the edit is in force");
    assert.equal(await send(second, "message"), "rate_limited", "the event's budget stays spent");
    // Two connects of two, and two handshakes of four, were spent before the reload.
    const third = createClient(cleanup, server.url, "/r", { transports: ["polling"] });
    assert.equal((await refused(third)).data?.code, "rate_limited");
    assert.equal(await handshake(), 200);
    assert.equal(await handshake(), 429);
  });

  it("starts a changed limit afresh, and keeps the others", async () => {
    const client = await connect();
    assert.deepEqual([await send(client, "message"), await send(client, "message")], ["ok", "ok"]);
    assert.equal(await send(client, "message"), "rate_limited");

    await server.reloadWith(policy({ ...FIRST, message: "3/10s" }));
    const after = [];
    for (let i = 0; i < 4; i++) after.push(await send(client, "message"));
    assert.deepEqual(after, ["ok", "ok", "ok", "rate_limited"]);
    // The connect limit did not change: one connect spent before, one left.
    await connect();
    const third = createClient(cleanup, server.url, "/r", { transports: ["websocket"] });
    assert.equal((await refused(third)).data?.code, "rate_limited");
  });
});
