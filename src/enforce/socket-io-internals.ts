/**
 * The private parts of Socket.IO 4.8 / engine.io 6.6 the guard relies on, in one place. Each has
 * a canary test (test/integration/guard/socketio-canaries.test.ts) so an upgrade that changes one fails
 * loudly instead of silently opening a hole.
 */
import type { Namespace, Server, Socket } from "socket.io";

/** A decoded Socket.IO packet as the server's decoder hands it over. */
export interface DecodedPacket {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
}

/** Socket.IO's packet type of an event (before the encoder makes it a binary event). */
export const EVENT_PACKET_TYPE = 2;

/** Writes one packet to a socket's client; `socket.emit` calls it with each event it sends. */
export type SocketPacketWriter = (packet: DecodedPacket, options?: object) => void;

/** A namespace adapter's local delivery: every broadcast of the namespace passes here once. */
export interface AdapterBroadcasts {
  broadcast(packet: DecodedPacket, options: object): void;
  broadcastWithAck(
    packet: DecodedPacket,
    options: object,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void;
}

interface SocketInternals {
  /** Writes a packet (events from `socket.emit`, acks, connects, disconnects) to the client. */
  packet: SocketPacketWriter;
  /** Called with each incoming EVENT packet; runs `onAny` listeners, then `socket.use`, then handlers. */
  onevent(packet: DecodedPacket): void;
  /** The callback that answers the client's acknowledgement `id`. */
  ack(id: number): (...args: unknown[]) => void;
  /**
   * Leaves the socket's rooms and removes it from its namespace. Socket.IO calls it once on every
   * way a socket ends: a connect refused by middleware, a connection closed before the connect
   * completed, and every disconnect.
   */
  _cleanup(): void;
}

interface ClientInternals {
  /** The namespace sockets connected over this client's connection, by socket id. */
  sockets: Map<string, Socket>;
  /**
   * The client's Socket.IO decoder. The client's `data` listener hands it each message of the
   * connection (`this.decoder.add(data)`, looked up each time), and it emits `decoded`
   * synchronously from inside that call once a packet is whole.
   */
  decoder: {
    on(event: "decoded", listener: (packet: DecodedPacket) => void): unknown;
    add(data: unknown): void;
  };
}

interface NamespaceInternals {
  /** Builds `namespace.adapter`; `io.adapter(...)` calls it again for every namespace. */
  _initAdapter(): void;
  /** Namespace middleware, run in order for each connect. */
  _fns: Array<(socket: Socket, next: (err?: Error) => void) => void>;
  /** Sockets whose connect is still in the middleware. */
  _preConnectSockets?: Map<string, Socket>;
}

interface ServerInternals {
  /** Every concrete namespace, by name (dynamic children included). */
  _nsps: Map<string, Namespace>;
  /** Parent namespaces (`io.of(regex)`, `io.of(fn)`), by their matcher. */
  parentNsps: Map<unknown, Namespace & { children: Set<Namespace> }>;
}

/** The event handler Socket.IO would run for `socket`, to be replaced by an own property. */
export function originalOnevent(socket: Socket): (packet: DecodedPacket) => void {
  return (socket as unknown as SocketInternals).onevent;
}

/** Makes `onevent` an own property of `socket`, ahead of the prototype's. */
export function replaceOnevent(socket: Socket, onevent: (packet: DecodedPacket) => void): void {
  (socket as unknown as SocketInternals).onevent = onevent;
}

/** The factory of ack callbacks Socket.IO's `onevent` calls for an event that asked for one. */
export function originalAckFactory(socket: Socket): (id: number) => (...args: unknown[]) => void {
  return (socket as unknown as SocketInternals).ack;
}

/** Makes the ack factory an own property of `socket`. */
export function replaceAckFactory(socket: Socket, ack: (id: number) => (...args: unknown[]) => void): void {
  (socket as unknown as SocketInternals).ack = ack;
}

/** The packet writer of `socket` (the prototype's), to be replaced by an own property. */
export function originalPacketWriter(socket: Socket): SocketPacketWriter {
  return (socket as unknown as SocketInternals).packet;
}

/** Makes the packet writer an own property of `socket`. */
export function replacePacketWriter(socket: Socket, packet: SocketPacketWriter): void {
  (socket as unknown as SocketInternals).packet = packet;
}

/** The local delivery methods of `namespace`'s adapter (in memory, Redis, ...). */
export function adapterBroadcasts(namespace: Namespace): AdapterBroadcasts {
  return namespace.adapter as unknown as AdapterBroadcasts;
}

/**
 * Calls `rebuilt` every time `namespace` builds its adapter again (`io.adapter(...)` after the
 * guard started), after the new adapter is in place.
 */
export function onAdapterRebuilt(namespace: Namespace, rebuilt: () => void): void {
  const internals = namespace as unknown as NamespaceInternals;
  const init = internals._initAdapter;
  internals._initAdapter = function (this: NamespaceInternals) {
    init.call(this);
    rebuilt();
  };
}

/** The callback answering acknowledgement `id` on `socket`. */
export function ackCallback(socket: Socket, id: number): (...args: unknown[]) => void {
  return (socket as unknown as SocketInternals).ack(id);
}

/**
 * Runs `release` once when `socket` ends, whichever way: Socket.IO emits no event for a connect
 * refused by a later middleware or abandoned before it completed, but calls `_cleanup` on every end.
 */
export function onSocketCleanup(socket: Socket, release: () => void): void {
  const internals = socket as unknown as SocketInternals;
  const cleanup = internals._cleanup;
  let released = false;
  internals._cleanup = function cleanupAndRelease(this: Socket) {
    if (!released) {
      released = true;
      release();
    }
    return cleanup.call(this);
  };
}

/** The id of the Engine.IO connection `socket` came over (engine.io's `sid`; private in its types). */
export function connectionId(socket: Socket): string {
  return (socket.conn as unknown as { readonly id: string }).id;
}

/** The decoder of the client (one engine.io connection) behind `socket`. */
export function clientDecoder(socket: Socket): ClientInternals["decoder"] {
  return (socket.client as unknown as ClientInternals).decoder;
}

/**
 * Puts `receiver` in front of the decoder of `socket`'s client: from now on its `receive` sees each
 * message of the connection just before the decoder does, from inside the client's own `data`
 * listener. One closure per connection: a receiver's `receive` is a method, called on it.
 */
export function interceptDecoderMessages(socket: Socket, receiver: { receive(data: unknown): void }): void {
  const decoder = (socket.client as unknown as ClientInternals).decoder;
  const add = decoder.add;
  // Unnamed: a name would be one more property on each connection's function where a build keeps
  // function names by defining them (esbuild's keepNames, under tsx).
  decoder.add = function (this: ClientInternals["decoder"], data: unknown) {
    receiver.receive(data);
    add.call(this, data);
  };
}

/** The namespace sockets connected over the connection of `client`. */
export function clientSockets(client: Socket["client"]): Iterable<Socket> {
  return (client as unknown as ClientInternals).sockets.values();
}

/** A namespace's middleware list, mutable. */
export function namespaceMiddleware(namespace: Namespace): NamespaceInternals["_fns"] {
  return (namespace as unknown as NamespaceInternals)._fns;
}

/** How many sockets are still connecting to `namespace` (in its middleware). */
export function connectingCount(namespace: Namespace): number {
  return (namespace as unknown as NamespaceInternals)._preConnectSockets?.size ?? 0;
}

/** Every concrete namespace of `io`. */
export function concreteNamespaces(io: Server): Iterable<Namespace> {
  return (io as unknown as ServerInternals)._nsps.values();
}

/**
 * Removes a dynamically created child namespace (one made by `io.of(regex | fn)` on a connect), the
 * way Socket.IO's own `cleanupEmptyChildNamespaces` does. Returns false, and changes nothing, for a
 * namespace that is not such a child.
 */
export function removeChildNamespace(io: Server, namespace: Namespace): boolean {
  const internals = io as unknown as ServerInternals;
  for (const parent of internals.parentNsps.values()) {
    if (!parent.children.has(namespace)) continue;
    parent.children.delete(namespace);
    if (internals._nsps.get(namespace.name) === namespace) internals._nsps.delete(namespace.name);
    void Promise.resolve(namespace.adapter.close()).catch(() => undefined);
    return true;
  }
  return false;
}
