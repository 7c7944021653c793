import assert from "node:assert/strict";
import { join } from "node:path";
import { compileLoaded } from "../../../src/compile/compile-loaded.js";
import { createCompileContext } from "../../../src/compile/auth.js";
import type { CompiledPolicy, Identity } from "../../../src/compile/types.js";
import { ABSENT_TOKEN, UNREADABLE_TOKEN, decideConnect } from "../../../src/decide/connect.js";
import { decideEvent, type EventFacts } from "../../../src/decide/event.js";
import { decideHandshake, type HandshakeFacts } from "../../../src/decide/handshake.js";
import {
  decideLiveSocket,
  refusesConnection,
  type LiveSocketFacts,
} from "../../../src/decide/live-socket.js";
import { ALLOWED, type Verdict } from "../../../src/decide/verdict.js";
import { loadPolicy } from "../../../src/policy/load.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const POLICY = `version: 1
connection:
  origins: [https://chat.example.com]
  transports: [websocket]
  requireTls: true
  maxPayload: 200
auth:
  issuers:
    idp:
      issuer: https://idp.example.com/
      jwksUri: https://idp.example.com/jwks.json
      audience: chat
      algorithms: [RS256]
namespaces:
  /chat:
    require: { scope: chat:read, tenant: acme }
    events:
      message:
        schema: { $ref: message.json }
        require: { scope: chat:write }
      upload:
        args: [{ binary: { maxBytes: 4 } }]
`;
const MESSAGE = `{
  "type": "object",
  "properties": { "text": { "type": "string", "maxLength": 5 } },
  "required": ["text"]
}
`;

/** `file:line:col` of a verdict's rule, with the file's base name. */
const at = (verdict: Verdict): string =>
  `${verdict.code} ${verdict.rule ? `${verdict.rule.file.split("/").at(-1)}:${verdict.rule.line}:${verdict.rule.col}` : ""}`.trim();

describe("decide/", () => {
  const cleanup = new Cleanup();
  let policy: CompiledPolicy;
  const now = Date.parse("2026-01-01T00:00:00Z");
  const identity = (claims: Record<string, unknown>, expiresAt = now + 3600_000): Identity => ({
    issuer: "idp",
    iss: "https://idp.example.com/",
    claims,
    expiresAt,
  });
  const handshake: HandshakeFacts = {
    origin: "https://chat.example.com",
    host: "chat.example.com",
    secFetchSite: undefined,
    transport: "websocket",
    firstRequest: true,
    secure: true,
  };
  const writer = identity({ scope: "chat:read chat:write", tenant: "acme" });
  const event = (data: unknown[], extra: Partial<EventFacts> = {}): EventFacts => ({
    namespace: "/chat",
    identity: writer,
    data,
    ackRequested: false,
    bytes: 50,
    carriedBinary: false,
    now,
    ...extra,
  });

  before(async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": POLICY, "message.json": MESSAGE });
    const context = createCompileContext();
    cleanup.add(() => context.remoteKeySets.close());
    const outcome = compileLoaded(await loadPolicy(join(dir, "policy.yaml")), context);
    assert.ok(outcome.ok);
    policy = outcome.compiled;
  });
  after(() => cleanup.run());

  it("handshake: origin, transport, TLS, each with its key's line:col; the allowed verdict is the shared one", () => {
    assert.equal(decideHandshake(policy, handshake), ALLOWED);
    assert.equal(
      at(decideHandshake(policy, { ...handshake, origin: "https://evil.example" })),
      "origin_not_allowed policy.yaml:3:3",
    );
    assert.equal(
      at(decideHandshake(policy, { ...handshake, transport: "polling" })),
      "transport_not_allowed policy.yaml:4:3",
    );
    assert.equal(
      at(decideHandshake(policy, { ...handshake, secure: false })),
      "tls_required policy.yaml:5:3",
    );
  });

  it("connect: namespace, token, issuer, expiry and the require entry that failed", () => {
    const connect = (namespace: string, token: Parameters<typeof decideConnect>[1]["token"]) =>
      at(decideConnect(policy, { namespace, token, now }));
    assert.equal(connect("/admin", ABSENT_TOKEN), "namespace_not_allowed policy.yaml:14:1");
    assert.equal(connect("/chat", ABSENT_TOKEN), "token_missing policy.yaml:15:3");
    assert.equal(connect("/chat", UNREADABLE_TOKEN), "token_invalid policy.yaml:15:3");
    assert.equal(
      connect("/chat", { kind: "unverified", iss: "https://other/" }),
      "issuer_not_allowed policy.yaml:8:3",
    );
    assert.equal(
      connect("/chat", { kind: "failed", iss: "https://idp.example.com/", code: "keys_unavailable" }),
      "keys_unavailable policy.yaml:9:5",
    );
    assert.equal(
      connect("/chat", { kind: "verified", identity: identity({ scope: "chat:read" }, now - 10_000) }),
      "token_expired policy.yaml:7:1",
    );
    assert.equal(
      connect("/chat", { kind: "verified", identity: identity({ scope: "chat:read" }) }),
      "claims_not_satisfied policy.yaml:16:34",
    );
    assert.equal(
      connect("/chat", { kind: "verified", identity: identity({ tenant: "acme" }) }),
      "claims_not_satisfied policy.yaml:16:16",
    );
    assert.equal(
      decideConnect(policy, { namespace: "/chat", token: { kind: "verified", identity: writer }, now }),
      ALLOWED,
    );
  });

  it("event: DESIGN §3 order, each denial naming its key, schema keywords in the schema file", () => {
    assert.equal(decideEvent(policy, event(["message", { text: "hi" }])), ALLOWED);
    assert.equal(at(decideEvent(policy, event(["disconnect"]))), "event_not_allowed policy.yaml:17:5");
    assert.equal(at(decideEvent(policy, event(["nope"]))), "event_not_allowed policy.yaml:17:5");
    assert.equal(
      at(
        decideEvent(
          policy,
          event(["message", { text: "hi" }], { identity: identity({ scope: "chat:write" }, now - 10_000) }),
        ),
      ),
      "token_expired policy.yaml:7:1",
    );
    // Claims before size and schema: a reader learns nothing about the schema.
    const reader = identity({ scope: "chat:read", tenant: "acme" });
    assert.equal(
      at(decideEvent(policy, event(["message", 1], { identity: reader, bytes: 10_000 }))),
      "claims_not_satisfied policy.yaml:20:20",
    );
    assert.equal(
      at(decideEvent(policy, event(["message", { text: "hi" }], { bytes: 201 }))),
      "payload_too_large policy.yaml:6:3",
    );
    assert.equal(at(decideEvent(policy, event(["message"]))), "payload_invalid policy.yaml:19:9");
    assert.equal(
      at(decideEvent(policy, event(["upload", Buffer.alloc(5)], { carriedBinary: true }))),
      "payload_invalid policy.yaml:22:28",
    );
    assert.equal(at(decideEvent(policy, event(["upload", "text"]))), "payload_invalid policy.yaml:22:16");
    const tooLong = decideEvent(policy, event(["message", { text: "too long" }]));
    assert.equal(at(tooLong), "payload_invalid message.json:3:47");
    assert.deepEqual(tooLong.details, [{ instancePath: "/0/text", keyword: "maxLength" }]);
    assert.equal(at(decideEvent(policy, event(["message", {}]))), "payload_invalid message.json:4:3");
  });

  it("live socket: the recheck after a reload decides with the same checks and names the key that refuses", () => {
    const live = (extra: Partial<LiveSocketFacts>): Verdict =>
      decideLiveSocket(policy, {
        namespace: "/chat",
        handshake,
        transport: "websocket",
        identity: writer,
        ...extra,
      });
    assert.equal(live({}), ALLOWED);
    const foreign = live({ handshake: { ...handshake, origin: "https://evil.example" } });
    assert.equal(at(foreign), "origin_not_allowed policy.yaml:3:3");
    assert.ok(refusesConnection(foreign));
    // The transport in use now, not the handshake's: a session that upgraded is judged on WebSocket.
    assert.equal(at(live({ transport: "polling" })), "transport_not_allowed policy.yaml:4:3");
    assert.equal(at(live({ handshake: { ...handshake, secure: false } })), "tls_required policy.yaml:5:3");
    const gone = live({ namespace: "/admin" });
    assert.equal(at(gone), "namespace_not_allowed policy.yaml:14:1");
    assert.ok(!refusesConnection(gone));
    assert.equal(at(live({ identity: undefined })), "token_missing policy.yaml:15:3");
    assert.equal(
      at(live({ identity: { ...writer, issuer: "other" } })),
      "issuer_not_allowed policy.yaml:8:3",
    );
    // The issuer of that name now expects another `iss`: tokens it verified before are refused.
    assert.equal(
      at(live({ identity: { ...writer, iss: "https://old-idp.example.com/" } })),
      "issuer_not_allowed policy.yaml:8:3",
    );
    assert.equal(
      at(live({ identity: identity({ scope: "chat:read chat:write", tenant: "globex" }) })),
      "claims_not_satisfied policy.yaml:16:34",
    );
  });

  it("gives the same frozen denial for the same code and rule", () => {
    const first = decideHandshake(policy, { ...handshake, origin: "https://evil.example" });
    assert.equal(decideHandshake(policy, { ...handshake, origin: "https://other.example" }), first);
    assert.ok(Object.isFrozen(first));
  });
});
