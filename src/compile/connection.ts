/**
 * `connection` → the checks the handshake and upgrade requests run, with the language's defaults
 * filled in (DESIGN §1).
 */
import type { ConnectionPolicy, TransportName } from "../policy/types.js";
import { parseRate, parseSize } from "../policy/units.js";
import { compileQuotaRule, compileRateRule } from "./budgets.js";
import { PolicyCompileError } from "./compile-error.js";
import { unlocatedRules, type RuleLocator } from "./rules.js";
import { compileOriginMatcher } from "./origins.js";
import { compileProxyMatcher } from "./proxies.js";
import type { CompiledConnection, CompiledTls } from "./types.js";

const DEFAULT_TRANSPORTS: readonly TransportName[] = ["polling", "websocket"];
const TRANSPORT_ORDER: readonly TransportName[] = ["polling", "websocket", "webtransport"];
/** 1MB, as engine.io counts it (10^6 bytes). */
export const DEFAULT_MAX_PAYLOAD = 1_000_000;
export const DEFAULT_MAX_DENIALS = "20/1m";

/**
 * Compiles `connection` (absent means every default). `someNamespaceAllowsMissingOrigin` says
 * whether a namespace sets `allowMissingOrigin`: the handshake then lets requests without Origin
 * through, for the connect to decide. `tls` is `connection.tls` compiled ({@link compileTls}): it
 * implies `requireTls`.
 *
 * @example
 * const connection = compileConnection({ origins: ["https://chat.example.com"], maxPayload: "64KiB" });
 * connection.maxPayload;                           // 65536
 * connection.matchOrigin("https://chat.example.com"); // true
 */
export function compileConnection(
  connection: ConnectionPolicy | undefined,
  someNamespaceAllowsMissingOrigin = false,
  tls?: CompiledTls,
  rules: RuleLocator = unlocatedRules(),
): CompiledConnection {
  const { matchOrigin, matchHost } = compileOriginMatcher(connection?.origins ?? []);
  const requested = new Set(connection?.transports ?? DEFAULT_TRANSPORTS);
  const transportList = Object.freeze(TRANSPORT_ORDER.filter((name) => requested.has(name)));
  if (transportList.length === 0) {
    throw new PolicyCompileError(["connection", "transports"], "at least one transport is needed");
  }
  const maxPayload = parseSize(connection?.maxPayload ?? DEFAULT_MAX_PAYLOAD);
  if (maxPayload === undefined || maxPayload < 1) {
    throw new PolicyCompileError(["connection", "maxPayload"], "expected a size such as 64KiB");
  }
  const maxDenials = parseRate(connection?.maxDenials ?? DEFAULT_MAX_DENIALS);
  if (maxDenials === undefined) {
    throw new PolicyCompileError(["connection", "maxDenials"], "expected a rate such as 20/1m");
  }
  const allowMissingOrigin = connection?.allowMissingOrigin ?? false;
  return Object.freeze({
    matchOrigin,
    matchHost,
    allowMissingOrigin,
    handshakeAllowsMissingOrigin: allowMissingOrigin || someNamespaceAllowsMissingOrigin,
    transports: new Set(transportList),
    transportList,
    requireTls: (connection?.requireTls ?? false) || tls !== undefined,
    isTrustedProxy: compileProxyMatcher(connection?.trustedProxies ?? []),
    maxPayload,
    maxDenials: Object.freeze(maxDenials),
    ...(connection?.rateLimit === undefined
      ? {}
      : {
          rateLimit: compileRateRule(
            connection.rateLimit,
            { kind: "handshake" },
            ["connection", "rateLimit"],
            "address",
            rules.policyKey("connection", "rateLimit"),
          ),
        }),
    ...(connection?.maxConnections === undefined
      ? {}
      : {
          maxConnections: compileQuotaRule(
            connection.maxConnections,
            { kind: "connection" },
            rules.policyKey("connection", "maxConnections"),
          ),
        }),
    ...(tls === undefined ? {} : { tls }),
  });
}
