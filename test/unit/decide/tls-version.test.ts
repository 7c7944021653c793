/**
 * `connection.tls.minVersion` in the handshake verdict: the negotiated protocol is a fact, an older
 * one (or none known) is `tls_required` at the `minVersion` key, and `connection.tls` alone
 * requires TLS.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileLoaded } from "../../../src/compile/compile-loaded.js";
import { createCompileContext } from "../../../src/compile/auth.js";
import type { CompiledPolicy } from "../../../src/compile/types.js";
import { decideHandshake, negotiatedAtLeast, type HandshakeFacts } from "../../../src/decide/handshake.js";
import { loadPolicy } from "../../../src/policy/load.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const POLICY = `version: 1
connection:
  allowMissingOrigin: true
  tls:
    minVersion: TLSv1.3
namespaces: { /: { auth: none, events: {} } }
`;

const facts = (extra: Partial<HandshakeFacts>): HandshakeFacts => ({
  origin: undefined,
  host: "127.0.0.1",
  secFetchSite: undefined,
  transport: "polling",
  firstRequest: true,
  secure: true,
  ...extra,
});

describe("decide: connection.tls.minVersion", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  let policy: CompiledPolicy;
  before(async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": POLICY });
    const outcome = compileLoaded(await loadPolicy(join(dir, "policy.yaml")), createCompileContext());
    assert.ok(outcome.ok);
    policy = outcome.compiled;
  });

  it("admits TLS 1.3 and refuses TLS 1.2, at the minVersion key", () => {
    assert.equal(decideHandshake(policy, facts({ tlsProtocol: "TLSv1.3" })).code, "allowed");
    const refused = decideHandshake(policy, facts({ tlsProtocol: "TLSv1.2" }));
    assert.equal(refused.code, "tls_required");
    assert.deepEqual(refused.rule && { path: refused.rule.path, line: refused.rule.line }, {
      path: "/connection/tls/minVersion",
      line: 5,
    });
  });

  it("refuses a request whose protocol is not known, and a plain one at connection.tls", () => {
    assert.equal(decideHandshake(policy, facts({})).code, "tls_required");
    const plain = decideHandshake(policy, facts({ secure: false }));
    assert.equal(plain.code, "tls_required");
    assert.equal(plain.rule?.path, "/connection/tls");
  });

  it("orders protocol names as Node writes them", () => {
    assert.equal(negotiatedAtLeast("TLSv1.2", "TLSv1.2"), true);
    assert.equal(negotiatedAtLeast("TLSv1.3", "TLSv1.2"), true);
    assert.equal(negotiatedAtLeast("TLSv1.1", "TLSv1.2"), false);
    assert.equal(negotiatedAtLeast("TLSv1", "TLSv1.2"), false);
    assert.equal(negotiatedAtLeast("unknown", "TLSv1.2"), false);
    assert.equal(negotiatedAtLeast(undefined, "TLSv1.2"), false);
  });
});
