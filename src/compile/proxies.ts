/**
 * Trusted proxies: the addresses whose `X-Forwarded-Proto` and `X-Forwarded-For` the guard believes
 * (the client address itself is read in src/enforce/client-address.ts). Entries are single
 * addresses or CIDR ranges, IPv4 or IPv6, matched with Node's `net.BlockList`.
 */
import { BlockList, isIP } from "node:net";
import { PolicyCompileError } from "./compile-error.js";

const IPV4_MAPPED_PREFIX = "::ffff:";

/**
 * An address as the guard compares it: an IPv4 address mapped into IPv6 (`::ffff:127.0.0.1`, what
 * a dual-stack `listen()` reports for IPv4 clients) becomes the plain IPv4 address, and IPv6 text
 * is lower-cased. Anything else is returned unchanged.
 *
 * @example
 * normaliseAddress("::FFFF:10.1.2.3"); // "10.1.2.3"
 */
export function normaliseAddress(address: string): string {
  if (
    address.length > IPV4_MAPPED_PREFIX.length &&
    address.slice(0, 7).toLowerCase() === IPV4_MAPPED_PREFIX
  ) {
    const rest = address.slice(7);
    if (isIP(rest) === 4) return rest;
  }
  return address.includes(":") ? address.toLowerCase() : address;
}

/**
 * Compiles `trustedProxies` into a predicate over remote addresses. An entry that is neither an
 * address nor a CIDR range throws {@link PolicyCompileError}; an empty list trusts nobody.
 *
 * @example
 * const isTrusted = compileProxyMatcher(["127.0.0.1", "10.0.0.0/8"]);
 * isTrusted("::ffff:10.9.8.7"); // true
 * isTrusted("192.168.1.1");     // false
 */
export function compileProxyMatcher(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  entries.forEach((entry, index) => addProxyEntry(list, entry, index));
  return (address) => {
    const normalised = normaliseAddress(address);
    const family = isIP(normalised);
    if (family === 0) return false;
    return list.check(normalised, family === 4 ? "ipv4" : "ipv6");
  };
}

function addProxyEntry(list: BlockList, entry: string, index: number): void {
  const fail = (): never => {
    throw new PolicyCompileError(
      ["connection", "trustedProxies", String(index)],
      "expected an IP address or a CIDR range such as 10.0.0.0/8",
    );
  };
  const [rawAddress, rawPrefix, ...rest] = entry.trim().split("/");
  if (rawAddress === undefined || rest.length > 0) return fail();
  const address = normaliseAddress(rawAddress);
  const family = isIP(address);
  if (family === 0) return fail();
  const type = family === 4 ? "ipv4" : "ipv6";
  if (rawPrefix === undefined) {
    list.addAddress(address, type);
    return;
  }
  if (!/^\d{1,3}$/.test(rawPrefix)) return fail();
  let prefix = Number(rawPrefix);
  // A mapped range (::ffff:10.0.0.0/104) was normalised to IPv4: its prefix loses the 96 mapped bits.
  if (family === 4 && address !== rawAddress) prefix -= 96;
  if (prefix < 0 || prefix > (family === 4 ? 32 : 128)) return fail();
  list.addSubnet(address, prefix, type);
}
