import assert from "node:assert/strict";
import { compileProxyMatcher, normaliseAddress } from "../../../src/compile/proxies.js";
import { PolicyCompileError } from "../../../src/compile/compile-error.js";

describe("compile: trusted proxies", () => {
  it("normalises IPv4-mapped IPv6 addresses to IPv4", () => {
    assert.equal(normaliseAddress("::ffff:127.0.0.1"), "127.0.0.1");
    assert.equal(normaliseAddress("::FFFF:10.1.2.3"), "10.1.2.3");
    assert.equal(normaliseAddress("10.1.2.3"), "10.1.2.3");
    assert.equal(normaliseAddress("FD00::1"), "fd00::1");
    assert.equal(normaliseAddress("::ffff:not-an-ip"), "::ffff:not-an-ip");
  });

  it("matches single addresses and CIDR ranges, IPv4 and IPv6, mapped or not", () => {
    const isTrusted = compileProxyMatcher(["127.0.0.1", "10.0.0.0/8", "fd00::/8", "::ffff:192.168.0.0/112"]);
    assert.equal(isTrusted("127.0.0.1"), true);
    assert.equal(isTrusted("::ffff:127.0.0.1"), true);
    assert.equal(isTrusted("127.0.0.2"), false);
    assert.equal(isTrusted("10.255.0.1"), true);
    assert.equal(isTrusted("::ffff:10.255.0.1"), true);
    assert.equal(isTrusted("11.0.0.1"), false);
    assert.equal(isTrusted("fd12::1"), true);
    assert.equal(isTrusted("fe80::1"), false);
    assert.equal(isTrusted("192.168.3.4"), true);
    assert.equal(isTrusted("192.169.0.1"), false);
    assert.equal(isTrusted("garbage"), false);
  });

  it("trusts nobody with an empty list", () => {
    assert.equal(compileProxyMatcher([])("127.0.0.1"), false);
  });

  it("throws a PolicyCompileError for an entry that is neither an address nor a range", () => {
    for (const entry of ["localhost", "10.0.0.0/33", "10.0.0.0/8/8", "::1/129", "10.0.0.0/-1", "10.0.0/8"]) {
      assert.throws(() => compileProxyMatcher([entry]), PolicyCompileError, entry);
    }
  });
});
