/**
 * Event names a policy cannot declare: Socket.IO's own, `error`, every `sockguard:*` name, numeric
 * names, and the empty name. The guard refuses them from clients whatever the policy says (except
 * `sockguard:reauth`, which it consumes itself). The loader, the compiler and the guard all ask
 * {@link isReservedEventName}, so a name that cannot be declared is also never admitted.
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

/** The event the guard itself consumes: a live socket presenting a fresh token. */
export const REAUTH_EVENT = "sockguard:reauth";

/** Socket.IO's names and `error` (which Node's EventEmitter throws when nobody listens), in one lookup. */
const RESERVED_NAMES: ReadonlySet<string> = new Set([...SOCKET_IO_RESERVED_EVENTS, "error"]);

/**
 * True for every event name that can never be declared and is always refused from a client: the
 * empty name, Socket.IO's and Node's reserved names, `error`, every `sockguard:*` name (including
 * {@link REAUTH_EVENT}, which the guard consumes before asking), and numeric names (see
 * {@link isNumericEventName}). Cheap enough for every event: a Set lookup, a prefix check and,
 * for names that start with a letter, one character code.
 *
 * @example
 * isReservedEventName("sockguard:denied"); // true
 * isReservedEventName("1e3");              // true
 * isReservedEventName("message");          // false
 */
export function isReservedEventName(name: string): boolean {
  return (
    name === "" ||
    RESERVED_NAMES.has(name) ||
    name.startsWith(SOCKGUARD_EVENT_PREFIX) ||
    isNumericEventName(name)
  );
}

/**
 * True when `Number()` reads `name` as a finite number ("12", "007", "1e3", "0x10", "-1", " 5 "):
 * Socket.IO treats numeric event names apart, and an emitter keys `"12"` and `12` alike. Blank
 * names are not numeric, though `Number("  ")` is 0.
 *
 * @example
 * isNumericEventName("0x10");     // true
 * isNumericEventName("Infinity"); // false
 */
export function isNumericEventName(name: string): boolean {
  // No finite number starts with an ASCII letter ("Infinity" is not finite): most names skip Number().
  const lowered = name.charCodeAt(0) | 0x20;
  if (lowered >= 0x61 && lowered <= 0x7a) return false;
  return Number.isFinite(Number(name)) && name.trim() !== "";
}

/**
 * Why `name` cannot be declared as an event, or `undefined` when it can; defined exactly where
 * {@link isReservedEventName} is true.
 *
 * @example
 * reservedEventReason("disconnect"); // "disconnect is reserved by Socket.IO"
 * reservedEventReason("message");    // undefined
 */
export function reservedEventReason(name: string): string | undefined {
  if (!isReservedEventName(name)) return undefined;
  if (name === "") return "an event name cannot be empty";
  if (SOCKET_IO_RESERVED_EVENTS.has(name)) return `${name} is reserved by Socket.IO`;
  if (name === "error") return "error is reserved: Node.js treats an error event specially";
  if (name.startsWith(SOCKGUARD_EVENT_PREFIX)) return `${name}: sockguard:* names are reserved for the guard`;
  return `${name} is numeric: Socket.IO treats numeric event names apart, so they cannot be declared`;
}
