import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { compileAuth, createCompileContext } from "../../../src/compile/auth.js";
import {
  cachedTokenBytes,
  DEFAULT_TOKEN_CACHE_LIMITS,
  MAX_CACHED_TOKEN_LENGTH,
  TokenCaches,
  tokenCacheLimits,
  type TokenCacheLimits,
  type TokenCacheLookup,
} from "../../../src/compile/token-cache.js";
import type { CompiledIssuer } from "../../../src/compile/types.js";
import type { AuthPolicy, IssuerPolicy } from "../../../src/policy/types.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import {
  claimsFor,
  createSecret,
  createSigningKey,
  epoch,
  hs256Issuer,
  signWith,
  signWithSecret,
  type SigningKey,
} from "../../helpers/tokens.js";

const IDP = "https://idp.example.test/";
const SERVICES = "urn:example:services";
const resources = { schemas: new Map(), keyFiles: new Map(), baseDir: tmpdir() };

/** A guard's compile context with a token cache, and what its lookups found. */
function cachingContext(limits: TokenCacheLimits = DEFAULT_TOKEN_CACHE_LIMITS) {
  const lookups: TokenCacheLookup[] = [];
  const context = createCompileContext(
    { cacheMaxAgeMs: 200, unknownKeyCooldownMs: 0, timeoutMs: 500 },
    undefined,
    new TokenCaches(limits, (result) => lookups.push(result)),
  );
  const compile = (name: string, entry: IssuerPolicy, auth: Partial<AuthPolicy> = {}): CompiledIssuer =>
    compileAuth({ ...auth, issuers: { [name]: entry } }, resources, context).issuers.get(name)!;
  return { context, lookups, compile };
}

