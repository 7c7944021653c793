/**
 * HTTP-level checks: origin, transport and TLS, on the engine.io handshake (the first request of a
 * session, polling or a direct WebSocket) and on the WebSocket upgrade of an existing polling
 * session, which never reaches engine.io's `allowRequest`. They run as engine middleware
 * (`io.engine.use`), which engine.io applies to every request, upgrades included, before its own
 * checks and before any `allowRequest` the app set (which therefore still runs on the requests the
 * guard lets through).
 *
 * A refused polling request is answered 403 with `{ code, message }` as JSON; a refused upgrade is
 * answered 400 with the same body, and its connection closed. A handshake over its address's
 * `connection.rateLimit` is answered 429 with `Retry-After` and `retryAfterMs` in the body; one over
 * `connection.maxConnections` is refused `too_many_connections`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { CompiledConnection, CompiledPolicy } from "../compile/types.js";
import { decideHandshake, type HandshakeFacts } from "../decide/index.js";
import {
  DENIAL_CODES,
  DENIAL_MESSAGES,
  SockguardDenial,
  type Decision,
  type DenialCode,
  type Rule,
} from "../decisions.js";
import { clientAddress } from "./client-address.js";
import type { GuardContext } from "./context.js";
import { readEngineRequest } from "./engine-request.js";
import { passRequestInShadow } from "./shadow-mode.js";

/** engine.io's middleware signature. */
export type EngineMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: Error) => void,
) => void;

/** What the checks read from a request. */
export interface HandshakeRequest {
  readonly headers: IncomingMessage["headers"];
  readonly socket: {
    readonly remoteAddress?: string;
    readonly encrypted?: boolean;
    /** A TLS socket's negotiated protocol (`TLSv1.3`); null once the socket is closed. */
    getProtocol?(): string | null;
  };
}

/** The protocol each request's TLS connection negotiated, kept past the socket's close (a polling session's first connection). */
const negotiatedProtocols = new WeakMap<HandshakeRequest, string>();

/**
 * The TLS protocol the request's own connection negotiated (`TLSv1.2`, `TLSv1.3`), remembered for
 * the request once read; undefined when it did not come over TLS.
 *
 * @example
 * tlsProtocolOf(req); // "TLSv1.3" on an https server
 */
export function tlsProtocolOf(req: HandshakeRequest): string | undefined {
  const known = negotiatedProtocols.get(req);
  if (known !== undefined || req.socket.encrypted !== true) return known;
  const protocol = req.socket.getProtocol?.() ?? undefined;
  if (protocol !== undefined) negotiatedProtocols.set(req, protocol);
  return protocol;
}

/** The JSON body of a refused request, per code, serialised once. */
const REFUSAL_BODIES = Object.fromEntries(
  DENIAL_CODES.map((code) => [code, JSON.stringify({ code, message: DENIAL_MESSAGES[code] })]),
) as Record<DenialCode, string>;

/**
 * The facts decide/ reads from one handshake or upgrade request: its headers, `transport` query
 * value, whether engine.io handles it as a new handshake, whether it came over TLS (or from a
 * trusted proxy that says so), and the TLS protocol its connection negotiated.
 *
 * @example
 * decideHandshake(policy, handshakeFacts(policy.connection, req, "websocket", true)).code; // "origin_not_allowed" for a foreign Origin
 */
export function handshakeFacts(
  connection: CompiledConnection,
  req: HandshakeRequest,
  transport: string | undefined,
  firstRequest: boolean,
): HandshakeFacts {
  const headers = req.headers;
  const socket = req.socket;
  return requestFacts(
    headers,
    transport,
    firstRequest,
    secureFrom(connection, socket.encrypted, socket.remoteAddress, headers),
    tlsProtocolOf(req),
  );
}

