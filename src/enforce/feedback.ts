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