describe("the verified-token cache", () => {
  const contexts: Array<{ remoteKeySets: { close(): void } }> = [];
  const track = <T extends ReturnType<typeof cachingContext>>(made: T): T => {
    contexts.push(made.context);
    return made;
  };
  afterEach(() => {
    for (const context of contexts.splice(0)) context.remoteKeySets.close();
  });

  describe("with an HS256 issuer", () => {
    const secret = createSecret();

    it("answers a token presented again from the cache, with the same frozen identity", async () => {
      const { lookups, compile } = track(cachingContext());
      const issuer = compile("services", hs256Issuer(SERVICES, secret));
      const token = await signWithSecret(secret, claimsFor(SERVICES, undefined));
      const first = await issuer.verify(token);
      const second = await issuer.verify(token);
      assert.equal(first.ok, true);
      assert.equal(second, first);
      assert.deepEqual(lookups, ["miss", "hit"]);
    });

    it("never caches a refused token", async () => {
      const { lookups, compile } = track(cachingContext());
      const issuer = compile("services", hs256Issuer(SERVICES, secret));
      const forged = await signWithSecret(createSecret(), claimsFor(SERVICES, undefined));
      assert.deepEqual(await issuer.verify(forged), { ok: false, code: "token_invalid" });
      assert.deepEqual(await issuer.verify(forged), { ok: false, code: "token_invalid" });
      assert.deepEqual(lookups, ["miss", "miss"]);
    });

    it("keeps an entry no longer than exp plus the clock tolerance, then says token_expired", async function () {
      this.timeout(6000);
      const { lookups, compile } = track(cachingContext());
      const issuer = compile("services", hs256Issuer(SERVICES, secret), { clockTolerance: "1s" });
      const token = await signWithSecret(secret, claimsFor(SERVICES, undefined, { exp: epoch(1) }));
      assert.equal((await issuer.verify(token)).ok, true);
      assert.equal((await issuer.verify(token)).ok, true);
      assert.deepEqual(lookups, ["miss", "hit"]);
      const expiredAt = (epoch(1) + 1) * 1000; // exp + tolerance, in ms: jose refuses from then on
      await sleep(expiredAt - Date.now() + 50);
      assert.deepEqual(await issuer.verify(token), { ok: false, code: "token_expired" });
      assert.deepEqual(lookups, ["miss", "hit", "miss"]);
    });

    it("judges a fixed clock (a policy test's now) afresh, never from the cache", async () => {
      const { lookups, compile } = track(cachingContext());
      const issuer = compile("services", hs256Issuer(SERVICES, secret));
      const token = await signWithSecret(secret, claimsFor(SERVICES, undefined));
      assert.equal((await issuer.verify(token)).ok, true);
      const later = new Date(epoch(7200) * 1000);
      assert.deepEqual(await issuer.verify(token, { currentDate: later }), {
        ok: false,
        code: "token_expired",
      });
      assert.deepEqual(lookups, ["miss"]);
    });

    it("is bounded in entries, evicting the least recently used token", async () => {
      const { lookups, compile } = track(cachingContext({ maxEntries: 2, maxBytes: 1 << 20 }));
      const issuer = compile("services", hs256Issuer(SERVICES, secret));
      const [a, b, c] = await Promise.all(
        ["a", "b", "c"].map((sub) => signWithSecret(secret, claimsFor(SERVICES, undefined, { sub }))),
      );
      await issuer.verify(a!);
      await issuer.verify(b!);
      await issuer.verify(a!); // hit: a is now the most recently used
      await issuer.verify(c!); // evicts b
      lookups.length = 0;
      await issuer.verify(a!);
      await issuer.verify(c!);
      await issuer.verify(b!);
      assert.deepEqual(lookups, ["hit", "hit", "miss"]);
    });

    it("is bounded in bytes", async () => {
      const token = await signWithSecret(secret, claimsFor(SERVICES, undefined, { sub: "x" }));
      const room = cachedTokenBytes(token) * 2 + 10; // two tokens of this length fit, not three
      const { lookups, compile } = track(cachingContext({ maxEntries: 100, maxBytes: room }));
      const issuer = compile("services", hs256Issuer(SERVICES, secret));
      const tokens = await Promise.all(
        ["x", "y", "z"].map((sub) => signWithSecret(secret, claimsFor(SERVICES, undefined, { sub }))),
      );
      for (const t of tokens) await issuer.verify(t); // z's entry evicts x's
      lookups.length = 0;
      for (const t of [tokens[1]!, tokens[2]!, tokens[0]!]) await issuer.verify(t);
      assert.deepEqual(lookups, ["hit", "hit", "miss"]);
    });

    it("never caches a token over 4 KiB", async () => {
      const { lookups, compile } = track(cachingContext());
      const issuer = compile("services", hs256Issuer(SERVICES, secret));
      const big = await signWithSecret(secret, claimsFor(SERVICES, undefined, { pad: "p".repeat(3200) }));
      assert.ok(big.length > MAX_CACHED_TOKEN_LENGTH);
      assert.equal((await issuer.verify(big)).ok, true);
      assert.equal((await issuer.verify(big)).ok, true);
      assert.deepEqual(lookups, ["miss", "miss"]);
    });

    it("keeps the cache across a reload that leaves the issuer alone", async () => {
      const { lookups, compile } = track(cachingContext());
      const token = await signWithSecret(secret, claimsFor(SERVICES, "chat"));
      await compile("services", hs256Issuer(SERVICES, secret, "chat")).verify(token);
      await compile("services", hs256Issuer(SERVICES, secret, "chat")).verify(token);
      assert.deepEqual(lookups, ["miss", "hit"]);
    });

    it("starts empty after a reload that changes the secret, the audience, the algorithms or the tolerance", async () => {
      const { lookups, compile } = track(cachingContext());
      const token = await signWithSecret(secret, claimsFor(SERVICES, "chat"));
      const base = hs256Issuer(SERVICES, secret, "chat");
      const variants: Array<[IssuerPolicy, Partial<AuthPolicy>]> = [
        [base, {}],
        [{ ...base, audience: "any" }, {}],
        [{ ...base, algorithms: ["HS256", "HS384"] }, {}],
        [base, { clockTolerance: "10s" }],
        [{ ...base, secret: createSecret() }, {}],
      ];
      const outcomes: string[] = [];
      for (const [entry, auth] of variants) {
        const result = await compile("services", entry, auth).verify(token);
        outcomes.push(result.ok ? "ok" : result.code);
      }
      assert.deepEqual(lookups, ["miss", "miss", "miss", "miss", "miss"]);
      assert.deepEqual(outcomes, ["ok", "ok", "ok", "ok", "token_invalid"]);
    });
  });

  describe("with a remote JWK set over HTTP", () => {
    let jwks: JwksServer;
    let key1: SigningKey;
    let key2: SigningKey;
    const idp = (): IssuerPolicy => ({
      issuer: IDP,
      jwksUri: jwks.url,
      audience: "chat",
      algorithms: ["ES256"],
    });

    before(async () => {
      [key1, key2] = await Promise.all([createSigningKey("ES256", "k1"), createSigningKey("ES256", "k2")]);
    });
    beforeEach(async () => {
      jwks = await JwksServer.start([key1.jwk, key2.jwk]);
    });
    afterEach(() => jwks.close());

    it("drops the tokens of a key that a refresh no longer lists, and keeps the others", async () => {
      const { lookups, compile } = track(cachingContext());
      const issuer = compile("idp", idp());
      const byKey1 = await signWith(key1, claimsFor(IDP, "chat"));
      const byKey2 = await signWith(key2, claimsFor(IDP, "chat"));
      assert.equal((await issuer.verify(byKey1)).ok, true);
      assert.equal((await issuer.verify(byKey2)).ok, true);
      assert.equal(jwks.requests, 1);

      jwks.keys = [key2.jwk]; // k1 rotated out
      await sleep(250); // the set is now older than its 200 ms maximum age
      // This lookup starts the refresh; until it lands, the old set (and k1) is still trusted.
      assert.equal((await issuer.verify(byKey1)).ok, true);
      await waitFor(() => jwks.requests === 2);
      await sleep(20);
      lookups.length = 0;
      assert.deepEqual(await issuer.verify(byKey1), { ok: false, code: "token_invalid" });
      assert.equal((await issuer.verify(byKey2)).ok, true);
      assert.deepEqual(lookups, ["miss", "hit"]);
    });

    it("keeps its entries when a refresh adds a key and keeps the old ones", async () => {
      const { lookups, compile } = track(cachingContext());
      const issuer = compile("idp", idp());
      const token = await signWith(key1, claimsFor(IDP, "chat"));
      await issuer.verify(token);
      jwks.keys = [key1.jwk, key2.jwk, (await createSigningKey("ES256", "k3")).jwk];
      await sleep(250);
      await issuer.verify(token); // starts the refresh
      await waitFor(() => jwks.requests === 2);
      await sleep(20);
      await issuer.verify(token);
      assert.deepEqual(lookups, ["miss", "hit", "hit"]);
    });

    it("starts empty when a reload points the issuer at another key set", async () => {
      const { lookups, compile } = track(cachingContext());
      const other = await JwksServer.start([key2.jwk]);
      try {
        const token = await signWith(key1, claimsFor(IDP, "chat"));
        assert.equal((await compile("idp", idp()).verify(token)).ok, true);
        const moved = compile("idp", { ...idp(), jwksUri: other.url });
        assert.deepEqual(await moved.verify(token), { ok: false, code: "token_invalid" });
        assert.deepEqual(lookups, ["miss", "miss"]);
      } finally {
        await other.close();
      }
    });
  });

  it("is off with tokenCache: false, and refuses malformed limits", async () => {
    assert.equal(tokenCacheLimits(false), false);
    const secret = createSecret();
    const context = createCompileContext({}, undefined, new TokenCaches(false));
    contexts.push(context);
    const issuer = compileAuth(
      { issuers: { s: hs256Issuer(SERVICES, secret) } },
      resources,
      context,
    ).issuers.get("s")!;
    const token = await signWithSecret(secret, claimsFor(SERVICES, undefined));
    const first = await issuer.verify(token);
    const second = await issuer.verify(token);
    assert.equal(first.ok && second.ok, true);
    assert.notEqual(first, second); // verified twice, not remembered
    for (const bad of [0, -1, 1.5, "100", null, [], { maxEntries: 0 }, { maxBytes: "1MB" }, { size: 3 }]) {
      assert.throws(() => tokenCacheLimits(bad), TypeError, JSON.stringify(bad));
    }
    assert.deepEqual(tokenCacheLimits({ maxEntries: 5000 }), { maxEntries: 5000, maxBytes: 1024 * 1024 });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("the condition did not hold in time");
    await sleep(10);
  }
}
