/**
 * How many bytes each incoming Socket.IO packet took on the wire, measured as it arrives rather than
 * by serialising the arguments again, from the first message of the engine.io connection on.
 *
 * Counting starts when the engine emits `connection` ({@link measureConnection}), before any
 * message of the connection can arrive: Socket.IO's own connect is asynchronous (`_add` awaits
 * before the namespace middleware runs, and the token check may take a JWKS download), and the
 * messages that arrive meanwhile (a binary event's JSON part, say, whose attachments follow once
 * the socket is admitted) belong to a packet all the same. A `data` listener placed before
 * Socket.IO's adds up the bytes of the messages: every packet of Socket.IO's parser starts with one
 * text message (its header and JSON) followed by its binary attachments, so a text message starts
 * a new count. The client's decoder emits `decoded` synchronously, from inside that listener's
 * turn, once a packet and all its attachments are in; a `decoded` listener ({@link
 * stampDecodedPackets}, placed when the connection's first namespace connect starts, before any
 * socket of it can receive an event) stamps the total on the packet before it is dispatched.
 * Several packets in one polling request are each stamped with their own size. Packets of every
 * namespace on the connection are measured by the same count.
 *
 * The size is the Socket.IO packet as received: a few header bytes (type, namespace, ack id), the
 * JSON text of the event name and arguments, and every binary attachment (decoded bytes on both
 * transports).
 */
import type { Socket } from "socket.io";
import type { Identity } from "../compile/types.js";
import type { MutableEventFacts } from "../decide/event.js";
import { clientDecoder, type DecodedPacket } from "./socket-io-internals.js";

/** An engine.io connection, as Socket.IO's client holds it. */
export type EngineConnection = Socket["client"]["conn"];

const PACKET_BYTES = Symbol("sockguard.packetBytes");
const PACKET_CARRIED_BINARY = Symbol("sockguard.packetCarriedBinary");

interface MeasuredPacket extends DecodedPacket {
  [PACKET_BYTES]?: number;
  [PACKET_CARRIED_BINARY]?: true;
}

/** The bytes of the packet being received on one connection. */
interface PacketMeter {
  bytes: number;
  carriedBinary: boolean;
}

const meters = new WeakMap<object, PacketMeter>();
const stampedClients = new WeakSet<object>();

/**
 * Starts counting the bytes of `conn`'s messages; once per connection. The guard calls it from the
 * engine's `connection` event, which engine.io emits before the connection can receive anything.
 *
 * @example
 * engine.on("connection", (conn) => measureConnection(conn));
 */
export function measureConnection(conn: EngineConnection): void {
  if (meters.has(conn)) return;
  const meter: PacketMeter = { bytes: 0, carriedBinary: false };
  meters.set(conn, meter);
  // Before Socket.IO's listener, whichever was added first: the count must be complete when the
  // decoder, called from Socket.IO's listener, finishes a packet.
  conn.prependListener("data", (data: unknown) => {
    if (typeof data === "string") {
      meter.bytes = Buffer.byteLength(data, "utf8");
      meter.carriedBinary = false;
    } else {
      meter.carriedBinary = true;
      meter.bytes +=
        data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : Number.POSITIVE_INFINITY;
    }
  });
}

/**
 * Stamps each packet `socket`'s client decodes with its size; once per client. Call it at the very
 * start of a namespace connect, so it is in place before any socket of the client can receive an
 * event. A connection the guard did not see open (one made before `sockguard()`) is measured from
 * now on.
 *
 * @example
 * stampDecodedPackets(socket);
 * // later, in onevent:
 * if (packetBytes(packet) > maxPayload) refuse("payload_too_large");
 */
export function stampDecodedPackets(socket: Socket): void {
  const client = socket.client;
  if (stampedClients.has(client)) return;
  stampedClients.add(client);
  measureConnection(client.conn);
  const meter = meters.get(client.conn)!;
  clientDecoder(socket).on("decoded", (packet) => {
    const measured = packet as MeasuredPacket;
    measured[PACKET_BYTES] = meter.bytes;
    if (meter.carriedBinary) measured[PACKET_CARRIED_BINARY] = true;
    // A parser whose packets are all binary never sends a text message: start over here too.
    meter.bytes = 0;
    meter.carriedBinary = false;
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

/**
 * Rewrites `facts` (a socket's one facts object, see `blankEventFacts`) for `packet`, whose
 * argument list is `data`, sent by a socket holding `identity`.
 *
 * @example
 * readEventFacts(facts, packet, data, state.identity);
 * decideEvent(policy, facts);
 */
export function readEventFacts(
  facts: MutableEventFacts,
  packet: DecodedPacket,
  data: readonly unknown[],
  identity: Identity | undefined,
): void {
  facts.identity = identity;
  facts.data = data;
  facts.ackRequested = typeof packet.id === "number";
  facts.bytes = packetBytes(packet);
  facts.carriedBinary = packetCarriedBinary(packet);
  facts.now = Date.now();
}
