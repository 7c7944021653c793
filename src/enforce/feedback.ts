/**
 * What a client is told when the guard refuses it (DESIGN §3): the ack, when the event asked for
 * one, is called with `{ error: { code, message, details? } }`; the reserved `sockguard:denied`
 * event carries `{ event?, code, message }`, `event` only for a name the policy declares. Bodies
 * without details are shared, frozen objects: a refusal allocates nothing it does not have to.
 */
import type { Socket } from "socket.io";
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
