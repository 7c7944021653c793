/**
 * How engine.io 6.6 reads a request, in one place, so the guard reads every request exactly as the
 * engine will act on it (DESIGN §7). engine.io parses the query once, in `prepare()`, into
 * `req._query` (`Object.fromEntries(new URL(req.url, ...).searchParams)`: every value a string,
 * the last of a repeated parameter wins, `sid[]` is another key), before any engine middleware
 * runs; the guard reads that same object rather than parsing the URL again. A request is a new
 * handshake when its `sid` is missing or empty (`!req._query.sid`), and an upgrade when it arrived
 * through the HTTP `upgrade` event, where engine middleware gets a stand-in response instead of a
 * `ServerResponse`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ServerResponse as HttpServerResponse } from "node:http";
import { Http2ServerResponse } from "node:http2";

/** The parts of a request engine.io decides on. */
export interface EngineRequestFacts {
  /** The request's `transport` query value as engine.io sees it (undefined when absent). */
  readonly transport: string | undefined;
  /** True for a request engine.io handles as a new handshake (no session id, or an empty one). */
  readonly firstRequest: boolean;
  /** True for a WebSocket upgrade request (engine.io's `handleUpgrade`). */
  readonly upgrade: boolean;
}

/** What engine.io leaves on the request: its parsed query. */
type EngineQuery = Readonly<Record<string, unknown>>;

/**
 * Reads `req` (and `res`, whose kind tells an upgrade apart) the way engine.io does. A request
 * without a parsed query (no engine ran `prepare()` on it) counts as a first request, so every
 * check applies to it.
 *
 * @example
 * // GET /socket.io/?EIO=4&transport=polling&sid=
 * readEngineRequest(req, res); // { transport: "polling", firstRequest: true, upgrade: false }
 */
export function readEngineRequest(req: IncomingMessage, res: ServerResponse | object): EngineRequestFacts {
  const query = (req as IncomingMessage & { _query?: EngineQuery })._query ?? {};
  const transport = query.transport;
  return {
    transport: typeof transport === "string" ? transport : undefined,
    firstRequest: isHandshakeQuery(query),
    upgrade: !(res instanceof HttpServerResponse || res instanceof Http2ServerResponse),
  };
}

/** engine.io's predicate for a new handshake: `!req._query.sid` (so `sid=` is one). */
function isHandshakeQuery(query: EngineQuery): boolean {
  return !query.sid;
}
