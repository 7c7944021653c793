/**
 * A Socket.IO client speaking the protocol by hand over HTTP long-polling, for request shapes
 * socket.io-client never sends: several packets in one POST, a binary event's JSON part in one POST
 * and its attachment in the next, packets sent before the namespace connect is answered. It keeps
 * a GET pending like a real client, answers pings, and records every Socket.IO packet received.
 */
import type { Cleanup } from "./cleanup.js";
import { rawRequest, takePacket } from "./clients.js";

/** The engine.io v4 polling payload separator. */
const SEPARATOR = "\x1e";

export class RawPollingClient {
  /** Socket.IO packets received (engine.io message payloads, without the leading "4"). */
  readonly packets: string[] = [];
  /** True once the server closed the session (an engine close packet, or a refused poll). */
  closed = false;
  /** The status of the poll that ended the session, when one did (400 for a refused transport). */
  closingStatus: number | undefined;
  readonly #base: string;
  readonly #headers: Record<string, string>;

  private constructor(base: string, headers: Record<string, string>) {
    this.#base = base;
    this.#headers = headers;
  }

  /** Opens an engine.io polling session at `url` and starts polling. */
  static async open(
    cleanup: Cleanup,
    url: string,
    headers: Record<string, string> = {},
  ): Promise<RawPollingClient> {
    const handshake = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`, headers);
    if (handshake.status !== 200 || !handshake.body.startsWith("0"))
      throw new Error(`the polling handshake was refused: ${handshake.status}`);
    const { sid } = JSON.parse(handshake.body.slice(1)) as { sid: string };
    const client = new RawPollingClient(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, headers);
    cleanup.add(() => client.close());
    void client.#pollLoop();
    return client;
  }

  /** Sends engine.io packets in one POST (each already typed: `4...` a message, `b...` base64 binary). */
  async post(...enginePackets: string[]): Promise<number> {
    const response = await rawRequest(
      this.#base,
      { ...this.#headers, "content-type": "text/plain;charset=UTF-8" },
      "POST",
      enginePackets.join(SEPARATOR),
    );
    return response.status;
  }

  /** Resolves with the first received packet (already received or coming) that `matches`. */
  nextPacket(matches: (packet: string) => boolean, timeoutMs = 3000): Promise<string> {
    return takePacket(this.packets, matches, timeoutMs);
  }

  /** Stops polling; the server is told with an engine close packet. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.post("1").catch(() => undefined);
  }

  async #pollLoop(): Promise<void> {
    while (!this.closed) {
      let response;
      try {
        response = await rawRequest(this.#base, this.#headers);
      } catch {
        this.closed = true;
        return;
      }
      if (response.status !== 200) {
        this.closingStatus = response.status;
        this.closed = true;
        return;
      }
      for (const packet of response.body.split(SEPARATOR)) {
        if (packet === "2") void this.post("3").catch(() => undefined);
        else if (packet === "1") this.closed = true;
        else if (packet.startsWith("4")) this.packets.push(packet.slice(1));
      }
    }
  }
}
