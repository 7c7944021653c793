/**
 * `allowMissingOrigin` under a namespace (DESIGN §1.1): clients without an Origin header (Node's
 * socket.io-client sends none) reach that namespace only; the handshake lets them through and the
 * connect to any other namespace is refused `origin_not_allowed`.
 */
import assert from "node:assert/strict";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, rawRequest, refused, sessionIdOf } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";

const SITE = "http://localhost:8080";

const POLICY: Policy = {
  version: 1,
  connection: { origins: [SITE] },
  namespaces: {
    "/service": { auth: "none", allowMissingOrigin: true, unknownEvents: "allow" },
    "/chat": { auth: "none", unknownEvents: "allow" },
  },
};

describe("guard: allowMissingOrigin per namespace", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let decisions: Decision[];

  beforeEach(async () => {
    const server = await startGuardedServer(cleanup, { policy: POLICY });
    ({ url, decisions } = server);
    for (const name of Object.keys(POLICY.namespaces)) server.io.of(name);
  });

  for (const transport of ["polling", "websocket"] as const) {
    it(`admits a client without Origin to the namespace that allows it (${transport})`, async () => {
      await connected(createClient(cleanup, url, "/service", { transports: [transport] }));
    });

    it(`refuses a client without Origin at the connect of another namespace (${transport})`, async () => {
      const refusal = await refused(createClient(cleanup, url, "/chat", { transports: [transport] }));
      assert.equal(refusal.data?.code, "origin_not_allowed");
      assert.deepEqual(
        decisions.map((d) => [d.code, d.stage, d.namespace]),
        [["origin_not_allowed", "connect", "/chat"]],
      );
    });
  }

  it("refuses the other namespace on the same connection (multiplexed), keeping the first", async () => {
    const service = createClient(cleanup, url, "/service", { forceNew: true });
    await connected(service);
    const chat = service.io.socket("/chat");
    cleanup.add(() => chat.disconnect());
    chat.connect();
    const refusal = await refused(chat);
    assert.equal(refusal.data?.code, "origin_not_allowed");
    assert.equal(service.connected, true);
  });

  it("admits a client with an allowed Origin to both namespaces", async () => {
    for (const namespace of ["/service", "/chat"]) {
      await connected(createClient(cleanup, url, namespace, { extraHeaders: { origin: SITE } }));
    }
  });

  it("admits a browser's same-origin polling handshake (no Origin) to the other namespace", async () => {
    const base = `${url}/socket.io/?EIO=4&transport=polling`;
    const sameOrigin = { "sec-fetch-site": "same-origin", host: "localhost:8080" };
    const handshake = await rawRequest(base, sameOrigin);
    assert.equal(handshake.status, 200);
    const sid = sessionIdOf(handshake.body);
    const sent = await rawRequest(`${base}&sid=${sid}`, sameOrigin, "POST", "40/chat,");
    assert.equal(sent.body, "ok");
    const answer = await rawRequest(`${base}&sid=${sid}`, sameOrigin);
    assert.match(answer.body, /^40\/chat,\{"sid":/);
    assert.deepEqual(decisions, []);
  });

  it("still refuses a handshake from a foreign Origin", async () => {
    const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`, {
      origin: "https://evil.com",
    });
    assert.equal(response.status, 403);
  });
});

describe("guard: without allowMissingOrigin anywhere", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("refuses a request without Origin at the handshake", async () => {
    const { url } = await startGuardedServer(cleanup, {
      policy: { ...POLICY, namespaces: { "/chat": { auth: "none", unknownEvents: "allow" } } },
    });
    const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(response.status, 403);
    assert.equal((JSON.parse(response.body) as { code: string }).code, "origin_not_allowed");
  });
});
