import assert from "node:assert/strict";
import { createCompileContext } from "../../../src/compile/auth.js";
import { compilePolicy } from "../../../src/compile/compile.js";
import type { CompiledPolicy } from "../../../src/compile/types.js";
import { connectShadowed, eventShadowed, handshakeShadowed } from "../../../src/decide/mode.js";
import type { Policy } from "../../../src/index.js";
import { checkPolicyObject } from "../../../src/policy/load.js";

async function compiled(policy: Policy): Promise<CompiledPolicy> {
  return compilePolicy(await checkPolicyObject(policy, process.cwd()), createCompileContext());
}

describe("decide: which mode a denial falls under", () => {
  it("compiles no modes at all for a policy without mode: shadow, even with mode: enforce written out", async () => {
    const policy = await compiled({
      version: 1,
      mode: "enforce",
      namespaces: {
        "/chat": { auth: "none", mode: "enforce", events: { m: { args: [], mode: "enforce" } } },
      },
    });
    assert.equal(policy.modes, undefined);
    assert.equal(handshakeShadowed(policy, "origin_not_allowed"), false);
    assert.equal(eventShadowed(policy, "/chat", "m", "payload_invalid"), false);
  });

  it("takes the most specific mode: event, then namespace, then the top; unlisted names take the top", async () => {
    const policy = await compiled({
      version: 1,
      mode: "shadow",
      namespaces: {
        "/chat": {
          auth: "none",
          mode: "enforce",
          events: { draft: { args: [], mode: "shadow" }, message: { args: [] } },
        },
        "/tenant-{tenant}": { auth: "none", events: { ping: { args: [], mode: "enforce" } } },
        "/lobby": { auth: "none", events: {} },
      },
    });
    assert.equal(handshakeShadowed(policy, "origin_not_allowed"), true);
    assert.equal(connectShadowed(policy, "/chat", "token_missing"), false);
    assert.equal(connectShadowed(policy, "/lobby", "token_missing"), true);
    assert.equal(connectShadowed(policy, "/unlisted", "namespace_not_allowed"), true);
    assert.equal(eventShadowed(policy, "/chat", "draft", "payload_invalid"), true);
    assert.equal(eventShadowed(policy, "/chat", "message", "payload_invalid"), false);
    assert.equal(
      eventShadowed(policy, "/chat", "made-up", "event_not_allowed"),
      false,
      "the namespace's mode",
    );
    assert.equal(eventShadowed(policy, "/chat", 42, "event_not_allowed"), false);
    assert.equal(eventShadowed(policy, "/tenant-acme", "ping", "claims_not_satisfied"), false);
    assert.equal(eventShadowed(policy, "/tenant-acme", "other", "event_not_allowed"), true);
    assert.equal(eventShadowed(policy, "/unlisted", "x", "event_not_allowed"), true);
  });

  it("never shadows revoked or too_many_denials", async () => {
    const policy = await compiled({
      version: 1,
      mode: "shadow",
      namespaces: { "/": { auth: "none", events: {} } },
    });
    assert.equal(connectShadowed(policy, "/", "revoked"), false);
    assert.equal(eventShadowed(policy, "/", "x", "too_many_denials"), false);
    assert.equal(handshakeShadowed(policy, "rate_limited"), true);
  });
});
