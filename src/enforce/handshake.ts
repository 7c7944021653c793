/**
 * HTTP-level checks: origin, transport and TLS, on the engine.io handshake (the first request of a
 * session, polling or a direct WebSocket) and on the WebSocket upgrade of an existing polling
 * session, which never reaches engine.io's `allowRequest`. They run as engine middleware
 * (`io.engine.use`), which engine.io applies to every request, upgrades included, before its own
 * checks and before any `allowRequest` the app set (which therefore still runs on the requests the
 * guard lets through).
 *
 * A refused polling request is answered 403 with `{ code, message }` as JSON; a refused upgrade is
 * answered 400 with the same body, and its connection closed.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { CompiledConnection } from "../compile/types.js";
import {
  DENIAL_CODES,
  DENIAL_MESSAGES,
  SockguardDenial,
  type Decision,
  type DenialCode,
} from "../decisions.js";
import { clientAddress } from "./client-address.js";
import type { GuardContext } from "./context.js";
import { readEngineRequest } from "./engine-request.js";

/** engine.io's middleware signature. */
export type EngineMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: Error) => void,
) => void;

/** What the checks read from a request. */
export interface HandshakeRequest {
  readonly headers: IncomingMessage["headers"];
  readonly socket: { readonly remoteAddress?: string; readonly encrypted?: boolean };
}

/** The JSON body of a refused request, per code, serialised once. */
const REFUSAL_BODIES = Object.fromEntries(
  DENIAL_CODES.map((code) => [code, JSON.stringify({ code, message: DENIAL_MESSAGES[code] })]),
) as Record<DenialCode, string>;

/**
 * Checks one handshake or upgrade request against `connection`: origin, then transport, then TLS.
 * `transport` is the request's `transport` query value; `firstRequest` is true for a plain HTTP
 * request that engine.io handles as a new handshake (no session id, or an empty one), never for an
 * upgrade. Returns the denial code, or undefined when the request may proceed.
 *
 * @example
 * checkHandshake(policy.connection, req, "websocket", true); // "origin_not_allowed" for a foreign Origin
 */
export function checkHandshake(
  connection: CompiledConnection,
  req: HandshakeRequest,
  transport: string | undefined,
  firstRequest: boolean,
): DenialCode | undefined {
  const secure = isSecureRequest(connection, req);
  if (!isOriginAllowed(connection, req, transport, firstRequest, secure)) return "origin_not_allowed";
  if (transport === undefined || !connection.transports.has(transport as never))
    return "transport_not_allowed";
  if (connection.requireTls && !secure) return "tls_required";
  return undefined;
}

/**
 * True when `connection` admits the request's origin: its Origin header matches an allowed origin,
 * or it has none and `allowMissing` says that is allowed, or it is a browser's same-origin polling
 * handshake. `secure` is {@link isSecureRequest}'s answer for the request. `allowMissing` defaults
 * to what the handshake allows (`allowMissingOrigin` on the connection or on some namespace); the
 * namespace connect passes its own answer.
 *
 * @example
 * isOriginAllowed(policy.connection, req, "polling", true, isSecureRequest(policy.connection, req));
 */
export function isOriginAllowed(
  connection: CompiledConnection,
  req: HandshakeRequest,
  transport: string | undefined,
  firstRequest: boolean,
  secure: boolean,
  allowMissing: boolean = connection.handshakeAllowsMissingOrigin,
): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return connection.matchOrigin(origin);
  return allowMissing || isSameOriginPolling(connection, req, transport, firstRequest, secure);
}

/**
 * True when the request came over TLS, or from a trusted proxy that says (in the last value of
 * `X-Forwarded-Proto`, the one the proxy itself wrote) that the client used https. The header
 * from any other address is ignored.
 */
export function isSecureRequest(connection: CompiledConnection, req: HandshakeRequest): boolean {
  if (req.socket.encrypted === true) return true;
  const remote = req.socket.remoteAddress;
  if (remote === undefined || !connection.isTrustedProxy(remote)) return false;
  const forwarded = req.headers["x-forwarded-proto"];
  if (typeof forwarded !== "string") return false;
  const last = forwarded
    .slice(forwarded.lastIndexOf(",") + 1)
    .trim()
    .toLowerCase();
  return last === "https";
}

/**
 * A browser's same-origin polling handshake carries no Origin: admitted when the browser says so
 * (`Sec-Fetch-Site: same-origin`, a header scripts cannot set) and the Host names an allowed origin.
 */
function isSameOriginPolling(
  connection: CompiledConnection,
  req: HandshakeRequest,
  transport: string | undefined,
  firstRequest: boolean,
  secure: boolean,
): boolean {
  if (!firstRequest || transport !== "polling" || req.headers["sec-fetch-site"] !== "same-origin")
    return false;
  const host = req.headers.host;
  return typeof host === "string" && connection.matchHost(host, secure ? "https" : "http");
}

/**
 * The engine middleware enforcing {@link checkHandshake} with the policy in force.
 *
 * @example
 * io.engine.use(createHandshakeGuard(ctx));
 */
export function createHandshakeGuard(ctx: GuardContext): EngineMiddleware {
  return (req, res, next) => {
    const { transport, firstRequest, upgrade } = readEngineRequest(req, res);
    // A polling request of an established session: its handshake was checked.
    if (!firstRequest && !upgrade) return next();

    const stage = firstRequest ? "handshake" : "upgrade";
    // Only a plain HTTP handshake can be a browser's same-origin polling request; an upgrade to the
    // polling transport is one engine.io closes, and never gets the missing-Origin exemption.
    const connection = ctx.holder.current.connection;
    const code = checkHandshake(connection, req, transport, firstRequest && !upgrade);
    if (code === undefined) {
      if (ctx.decisions.wantsAllows())
        ctx.decisions.report(requestDecision(connection, req, "allowed", stage));
      return next();
    }
    if (ctx.decisions.wantsDenials()) ctx.decisions.report(requestDecision(connection, req, code, stage));
    const denial = new SockguardDenial(code);
    if (upgrade) return refuseUpgrade(req.socket, code, () => next(denial));
    refusePolling(res, code);
    next(denial);
  };
}

function requestDecision(
  connection: CompiledConnection,
  req: IncomingMessage,
  code: DenialCode | "allowed",
  stage: "handshake" | "upgrade",
): Decision {
  const address = clientAddress(connection, req);
  return { allowed: code === "allowed", code, stage, ...(address === undefined ? {} : { address }) };
}

/** 403 with the JSON body; engine.io then sees the response already sent and writes nothing more. */
function refusePolling(res: ServerResponse, code: DenialCode): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = REFUSAL_BODIES[code];
  res.writeHead(403, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** 400 with the JSON body on the raw connection, then closes it; `done` runs once it is closed. */
function refuseUpgrade(socket: Duplex, code: DenialCode, done: () => void): void {
  socket.on("error", () => undefined);
  socket.once("close", done);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = REFUSAL_BODIES[code];
  socket.end(
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
