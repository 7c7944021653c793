/**
 * Requests whose `sid` engine.io reads as "no session" (missing, empty, repeated, percent-encoded)
 * are new handshakes: the guard must check them as handshakes too, or they skip every HTTP check.
 */
import assert from "node:assert/strict";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { rawRequest, rawUpgrade, sessionIdOf, toWebSocketUrl } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";

/** Query tails engine.io handles as a new handshake (pinned in socketio-canaries.test.ts). */
const NO_SESSION_SHAPES = ["sid=", "sid", "sid=&sid=", "s%69d=", "sid[]=", "SID=x"];

function policy(connection: Policy["connection"]): Policy {
  return { version: 1, connection, namespaces: { "/": { auth: "none", unknownEvents: "allow" } } };
}

function body(response: { body: string }): { code?: string } {
  return JSON.parse(response.body) as { code?: string };
}

describe("guard: requests engine.io reads as a new handshake", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let decisions: Decision[];

  async function start(connection: Policy["connection"]): Promise<void> {
    ({ url, decisions } = await startGuardedServer(cleanup, { policy: policy(connection) }));
  }

  const polling = (tail: string): string => `${url}/socket.io/?EIO=4&transport=polling&${tail}`;

  describe("from a foreign origin", () => {
    beforeEach(() => start({ origins: ["https://chat.example.com"] }));

    for (const shape of NO_SESSION_SHAPES) {
      it(`refuses a polling request with ${shape} (origin_not_allowed, stage handshake)`, async () => {
        const response = await rawRequest(polling(shape), { origin: "https://evil.com" });
        assert.equal(response.status, 403);
        assert.equal(body(response).code, "origin_not_allowed");
        assert.deepEqual(
          decisions.map((d) => [d.code, d.stage]),
          [["origin_not_allowed", "handshake"]],
        );
      });
    }

    it("refuses a real session id followed by an empty one (the last wins, as in engine.io)", async () => {
      const first = await rawRequest(polling(""), { origin: "https://chat.example.com" });
      const sid = sessionIdOf(first.body);
      const response = await rawRequest(polling(`sid=${sid}&sid=`), { origin: "https://evil.com" });
      assert.equal(response.status, 403);
      assert.equal(body(response).code, "origin_not_allowed");
    });

    it("refuses a direct WebSocket handshake with sid= (stage handshake)", async () => {
      const result = await rawUpgrade(
        cleanup,
        `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket&sid=`,
        { origin: "https://evil.com" },
      );
      assert.equal(result.opened, false);
      assert.deepEqual(
        decisions.map((d) => [d.code, d.stage]),
        [["origin_not_allowed", "handshake"]],
      );
    });

    it("still lets an established session's polling requests through", async () => {
      const first = await rawRequest(polling(""), { origin: "https://chat.example.com" });
      const sid = sessionIdOf(first.body);
      // A POST (the client's CONNECT packet) is answered at once; a GET would wait for data.
      const response = await rawRequest(
        polling(`sid=${sid}`),
        { origin: "https://chat.example.com" },
        "POST",
        "40",
      );
      assert.equal(response.status, 200);
      assert.equal(response.body, "ok");
    });
  });

  for (const shape of NO_SESSION_SHAPES) {
    it(`applies requireTls to a plain-HTTP request with ${shape}`, async () => {
      await start({ allowMissingOrigin: true, requireTls: true });
      const response = await rawRequest(polling(shape));
      assert.equal(response.status, 403);
      assert.equal(body(response).code, "tls_required");
    });

    it(`applies the transport check to a polling request with ${shape}`, async () => {
      await start({ allowMissingOrigin: true, transports: ["websocket"] });
      const response = await rawRequest(polling(shape));
      assert.equal(response.status, 403);
      assert.equal(body(response).code, "transport_not_allowed");
    });
  }

  it("gives an upgrade to the polling transport no same-origin exemption", async () => {
    await start({ origins: ["http://localhost:8080"] });
    const result = await rawUpgrade(cleanup, `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=polling`, {
      "sec-fetch-site": "same-origin",
      host: "localhost:8080",
    });
    assert.equal(result.opened, false);
    assert.deepEqual(
      decisions.map((d) => [d.code, d.stage]),
      [["origin_not_allowed", "handshake"]],
    );
  });
});
