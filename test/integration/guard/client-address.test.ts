/**
 * `decision.address` behind trusted proxies (DESIGN §1.1, Client address): the test client on
 * 127.0.0.1 plays the proxy when `trustedProxies` lists it, and an outside client when it does not.
 */
import assert from "node:assert/strict";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import {
  connected,
  createClient,
  rawRequest,
  rawUpgrade,
  sessionIdOf,
  toWebSocketUrl,
} from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { waitUntil } from "../../helpers/wait.js";

function policy(trustedProxies: string[]): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, trustedProxies },
    namespaces: { "/": { auth: "none", events: { ping: { args: [] } } } },
  };
}

describe("guard: the client address behind trusted proxies", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let decisions: Decision[];

  async function start(trustedProxies: string[]): Promise<void> {
    ({ url, decisions } = await startGuardedServer(cleanup, {
      policy: policy(trustedProxies),
      decisions: "all",
    }));
  }

  const polling = (): string => `${url}/socket.io/?EIO=4&transport=polling`;

  /** A socket.io-client that connects, then sends an undeclared event (refused, so decided). */
  async function connectAndSendUndeclared(
    transport: "polling" | "websocket",
    forwardedFor: string,
  ): Promise<void> {
    const client = createClient(cleanup, url, "/", {
      transports: [transport],
      extraHeaders: { "x-forwarded-for": forwardedFor },
    });
    await connected(client);
    client.emit("undeclared");
    await waitUntil(() => decisions.some((d) => d.stage === "event"));
  }

  function addressesByStage(): Array<[string, string | undefined]> {
    return decisions.map((d) => [d.stage, d.address]);
  }

  describe("behind a trusted proxy (trustedProxies: [127.0.0.1])", () => {
    beforeEach(() => start(["127.0.0.1"]));

    it("reports the forwarded client at the handshake, not the proxy", async () => {
      const response = await rawRequest(polling(), { "x-forwarded-for": "203.0.113.7" });
      assert.equal(response.status, 200);
      assert.deepEqual(addressesByStage(), [["handshake", "203.0.113.7"]]);
    });

    it("ignores the left-most entries, which the client wrote", async () => {
      await rawRequest(polling(), { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 127.0.0.1" });
      assert.deepEqual(addressesByStage(), [["handshake", "203.0.113.7"]]);
    });

    it("reports the forwarded client at the upgrade", async () => {
      const handshake = await rawRequest(polling(), { "x-forwarded-for": "203.0.113.7" });
      const sid = sessionIdOf(handshake.body);
      const upgrade = await rawUpgrade(
        cleanup,
        `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket&sid=${sid}`,
        { "x-forwarded-for": "203.0.113.7" },
      );
      assert.equal(upgrade.opened, true);
      assert.deepEqual(addressesByStage(), [
        ["handshake", "203.0.113.7"],
        ["upgrade", "203.0.113.7"],
      ]);
    });

    for (const transport of ["polling", "websocket"] as const) {
      it(`reports the forwarded client for connect and event decisions (${transport})`, async () => {
        await connectAndSendUndeclared(transport, "6.6.6.6, 203.0.113.7");
        const socketStages = addressesByStage().filter(([stage]) => stage === "connect" || stage === "event");
        assert.deepEqual(socketStages, [
          ["connect", "203.0.113.7"],
          ["event", "203.0.113.7"],
        ]);
      });
    }
  });

  describe("from a peer that is not a trusted proxy", () => {
    beforeEach(() => start(["10.0.0.0/8"]));

    it("ignores a forged X-Forwarded-For at the handshake, connect and events", async () => {
      await rawRequest(polling(), { "x-forwarded-for": "203.0.113.7" });
      await connectAndSendUndeclared("websocket", "203.0.113.7");
      assert.ok(decisions.length >= 3);
      for (const decision of decisions) assert.equal(decision.address, "127.0.0.1", decision.stage);
    });
  });
});
