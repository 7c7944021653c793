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
/** How long {@link RawPollingClient.close} polls before it sends the server a close packet. */
const GOODBYE_AFTER_MS = 100;

export class RawPollingClient {
  /** Socket.IO packets received (engine.io message payloads, without the leading "4"). */
  readonly packets: string[] = [];
  /** True once the server closed the session (an engine close packet, or a refused poll). */
  closed = false;
  /** The status of the poll that ended the session, when one did (400 for a refused transport). */
  closingStatus: number | undefined;
  readonly #base: string;
  readonly #headers: Record<string, string>;
  /** True once the server let the session go; polling stops then. */
  #ended = false;
  #closeRequested = false;
  #polling: Promise<void> = Promise.resolve();

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
    client.#polling = client.#pollLoop();
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

  /**
   * Ends the session and resolves once the server has let it go. Polling goes on until then: a
   * server that began closing between two polls (it had packets to flush, say) waits for the next
   * poll, and without one it would keep a 30 s timer alive after the test. A session still open a
   * moment later is told with an engine close packet.
   */
  close(): Promise<void> {
    if (!this.#closeRequested) {
      this.#closeRequested = true;
      this.closed = true;
      const goodbye = setTimeout(() => {
        if (!this.#ended) void this.post("1").catch(() => undefined);
      }, GOODBYE_AFTER_MS);
      void this.#polling.finally(() => clearTimeout(goodbye));
    }
    return this.#polling;
  }

  async #pollLoop(): Promise<void> {
    while (!this.#ended) {
      let response;
      try {
        response = await rawRequest(this.#base, this.#headers);
      } catch {
        this.#end();
        return;
      }
      if (response.status !== 200) {
        this.closingStatus = response.status;
        this.#end();
        return;
      }
      for (const packet of response.body.split(SEPARATOR)) {
        if (packet === "2") void this.post("3").catch(() => undefined);
        else if (packet === "1") this.#end();
        else if (packet.startsWith("4")) this.packets.push(packet.slice(1));
      }
    }
  }

  /** The server ended the session (a close packet, a refused poll, a dropped connection). */
  #end(): void {
    this.#ended = true;
    this.closed = true;
  }
}
