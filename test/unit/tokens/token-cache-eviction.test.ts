import assert from "node:assert/strict";
import { VerifiedTokenCache } from "../../../src/compile/token-cache.js";
import type { VerifyResult } from "../../../src/compile/types.js";

const FAR_FUTURE = Date.now() + 3_600_000;

function resultFor(token: string): VerifyResult {
  return Object.freeze({
    ok: true,
    identity: Object.freeze({
      issuer: "idp",
      iss: "https://idp.example/",
      subject: token,
      claims: {},
      expiresAt: FAR_FUTURE,
    }),
  });
}

describe("VerifiedTokenCache eviction (least recently used first)", () => {
  it("keeps exactly the most recently used tokens through thousands of lookups, inserts and evictions", () => {
    const maxEntries = 64;
    const cache = new VerifiedTokenCache({ maxEntries, maxBytes: 1 << 30 });
    // The reference: the same cache as an ordered list, most recently used last.
    let model: string[] = [];
    let seed = 11;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 20_000; step++) {
      const token = `token-${Math.floor(random() * 200)}`;
      if (random() < 0.5) {
        const found = cache.lookup(token, Date.now());
        const held = model.includes(token);
        assert.equal(found !== undefined, held, `step ${step}: lookup of ${token}`);
        if (held) model = [...model.filter((t) => t !== token), token];
      } else {
        cache.remember(token, resultFor(token), FAR_FUTURE);
        model = [...model.filter((t) => t !== token), token];
        if (model.length > maxEntries) model = model.slice(model.length - maxEntries);
      }
      assert.equal(cache.size, model.length, `step ${step}: size`);
    }
    for (const token of model) assert.notEqual(cache.lookup(token, Date.now()), undefined, token);
  });

  it("evicts by bytes the same way, the oldest first, also right after the cache was emptied by evictions", () => {
    const token = (i: number): string => `t${String(i).padStart(4, "0")}`;
    // Each entry of a 5-character token counts 2 * 5 + 256 bytes: three fit.
    const cache = new VerifiedTokenCache({ maxEntries: 1000, maxBytes: 3 * 266 });
    for (let i = 0; i < 10; i++) cache.remember(token(i), resultFor(token(i)), FAR_FUTURE);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      [7, 8, 9].map((i) => cache.lookup(token(i), Date.now()) !== undefined),
      [true, true, true],
    );
    assert.equal(cache.lookup(token(6), Date.now()), undefined);
    // 7 was used first of the three above, so it goes first.
    cache.remember(token(10), resultFor(token(10)), FAR_FUTURE);
    assert.equal(cache.lookup(token(7), Date.now()), undefined);
    assert.notEqual(cache.lookup(token(8), Date.now()), undefined);
  });
});
