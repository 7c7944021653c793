/**
 * How many bytes each incoming Socket.IO packet took on the wire, measured as it arrives rather than
 * by serialising the arguments again.
 *
 * Socket.IO hands every engine.io message to the client's decoder from a `data` listener on the
 * engine socket; the decoder emits `decoded` synchronously, from inside that listener, once a
 * packet and all its binary attachments are in, and the packet reaches `socket.onevent` on a later
 * tick. So a `data` listener placed before Socket.IO's adds up the bytes of a packet's messages (its
 * JSON text, then each attachment), and a `decoded` listener placed after Socket.IO's stamps the
 * total on the packet object before it is dispatched. Several packets in one polling request are
 * each stamped with their own size.
 *
 * The size is the Socket.IO packet as received: a few header bytes (type, namespace, ack id), the
 * JSON text of the event name and arguments, and every binary attachment (decoded bytes on both
 * transports).
 */
import type { Socket } from "socket.io";
import { clientDecoder, type DecodedPacket } from "./socket-io-internals.js";

const PACKET_BYTES = Symbol("sockguard.packetBytes");
const PACKET_CARRIED_BINARY = Symbol("sockguard.packetCarriedBinary");

interface MeasuredPacket extends DecodedPacket {
  [PACKET_BYTES]?: number;
  [PACKET_CARRIED_BINARY]?: true;
}

const measuredClients = new WeakSet<object>();

/**
 * Starts measuring the packets of `socket`'s client (its engine.io connection), once per client.
 * Call it before the socket's connect completes, so no event packet of it goes unmeasured.
 *
 * @example
 * measureIncomingPackets(socket);
 * // later, in onevent:
 * if (packetBytes(packet) > maxPayload) refuse("payload_too_large");
 */
export function measureIncomingPackets(socket: Socket): void {
  const client = socket.client;
  if (measuredClients.has(client)) return;
  measuredClients.add(client);
  let bytes = 0;
  let carriedBinary = false;
  client.conn.prependListener("data", (data: unknown) => {
    if (typeof data === "string") {
      bytes += Buffer.byteLength(data, "utf8");
    } else {
      carriedBinary = true;
      bytes +=
        data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : Number.POSITIVE_INFINITY;
    }
  });
  clientDecoder(socket).on("decoded", (packet) => {
    const measured = packet as MeasuredPacket;
    measured[PACKET_BYTES] = bytes;
    if (carriedBinary) measured[PACKET_CARRIED_BINARY] = true;
    bytes = 0;
    carriedBinary = false;
  });
}

/** The packet's size on the wire; infinite for a packet that was not measured (it is then refused). */
export function packetBytes(packet: DecodedPacket): number {
  return (packet as MeasuredPacket)[PACKET_BYTES] ?? Number.POSITIVE_INFINITY;
}

/** True when the packet arrived with binary attachments (only then can an argument hold binary). */
export function packetCarriedBinary(packet: DecodedPacket): boolean {
  return (packet as MeasuredPacket)[PACKET_CARRIED_BINARY] === true;
}
