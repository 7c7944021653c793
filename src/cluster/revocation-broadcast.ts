/**
 * A revoke reaching the other nodes now, through the Socket.IO adapter the app already runs
 * (`@socket.io/redis-adapter`, the Redis streams adapter): `serverSideEmit` with an
 * acknowledgement. Every other node records the entry, disconnects its matching live sockets and
 * answers with how many; the revoking node sums the answers. `serverSideEmit` skips the sender, so
 * the nodes reached are one (this node) plus the answers. A node that does not answer within the
 * adapter's request timeout is not counted (it catches up from Redis when it is back).
 */
import type { Server } from "socket.io";
import { readRevocationEntry, type RevocationEntry } from "./revocation-entry.js";

/** The server-side event name: `sockguard:*` names are reserved, so no app event can collide. */
export const REVOKE_EVENT = "sockguard:revoke";
/** The longest a broadcast waits for answers when the adapter sets no shorter request timeout. */
export const BROADCAST_TIMEOUT_MS = 5_000;

/** What the other nodes did with one revocation. */
export interface RemoteRevocation {
  /** Live sockets the other nodes disconnected. */
  readonly disconnected: number;
  /** Other nodes that answered. */
  readonly answered: number;
}

/** No other node reached. */
export const NOBODY: RemoteRevocation = Object.freeze({ disconnected: 0, answered: 0 });

type Ack = (answer: { disconnected: number }) => void;

/**
 * One node's end of the revocation broadcast.
 *
 * @example
 * const broadcast = new RevocationBroadcast(io, (entry) => disconnectRevoked(entry));
 * const { disconnected, answered } = await broadcast.send(entry);
 */
export class RevocationBroadcast {
  readonly #io: Server;
  readonly #listener: (message: unknown, ack: unknown) => void;

  /** `receive` applies an entry another node sent and returns how many live sockets it disconnected. */
  constructor(io: Server, receive: (entry: RevocationEntry) => number) {
    this.#io = io;
    this.#listener = (message, ack) => {
      const entry = readRevocationEntry(message);
      let disconnected = 0;
      try {
        if (entry) disconnected = receive(entry);
      } finally {
        if (typeof ack === "function") (ack as Ack)({ disconnected });
      }
    };
    io.on(REVOKE_EVENT, this.#listener);
  }

  /** Sends `entry` to every other node; resolves (never rejects) within the adapter's request timeout. */
  async send(entry: RevocationEntry): Promise<RemoteRevocation> {
    const adapter = this.#io.of("/").adapter as {
      requestsTimeout?: unknown;
      serverCount?(): Promise<number>;
    };
    const timeoutMs = Math.min(
      typeof adapter.requestsTimeout === "number" ? adapter.requestsTimeout : BROADCAST_TIMEOUT_MS,
      BROADCAST_TIMEOUT_MS,
    );
    const deadline = new Promise<undefined>((resolve) =>
      setTimeout(() => resolve(undefined), timeoutMs + 250).unref(),
    );
    // The in-memory adapter (one node) counts one server and never answers a serverSideEmit.
    const servers = await Promise.race([adapter.serverCount?.().catch(() => 1) ?? 1, deadline]);
    if (servers === undefined || servers <= 1) return NOBODY;
    const answers = await Promise.race([
      this.#io
        .serverSideEmitWithAck(REVOKE_EVENT, entry)
        .catch((error: { responses?: unknown }) => error.responses),
      deadline,
    ]);
    return summed(answers);
  }

  close(): void {
    this.#io.off(REVOKE_EVENT, this.#listener);
  }
}

function summed(answers: unknown): RemoteRevocation {
  if (!Array.isArray(answers)) return NOBODY;
  let disconnected = 0;
  for (const answer of answers) {
    const count = (answer as { disconnected?: unknown } | null)?.disconnected;
    if (typeof count === "number" && Number.isInteger(count) && count >= 0) disconnected += count;
  }
  return { disconnected, answered: answers.length };
}
