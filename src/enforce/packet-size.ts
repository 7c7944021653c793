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
 * From that moment the decoder's `add` counts the messages instead of the `data` listener, which
 * is removed: one plain call per message rather than a second listener for the engine to copy
 * and call. Several packets in one polling request are each stamped with their own size. Packets
 * of every namespace on the connection are measured by the same count.
 *
 * The size is the Socket.IO packet as received: a few header bytes (type, namespace, ack id), the
 * JSON text of the event name and arguments, and every binary attachment (decoded bytes on both
 * transports). A text-only packet's text is counted in UTF-8 only when the count can matter: a
 * text of n UTF-16 code units is between n and 3n bytes of UTF-8, so one of at most a third of the
 * limit is under it whatever its characters, and its size is given as that bound. The packet
 * holds its text for this until it is garbage itself; the connection holds none between packets.
 */
import type { Socket } from "socket.io";
import type { Identity } from "../compile/types.js";
import type { MutableEventFacts } from "../decide/event.js";
import { clientDecoder, interceptDecoderMessages, type DecodedPacket } from "./socket-io-internals.js";

/** An engine.io connection, as Socket.IO's client holds it. */
export type EngineConnection = Socket["client"]["conn"];

/**
 * One property per packet, so a packet gains no more than one: a text-only packet holds its text
 * message (measured when judged), a packet with binary attachments the bytes of all its messages.
 */
const PACKET_SIZE = Symbol("sockguard.packetSize");

interface MeasuredPacket extends DecodedPacket {
  [PACKET_SIZE]?: string | number;
}

/** The messages of the packet being received on one connection. */
class PacketMeter {
  /** The packet's text message (its header and JSON), until the packet is decoded. */
  text: string | undefined = undefined;
  /** Bytes of binary attachments since the text message (or of the text too, counted before the decoder). */
  bytes = 0;
  carriedBinary = false;
  /**
   * The connection's `data` listener that counts until the client's decoder does; undefined once
   * the decoder counts and the packets are stamped.
   */
  listener: ((data: unknown) => void) | undefined = undefined;

  /**
   * A message counted by the decoder (see {@link interceptDecoderMessages}): the `decoded`
   * listener that follows it lets go of the text.
   */
  receive(data: unknown): void {
    if (typeof data === "string") {
      this.text = data;
      this.bytes = 0;
      this.carriedBinary = false;
    } else this.countAttachment(data);
  }

  /**
   * A message counted by the connection's listener, before the decoder counts: a text message is
   * counted in UTF-8 at once and not kept. No `decoded` listener is there yet to let go of it, so
   * a kept text would stay with the connection until its next message (the namespace connect's
   * text, with the client's token, for as long as the client sends nothing else).
   */
  receiveBeforeDecoder(data: unknown): void {
    if (typeof data === "string") {
      this.text = undefined;
      this.bytes = Buffer.byteLength(data, "utf8");
      this.carriedBinary = false;
    } else this.countAttachment(data);
  }

  countAttachment(data: unknown): void {
    this.carriedBinary = true;
    this.bytes +=
      data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : Number.POSITIVE_INFINITY;
  }
}

const meters = new WeakMap<object, PacketMeter>();

/**
 * Starts counting the bytes of `conn`'s messages; once per connection. The guard calls it from the
 * engine's `connection` event, which engine.io emits before the connection can receive anything.
 *
 * @example
 * engine.on("connection", (conn) => measureConnection(conn));
 */
export function measureConnection(conn: EngineConnection): void {
  if (meters.has(conn)) return;
  const meter = new PacketMeter();
  meters.set(conn, meter);
  meter.listener = (data) => meter.receiveBeforeDecoder(data);
  // Before Socket.IO's listener, whichever was added first: the count must be complete when the
  // decoder, called from Socket.IO's listener, finishes a packet.
  conn.prependListener("data", meter.listener);
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
 * readEventFacts(facts, packet, identity, maxPayload); // facts.bytes, facts.carriedBinary
 */
export function stampDecodedPackets(socket: Socket): void {
  const client = socket.client;
  measureConnection(client.conn);
  const meter = meters.get(client.conn)!;
  if (meter.listener === undefined) return; // stamped already: the decoder counts
  // The decoder counts from here on, one call per message instead of a second `data` listener;
  // what the connection's listener counted so far (a packet begun meanwhile) stays in the meter.
  // Removed while the connection emits a message, the listener has already counted it.
  interceptDecoderMessages(socket, meter);
  client.conn.off("data", meter.listener);
  meter.listener = undefined;
  clientDecoder(socket).on("decoded", (packet) => {
    const text = meter.text;
    (packet as MeasuredPacket)[PACKET_SIZE] = meter.carriedBinary
      ? meter.bytes + (text === undefined ? 0 : Buffer.byteLength(text, "utf8"))
      : (text ?? Number.POSITIVE_INFINITY);
    // A parser whose packets are all binary never sends a text message: start over here too.
    meter.text = undefined;
    meter.bytes = 0;
    meter.carriedBinary = false;
  });
}

/**
 * The size of a packet marked `size`: on the wire, or an upper bound of it when that bound is
 * within `limit` (its text is then not counted character by character); infinite for a packet that
 * was not measured (it is then refused).
 */
function sizeOf(size: string | number | undefined, limit: number): number {
  if (typeof size === "number") return size;
  if (size === undefined) return Number.POSITIVE_INFINITY;
  const bound = size.length * 3;
  return bound <= limit ? bound : Buffer.byteLength(size, "utf8");
}

/**
 * Rewrites `facts` (a socket's one facts object, see `blankEventFacts`) for `packet`, sent by a
 * socket holding `identity`, to be judged under a `maxPayload` of `limit`. Its argument list is the
 * caller's to give (`facts.data`, or beside the facts to `decideEventIn`).
 *
 * @example
 * readEventFacts(facts, packet, state.identity, policy.connection.maxPayload);
 * decideEventIn(policy, match, facts, packet.data);
 */
export function readEventFacts(
  facts: MutableEventFacts,
  packet: DecodedPacket,
  identity: Identity | undefined,
  limit: number,
): void {
  const size = (packet as MeasuredPacket)[PACKET_SIZE];
  facts.identity = identity;
  facts.ackRequested = typeof packet.id === "number";
  facts.bytes = sizeOf(size, limit);
  facts.carriedBinary = typeof size === "number";
  // Only a token expires: an anonymous socket's events need no clock.
  if (identity !== undefined) facts.now = Date.now();
}
