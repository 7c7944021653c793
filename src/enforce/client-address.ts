/**
 * The client address (DESIGN §1.1): the one address decisions, rate limits and quotas use.
 *
 * Without a trusted proxy in front, it is the direct peer. When the peer is a trusted proxy, the
 * `X-Forwarded-For` list is read from the right: each proxy appends the address it received the
 * request from, so the right-most entry that is not itself a trusted proxy is the client. Entries
 * further left were written by the client and are never believed.
 *
 * An entry that is not an IP address (garbage, `unknown`, an obfuscated nginx identifier) ends the
 * walk: nothing to its left can be trusted, and its text was chosen by someone outside, so the
 * address is the last trusted hop, the one that passed it on. That keeps the address an IP address
 * a client cannot pick (it would otherwise choose its own rate-limit key, or write into logs).
 */
import type { IncomingHttpHeaders } from "node:http";
import { isIP } from "node:net";
import type { Socket } from "socket.io";
import type { CompiledConnection } from "../compile/types.js";
import { normaliseAddress } from "../compile/proxies.js";

/** What the address is computed from: the request's headers and the direct peer. */
export interface AddressedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/** `1.2.3.4:5678`: an IPv4 address with a port, as some proxies write it. */
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
/** `[2001:db8::1]` or `[2001:db8::1]:443`. */
const BRACKETED_IPV6 = /^\[([^\]]+)\](?::\d{1,5})?$/;

/**
 * The client address of `req` under `connection`'s `trustedProxies`, normalised (IPv4-mapped IPv6
 * becomes IPv4, IPv6 lower-case); undefined when the peer's address is unknown (a closed socket).
 *
 * @example
 * // trustedProxies: [10.0.0.0/8]; the peer is 10.0.0.5
 * clientAddress(policy.connection, { headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.9" }, socket });
 * // "203.0.113.7": 10.0.0.9 is a trusted proxy, 6.6.6.6 is what the client wrote
 */
export function clientAddress(connection: CompiledConnection, req: AddressedRequest): string | undefined {
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return undefined;
  let address = normaliseAddress(peer);
  if (!connection.isTrustedProxy(address)) return address;
  const header = req.headers["x-forwarded-for"];
  if (header === undefined) return address;
  // Node joins repeated X-Forwarded-For headers with ", ", in the order they arrived.
  const hops = (Array.isArray(header) ? header.join(",") : header).split(",");
  for (let at = hops.length - 1; at >= 0; at -= 1) {
    const hop = parseHop(hops[at] ?? "");
    if (hop === undefined) return address;
    address = hop;
    if (!connection.isTrustedProxy(hop)) return hop;
  }
  return address;
}

const connectionAddresses = new WeakMap<object, string | undefined>();

/**
 * The client address of the Engine.IO connection `socket` came over, computed once per connection
 * (from the headers and peer of its first request, with the policy in force at the first call) and
 * kept: every socket and event of the connection reports the same address.
 *
 * @example
 * decision.address = socketClientAddress(ctx.holder.current.connection, socket);
 */
export function socketClientAddress(connection: CompiledConnection, socket: Socket): string | undefined {
  const conn: object = socket.conn;
  if (connectionAddresses.has(conn)) return connectionAddresses.get(conn);
  const address = clientAddress(connection, {
    headers: socket.handshake.headers,
    socket: { remoteAddress: socket.handshake.address },
  });
  connectionAddresses.set(conn, address);
  return address;
}

/** One `X-Forwarded-For` entry as a normalised IP address, or undefined when it is not one. */
function parseHop(entry: string): string | undefined {
  const text = entry.trim();
  const candidate = IPV4_WITH_PORT.exec(text)?.[1] ?? BRACKETED_IPV6.exec(text)?.[1] ?? text;
  // A zone id (`fe80::1%eth0`) is text isIP accepts and nobody outside the host can mean.
  if (candidate.includes("%") || isIP(candidate) === 0) return undefined;
  return normaliseAddress(candidate);
}
