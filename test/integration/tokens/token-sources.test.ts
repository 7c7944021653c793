import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { compileAuth, createCompileContext } from "../../../src/compile/auth.js";
import type { AuthPolicy, TokenSource } from "../../../src/policy/types.js";
import { MAX_TOKEN_LENGTH } from "../../../src/enforce/token-source.js";
import { claimsFor, createSecret, signWithSecret } from "../../helpers/tokens.js";
import { compiledNamespace, startAuthHarness, type AuthHarness } from "./auth-harness.js";

const ISS = "urn:example:services";
const resources = { schemas: new Map(), keyFiles: new Map(), baseDir: tmpdir() };

describe("finding the token in a real Socket.IO handshake", () => {
  const secret = createSecret();
  const context = createCompileContext();
  let harness: AuthHarness;
  let good: string;
  let other: string;

  function authReading(tokenFrom: TokenSource[]): ReturnType<typeof compileAuth> {
    const policy: AuthPolicy = {
      tokenFrom,
      issuers: { services: { issuer: ISS, secret, audience: "any", algorithms: ["HS256"] } },
    };
    return compileAuth(policy, resources, context);
  }

  before(async () => {
    good = await signWithSecret(secret, claimsFor(ISS, undefined, { sub: "user-1" }));
    other = await signWithSecret(secret, claimsFor(ISS, undefined, { sub: "user-2" }));
    harness = await startAuthHarness(
      compiledNamespace("required", ["services"]),
      authReading(["auth.token"]),
    );
  });
  after(async () => {
    await harness.close();
    context.remoteKeySets.close();
  });
  beforeEach(() => {
    harness.namespace = compiledNamespace("required", ["services"]);
    harness.auth = authReading(["auth.token", "header.authorization", "cookie.access_token", "query.token"]);
  });

  describe("auth.token", () => {
    it("accepts a raw token given by an auth callback, over WebSocket and polling", async () => {
      for (const transport of ["websocket", "polling"]) {
        const result = await harness.connect({ transports: [transport], auth: (cb) => cb({ token: good }) });
        assert.equal(result.connected, true);
        assert.equal(result.connected && result.identity?.subject, "user-1");
      }
    });

    it("accepts `Bearer <token>`", async () => {
      const result = await harness.connect({ auth: { token: `Bearer ${good}` } });
      assert.equal(result.connected && result.identity?.subject, "user-1");
    });

    it("refuses a token that is not a string", async () => {
      assert.deepEqual(await harness.connect({ auth: { token: 42 } }), {
        connected: false,
        code: "token_invalid",
      });
    });

    it("refuses `Bearer` with nothing usable after it", async () => {
      assert.deepEqual(await harness.connect({ auth: { token: "Bearer " } }), {
        connected: false,
        code: "token_invalid",
      });
    });

    it("refuses a malformed token", async () => {
      assert.deepEqual(await harness.connect({ auth: { token: "not.a.jwt" } }), {
        connected: false,
        code: "token_invalid",
      });
    });
  });

  describe("header.authorization", () => {
    it("accepts `Authorization: Bearer <token>` over WebSocket and polling", async () => {
      for (const transport of ["websocket", "polling"]) {
        const result = await harness.connect({
          transports: [transport],
          extraHeaders: { authorization: `Bearer ${good}` },
        });
        assert.equal(result.connected && result.identity?.subject, "user-1");
      }
    });

    it("refuses another scheme instead of looking further", async () => {
      const result = await harness.connect({
        extraHeaders: { authorization: "Basic dXNlcjpwYXNz", cookie: `access_token=${good}` },
      });
      assert.deepEqual(result, { connected: false, code: "token_invalid" });
    });
  });

  describe("cookie.NAME", () => {
    it("accepts the named cookie among others, over WebSocket and polling", async () => {
      for (const transport of ["websocket", "polling"]) {
        const result = await harness.connect({
          transports: [transport],
          extraHeaders: { cookie: `theme=dark; access_token=${good}; lang=en` },
        });
        assert.equal(result.connected && result.identity?.subject, "user-1");
      }
    });

    it("refuses a cookie name sent twice, even when both values are valid tokens", async () => {
      const result = await harness.connect({
        extraHeaders: { cookie: `access_token=${good}; access_token=${other}` },
      });
      assert.deepEqual(result, { connected: false, code: "token_invalid" });
    });

    it("does not mistake a cookie whose name merely ends with the name", async () => {
      const result = await harness.connect({ extraHeaders: { cookie: `x_access_token=${good}` } });
      assert.deepEqual(result, { connected: false, code: "token_missing" });
    });
  });

  describe("query.NAME", () => {
    it("accepts the named query parameter when the policy reads it", async () => {
      const result = await harness.connect({ query: { token: good } });
      assert.equal(result.connected && result.identity?.subject, "user-1");
    });

    it("refuses a query parameter sent twice (engine.io would silently keep the last one)", async () => {
      assert.deepEqual(await harness.connectRaw(`token=${good}`), { connected: true });
      const twice = await harness.connectRaw(`token=${other}&token=${good}`);
      assert.deepEqual(twice, { connected: false, code: "token_invalid" });
    });

    it("ignores a token in the query when the policy does not read the query", async () => {
      harness.auth = authReading(["auth.token", "header.authorization"]);
      const result = await harness.connect({ query: { token: good } });
      assert.deepEqual(result, { connected: false, code: "token_missing" });
    });
  });

  describe("which source decides", () => {
    it("never falls back to a cookie when auth.token is present but invalid", async () => {
      const result = await harness.connect({
        auth: { token: "garbage" },
        extraHeaders: { cookie: `access_token=${good}` },
      });
      assert.deepEqual(result, { connected: false, code: "token_invalid" });
    });

    it("moves on to the next source when auth.token is absent (null or empty)", async () => {
      for (const token of [null, ""]) {
        const result = await harness.connect({
          auth: { token },
          extraHeaders: { cookie: `access_token=${good}` },
        });
        assert.equal(result.connected && result.identity?.subject, "user-1");
      }
    });

    it("follows the policy's order: the first present source wins", async () => {
      harness.auth = authReading(["cookie.access_token", "auth.token"]);
      const result = await harness.connect({
        auth: { token: good },
        extraHeaders: { cookie: `access_token=${other}` },
      });
      assert.equal(result.connected && result.identity?.subject, "user-2");
    });

    it("reads only the sources the policy lists", async () => {
      harness.auth = authReading(["auth.token"]);
      const result = await harness.connect({ extraHeaders: { authorization: `Bearer ${good}` } });
      assert.deepEqual(result, { connected: false, code: "token_missing" });
    });
  });

  describe("size", () => {
    it("refuses a token over 8 KiB, and a 100 KiB one, from any source", async () => {
      const oversized = `${good}${"A".repeat(MAX_TOKEN_LENGTH)}`;
      const huge = "A".repeat(100 * 1024);
      assert.deepEqual(await harness.connect({ auth: { token: oversized } }), {
        connected: false,
        code: "token_invalid",
      });
      assert.deepEqual(await harness.connect({ auth: { token: huge } }), {
        connected: false,
        code: "token_invalid",
      });
      const inHeader = await harness.connect({ extraHeaders: { authorization: `Bearer ${oversized}` } });
      assert.deepEqual(inHeader, { connected: false, code: "token_invalid" });
    });
  });

  describe("namespace auth modes", () => {
    it("`required` without a token is token_missing", async () => {
      assert.deepEqual(await harness.connect(), { connected: false, code: "token_missing" });
    });

    it("`optional` without a token connects anonymously", async () => {
      harness.namespace = compiledNamespace("optional", ["services"]);
      assert.deepEqual(await harness.connect(), { connected: true });
    });

    it("`optional` with a bad token refuses it instead of downgrading to anonymous", async () => {
      harness.namespace = compiledNamespace("optional", ["services"]);
      assert.deepEqual(await harness.connect({ auth: { token: "garbage" } }), {
        connected: false,
        code: "token_invalid",
      });
    });

    it("`optional` without a token fails any require", async () => {
      harness.namespace = compiledNamespace("optional", ["services"], { role: "admin" });
      assert.deepEqual(await harness.connect(), { connected: false, code: "claims_not_satisfied" });
    });

    it("`none` ignores tokens altogether, even bad ones", async () => {
      harness.namespace = compiledNamespace("none", []);
      assert.deepEqual(await harness.connect({ auth: { token: "garbage" } }), { connected: true });
      assert.deepEqual(await harness.connect({ auth: { token: good } }), { connected: true });
    });
  });
});
