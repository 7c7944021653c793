/**
 * What a client is told when the guard refuses it (DESIGN §3): the ack, when the event asked for
 * one, is called with `{ error: { code, message, details? } }`; the reserved `sockguard:denied`
 * event carries `{ event?, code, message }`, `event` only for a name the policy declares. Bodies
 * without details are shared, frozen objects: a refusal allocates nothing it does not have to.
 */
import type { Socket } from "socket.io";
import { clientSockets } from "./socket-io-internals.js";
import { DENIAL_CODES, DENIAL_MESSAGES, denialBody, type DenialBody, type DenialCode } from "../decisions.js";

/** The reserved event a refused client receives. */
export const DENIED_EVENT = "sockguard:denied";

const SHARED_ACK_REPLIES = Object.fromEntries(
  DENIAL_CODES.map((code) => [code, Object.freeze({ error: denialBody(code) })]),
) as Record<DenialCode, { readonly error: DenialBody }>;

/**
 * Tells the client an event was refused: `sockguard:denied` (volatile: a busy client may miss it),
 * then its ack when it asked for one (the reliable answer).
 *
 * @example
 * answerRefusedEvent(socket, ack, "payload_invalid", [{ instancePath: "/0/text", keyword: "maxLength" }], "message");
 */
export function answerRefusedEvent(
  socket: Socket,
  ack: ((...args: unknown[]) => void) | undefined,
  code: DenialCode,
  details: DenialBody["details"],
  declaredEvent: string | undefined,
  retryAfterMs?: number,
): void {
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs };
  const body =
    declaredEvent === undefined
      ? denialBody(code, undefined, retryAfterMs)
      : { event: declaredEvent, code, message: DENIAL_MESSAGES[code], ...retry };
  // The notice goes first: a volatile packet is dropped while the transport is busy writing, and
  // writing the ack first would make it busy every time an event asked for an ack.
  socket.volatile.emit(DENIED_EVENT, body);
  if (!ack) return;
  const withDetails = details && details.length > 0 ? details : undefined;
  ack(
    withDetails || retryAfterMs !== undefined
      ? { error: denialBody(code, withDetails, retryAfterMs) }
      : SHARED_ACK_REPLIES[code],
  );
}

/**
 * Disconnects `socket` from its namespace after telling it why (`sockguard:denied` with `code`,
 * sent before the disconnect on the same connection, so it arrives first).
 *
 * @example
 * disconnectWithDenial(socket, "too_many_denials");
 */
export function disconnectWithDenial(socket: Socket, code: DenialCode): void {
  if (!socket.connected) return;
  socket.emit(DENIED_EVENT, denialBody(code));
  socket.disconnect();
}

/** Connections the guard is closing: nothing more of theirs is judged. */
const closingClients = new WeakSet<object>();

/** True once the guard has started closing the connection of `client` (or it is closed). */
export function isConnectionClosing(client: Socket["client"]): boolean {
  return closingClients.has(client) || client.conn.readyState !== "open";
}

/**
 * Closes the Engine.IO connection of `client`: every namespace socket on it is first sent
 * `sockguard:denied` with `code` and disconnected, then the connection closes once what was written
 * has gone out (engine.io's close waits for its write buffer to drain).
 *
 * @example
 * closeConnectionWithDenial(socket.client, "too_many_denials");
 */
export function closeConnectionWithDenial(client: Socket["client"], code: DenialCode): void {
  if (isConnectionClosing(client)) return;
  closingClients.add(client);
  for (const socket of [...clientSockets(client)]) disconnectWithDenial(socket, code);
  // On a later tick: a refused connect's CONNECT_ERROR, which Socket.IO writes on the tick after
  // `next(err)`, is queued by then and goes out before the close.
  process.nextTick(() => client.conn.close());
}

/**
 * How long a reload keeps a removed transport in the engine's `transports` for the connections it
 * is closing on it. A polling connection's DISCONNECT goes out on the client's next poll, which
 * engine.io refuses (400, `transport error`, and socket.io-client reconnects) once the transport
 * is gone. New handshakes on it are refused by the guard's own check meanwhile.
 */
export const CLOSING_TRANSPORT_CAP_MS = 2000;

/** Connections the guard is closing, as the engine's options need to know them. */
export interface ClosingConnections {
  /** The transports they are on. */
  readonly transports: ReadonlySet<string>;
  /** Settles once every one of them has closed, or after {@link CLOSING_TRANSPORT_CAP_MS}. */
  readonly closed: Promise<void>;
}

/**
 * {@link closeConnectionWithDenial} for each of `clients`, and what the engine must keep open
 * until they have closed: their transports, and when that is.
 *
 * @example
 * const closing = closeConnectionsWithDenial(refused, "policy_changed");
 * engineOptions.apply(policy, closing);
 */
export function closeConnectionsWithDenial(
  clients: Iterable<Socket["client"]>,
  code: DenialCode,
): ClosingConnections {
  const transports = new Set<string>();
  const closes: Promise<void>[] = [];
  for (const client of clients) {
    const conn = client.conn;
    if (conn.readyState === "closed") continue;
    transports.add(conn.transport.name);
    closes.push(new Promise((resolve) => conn.once("close", () => resolve())));
    closeConnectionWithDenial(client, code);
  }
  if (closes.length === 0) return { transports, closed: Promise.resolve() };
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSING_TRANSPORT_CAP_MS);
    timer.unref();
  });
  const closed = Promise.race([Promise.all(closes).then(() => undefined), cap]).finally(() =>
    clearTimeout(timer),
  );
  return { transports, closed };
}
