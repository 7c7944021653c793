import assert from "node:assert/strict";
import { compileConnection } from "../../../src/compile/connection.js";
import { clientAddress } from "../../../src/enforce/client-address.js";

const behindProxies = compileConnection({ trustedProxies: ["10.0.0.0/8", "2001:db8::/32"] });

function addressOf(peer: string | undefined, forwardedFor?: string | string[]): string | undefined {
  return clientAddress(behindProxies, {
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor as string },
    socket: { remoteAddress: peer },
  });
}

describe("enforce: clientAddress", () => {
  it("is the direct peer when the peer is not a trusted proxy, whatever X-Forwarded-For says", () => {
    assert.equal(addressOf("203.0.113.7", "198.51.100.1"), "203.0.113.7");
    assert.equal(addressOf("::ffff:203.0.113.7", "198.51.100.1"), "203.0.113.7");
  });

  it("is the peer when a trusted proxy sent no X-Forwarded-For", () => {
    assert.equal(addressOf("10.0.0.5"), "10.0.0.5");
  });

  it("is the right-most entry that is not a trusted proxy; entries left of it are ignored", () => {
    assert.equal(addressOf("10.0.0.5", "6.6.6.6, 203.0.113.7, 10.1.1.1, 10.2.2.2"), "203.0.113.7");
    assert.equal(addressOf("10.0.0.5", "203.0.113.7"), "203.0.113.7");
  });

  it("reads repeated headers as one list, in order, with or without spaces", () => {
    assert.equal(addressOf("10.0.0.5", ["6.6.6.6", "203.0.113.7,10.1.1.1"]), "203.0.113.7");
    assert.equal(addressOf("10.0.0.5", "6.6.6.6,203.0.113.7 ,  10.1.1.1"), "203.0.113.7");
  });

  it("normalises IPv6 and IPv4-mapped entries, and trusts IPv6 proxies", () => {
    assert.equal(addressOf("10.0.0.5", "::FFFF:203.0.113.7"), "203.0.113.7");
    assert.equal(addressOf("10.0.0.5", "2001:DB9::1, 2001:db8::9"), "2001:db9::1");
    assert.equal(addressOf("::ffff:10.0.0.5", "203.0.113.7"), "203.0.113.7");
  });

  it("accepts entries with a port, as some proxies write them", () => {
    assert.equal(addressOf("10.0.0.5", "203.0.113.7:51234"), "203.0.113.7");
    assert.equal(addressOf("10.0.0.5", "[2001:db9::1]:443"), "2001:db9::1");
    assert.equal(addressOf("10.0.0.5", "[2001:db9::1]"), "2001:db9::1");
  });

  it("stops at an entry that is not an address and uses the last trusted hop, never the text", () => {
    assert.equal(addressOf("10.0.0.5", "203.0.113.7, unknown"), "10.0.0.5");
    assert.equal(addressOf("10.0.0.5", "203.0.113.7, evil\u001b[31m, 10.1.1.1"), "10.1.1.1");
    assert.equal(addressOf("10.0.0.5", "203.0.113.7,,10.1.1.1"), "10.1.1.1");
    assert.equal(addressOf("10.0.0.5", "fe80::1%eth0"), "10.0.0.5");
    assert.equal(addressOf("10.0.0.5", "01.2.3.4"), "10.0.0.5");
    assert.equal(addressOf("10.0.0.5", ""), "10.0.0.5");
  });

  it("is the left-most entry when every entry is a trusted proxy", () => {
    assert.equal(addressOf("10.0.0.5", "10.3.3.3, 10.1.1.1"), "10.3.3.3");
  });

  it("is undefined when the peer's address is unknown", () => {
    assert.equal(addressOf(undefined, "203.0.113.7"), undefined);
  });
});