/**
 * The facts of a request from what was read of it: its headers, its `transport` and whether it is a
 * session's first request, whether it is secure, and its TLS protocol (undefined: none known).
 *
 * @example
 * requestFacts(socket.handshake.headers, "websocket", true, socket.handshake.secure, undefined);
 */
export function requestFacts(
  headers: IncomingMessage["headers"],
  transport: string | undefined,
  firstRequest: boolean,
  secure: boolean,
  tlsProtocol: string | undefined,
): HandshakeFacts {
  const secFetchSite = headers["sec-fetch-site"];
  const origin = headers.origin;
  const host = headers.host;
  const site = typeof secFetchSite === "string" ? secFetchSite : undefined;
  // Two literal shapes rather than a spread: this runs on every handshake and every connect.
  return tlsProtocol === undefined
    ? { origin, host, secFetchSite: site, transport, firstRequest, secure }
    : { origin, host, secFetchSite: site, transport, firstRequest, secure, tlsProtocol };
}

/**
 * True when the request came over TLS, or from a trusted proxy that says (in the last value of
 * `X-Forwarded-Proto`, the one the proxy itself wrote) that the client used https. The header
 * from any other address is ignored.
 */
export function isSecureRequest(connection: CompiledConnection, req: HandshakeRequest): boolean {
  return secureFrom(connection, req.socket.encrypted, req.socket.remoteAddress, req.headers);
}

/**
 * {@link isSecureRequest} from what was read of the request: whether its connection is TLS, its
 * remote address and its headers.
 */
export function secureFrom(
  connection: CompiledConnection,
  encrypted: boolean | undefined,
  remote: string | undefined,
  headers: IncomingMessage["headers"],
): boolean {
  if (encrypted === true) return true;
  // The header first: without it nothing else matters, and most requests carry none.
  const forwarded = headers["x-forwarded-proto"];
  if (typeof forwarded !== "string") return false;
  if (remote === undefined || !connection.isTrustedProxy(remote)) return false;
  const last = forwarded
    .slice(forwarded.lastIndexOf(",") + 1)
    .trim()
    .toLowerCase();
  return last === "https";
}

/**
 * The engine middleware enforcing decide/'s {@link decideHandshake} with the policy in force.
 *
 * @example
 * io.engine.use(createHandshakeGuard(ctx));
 */
export function createHandshakeGuard(ctx: GuardContext): EngineMiddleware {
  return (req, res, next) => {
    const { transport, firstRequest, upgrade } = readEngineRequest(req, res);
    // A polling request of an established session: its handshake was checked.
    if (!firstRequest && !upgrade) return next();
    if (ctx.shadow !== undefined) ctx.shadow.judgeRequest(req, transport, firstRequest, upgrade);

    const stage = firstRequest ? "handshake" : "upgrade";
    // Only a plain HTTP handshake can be a browser's same-origin polling request; an upgrade to the
    // polling transport is one engine.io closes, and never gets the missing-Origin exemption.
    const policy = ctx.holder.current;
    const connection = policy.connection;
    const verdict = decideHandshake(
      policy,
      handshakeFacts(connection, req, transport, firstRequest && !upgrade),
    );
    const code = verdict.code;
    if (
      code !== "allowed" &&
      !(policy.modes !== undefined && passRequestInShadow(ctx, policy, req, stage, code, verdict.rule))
    ) {
      if (ctx.decisions.wantsDenials())
        ctx.decisions.report(requestDecision(policy, req, code, stage, verdict.rule));
      return refuse(req, res, upgrade, next, code);
    }
    // A new Engine.IO connection spends its address's handshake budgets; an upgrade of a session
    // already admitted is the same connection and spends nothing more.
    if (firstRequest && (connection.rateLimit !== undefined || connection.maxConnections !== undefined)) {
      const address = clientAddress(connection, req);
      ctx.budgets.admitHandshake(connection, req, address, upgrade).then(
        (refusal) => {
          if (
            !refusal ||
            (policy.modes !== undefined &&
              passRequestInShadow(ctx, policy, req, stage, refusal.code, refusal.rule, refusal.retryAfterMs))
          )
            return allow(ctx, policy, req, stage, verdict.rule, next);
          if (ctx.decisions.wantsDenials())
            ctx.decisions.report(
              requestDecision(policy, req, refusal.code, stage, refusal.rule, refusal.retryAfterMs),
            );
          refuse(req, res, upgrade, next, refusal.code, refusal.retryAfterMs);
        },
        // A budget store never rejects (it counts in memory when its backend fails); if one did,
        // the handshake is refused, never admitted.
        () => refuse(req, res, upgrade, next, "rate_limited", RETRY_AFTER_STORE_FAILURE_MS),
      );
      return;
    }
    allow(ctx, policy, req, stage, verdict.rule, next);
  };
}

