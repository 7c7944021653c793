import assert from "node:assert/strict";
import { join } from "node:path";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient } from "../../helpers/clients.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { saveByRenameOver } from "../reload/file-edits.js";

const RELOADS = 100;

/**
 * Two versions that both admit `say` with a short text and both refuse it with a number; they
 * differ elsewhere (the length `shout` allows), so each save is a real change.
 */
const version = (shoutMaxLength: number): string =>
  JSON.stringify({
    version: 1,
    connection: { allowMissingOrigin: true, maxDenials: "1000000/1m" },
    namespaces: {
      "/chat": {
        auth: "none",
        events: {
          say: {
            schema: {
              type: "object",
              properties: { text: { type: "string", maxLength: 200 } },
              required: ["text"],
              additionalProperties: false,
            },
          },
          shout: { args: [{ type: "string", maxLength: shoutMaxLength }] },
        },
      },
    },
  } satisfies Policy);
const VERSION_A = version(10);
const VERSION_B = version(20);

/** What one client saw while the reloads ran. */
interface Traffic {
  validAcked: number;
  invalidRefused: number;
  /** Replies that were not the expected answer (a valid event refused, an invalid one admitted, a timeout). */
  readonly wrong: string[];
  readonly disconnects: string[];
}

describe("guard: reloads under load", function () {
  this.timeout(30_000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("100 reloads while clients send: no valid event refused, no invalid one admitted, every reload reported", async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": VERSION_A });
    const policyFile = join(dir, "policy.yaml");
    const { io, url, guard, decisions } = await startGuardedServer(cleanup, {
      policy: policyFile,
      watch: false,
    });
    let reloadEvents = 0;
    guard.on("reload", () => (reloadEvents += 1));
    const appReceived: unknown[] = [];
    io.of("/chat").on("connection", (socket) =>
      socket.on("say", (message: unknown, ack: (reply: string) => void) => {
        appReceived.push(message);
        ack("said");
      }),
    );

    const transports = ["websocket", "polling", "websocket", "polling", "websocket"] as const;
    const clients = transports.map((transport) =>
      createClient(cleanup, url, "/chat", { transports: [transport] }),
    );
    await Promise.all(clients.map((client) => connected(client)));

    let reloading = true;
    const traffic = await Promise.all([
      ...clients.map((client, index) => sendWhile(client, index, () => reloading)),
      (async () => {
        try {
          for (let i = 1; i <= RELOADS; i += 1) {
            await saveByRenameOver(policyFile, i % 2 === 1 ? VERSION_B : VERSION_A);
            const outcome = await guard.reload();
            assert.deepEqual(outcome, { ok: true, version: guard.version, changed: true });
          }
        } finally {
          reloading = false;
        }
      })(),
    ]);
    const perClient = traffic.slice(0, clients.length) as Traffic[];

    assert.equal(reloadEvents, RELOADS);
    for (const [index, seen] of perClient.entries()) {
      assert.deepEqual(seen.wrong, [], `client ${index} (${transports[index]})`);
      assert.deepEqual(seen.disconnects, [], `client ${index} (${transports[index]})`);
      // The load really overlapped the reloads.
      assert.ok(seen.validAcked >= 10, `client ${index} sent only ${seen.validAcked} valid events`);
      assert.ok(seen.invalidRefused >= 3, `client ${index} sent only ${seen.invalidRefused} invalid events`);
    }
    const validTotal = perClient.reduce((sum, seen) => sum + seen.validAcked, 0);
    const invalidTotal = perClient.reduce((sum, seen) => sum + seen.invalidRefused, 0);
    assert.equal(appReceived.length, validTotal);
    assert.ok(appReceived.every((message) => typeof (message as { text?: unknown }).text === "string"));
    assert.equal(decisions.length, invalidTotal);
    assert.ok(decisions.every((d) => d.code === "payload_invalid" && d.event === "say"));
  });
});

/** Sends valid `say` events (and every third round an invalid one) with acks until `keepGoing` is false. */
async function sendWhile(client: ClientSocket, index: number, keepGoing: () => boolean): Promise<Traffic> {
  const seen: Traffic = { validAcked: 0, invalidRefused: 0, wrong: [], disconnects: [] };
  client.on("disconnect", (reason) => seen.disconnects.push(reason));
  for (let round = 0; keepGoing(); round += 1) {
    const reply = await ask(client, { text: `client ${index} round ${round}` });
    if (reply === "said") seen.validAcked += 1;
    else seen.wrong.push(`valid round ${round}: ${JSON.stringify(reply)}`);
    if (round % 3 === 0) {
      const refusal = await ask(client, { text: round });
      if ((refusal as { error?: { code?: string } }).error?.code === "payload_invalid")
        seen.invalidRefused += 1;
      else seen.wrong.push(`invalid round ${round}: ${JSON.stringify(refusal)}`);
    }
  }
  return seen;
}

async function ask(client: ClientSocket, message: unknown): Promise<unknown> {
  try {
    return await client.timeout(3000).emitWithAck("say", message);
  } catch (error) {
    return `no reply: ${(error as Error).message}`;
  }
}
