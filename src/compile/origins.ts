/**
 * Origin matching for the handshake: which `Origin` header values a policy admits.
 *
 * Origins compare as browsers serialise them: scheme, host and port. The host is compared
 * case-insensitively and in punycode, and a default port is the same as none
 * (`https://a.com:443` is `https://a.com`). A header that is not a bare origin (a path, user
 * info, a list, `null`) never matches an exact or wildcard entry.
 */
import { PolicyCompileError } from "./compile-error.js";

/** A bare origin: scheme, `://`, and an authority without user info, path, query or fragment. */
const BARE_ORIGIN = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#@\\\s,]+$/;

/** The placeholder label a `*.` wildcard is parsed with, so the URL parser normalises the rest. */
const WILDCARD_LABEL = "sockguard-wildcard";

/** Distinct Origin values whose answer a matcher remembers; past it, it starts over. */
const MAX_REMEMBERED_ORIGINS = 256;
/** Longer values (no real origin is) are judged every time and never remembered. */
const MAX_REMEMBERED_ORIGIN_LENGTH = 256;

/** What the handshake asks of the origin list. */
export interface OriginMatcher {
  /** True when the (present) `Origin` header value is admitted. */
  matchOrigin(origin: string): boolean;
  /** True when `scheme://host` is admitted: a same-origin request names the page's own origin in `Host`. */
  matchHost(host: string, scheme: "http" | "https"): boolean;
}

interface WildcardOrigin {
  readonly protocol: string;
  readonly port: string;
  /** `.example.com`: a matching host ends with it and has at least one more label. */
  readonly suffix: string;
}

/**
 * The canonical form of an origin (`scheme://host[:port]`, lower-case host in punycode, default
 * port dropped), or `undefined` when `value` is not a bare origin.
 *
 * @example
 * canonicalOrigin("HTTPS://Chat.Example.com:443"); // "https://chat.example.com"
 * canonicalOrigin("https://example.com/path");      // undefined
 */
export function canonicalOrigin(value: string): string | undefined {
  const url = parseBareOrigin(value);
  if (!url) return undefined;
  return `${url.protocol}//${url.hostname.toLowerCase()}${url.port ? `:${url.port}` : ""}`;
}

/**
 * Compiles `connection.origins`. Entries are exact origins, `scheme://*.domain[:port]` (one or more
 * labels under `domain`, never `domain` itself), or `*` (any origin). An entry that is none of
 * these throws {@link PolicyCompileError}.
 *
 * @example
 * const { matchOrigin } = compileOriginMatcher(["https://chat.example.com", "https://*.example.com"]);
 * matchOrigin("https://CHAT.example.com:443");       // true
 * matchOrigin("https://example.com.evil.com");       // false
 * matchOrigin("https://a.b.example.com");            // true
 * matchOrigin("https://example.com");                // false
 */
export function compileOriginMatcher(origins: readonly string[]): OriginMatcher {
  const exact = new Set<string>();
  const wildcards: WildcardOrigin[] = [];
  let anyOrigin = false;

  origins.forEach((entry, index) => {
    const fail = (problem: string): never => {
      throw new PolicyCompileError(["connection", "origins", String(index)], problem);
    };
    if (entry === "*") {
      anyOrigin = true;
      return;
    }
    const wildcardAt = entry.indexOf("://*.");
    if (wildcardAt >= 0) {
      const url = parseBareOrigin(entry.replace("://*.", `://${WILDCARD_LABEL}.`));
      if (!url || !url.hostname.startsWith(`${WILDCARD_LABEL}.`) || url.hostname.includes("*")) {
        return fail("expected scheme://*.domain, with one leading *. label");
      }
      wildcards.push({
        protocol: url.protocol,
        port: url.port,
        suffix: url.hostname.toLowerCase().slice(WILDCARD_LABEL.length),
      });
      return;
    }
    const canonical = canonicalOrigin(entry);
    if (!canonical || canonical.includes("*"))
      return fail("expected an origin such as https://chat.example.com");
    exact.add(canonical);
  });

  const parseAndMatch = (origin: string): boolean => {
    const url = parseBareOrigin(origin);
    if (!url) return false;
    const hostname = url.hostname.toLowerCase();
    if (exact.has(`${url.protocol}//${hostname}${url.port ? `:${url.port}` : ""}`)) return true;
    for (const wildcard of wildcards) {
      if (
        url.protocol === wildcard.protocol &&
        url.port === wildcard.port &&
        hostname.length > wildcard.suffix.length &&
        hostname.endsWith(wildcard.suffix) &&
        isLabelSequence(hostname.slice(0, hostname.length - wildcard.suffix.length))
      ) {
        return true;
      }
    }
    return false;
  };

  // Every handshake and every namespace connect asks about the same few Origin values: each is
  // parsed once (the URL parser is most of the cost), and the answer kept in a bounded memo.
  const answers = new Map<string, boolean>();
  const matchOrigin = (origin: string): boolean => {
    if (anyOrigin) return true;
    const known = answers.get(origin);
    if (known !== undefined) return known;
    const answer = parseAndMatch(origin);
    if (origin.length <= MAX_REMEMBERED_ORIGIN_LENGTH) {
      if (answers.size >= MAX_REMEMBERED_ORIGINS) answers.clear();
      answers.set(origin, answer);
    }
    return answer;
  };

  return {
    matchOrigin,
    matchHost: (host, scheme) => matchOrigin(`${scheme}://${host}`),
  };
}

function parseBareOrigin(value: string): URL | undefined {
  if (!BARE_ORIGIN.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** One or more non-empty labels separated by dots: what a `*.` wildcard stands for. */
function isLabelSequence(prefix: string): boolean {
  return prefix.length > 0 && !prefix.startsWith(".") && !prefix.endsWith(".") && !prefix.includes("..");
}
