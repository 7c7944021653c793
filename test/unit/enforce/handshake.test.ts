import assert from "node:assert/strict";
import { createCompileContext } from "../../../src/compile/auth.js";
import { compilePolicy } from "../../../src/compile/compile.js";
import type { CompiledPolicy } from "../../../src/compile/types.js";
import { decideHandshake } from "../../../src/decide/index.js";
import { handshakeFacts, isSecureRequest, type HandshakeRequest } from "../../../src/enforce/handshake.js";
import type { ConnectionPolicy } from "../../../src/policy/types.js";
import { checkPolicyObject } from "../../../src/policy/load.js";

async function compiledWith(connection: ConnectionPolicy): Promise<CompiledPolicy> {
  const loaded = await checkPolicyObject({ version: 1, connection, namespaces: {} });
  return compilePolicy(loaded, createCompileContext());
}

/** The guard's verdict on one request, as the engine middleware asks for it; undefined when allowed. */
function checkHandshake(
  policy: CompiledPolicy,
  req: HandshakeRequest,
  transport: string | undefined,
  firstRequest: boolean,
): string | undefined {
  const code = decideHandshake(policy, handshakeFacts(policy.connection, req, transport, firstRequest)).code;
  return code === "allowed" ? undefined : code;
}

function request(
  headers: Record<string, string>,
  socket: HandshakeRequest["socket"] = { remoteAddress: "127.0.0.1" },
): HandshakeRequest {
  return { headers, socket };
}

describe("enforce: handshake checks", () => {
  let connection: CompiledPolicy;
  let plain: CompiledPolicy;
  before(async () => {
    connection = await compiledWith({
      origins: ["https://chat.example.com"],
      transports: ["websocket", "polling"],
      requireTls: true,
      trustedProxies: ["10.0.0.1"],
    });
    plain = await compiledWith({ origins: ["https://chat.example.com"] });
  });
  const tls = { remoteAddress: "192.0.2.1", encrypted: true };

  it("checks the origin first, then the transport, then TLS", () => {
    assert.equal(
      checkHandshake(connection, request({ origin: "https://evil.com" }, {}), "carrier-pigeon", true),
      "origin_not_allowed",
    );
    assert.equal(
      checkHandshake(connection, request({ origin: "https://chat.example.com" }), "carrier-pigeon", true),
      "transport_not_allowed",
    );
    assert.equal(
      checkHandshake(connection, request({ origin: "https://chat.example.com" }), "websocket", true),
      "tls_required",
    );
    assert.equal(
      checkHandshake(connection, request({ origin: "https://chat.example.com" }, tls), "websocket", true),
      undefined,
    );
    assert.equal(
      checkHandshake(connection, request({ origin: "https://chat.example.com" }, tls), undefined, true),
      "transport_not_allowed",
    );
  });

  it("admits a missing Origin only for a browser's same-origin polling handshake", () => {
    const sameOrigin = { "sec-fetch-site": "same-origin", host: "chat.example.com" };
    assert.equal(checkHandshake(connection, request(sameOrigin, tls), "polling", true), undefined);
    assert.equal(
      checkHandshake(connection, request(sameOrigin, tls), "websocket", true),
      "origin_not_allowed",
    );
    assert.equal(
      checkHandshake(connection, request(sameOrigin, tls), "polling", false),
      "origin_not_allowed",
    );
    // Over plain HTTP the page's origin would be http://chat.example.com, which is not allowed.
    assert.equal(checkHandshake(plain, request(sameOrigin), "polling", true), "origin_not_allowed");
    assert.equal(checkHandshake(connection, request({}, tls), "polling", true), "origin_not_allowed");
  });

  it("believes X-Forwarded-Proto only from a trusted proxy, reading its last value", () => {
    const forwarded = (proto: string, remoteAddress: string): boolean =>
      isSecureRequest(connection.connection, request({ "x-forwarded-proto": proto }, { remoteAddress }));
    assert.equal(forwarded("https", "10.0.0.1"), true);
    assert.equal(forwarded("https", "::ffff:10.0.0.1"), true);
    assert.equal(forwarded("HTTPS", "10.0.0.1"), true);
    assert.equal(forwarded("https", "10.0.0.2"), false);
    assert.equal(forwarded("https, http", "10.0.0.1"), false);
    assert.equal(forwarded("http,https", "10.0.0.1"), true);
    assert.equal(isSecureRequest(connection.connection, request({}, { remoteAddress: "10.0.0.1" })), false);
  });
});
