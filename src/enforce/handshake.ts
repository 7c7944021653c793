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
import type { CompiledConnection, CompiledPolicy } from "../compile/types.js";
import { decideHandshake, type HandshakeFacts, type Verdict } from "../decide/index.js";
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
  const secFetchSite = headers["sec-fetch-site"];
  return {
    origin: headers.origin,
    host: headers.host,
    secFetchSite: typeof secFetchSite === "string" ? secFetchSite : undefined,
    transport,
    firstRequest,
    secure: isSecureRequest(connection, req),
    ...optionalProtocol(tlsProtocolOf(req)),
  };
}

function optionalProtocol(tlsProtocol: string | undefined): { tlsProtocol?: string } {
  return tlsProtocol === undefined ? {} : { tlsProtocol };
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
    if (code === "allowed") {
      if (ctx.decisions.wantsAllows()) ctx.decisions.report(requestDecision(policy, req, verdict, stage));
      return next();
    }
    if (ctx.decisions.wantsDenials()) ctx.decisions.report(requestDecision(policy, req, verdict, stage));
    const denial = new SockguardDenial(code);
    if (upgrade) return refuseUpgrade(req.socket, code, () => next(denial));
    refusePolling(res, code);
    next(denial);
  };
}

function requestDecision(
  policy: CompiledPolicy,
  req: IncomingMessage,
  verdict: Verdict,
  stage: "handshake" | "upgrade",
): Decision {
  const address = clientAddress(policy.connection, req);
  return {
    allowed: verdict.code === "allowed",
    code: verdict.code,
    stage,
    ...(address === undefined ? {} : { address }),
    ...(verdict.rule === undefined ? {} : { rule: verdict.rule }),
    policyVersion: policy.version,
  };
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