/** The wait a client is told when a budget could not be checked at all. */
const RETRY_AFTER_STORE_FAILURE_MS = 1000;

function allow(
  ctx: GuardContext,
  policy: CompiledPolicy,
  req: IncomingMessage,
  stage: "handshake" | "upgrade",
  rule: Rule | undefined,
  next: (err?: Error) => void,
): void {
  if (ctx.decisions.wantsAllows()) ctx.decisions.report(requestDecision(policy, req, "allowed", stage, rule));
  next();
}

/**
 * Answers a refused request: polling 403 (429 with `Retry-After` for `rate_limited`), an upgrade
 * 400 (429) on its raw connection; then engine.io is told, so it writes nothing more.
 */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  upgrade: boolean,
  next: (err?: Error) => void,
  code: DenialCode,
  retryAfterMs?: number,
): void {
  const denial = new SockguardDenial(code, undefined, retryAfterMs);
  const body = retryAfterMs === undefined ? REFUSAL_BODIES[code] : JSON.stringify(denial.data);
  if (upgrade) return refuseUpgrade(req.socket, body, retryAfterMs, () => next(denial));
  refusePolling(res, body, retryAfterMs);
  next(denial);
}

/**
 * The decision about a handshake or upgrade request judged under `policy`.
 *
 * @example
 * ctx.decisions.report(requestDecision(policy, req, "origin_not_allowed", "handshake", policy.rules.origins));
 */
export function requestDecision(
  policy: CompiledPolicy,
  req: IncomingMessage,
  code: DenialCode | "allowed",
  stage: "handshake" | "upgrade",
  rule: Rule | undefined,
  retryAfterMs?: number,
): Decision {
  const address = clientAddress(policy.connection, req);
  return {
    allowed: code === "allowed",
    code,
    stage,
    ...(address === undefined ? {} : { address }),
    ...(rule === undefined ? {} : { rule }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    policyVersion: policy.version,
  };
}

/** The status line and headers of a refusal: 429 with `Retry-After` (whole seconds) when the client may retry. */
function refusalHead(
  refusedStatus: 400 | 403,
  retryAfterMs: number | undefined,
): { status: number; headers: Record<string, string> } {
  if (retryAfterMs === undefined) return { status: refusedStatus, headers: {} };
  return { status: 429, headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } };
}

/** 403 (or 429) with the JSON body; engine.io then sees the response already sent and writes nothing more. */
function refusePolling(res: ServerResponse, body: string, retryAfterMs: number | undefined): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const head = refusalHead(403, retryAfterMs);
  res.writeHead(head.status, {
    ...head.headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** 400 (or 429) with the JSON body on the raw connection, then closes it; `done` runs once it is closed. */
function refuseUpgrade(
  socket: Duplex,
  body: string,
  retryAfterMs: number | undefined,
  done: () => void,
): void {
  socket.on("error", () => undefined);
  socket.once("close", done);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = refusalHead(400, retryAfterMs);
  const extra = Object.entries(head.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${head.status} ${head.status === 429 ? "Too Many Requests" : "Bad Request"}\r\n` +
      `Connection: close\r\n${extra}Content-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
