/**
 * Semantic checks of `connection`: origins are origins, proxies are addresses, units parse, and no
 * combination of settings reopens what the policy means to close.
 */
import { isIP } from "node:net";
import type { Policy } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import { childPointer } from "./positions.js";
import { parseRate, parseSize } from "./units.js";

/**
 * @example
 * checkConnection(policy, report);
 */
export function checkConnection(policy: Policy, report: Report): void {
  const connection = policy.connection;
  if (!connection) return;
  const origins = connection.origins ?? [];
  const cookieSource = policy.auth?.tokenFrom?.find((source) => source.startsWith("cookie."));

  origins.forEach((origin, index) => {
    const pointer = childPointer("/connection/origins", index);
    if (origin === "*" && cookieSource) {
      report(
        pointer,
        `origin "*" with the cookie token source ${cookieSource} reopens cross-site WebSocket hijacking: list the allowed origins`,
      );
      return;
    }
    const finding = checkOrigin(origin);
    if (finding) report(pointer, finding.message, { severity: finding.severity });
  });

  const webtransport = connection.transports?.indexOf("webtransport") ?? -1;
  if (webtransport !== -1 && origins.length > 0) {
    report(
      childPointer("/connection/transports", webtransport),
      "webtransport skips every HTTP check, so origins cannot be enforced on it: remove webtransport or origins",
    );
  }

  connection.trustedProxies?.forEach((entry, index) => {
    if (!isAddressOrRange(entry)) {
      report(
        childPointer("/connection/trustedProxies", index),
        `"${entry}" is not an IP address or CIDR range (10.0.0.0/8)`,
      );
    }
  });

  if (connection.maxPayload !== undefined) {
    const bytes = parseSize(connection.maxPayload);
    if (bytes === undefined) {
      report(
        "/connection/maxPayload",
        "maxPayload is a size: bytes, or a number with KiB, MiB, KB, MB (64KiB, 1MB)",
      );
    } else if (bytes < 1) {
      report("/connection/maxPayload", "maxPayload must be at least 1 byte");
    }
  }

  if (connection.maxDenials !== undefined && parseRate(connection.maxDenials) === undefined) {
    report(
      "/connection/maxDenials",
      "maxDenials is a rate COUNT/DURATION with a count of at least 1, such as 20/1m",
    );
  }
}

/** What is wrong with one origin, if anything. */
export function checkOrigin(origin: string): { message: string; severity: "error" | "warning" } | undefined {
  if (origin === "*") {
    return {
      message: 'origin "*" admits pages from every site; list the origins that serve your pages',
      severity: "warning",
    };
  }
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s.exec(origin);
  if (!match)
    return {
      message: `"${origin}" is not an origin: write scheme://host[:port], such as https://chat.example.com`,
      severity: "error",
    };
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
  if (rest !== "") {
    const what = rest === "/" ? "remove the trailing /" : "remove everything after the host and port";
    return { message: `an origin has no path, query or fragment: ${what}`, severity: "error" };
  }
  if (authority.includes("@"))
    return { message: "an origin has no user name or password", severity: "error" };
  const wildcard = authority.startsWith("*.");
  const hostAndPort = wildcard ? authority.slice(2) : authority;
  if (hostAndPort.includes("*")) {
    return {
      message: "a wildcard is allowed only as the whole first label: https://*.example.com",
      severity: "error",
    };
  }
  let url: URL;
  try {
    url = new URL(`${scheme}://${wildcard ? "wildcard." : ""}${hostAndPort}`);
  } catch {
    return { message: `"${origin}" is not a valid origin: check the host and port`, severity: "error" };
  }
  if (url.hostname === "" || (wildcard && url.hostname === "wildcard.")) {
    return { message: `"${origin}" has no host`, severity: "error" };
  }
  if (
    wildcard &&
    !url.hostname.slice("wildcard.".length).includes(".") &&
    !url.hostname.endsWith(".localhost")
  ) {
    return {
      message: `"${origin}" admits every site under a top-level domain; name the domain you own`,
      severity: "warning",
    };
  }
  return undefined;
}

/** True for an IPv4 or IPv6 address, or such an address with a `/prefix` in range. */
export function isAddressOrRange(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash === -1) return isIP(text) !== 0;
  const family = isIP(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (family === 0 || !/^(0|[1-9]\d{0,2})$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
