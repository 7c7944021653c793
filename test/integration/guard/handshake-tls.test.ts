import assert from "node:assert/strict";
import { sockguard, type Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, rawRequest, rawUpgrade, toWebSocketUrl } from "../../helpers/clients.js";
import { startTestServer } from "../../helpers/socket-server.js";

const TLS_REFUSED = { code: "tls_required", message: "The policy requires a TLS connection" };

function policy(trustedProxies: string[] = []): Policy {
  return {
    version: 1,
    connection: { allowMissingOrigin: true, requireTls: true, trustedProxies },
    namespaces: { "/": { auth: "none", unknownEvents: "allow" } },
  };
}

describe("guard: requireTls", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function start(options: {
    tls?: boolean;
    trustedProxies?: string[];
    host?: string;
  }): Promise<string> {
    const { url } = await startTestServer(cleanup, {
      ...options,
      beforeListen: (io) => sockguard(io, { policy: policy(options.trustedProxies) }),
    });
    return url;
  }

  const polling = (url: string): string => `${url}/socket.io/?EIO=4&transport=polling`;
  const websocket = (url: string): string => `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`;

  it("admits clients of a real HTTPS server over polling and WebSocket", async () => {
    const url = await start({ tls: true });
    for (const transport of ["polling", "websocket"] as const) {
      await connected(createClient(cleanup, url, "/", { transports: [transport] }));
    }
  });

  it("refuses plain HTTP: polling 403, WebSocket 400, with tls_required", async () => {
    const url = await start({});
    const response = await rawRequest(polling(url));
    assert.equal(response.status, 403);
    assert.deepEqual(JSON.parse(response.body), TLS_REFUSED);
    const upgrade = await rawUpgrade(cleanup, websocket(url));
    assert.deepEqual(upgrade, { opened: false, status: 400, body: JSON.stringify(TLS_REFUSED) });
  });

  it("believes X-Forwarded-Proto: https from a trusted proxy", async () => {
    const url = await start({ trustedProxies: ["127.0.0.1"] });
    const response = await rawRequest(polling(url), { "x-forwarded-proto": "https" });
    assert.equal(response.status, 200);
    const upgrade = await rawUpgrade(cleanup, websocket(url), { "x-forwarded-proto": "https" });
    assert.equal(upgrade.opened, true);
  });

  it("reads the value the trusted proxy wrote last, not one a client prepended", async () => {
    const url = await start({ trustedProxies: ["127.0.0.0/8"] });
    assert.equal((await rawRequest(polling(url), { "x-forwarded-proto": "https, http" })).status, 403);
    assert.equal((await rawRequest(polling(url), { "x-forwarded-proto": "http, https" })).status, 200);
    assert.equal((await rawRequest(polling(url), { "x-forwarded-proto": "http" })).status, 403);
  });

  it("ignores X-Forwarded-Proto from an address that is not a trusted proxy", async () => {
    const url = await start({ trustedProxies: ["10.0.0.0/8", "::1"] });
    const response = await rawRequest(polling(url), { "x-forwarded-proto": "https" });
    assert.equal(response.status, 403);
    assert.deepEqual(JSON.parse(response.body), TLS_REFUSED);
    const upgrade = await rawUpgrade(cleanup, websocket(url), { "x-forwarded-proto": "https" });
    assert.equal(upgrade.opened, false);
  });

  it("matches an IPv4-mapped client address (::ffff:127.0.0.1) against an IPv4 trusted proxy", async () => {
    const url = await start({ trustedProxies: ["127.0.0.1"], host: "::ffff:127.0.0.1" });
    const response = await rawRequest(polling(url), { "x-forwarded-proto": "https" });
    assert.equal(response.status, 200);
  });
});
