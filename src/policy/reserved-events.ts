/**
 * Event names a policy cannot declare: Socket.IO's own, `error`, every `sockguard:*` name, numeric
 * names, and the empty name. The guard refuses them from clients whatever the policy says (except
 * `sockguard:reauth`, which it consumes itself).
 */

/**
 * Names Socket.IO reserves on both ends (`socket.io/lib/socket.ts`, `socket.io-client/lib/socket.ts`),
 * and the server's own `connection` and `new_namespace`.
 */
export const SOCKET_IO_RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "connection",
  "disconnect",
  "disconnecting",
  "new_namespace",
  "newListener",
  "removeListener",
]);

/** The prefix of the guard's own events. */
export const SOCKGUARD_EVENT_PREFIX = "sockguard:";

/**
 * Why `name` cannot be declared as an event, or `undefined` when it can.
 *
 * @example
 * reservedEventReason("disconnect"); // "disconnect is reserved by Socket.IO"
 * reservedEventReason("message");    // undefined
 */
export function reservedEventReason(name: string): string | undefined {
  if (name === "") return "an event name cannot be empty";
  if (SOCKET_IO_RESERVED_EVENTS.has(name)) return `${name} is reserved by Socket.IO`;
  if (name === "error") return "error is reserved: Node.js treats an error event specially";
  if (name.startsWith(SOCKGUARD_EVENT_PREFIX)) return `${name}: sockguard:* names are reserved for the guard`;
  if (name.trim() !== "" && Number.isFinite(Number(name))) {
    return `${name} is numeric: Socket.IO treats numeric event names apart, so they cannot be declared`;
  }
  return undefined;
}
