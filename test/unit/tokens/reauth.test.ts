import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { compileAuth, createCompileContext } from "../../../src/compile/auth.js";
import type { CompiledAuth, CompiledPolicy, Identity } from "../../../src/compile/types.js";
import { MemoryRevocationStore } from "../../../src/cluster/memory-revocation-store.js";
import { verifyReauthToken } from "../../../src/enforce/authenticate.js";
import { handBuiltNamespace, policyWith } from "../../helpers/stage-policy.js";
import { claimsFor, createSecret, epoch, signWithSecret } from "../../helpers/tokens.js";

const SERVICES = "urn:example:services";
const BATCH = "urn:example:batch";

describe("verifying a sockguard:reauth token", () => {
  const context = createCompileContext();
  const servicesSecret = createSecret();
  const batchSecret = createSecret();
  let auth: CompiledAuth;
  let current: Identity;
  const revocations = new MemoryRevocationStore();
  const namespace = (issuers: string[], require?: Record<string, string>): CompiledPolicy =>
    policyWith(handBuiltNamespace("/jobs", "required", issuers, require), auth);
  const services = (claims = {}) => signWithSecret(servicesSecret, claimsFor(SERVICES, undefined, claims));

  before(async () => {
    auth = compileAuth(
      {
        issuers: {
          services: { issuer: SERVICES, secret: servicesSecret, audience: "any", algorithms: ["HS256"] },
          batch: { issuer: BATCH, secret: batchSecret, audience: "any", algorithms: ["HS256"] },
        },
      },
      { schemas: new Map(), keyFiles: new Map(), baseDir: tmpdir() },
      context,
    );
    const verified = await auth.issuers.get("services")!.verify(await services({ sub: "worker-7" }));
    assert.ok(verified.ok);
    current = verified.identity;
  });
  after(() => context.remoteKeySets.close());

  it("accepts a fresh token for the same issuer and subject, with its new claims and expiry", async () => {
    const exp = epoch(7200);
    const outcome = await verifyReauthToken(
      await services({ sub: "worker-7", exp, tier: 2 }),
      namespace(["services"]),
      "/jobs",
      revocations,
      current,
    );
    assert.ok(outcome.ok);
    assert.equal(outcome.identity.expiresAt, exp * 1000);
    assert.equal(outcome.identity.claims.tier, 2);
  });

  it("accepts `Bearer <token>` as auth.token does", async () => {
    const outcome = await verifyReauthToken(
      `Bearer ${await services({ sub: "worker-7" })}`,
      namespace(["services"]),
      "/jobs",
      revocations,
      current,
    );
    assert.equal(outcome.ok, true);
  });

  it("refuses another subject", async () => {
    const outcome = await verifyReauthToken(
      await services({ sub: "worker-8" }),
      namespace(["services"]),
      "/jobs",
      revocations,
      current,
    );
    assert.deepEqual(outcome, { ok: false, code: "token_invalid" });
  });

  it("refuses a token without sub, and a socket whose identity has none", async () => {
    const { sub: _sub, ...withoutSub } = claimsFor(SERVICES, undefined);
    const noSub = await signWithSecret(servicesSecret, withoutSub);
    assert.deepEqual(await verifyReauthToken(noSub, namespace(["services"]), "/jobs", revocations, current), {
      ok: false,
      code: "token_invalid",
    });
    const { subject: _subject, ...anonymousSubject } = current;
    assert.deepEqual(
      await verifyReauthToken(noSub, namespace(["services"]), "/jobs", revocations, anonymousSubject),
      {
        ok: false,
        code: "token_invalid",
      },
    );
  });

  it("refuses the same sub from another issuer", async () => {
    const other = await signWithSecret(batchSecret, claimsFor(BATCH, undefined, { sub: "worker-7" }));
    assert.deepEqual(
      await verifyReauthToken(other, namespace(["services", "batch"]), "/jobs", revocations, current),
      {
        ok: false,
        code: "issuer_not_allowed",
      },
    );
  });

  it("applies the namespace's issuers and require", async () => {
    const token = await services({ sub: "worker-7", role: "reader" });
    assert.deepEqual(await verifyReauthToken(token, namespace(["batch"]), "/jobs", revocations, current), {
      ok: false,
      code: "issuer_not_allowed",
    });
    assert.deepEqual(
      await verifyReauthToken(
        token,
        namespace(["services"], { role: "writer" }),
        "/jobs",
        revocations,
        current,
      ),
      {
        ok: false,
        code: "claims_not_satisfied",
      },
    );
  });

  it("refuses an expired token with token_expired", async () => {
    const expired = await services({ sub: "worker-7", exp: epoch(-60) });
    assert.deepEqual(
      await verifyReauthToken(expired, namespace(["services"]), "/jobs", revocations, current),
      {
        ok: false,
        code: "token_expired",
      },
    );
  });

  it("refuses whatever else a client sends, without throwing", async () => {
    for (const token of [undefined, null, "", 42, { token: "x" }, "garbage", "A".repeat(100 * 1024)]) {
      assert.deepEqual(
        await verifyReauthToken(token, namespace(["services"]), "/jobs", revocations, current),
        {
          ok: false,
          code: "token_invalid",
        },
      );
    }
  });
});
