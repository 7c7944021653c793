import assert from "node:assert/strict";
import { canonicalOrigin, compileOriginMatcher } from "../../../src/compile/origins.js";
import { PolicyCompileError } from "../../../src/compile/compile-error.js";

describe("compile: origins", () => {
  const { matchOrigin, matchHost } = compileOriginMatcher([
    "https://chat.example.com",
    "https://*.example.org",
    "http://localhost:3000",
    "https://bücher.example",
    "capacitor://localhost",
  ]);

  it("canonicalises scheme, host case, punycode and default ports", () => {
    assert.equal(canonicalOrigin("HTTPS://Chat.Example.COM:443"), "https://chat.example.com");
    assert.equal(canonicalOrigin("http://example.com:80"), "http://example.com");
    assert.equal(canonicalOrigin("https://bücher.example"), "https://xn--bcher-kva.example");
    assert.equal(canonicalOrigin("https://example.com/"), undefined);
    assert.equal(canonicalOrigin("null"), undefined);
  });

  const admitted = [
    "https://chat.example.com",
    "https://CHAT.example.com:443",
    "https://a.example.org",
    "https://a.b.example.org",
    "http://localhost:3000",
    "https://xn--bcher-kva.example",
    "capacitor://localhost",
  ];
  for (const origin of admitted) {
    it(`admits ${origin}`, () => assert.equal(matchOrigin(origin), true));
  }

  const refused = [
    "null",
    "",
    "https://chat.example.com.evil.com",
    "https://evilchat.example.com",
    "http://chat.example.com",
    "https://chat.example.com:444",
    "https://example.org",
    "https://.example.org",
    "https://a..example.org",
    "https://evil-example.org",
    "https://a.example.org.evil.com",
    "http://a.example.org",
    "https://a.example.org:8443",
    "http://localhost:3001",
    "http://localhost",
    "https://chat.example.com/",
    "https://chat.example.com?x",
    "https://chat.example.com#x",
    "https://user:pw@chat.example.com",
    "https://chat.example.com,https://chat.example.com",
    "https://chat.example.com https://evil.com",
    "https:\\\\chat.example.com",
    "//chat.example.com",
  ];
  for (const origin of refused) {
    it(`refuses ${JSON.stringify(origin)}`, () => assert.equal(matchOrigin(origin), false));
  }

  it("matches a Host header as the origin of the given scheme", () => {
    assert.equal(matchHost("localhost:3000", "http"), true);
    assert.equal(matchHost("localhost:3000", "https"), false);
    assert.equal(matchHost("chat.example.com", "https"), true);
    assert.equal(matchHost("chat.example.com/evil", "https"), false);
  });

  it("admits any origin for * and none for an empty list", () => {
    assert.equal(compileOriginMatcher(["*"]).matchOrigin("https://anything.example"), true);
    assert.equal(compileOriginMatcher([]).matchOrigin("https://chat.example.com"), false);
  });

  it("throws a PolicyCompileError pointing at an entry that is not an origin", () => {
    for (const entry of [
      "chat.example.com",
      "https://*example.com",
      "https://a.*.example.com",
      "https://x.com/path",
    ]) {
      assert.throws(
        () => compileOriginMatcher(["https://ok.example", entry]),
        (error: PolicyCompileError) =>
          error instanceof PolicyCompileError && error.path.join(".") === "connection.origins.1",
      );
    }
  });

  it("answers the same when asked again, past its memo's size, and for values too long to remember", () => {
    const { matchOrigin, matchHost } = compileOriginMatcher([
      "https://chat.example.com",
      "https://*.example.org",
    ]);
    const asked = (): boolean[] => [
      matchOrigin("https://chat.example.com"),
      matchOrigin("https://CHAT.example.com:443"),
      matchOrigin("https://evil.example.com"),
      matchOrigin("https://a.example.org"),
      matchOrigin("https://example.org"),
      matchHost("chat.example.com", "https"),
      matchHost("chat.example.com", "http"),
    ];
    const expected = [true, true, false, true, false, true, false];
    assert.deepEqual(asked(), expected);
    // More distinct values than the memo keeps, allowed and refused ones mixed.
    for (let i = 0; i < 600; i++) {
      assert.equal(matchOrigin(`https://h${i}.example.org`), true);
      assert.equal(matchOrigin(`https://h${i}.example.net`), false);
    }
    assert.deepEqual(asked(), expected);
    const long = `https://${"a".repeat(300)}.example.org`;
    assert.equal(matchOrigin(long), true);
    assert.equal(matchOrigin(long), true);
    assert.equal(matchOrigin(`https://${"a".repeat(300)}.example.net`), false);
  });
});
