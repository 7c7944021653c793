import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import {
  compileAuth,
  createCompileContext,
  warmIssuerKeys,
  type CompileContext,
} from "../../../src/compile/auth.js";
import type { RemoteKeySetOptions } from "../../../src/compile/remote-jwks.js";
import type { CompiledAuth } from "../../../src/compile/types.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import { claimsFor, createSigningKey, signWith, type SigningKey } from "../../helpers/tokens.js";
import { compiledNamespace, startAuthHarness, type AuthHarness } from "./auth-harness.js";

const IDP = "https://idp.example.test/";
const resources = { schemas: new Map(), keyFiles: new Map(), baseDir: tmpdir() };
const FAST: RemoteKeySetOptions = {
  timeoutMs: 300,
  cacheMaxAgeMs: 60_000,
  unknownKeyCooldownMs: 400,
  retryAfterFailureMs: 100,
};

describe("remote JWK sets (jwksUri)", () => {
  let harness: AuthHarness;
  let jwks: JwksServer;
  let key: SigningKey;
  let rotated: SigningKey;
  let contexts: ReturnType<typeof createCompileContext>[] = [];

  const compileWith = (context: CompileContext): CompiledAuth =>
    compileAuth(
      { issuers: { idp: { issuer: IDP, jwksUri: jwks.url, audience: "chat-api", algorithms: ["RS256"] } } },
      resources,
      context,
    );
  const newContext = (options: RemoteKeySetOptions = FAST): ReturnType<typeof createCompileContext> => {
    const context = createCompileContext(options);
    contexts.push(context);
    return context;
  };
  const connectWith = async (signer: SigningKey): Promise<Awaited<ReturnType<AuthHarness["connect"]>>> =>
    harness.connect({ auth: { token: await signWith(signer, claimsFor(IDP, "chat-api")) } });

  before(async () => {
    [key, rotated] = await Promise.all([
      createSigningKey("RS256", "key-1"),
      createSigningKey("RS256", "key-2"),
    ]);
    harness = await startAuthHarness(
      compiledNamespace("required", ["idp"]),
      compileAuth(undefined, resources, {}),
    );
  });
  after(async () => {
    await harness.close();
  });
  beforeEach(async () => {
    jwks = await JwksServer.start([key.jwk]);
    harness.auth = compileWith(newContext());
  });
  afterEach(async () => {
    for (const context of contexts) context.remoteKeySets.close();
    contexts = [];
    await jwks.close();
  });

  it("fetches nothing when compiling; the first connect fetches the set", async () => {
    assert.equal(jwks.requests, 0);
    assert.equal((await connectWith(key)).connected, true);
    assert.equal(jwks.requests, 1);
  });

  it("warmIssuerKeys starts the download ahead of the first connect", async () => {
    warmIssuerKeys(harness.auth);
    await sleep(100);
    assert.equal(jwks.requests, 1);
    assert.equal((await connectWith(key)).connected, true);
    assert.equal(jwks.requests, 1);
  });

  it("a warm download that failed does not delay the first connect once the endpoint answers", async () => {
    // A server that publishes its own keys warms them before it listens: that failure must not
    // start the long pause meant for refreshes of a set in hand (set long enough to notice here).
    harness.auth = compileWith(newContext({ ...FAST, retryAfterFailureMs: 60_000 }));
    jwks.mode = "reset";
    warmIssuerKeys(harness.auth);
    await sleep(100);
    assert.equal(jwks.requests, 1);
    jwks.mode = "ok";
    assert.equal((await connectWith(key)).connected, true);
    assert.equal(jwks.requests, 2);
  });

  it("shares one download among concurrent first connects", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => connectWith(key)));
    assert.ok(results.every((result) => result.connected));
    assert.equal(jwks.requests, 1);
  });

  it("keeps fetched keys across reloads that share the compile context", async () => {
    const context = newContext();
    harness.auth = compileWith(context);
    assert.equal((await connectWith(key)).connected, true);
    jwks.mode = "reset";
    harness.auth = compileWith(context); // a policy reload
    assert.equal((await connectWith(key)).connected, true);
    assert.equal(jwks.requests, 1);
    harness.auth = compileWith(newContext()); // without the shared registry, the keys would be gone
    assert.deepEqual(await connectWith(key), { connected: false, code: "keys_unavailable" });
  });

  describe("endpoint down before any key was fetched", () => {
    const failures = {
      reset: "resets the connection",
      error: "answers 503",
      garbage: "answers garbage",
      oversize: "answers a body over the size cap",
      redirect: "redirects",
    } as const;
    for (const [mode, behaviour] of Object.entries(failures) as [keyof typeof failures, string][]) {
      it(`refuses with keys_unavailable, not token_invalid, when the endpoint ${behaviour}`, async () => {
        jwks.mode = mode;
        assert.deepEqual(await connectWith(key), { connected: false, code: "keys_unavailable" });
      });
    }

    it("gives up on a slow endpoint after the timeout", async () => {
      jwks.mode = "slow";
      const started = Date.now();
      assert.deepEqual(await connectWith(key), { connected: false, code: "keys_unavailable" });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 2000, `took ${elapsed} ms`);
    });

    it("makes connects that arrive during the retry pause wait for one shared download", async () => {
      jwks.mode = "error";
      assert.deepEqual(await connectWith(key), { connected: false, code: "keys_unavailable" });
      assert.equal(jwks.requests, 1);
      const waiting = await Promise.all(Array.from({ length: 10 }, () => connectWith(key)));
      assert.ok(waiting.every((result) => !result.connected && result.code === "keys_unavailable"));
      assert.equal(jwks.requests, 2, "the ten connects within the pause shared one download");
    });

    it("admits a connect made as soon as the endpoint is back, and sent a bounded number of requests under a connect flood meanwhile", async () => {
      // The default retry schedule (100 ms doubling up to 1 s), with a short download timeout.
      harness.auth = compileWith(newContext({ timeoutMs: 300 }));
      jwks.mode = "error";
      const outageMs = 2000;
      const flood: Promise<unknown>[] = [];
      const started = Date.now();
      while (Date.now() - started < outageMs) {
        flood.push(connectWith(key));
        await sleep(20);
      }
      const outageRequests = jwks.requests;
      jwks.mode = "ok";
      assert.equal((await connectWith(key)).connected, true);
      await Promise.all(flood);
      // 100 + 200 + 400 + 800 ms, then one per second: about 6 in 2 s, for some 100 connects.
      assert.ok(flood.length >= 50, `only ${flood.length} connects in the flood`);
      assert.ok(outageRequests <= 8, `${outageRequests} requests during a ${outageMs} ms outage`);
    });

    it("an in-flight download is aborted by close()", async () => {
      const context = newContext({ ...FAST, timeoutMs: 10_000 });
      harness.auth = compileWith(context);
      jwks.mode = "slow";
      const pending = connectWith(key);
      await sleep(100);
      context.remoteKeySets.close();
      assert.deepEqual(await pending, { connected: false, code: "keys_unavailable" });
    });
  });

  describe("endpoint down after keys were fetched", () => {
    it("keeps serving the cached keys, even once the cache has aged out", async () => {
      harness.auth = compileWith(newContext({ ...FAST, cacheMaxAgeMs: 50 }));
      assert.equal((await connectWith(key)).connected, true);
      for (const mode of ["reset", "garbage", "slow"] as const) {
        jwks.mode = mode;
        await sleep(120);
        assert.equal((await connectWith(key)).connected, true, mode);
      }
      assert.ok(jwks.requests > 1, "the aged-out set was refetched in the background");
    });

    it("picks up a refreshed set in the background once the cache ages out", async () => {
      harness.auth = compileWith(newContext({ ...FAST, cacheMaxAgeMs: 50, unknownKeyCooldownMs: 60_000 }));
      assert.equal((await connectWith(key)).connected, true);
      assert.equal((await connectWith(rotated)).connected, false); // uses the one unknown-kid refetch
      jwks.keys = [key.jwk, rotated.jwk];
      await sleep(80);
      await connectWith(key); // notices the age, refreshes in the background
      await sleep(80);
      assert.equal((await connectWith(rotated)).connected, true);
    });

    it("refuses a token with an unknown kid with keys_unavailable when the refetch fails", async () => {
      assert.equal((await connectWith(key)).connected, true);
      jwks.mode = "reset";
      assert.deepEqual(await connectWith(rotated), { connected: false, code: "keys_unavailable" });
      assert.equal((await connectWith(key)).connected, true);
    });
  });

  describe("unknown kid", () => {
    it("refetches at most once per cooldown, then accepts a key rotated in", async () => {
      assert.equal((await connectWith(key)).connected, true);
      assert.equal(jwks.requests, 1);

      assert.deepEqual(await connectWith(rotated), { connected: false, code: "token_invalid" });
      assert.equal(jwks.requests, 2, "an unknown kid refetches the set");

      jwks.keys = [key.jwk, rotated.jwk];
      assert.deepEqual(await connectWith(rotated), { connected: false, code: "token_invalid" });
      assert.equal(jwks.requests, 2, "within the cooldown, no refetch");

      await sleep(450);
      assert.equal((await connectWith(rotated)).connected, true);
      assert.equal(jwks.requests, 3);
      assert.equal((await connectWith(key)).connected, true);
      assert.equal(jwks.requests, 3);
    });
  });
});
